"""How a comparison reads: a terminal table (pandas) and a Markdown page for a pull-request comment."""

from __future__ import annotations

import math
import os
from pathlib import Path

import jinja2
import pandas as pd

from tfbench.compare.comparison import OPTIONAL, Comparison
from tfbench.errors import TfbenchError
from tfbench.records import store as records

COLUMNS = {"final_metric": "final Δ", "best_metric": "best Δ", "log10_grad_ratio": "grad Δ",
           "log10_time_ratio": "time Δ", "speed": "speed Δ"}  # fmt: skip

MARKDOWN = jinja2.Template(
    """## tfbench compare

{{ summary }}
{% if regressions %}
| suite/variant | regressed | change |
|---|---|---|
{% for row in regressions -%}
| {{ row.name }} | {{ row.what }} | {{ row.detail }} |
{% endfor %}{% endif %}
<details><summary>All variants</summary>

| {{ header | join(" | ") }} |
|{% for _ in header %}---|{% endfor %}
{% for row in table -%}
| {{ row | join(" | ") }} |
{% endfor %}
</details>
{% for note in notes %}
- {{ note }}{% endfor %}
""",
    keep_trailing_newline=True,
)


def _cell(change: pd.Series) -> str:
    """A change and its tolerance: '-0.031 (tol 0.020)'; speed as a percentage of BASE."""
    if not math.isfinite(change.change):
        return ""
    flag = " !" if change.regression else ""
    if change.quantity == "speed" and change.base:
        return f"{100 * change.change / change.base:+.1f}% (tol {100 * change.tolerance / change.base:.0f}%){flag}"
    return f"{change.change:+.3f} (tol {change.tolerance:.3f}){flag}"


def display_table(comparison: Comparison) -> pd.DataFrame:
    table = comparison.variants.copy()
    changes = comparison.changes
    if len(changes):
        cells = changes.assign(cell=changes.apply(_cell, axis=1)).pivot_table(
            index=["suite", "variant"], columns="quantity", values="cell", aggfunc="first", sort=False
        )
        table = table.join(cells.rename(columns=COLUMNS), on=["suite", "variant"])
    table["result"] = [
        ("REGRESSION: " + ", ".join(found)) if found else ("ok" if presence == "both" else presence)
        for found, presence in zip(table.regressions, table.presence, strict=True)
    ]
    # a column of a quantity neither side has (the time ratio outside recurrent models) is left out
    optional = {COLUMNS[name] for name in OPTIONAL}
    quantities = [c for c in COLUMNS.values() if c in table and not (c in optional and not table[c].fillna("").any())]
    shown = ["suite", "variant", "seeds", "verdict", "verdict_end", *quantities]
    return table[[*shown, "result"]].fillna("")


def regression_lines(comparison: Comparison) -> list[dict]:
    """One entry per regressed (suite, variant): its name, what regressed, and the numbers."""
    changes = comparison.changes
    lines = []
    for _, row in comparison.regressions.iterrows():
        details = [f"{name} {row[name]}" for name in ("verdict", "verdict_end") if name in row.regressions]
        if "missing" in row.regressions:
            details.append(f"missing: in BASE ({row.seeds.split('/')[0]} seeds), not in CURRENT")
        if len(changes):
            mine = changes[(changes.suite == row.suite) & (changes.variant == row.variant) & changes.regression]
            details += [f"{c.quantity} {c.base:.4g} -> {c.current:.4g} (change {c.change:+.4g}, tolerance "
                        f"{c.tolerance:.4g})" for c in mine.itertuples()]  # fmt: skip
        lines.append({"name": f"{row.suite}/{row.variant}", "what": ", ".join(row.regressions),
                      "detail": "; ".join(details)})  # fmt: skip
    for row in comparison.claim_regressions.itertuples():
        lines.append({"name": f"{row.suite} claim", "what": "claims",
                      "detail": f"{row.claim!r}: {row.base} -> {row.current}"})  # fmt: skip
    return lines


def summary_line(comparison: Comparison) -> str:
    variants = comparison.variants
    regressed = comparison.regressions
    counts = variants.presence.value_counts()
    names = [f"{r.suite}/{r.variant}" for r in regressed.itertuples()]
    names += [f"{r.suite} claim {r.claim!r}" for r in comparison.claim_regressions.itertuples()]
    count = len(names)
    head = f"{count} regression{'s' if count != 1 else ''}" + (f" ({', '.join(names)})" if names else "")
    return (f"compare: {head} in {int(counts.get('both', 0))} variants compared; "
            f"{int(counts.get('new', 0))} new, {int(counts.get('missing', 0))} missing")  # fmt: skip


def terminal_text(comparison: Comparison) -> str:
    with pd.option_context("display.width", 250, "display.max_colwidth", 60):
        parts = [display_table(comparison).to_string(index=False), ""]
    parts += [f"note: {note}" for note in comparison.notes]
    parts += [f"regression: {line['name']}: {line['detail']}" for line in regression_lines(comparison)]
    parts.append(summary_line(comparison))
    return "\n".join(parts)


def markdown_text(comparison: Comparison) -> str:
    table = display_table(comparison)
    return MARKDOWN.render(
        summary=summary_line(comparison), regressions=regression_lines(comparison), header=list(table.columns),
        table=[[str(v).replace("|", "\\|") for v in row] for row in table.itertuples(index=False)],
        notes=comparison.notes,
    )  # fmt: skip


def check_markdown_path(path) -> None:
    """--markdown must name a writable file in an existing writable folder; checked before any work."""
    target = Path(path)
    expected = "expected a file path in an existing, writable folder"
    if target.is_dir():
        raise TfbenchError(f"--markdown {str(path)!r} is a directory: {expected}")
    if not target.resolve().parent.is_dir():
        raise TfbenchError(f"--markdown {str(path)!r}: no such folder: {expected}")
    if not os.access(target.resolve().parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise TfbenchError(f"--markdown {str(path)!r} is not writable: {expected}")


def write_markdown(path, comparison: Comparison) -> None:
    text = markdown_text(comparison)
    records.atomic_write(path, lambda temp: Path(temp).write_text(text))
