"""The shared words (tfbench/vocabulary.py): one spelling that claims, verdicts and the report import,
and `Claim.from_json`, which rebuilds a manifest's claims."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from tfbench import vocabulary
from tfbench.analysis import claims, verdict
from tfbench.spec import claim as claim_module
from tfbench.spec.claim import Claim
from tfbench.spec.discovery import load_file, suite_files

SUITES = Path(__file__).resolve().parents[1] / "suites"


def test_the_modules_share_one_spelling():
    assert claim_module.VERDICTS is vocabulary.VERDICTS and claim_module.WHEN is vocabulary.WHEN
    assert claims.STATUS_ORDER is vocabulary.STATUSES and claims.METRIC_COLUMNS is vocabulary.METRIC_COLUMNS
    judged = {verdict.judge(r, r)[0] for r in (-3.0, 0.0, 3.0, math.nan)} | {verdict.judge(0.0, 0.0, True)[0]}
    assert judged == set(vocabulary.VERDICTS)


def test_vocabulary_loads_without_tensorflow():
    code = "import sys, tfbench.vocabulary; print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("path", suite_files(SUITES), ids=lambda p: p.stem)
def test_from_json_rebuilds_every_builtin_claim_through_json(path):
    for suite in load_file(path):
        for original in suite.claims:
            assert Claim.from_json(json.loads(json.dumps(original.to_json()))) == original


def test_from_json_ignores_unknown_keys_and_rejects_what_is_not_a_claim():
    data = {"text": "a beats b", "better": "a", "than": "b", "source": "s", "added_later": 1}
    assert Claim.from_json(data) == Claim("a beats b", better="a", than="b", source="s")
    with pytest.raises(Exception, match="expected a mapping"):
        Claim.from_json(["a beats b"])
    with pytest.raises(Exception, match="verdict='fine' is unknown"):
        Claim.from_json({"text": "x", "variant": "a", "verdict": "fine", "source": "s"})
