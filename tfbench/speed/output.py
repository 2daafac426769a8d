"""What `speed` shows and writes: the terminal table, the Markdown comment, and OUT/speed.json."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from tfbench.errors import TfbenchError
from tfbench.records.store import atomic_write, write_json
from tfbench.speed.decision import SLOWER, UNDECIDED

KIND = "tfbench speed"
FILES = ("speed.json", "index.html")


def check_out_folder(out) -> Path:
    """--out is absent, empty, or an earlier speed folder (holding only what speed writes); creates nothing."""
    path = Path(out)
    expected = "expected an absent or empty folder, or one an earlier `tfbench speed --out` wrote"
    if path.exists() and not path.is_dir():
        raise TfbenchError(f"--out {str(out)!r} is a file: {expected}")
    if path.is_dir() and any(path.iterdir()):
        foreign = sorted(p.name for p in path.iterdir() if p.name not in FILES)
        if foreign or not _is_speed_json(path / "speed.json"):
            raise TfbenchError(
                f"--out {str(out)!r} holds other files ({', '.join(foreign) or 'index.html'}): {expected}"
            )
    existing = next(folder for folder in (path, *path.absolute().parents) if folder.exists())
    if not existing.is_dir():
        raise TfbenchError(f"--out {str(out)!r} lies under a file ({str(existing)!r}): {expected}")
    return path


def check_markdown_path(path) -> None:
    """--markdown names a file in an existing, writable folder (not a folder); creates nothing."""
    target = Path(path)
    if target.is_dir() or not target.absolute().parent.is_dir() or not os.access(target.absolute().parent, os.W_OK):
        raise TfbenchError(f"--markdown {str(path)!r} is invalid: expected a file path in an existing, writable folder")


def _is_speed_json(path: Path) -> bool:
    try:
        return json.loads(path.read_text()).get("kind") == KIND
    except (OSError, ValueError, AttributeError):
        return False


def _ratio(row: dict) -> str:
    if not row["pairs"]:
        return "no pairs"
    interval = f"[{row['low']:.3f}, {row['high']:.3f}]" if math.isfinite(row["high"]) else "[too few pairs]"
    return f"x{row['ratio']:.3f} {interval}"


def table_lines(results: list[dict]) -> list[str]:
    width = max([len(r["variant"]) for r in results] + [7])
    lines = [f"{'variant':<{width}}  quantity  base ms   head ms   head/base (99% interval)  pairs  decision"]
    for r in results:
        lines.append(
            f"{r['variant']:<{width}}  {r['quantity']:<8}  {r['base_ms']:8.3f}  {r['head_ms']:8.3f}  "
            f"{_ratio(r):<24}  {r['pairs']:5d}  {r['decision']}"
        )
    return lines


def notes(results: list[dict], percent: float) -> list[str]:
    lines = []
    slower = [f"{r['variant']} ({r['quantity']})" for r in results if r["decision"] == SLOWER]
    if slower:
        lines.append(f"slower by more than {percent:g} %: {', '.join(slower)}")
    undecided = [f"{r['variant']} ({r['quantity']})" for r in results if r["decision"] == UNDECIDED]
    if undecided:
        lines.append(
            f"undecided (not a pass for speed, not a failure): {', '.join(undecided)}; the interval still "
            f"straddles ±{percent:g} %: allow more --max-seconds or use a quieter machine"
        )
    return lines


def markdown_text(report: dict) -> str:
    head = f"### Speed: `{report['head']['commit'][:12]}` against `{report['base']['commit'][:12]}`\n\n"
    rows = ["| variant | quantity | base ms | head ms | head/base | 99 % interval | pairs | decision |",
            "|---|---|---:|---:|---:|---|---:|---|"]  # fmt: skip
    for r in report["results"]:
        interval = f"{r['low']:.3f} – {r['high']:.3f}" if math.isfinite(r["high"]) else "too few pairs"
        decision = f"**{r['decision']}**" if r["decision"] == SLOWER else r["decision"]
        rows.append(f"| {r['variant']} | {r['quantity']} | {r['base_ms']:.3f} | {r['head_ms']:.3f} | "
                    f"{r['ratio']:.3f} | {interval} | {r['pairs']} | {decision} |")  # fmt: skip
    footer = "\n".join(f"- {line}" for line in report["notes"])
    return head + "\n".join(rows) + ("\n\n" + footer if footer else "") + "\n"


def write_markdown(path, report: dict) -> None:
    text = markdown_text(report)
    atomic_write(Path(path), lambda temp: Path(temp).write_text(text))


def write_out(out, report: dict) -> None:
    """OUT/speed.json and OUT/index.html, each replaced in one rename."""
    from tfbench.speed.page import write_page

    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    write_json(path / "speed.json", _json_safe(report))
    write_page(path / "index.html", report)


def _json_safe(value):
    """Infinite interval ends (too few pairs) as null: JSON has no infinity."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value
