"""OUT/index.html: one self-contained page, its figure an embedded PNG — block times over wall time, and the
pair ratios with their interval, per variant and quantity."""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path

import jinja2

from tfbench.records.store import atomic_write

TEMPLATE = jinja2.Template(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tfbench speed: {{ head }} against {{ base }}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}
td,th{padding:.2em .6em;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}
.slower{color:#b00;font-weight:bold}</style></head><body>
<h1>Speed: {{ head }} against {{ base }}</h1>
<p>Each pair times BASE and HEAD one block after the other (randomized ABBA/BAAB); a ratio above 1 means HEAD is
slower. Decisions at ±{{ percent }} % with a {{ confidence }} % Student-t interval of the mean log ratio.
Threads: {{ threads }}. Machine: {{ machine }}.</p>
<table><tr><th>variant</th><th>quantity</th><th>base ms</th><th>head ms</th><th>head/base</th><th>interval</th>
<th>pairs</th><th>decision</th></tr>
{% for r in results %}<tr><td>{{ r.variant }}</td><td>{{ r.quantity }}</td><td>{{ '%.3f' % r.base_ms }}</td>
<td>{{ '%.3f' % r.head_ms }}</td><td>{{ '%.3f' % r.ratio }}</td><td>{{ r.interval }}</td><td>{{ r.pairs }}</td>
<td class="{{ r.decision }}">{{ r.decision }}</td></tr>
{% endfor %}</table>
{% for note in notes %}<p>{{ note }}</p>{% endfor %}
<img alt="block times over wall time and pair ratios with their interval" src="data:image/png;base64,{{ png }}">
</body></html>
""",
    autoescape=True,
)


def write_page(path: Path, report: dict) -> None:
    rows = [dict(r, interval=_interval(r)) for r in report["results"]]
    machine = report["machine"]
    html = TEMPLATE.render(
        head=report["head"]["commit"][:12], base=report["base"]["commit"][:12], percent=f"{report['percent']:g}",
        confidence=f"{report['confidence'] * 100:g}", threads=report["threads"], results=rows, notes=report["notes"],
        machine=f"{machine['cpu']} ({machine['cpu_count']} cores)", png=_figure_png(report),
    )  # fmt: skip
    atomic_write(path, lambda temp: Path(temp).write_text(html))


def _interval(row: dict) -> str:
    return f"{row['low']:.3f} – {row['high']:.3f}" if math.isfinite(row["high"]) else "too few pairs"


def _figure_png(report: dict) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    results = report["results"]
    figure, axes = plt.subplots(len(results), 2, figsize=(11, 2.4 * len(results) + 0.6), squeeze=False)
    colours = {"base": sns.color_palette()[0], "head": sns.color_palette()[1]}
    for (times, ratios), result in zip(axes, results, strict=True):
        blocks = [
            b for b in report["blocks"] if (b["variant"], b["quantity"]) == (result["variant"], result["quantity"])
        ]
        for revision, colour in colours.items():
            mine = [b for b in blocks if b["revision"] == revision]
            times.plot([b["started_s"] for b in mine], [b["seconds"] for b in mine], "o", ms=3, color=colour,
                       label=revision)  # fmt: skip
        times.set(title=f"{result['variant']} {result['quantity']}: block seconds", xlabel="wall time (s)")
        times.legend(fontsize="small")
        _ratio_panel(ratios, blocks, result, report["percent"])
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _ratio_panel(axis, blocks: list[dict], result: dict, percent: float) -> None:
    pairs: dict[int, dict[str, float]] = {}
    for block in blocks:
        pairs.setdefault(block["pair"], {})[block["revision"]] = block["seconds"]
    ratios = [p["head"] / p["base"] for _, p in sorted(pairs.items()) if len(p) == 2]
    axis.plot(range(1, len(ratios) + 1), ratios, "o", ms=3, color="black", label="pair ratio")
    if math.isfinite(result["high"]):
        axis.axhspan(result["low"], result["high"], color="tab:green", alpha=0.25, label="99 % interval")
    for bound in (1 + percent / 100, 1 / (1 + percent / 100)):
        axis.axhline(bound, color="tab:red", lw=0.8, ls="--")
    axis.axhline(1, color="grey", lw=0.8)
    axis.set(title=f"head/base per pair: {result['decision']}", xlabel="pair")
    axis.legend(fontsize="small")
