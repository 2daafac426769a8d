"""What `speed --out` accepts (never a folder of someone else's files) and what it writes."""

from __future__ import annotations

import json
import math

import pytest

from tfbench.errors import TfbenchError
from tfbench.speed.output import check_out_folder, markdown_text, table_lines, write_out

ROW = {"variant": "tiny/8", "quantity": "step", "base_ms": 2.0, "head_ms": 6.0, "ratio": 3.0, "low": 2.5,
       "high": 3.6, "pairs": 4, "decision": "slower"}  # fmt: skip
REPORT = {
    "kind": "tfbench speed", "percent": 10.0, "confidence": 0.99, "threads": {"intra_op": 1, "inter_op": 1},
    "machine": {"cpu": "test CPU", "cpu_count": 2, "platform": "test"}, "notes": ["slower by more than 10 %: tiny/8"],
    "base": {"revision": "HEAD~1", "commit": "a" * 40}, "head": {"revision": "HEAD", "commit": "b" * 40},
    "results": [ROW, dict(ROW, quantity="setup", low=-math.inf, high=math.inf, pairs=1, decision="undecided")],
    "blocks": [{"revision": r, "variant": "tiny/8", "quantity": "step", "order": i, "pair": 0, "started_s": i,
                "seconds": s, "updates": 8} for i, (r, s) in enumerate([("base", 0.016), ("head", 0.048)])],
}  # fmt: skip


def test_absent_empty_and_earlier_speed_folders_are_accepted(tmp_path):
    check_out_folder(tmp_path / "absent" / "deeper")
    (tmp_path / "empty").mkdir()
    check_out_folder(tmp_path / "empty")
    write_out(tmp_path / "earlier", REPORT)
    check_out_folder(tmp_path / "earlier")


def test_a_folder_with_other_files_or_a_file_is_refused(tmp_path):
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "notes.txt").write_text("keep")
    with pytest.raises(TfbenchError, match="notes.txt"):
        check_out_folder(tmp_path / "theirs")
    (tmp_path / "fake").mkdir()
    (tmp_path / "fake" / "speed.json").write_text('{"kind": "something else"}')
    with pytest.raises(TfbenchError, match="--out"):
        check_out_folder(tmp_path / "fake")
    (tmp_path / "file").write_text("x")
    with pytest.raises(TfbenchError, match="is a file"):
        check_out_folder(tmp_path / "file")


def test_speed_json_keeps_every_block_and_infinite_ends_as_null(tmp_path):
    write_out(tmp_path / "out", REPORT)
    saved = json.loads((tmp_path / "out" / "speed.json").read_text())
    assert saved["blocks"] == REPORT["blocks"]
    assert saved["results"][1]["low"] is None and saved["results"][1]["high"] is None
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["index.html", "speed.json"]


def test_the_table_and_markdown_show_ratio_interval_pairs_and_decision():
    lines = table_lines(REPORT["results"])
    assert "x3.000 [2.500, 3.600]" in lines[1] and lines[1].split()[-2:] == ["4", "slower"]
    assert "too few pairs" in lines[2]
    text = markdown_text(REPORT)
    assert "| tiny/8 | step | 2.000 | 6.000 | 3.000 | 2.500 – 3.600 | 4 | **slower** |" in text
