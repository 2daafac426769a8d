"""Claims (docs/design.md §11): judged from runs.csv, written to claims.csv, shown in the report, gated
by compare, and rejected at `check` when they name what a suite does not have."""

from __future__ import annotations

import json
import math
import textwrap

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from tfbench_cli import cli

import tfbench
from tfbench.analysis.claims import judge_claim, summary_line
from tfbench.report.html import write_report

SUITE = """
    from tfbench import Claim, Setup, Suite

    SUITE = Suite(
        name="claimed",
        factor="learning_rate",
        question="Does a working learning rate beat none at all?",
        base=Setup(depth=2, width=16, steps=40, eval_every=20),
        levels={"trains": 0.1, "frozen": 1e-6, "explodes": 1e4},
        claims=[
            Claim("a working learning rate beats none", better="trains", than="frozen", source="test"),
            Claim("deliberately false: none beats a working one", better="frozen", than="trains", source="test"),
            Claim("the frozen net starts healthy", variant="frozen", verdict="healthy", source="test"),
            Claim("a diverged run has no final metric to compare", better="explodes", than="frozen", source="test"),
            Claim("the exploding rate diverges", variant="explodes", verdict="diverged", at="end", source="test"),
        ],
    )
"""


@pytest.fixture(scope="module")
def claimed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("claims")
    (folder / "claimed.py").write_text(textwrap.dedent(SUITE))
    tfbench.run([str(folder / "claimed.py")], profile="standard", seeds=3, out=folder / "out", log=lambda line: None)
    write_report(folder / "out")
    return folder


def statuses(folder) -> dict[str, str]:
    table = pd.read_csv(folder / "out" / "claims.csv")
    return dict(zip(table["claim"], table["status"], strict=True))


def test_claims_csv_judges_every_claim(claimed):
    found = statuses(claimed)
    assert found["a working learning rate beats none"] == "reproduced"
    assert found["deliberately false: none beats a working one"] == "not_reproduced"
    assert found["the frozen net starts healthy"] == "reproduced"
    assert found["the exploding rate diverges"] == "reproduced"
    # the documented status of a comparison whose variant diverged in every seed: nothing to pair
    assert found["a diverged run has no final metric to compare"] == "unavailable"


def test_effect_and_ci_are_the_paired_t_interval_of_runs_csv(claimed):
    runs = pd.read_csv(claimed / "out" / "claimed" / "runs.csv")
    accuracy = runs.pivot(index="seed", columns="variant", values="final_metric")
    differences = (accuracy["trains"] - accuracy["frozen"]).to_numpy()
    half = stats.t.ppf(0.975, len(differences) - 1) * differences.std(ddof=1) / math.sqrt(len(differences))
    row = pd.read_csv(claimed / "out" / "claims.csv").set_index("claim").loc["a working learning rate beats none"]
    assert row["seeds"] == 3
    assert row["effect"] == pytest.approx(differences.mean())
    assert row["ci_low"] == pytest.approx(differences.mean() - half)
    assert row["ci_high"] == pytest.approx(differences.mean() + half)


def test_suite_page_and_claims_csv_agree_on_whether_zero_is_excluded(claimed):
    """The page's Δ-vs-reference interval for a claim's pair and claims.csv come from the same runs.csv."""
    rows = pd.read_csv(claimed / "out" / "claimed" / "summary.csv").set_index("variant")
    judged = pd.read_csv(claimed / "out" / "claims.csv").set_index("claim")
    reference = "trains"  # the suite's first level
    assert rows.loc[reference, ["diff_vs_reference_low", "diff_vs_reference_high"]].isna().all()
    checked = 0
    for text in ("a working learning rate beats none", "deliberately false: none beats a working one"):
        row, claim = rows.loc["frozen"], judged.loc[text]
        page_excludes = row["diff_vs_reference_low"] > 0 or row["diff_vs_reference_high"] < 0
        assert page_excludes == (claim["status"] in ("reproduced", "not_reproduced")), text
        assert sorted(abs(claim[["ci_low", "ci_high"]])) == pytest.approx(
            sorted(abs(row[["diff_vs_reference_low", "diff_vs_reference_high"]]))
        )
        checked += 1
    assert checked == 2


def test_pages_name_the_interval_they_show(claimed):
    page = (claimed / "out" / "claimed" / "index.html").read_text()
    assert "95 % t-interval over 3 seeds" in page and "bootstrap" not in page
    assert "Effect [95 % t-interval]" in (claimed / "out" / "index.html").read_text()


def test_report_pages_and_summary_show_the_claims(claimed):
    index = (claimed / "out" / "index.html").read_text()
    assert 'id="claims"' in index and "claim-not_reproduced" in index and 'href="./claimed/index.html"' in index
    assert "deliberately false" in (claimed / "out" / "claimed" / "index.html").read_text()
    summary = (claimed / "out" / "claimed" / "summary.md").read_text()
    assert "| a working learning rate beats none | final_metric |" in summary


def test_one_seed_is_inconclusive_and_failed_runs_are_unavailable():
    claim = {"text": "a beats b", "better": "a", "than": "b", "on": "final_metric", "source": "test"}
    one = pd.DataFrame({"variant": ["a", "b"], "seed": [0, 0], "status": ["ok", "ok"], "metric_name": "accuracy",
                        "final_metric": [0.9, 0.5]})  # fmt: skip
    assert judge_claim("s", claim, one)["status"] == "inconclusive"
    failed = one.assign(status=["failed", "ok"], final_metric=[np.nan, 0.5])
    assert judge_claim("s", claim, failed)["status"] == "unavailable"
    mae = pd.DataFrame({"variant": ["a", "b"] * 2, "seed": [0, 0, 1, 1], "status": "ok", "metric_name": "mae",
                        "final_metric": [0.1, 0.5, 0.2, 0.6]})  # fmt: skip
    assert judge_claim("s", claim, mae)["status"] == "reproduced"  # lower MAE is better
    assert summary_line(pd.DataFrame({"status": ["reproduced", "reproduced", "inconclusive"]})) == (
        "claims: 2/3 reproduced, 1 inconclusive"
    )


def test_compare_fails_when_a_claim_got_worse(claimed, tmp_path):
    base = claimed / "out"
    current = tmp_path / "current"
    cli("baseline", base, current)
    runs = pd.read_csv(current / "claimed" / "runs.csv", dtype={"setup_hash": str})
    frozen = runs["variant"] == "frozen"
    runs.loc[frozen, "final_metric"] = runs.loc[frozen, "final_metric"] + 1.0  # "frozen" now wins
    runs.to_csv(current / "claimed" / "runs.csv", index=False)
    result = cli("compare", base, current, "--fail-on", "metric:off,grad:off,speed:off,verdict:off")
    assert result.returncode == 1, result.stdout
    assert "'a working learning rate beats none': reproduced -> not_reproduced" in result.stdout
    off = cli("compare", base, current, "--fail-on", "metric:off,grad:off,speed:off,verdict:off,claims:off")
    assert off.returncode == 0, off.stdout


@pytest.mark.parametrize(
    ("claim", "message"),
    [
        ('Claim("x", better="trains", than="nope", source="s")', "names 'nope', which is not a level"),
        ('Claim("x", better="trains", than="frozen", on="accuracy", source="s")', "on='accuracy' is not a claimable"),
        ('Claim("x", variant="frozen", verdict="fine", source="s")', "verdict='fine' is unknown"),
    ],
)
def test_check_rejects_a_claim_naming_what_the_suite_does_not_have(tmp_path, claim, message):
    text = textwrap.dedent(SUITE).replace("claims=[\n", f"claims=[\n        {claim},\n")
    (tmp_path / "bad.py").write_text(text)
    result = cli("check", tmp_path / "bad.py", "--profile", "quick")
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_manifest_keeps_the_claims_for_compare(claimed):
    manifest = json.loads((claimed / "out" / "manifest.json").read_text())
    assert len(manifest["suites"]["claimed"]["claims"]) == 5
