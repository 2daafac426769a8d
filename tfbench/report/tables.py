"""The comparison table of one suite (docs/design.md §6–§7): per variant, mean and 95 % t-interval across seeds
of the final metric, final loss, log10 gradient ratio (across depth, and back through time for recurrent
models) and steps/s; the paired difference against the
suite's reference level on the same seeds; the verdicts with the layer and step that triggered them.

Also written as DIR/<suite>/summary.csv and summary.md (markdown, for a PR comment).

Which runs count where:
- a *failed* run (status 'failed') counts in `failed` and is excluded from every statistic and verdict;
- a *diverged* run counts in `diverged`; its final metric and loss are NaN and so drop out of those means
  and CIs, while its step-0 gradient ratio and steps/s (finite) stay in theirs;
- every statistic is over the finite values only: a log10 gradient ratio of −inf (a gradient that vanished
  completely) is left out of the mean and said so by the verdict instead.
"""

from __future__ import annotations

import math
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from tfbench.analysis import verdict as verdicts
from tfbench.analysis.statistics import paired_differences, t_interval
from tfbench.records.store import atomic_write
from tfbench.report import theory_overlay
from tfbench.vocabulary import DIVERGED

# runs.csv columns summarised
STATISTICS = ("final_metric", "final_loss", "log10_grad_ratio", "log10_time_ratio", "steps_per_s")
TABLE_COLUMNS = (
    "variant", "level", "seeds", "diverged", "failed",
    *(f"{name}_{part}" for name in STATISTICS for part in ("mean", "low", "high")),
    "diff_vs_reference_mean", "diff_vs_reference_low", "diff_vs_reference_high",
    "verdict", "verdict_end", "verdict_trigger", "verdict_end_trigger", "best",
)  # fmt: skip


# --------------------------------------------------------------------------------------------- statistics


def _usable(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs that enter statistics: every run but the failed ones."""
    if "status" not in runs.columns:
        return runs
    return runs[runs["status"].astype(str) != "failed"]


def _most_common(labels: pd.Series) -> str:
    """The most common label; a tie goes to the one the earliest run (lowest seed) has."""
    labels = labels.dropna().astype(str)
    labels = labels[labels != ""]
    if labels.empty:
        return ""
    counts = labels.value_counts()
    tied = set(counts[counts == counts.max()].index)
    return next(label for label in labels if label in tied)


# --------------------------------------------------------------------------------------------- triggers


def _decades(ratio: float) -> str:
    if math.isfinite(ratio):
        return f"10^{ratio:+.1f}"
    return "10^-inf" if ratio < 0 else "10^+inf"


def _layer(row) -> str:
    return f"{row['layer']} (depth {int(row['depth'])})"


def verdict_trigger(layers_of_one_run: pd.DataFrame, verdict: str, step: int, times=None) -> str:
    """A sentence naming the layer (or time step) and step that triggered `verdict`, from one run's layers
    rows and, for a recurrent model, its time-step rows of the judged moment (`times`).

    vanishing / exploding / healthy: the ratio that decided at `step` (kernel, δ or time, the larger
    magnitude, as verdict.judge does), between the first layer and the last hidden layer, e.g.
    "dense_1 (depth 1) at step 0: kernel gradient 10^-5.3 of dense_10's (beyond ±2 decades)", or between
    the first and the last time step, e.g. "‖∂L/∂x_1‖ is 10^-9.3 of ‖∂L/∂x_100‖ (time steps 1 vs 100) at
    step 0 (beyond ±2 decades)".
    diverged: the first recorded step with non-finite gradients and the layer with the most non-finite
    entries (then the largest gradient entry); when no gradient is non-finite, the run's last recorded
    step (records end where a run diverged) and the layer with the largest gradient entry.
    """
    return _describe(layers_of_one_run, verdict, step, times=times)


def _describe(rows: pd.DataFrame, verdict: str, step: int, seed=None, times=None) -> str:
    of_seed = "" if seed is None else f" of seed {seed}"
    if verdict == DIVERGED:
        return _divergence_trigger(rows, of_seed)
    at_step = rows[rows["step"] == step] if not rows.empty else rows
    if at_step.empty:
        return f"no layer records at step {step}{of_seed}"
    kernel_ratio, delta_ratio = verdicts.gradient_ratios(at_step)
    by_depth = at_step.sort_values("depth", kind="stable").drop_duplicates("depth")
    first = by_depth.iloc[0]
    last_depth = max(first["depth"], by_depth["depth"].max() - 1)  # the output layer is depth + 1
    last = by_depth[by_depth["depth"] == last_depth].iloc[0]
    ratio_in_time, length = verdicts.time_ratio(times)
    deciding = verdicts.deciding_ratio(kernel_ratio, delta_ratio, ratio_in_time)
    if deciding is None:
        return (
            f"{_layer(first)} at step {step}{of_seed}: no gradient signal at {first['layer']} or {last['layer']} "
            "to compare"
        )
    ratio, name = deciding
    bound = verdicts.DECADES
    within = -bound <= ratio <= bound
    judged = f"within ±{bound:g} decades" if within else f"beyond ±{bound:g} decades"
    if name == "time":
        at = int(times["step"].iloc[0])
        return f"{verdicts.time_evidence(ratio, length)} at step {at}{of_seed} ({judged})"
    return f"{_layer(first)} at step {step}{of_seed}: {name} gradient {_decades(ratio)} of {last['layer']}'s ({judged})"


def _divergence_trigger(rows: pd.DataFrame, of_seed: str = "") -> str:
    if rows.empty:
        return f"no finite step recorded{of_seed}"
    nonfinite = rows["nonfinite"].fillna(0)
    measured = rows[["kernel_grad_norm", "act_grad_norm", "grad_max_abs"]].astype(float)
    bad = (nonfinite > 0) | ~np.isfinite(measured).all(axis=1)
    # a non-finite largest entry is the largest of all
    size = rows["grad_max_abs"].astype(float).fillna(np.inf)
    ranked = rows.assign(_nonfinite=nonfinite, _size=size)
    if bad.any():
        step = int(rows.loc[bad, "step"].min())
        at_step = ranked[ranked["step"] == step].sort_values(["_nonfinite", "_size"], ascending=False, kind="stable")
        worst = at_step.iloc[0]
        count = int(worst["_nonfinite"])
        what = f"{count} non-finite gradient entries" if count else "non-finite gradient norm"
        return f"{_layer(worst)} at step {step}{of_seed}: {what}, the first non-finite gradients of the run"
    step = int(rows["step"].max())
    worst = ranked[ranked["step"] == step].sort_values("_size", ascending=False, kind="stable").iloc[0]
    return (
        f"{_layer(worst)} at step {step}{of_seed}: the run's last recorded step (loss non-finite or beyond "
        f"{verdicts.DIVERGENCE_LOSS_FACTOR:g}x its start), largest gradient entry {worst['_size']:.2g}"
    )


def _trigger(runs: pd.DataFrame, layers: pd.DataFrame, column: str, label: str, timesteps=None) -> str:
    """The trigger sentence of the first seed whose `column` verdict is `label`."""
    if not label:
        return ""
    matching = runs[runs[column].astype(str) == label]
    if matching.empty or layers.empty:
        return ""
    seed = matching["seed"].iloc[0]
    variant = str(matching["variant"].iloc[0])
    own = layers[(layers["variant"].astype(str) == variant) & (layers["seed"] == seed)]
    step = 0 if column == "verdict" or own.empty else int(own["step"].max())
    return _describe(own, label, step, seed=seed, times=_own_times(timesteps, variant, seed, column))


def _own_times(timesteps, variant: str, seed, column: str):
    """One run's time-step rows at the moment `column` judges: step 0, or the last measured (after the
    last update); None without time-step records."""
    if timesteps is None or timesteps.empty:
        return None
    own = timesteps[(timesteps["variant"].astype(str) == variant) & (timesteps["seed"] == seed)]
    if own.empty:
        return None
    return own[own["step"] == (0 if column == "verdict" else own["step"].max())]


# --------------------------------------------------------------------------------------------- table


def comparison_table(runs: pd.DataFrame, layers: pd.DataFrame, reference: str, higher_is_better: bool,
                     timesteps: pd.DataFrame | None = None) -> pd.DataFrame:  # fmt: skip
    """One row per variant, in the order variants first appear in `runs`.

    seeds: runs recorded for the variant (any status); diverged / failed: how many of them. Failed runs
    are excluded from every statistic and verdict; diverged runs' NaN final metric and loss are excluded
    from those means and CIs (the other statistics keep them). `<stat>_mean/_low/_high` is t_interval
    over seeds. `diff_vs_reference_*`: the t-interval of the paired final-metric differences against
    `reference` on the seeds both finished (statistics.paired_differences, as a claim judges them; NaN on
    the reference's own row). verdict / verdict_end: the most common over seeds (a tie goes
    to the earliest seed's), with `verdict_trigger` / `verdict_end_trigger` naming the layer (or, from
    `timesteps`, the time step) and step that triggered it in the first seed that has it. best: the
    variant with the best final_metric_mean (highest when higher_is_better, else lowest; NaN never best;
    a tie goes to the first).
    """
    runs = runs.assign(variant=runs["variant"].astype(str))
    layers = layers if layers is not None else pd.DataFrame(columns=["variant", "seed", "step"])
    status = runs["status"].astype(str) if "status" in runs.columns else pd.Series("ok", index=runs.index)
    rows = []
    for label in dict.fromkeys(runs["variant"]):
        own = runs[runs["variant"] == label].sort_values("seed", kind="stable")
        usable = _usable(own)
        row = {
            "variant": label,
            "level": own["level"].iloc[0] if "level" in own.columns else label,
            "seeds": int(len(own)),
            "diverged": int((status[own.index] == "diverged").sum()),
            "failed": int((status[own.index] == "failed").sum()),
        }
        for name in STATISTICS:
            values = usable[name] if name in usable.columns else []
            row[f"{name}_mean"], row[f"{name}_low"], row[f"{name}_high"] = t_interval(values)
        if label == str(reference):
            diff = (math.nan, math.nan, math.nan)
        else:
            diff = t_interval(paired_differences(runs, "final_metric", label, reference))
        row["diff_vs_reference_mean"], row["diff_vs_reference_low"], row["diff_vs_reference_high"] = diff
        for column in ("verdict", "verdict_end"):
            row[column] = _most_common(usable[column]) if column in usable.columns else ""
            row[f"{column}_trigger"] = _trigger(usable, layers, column, row[column], timesteps)
        rows.append(row)
    table = pd.DataFrame(rows, columns=[c for c in TABLE_COLUMNS if c != "best"])
    table["best"] = False
    means = table["final_metric_mean"].astype(float)
    if means.notna().any():
        best = means.idxmax() if higher_is_better else means.idxmin()
        table.loc[best, "best"] = True
    table.attrs["reference"] = str(reference)
    return table


# --------------------------------------------------------------------------------------------- files

SUMMARY_MD = jinja2.Template(
    """\
### {{ title }}

| Variant | Verdict | Final metric [95 % t-interval] | Δ vs reference, paired [95 % t-interval] | log10 grad ratio |\
{%- if time %} log10 time ratio |{% endif %} steps/s | diverged |\
{%- if theory %} predicted decades/layer | measured decades/layer (δ) |{% endif %}
|---|---|---|---|---|{% if time %}---|{% endif %}---|---|{% if theory %}---|---|{% endif %}
{% for row in rows -%}
| {{ row | join(" | ") }} |
{% endfor %}
{%- if triggers %}
{% for line in triggers -%}
- {{ line }}
{% endfor %}
{%- endif %}""",
    keep_trailing_newline=True,
)


def _number(value, signed: bool = False) -> str:
    """Compact: three significant digits, no exponent between 0.001 and 1e6; NaN -> '–'."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return "–"
    if math.isnan(value):
        return "–"
    if math.isinf(value):
        return ("+" if signed and value > 0 else "") + ("inf" if value > 0 else "-inf")
    sign = "+" if signed else ""
    magnitude = abs(value)
    if magnitude >= 1e6 or (0 < magnitude < 1e-3):
        return f"{value:{sign}.2e}"
    if magnitude >= 100:
        return f"{value:{sign}.0f}"
    digits = max(0, 2 - int(math.floor(math.log10(magnitude)))) if magnitude else 3
    return f"{value:{sign}.{digits}f}"


def _with_ci(row, prefix: str, signed: bool = False) -> str:
    mean, low, high = row[f"{prefix}_mean"], row[f"{prefix}_low"], row[f"{prefix}_high"]
    text = _number(mean, signed)
    if text != "–" and not (pd.isna(low) or pd.isna(high)):
        text += f" [{_number(low, signed)}, {_number(high, signed)}]"
    return text


def _cell(text) -> str:
    text = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    return text.replace("|", "\\|").replace("\n", " ") or "–"


def has_time_ratio(table: pd.DataFrame) -> bool:
    """Whether some variant has a time ratio (a recurrent suite): only then is its column shown."""
    return "log10_time_ratio_mean" in table and bool(table["log10_time_ratio_mean"].notna().any())


def summary_markdown(table: pd.DataFrame, title: str) -> str:
    """The comparison table as markdown, one row per variant, triggers listed under it."""
    rows, triggers = [], []
    theory = theory_overlay.PREDICTED in table.columns  # the mean-field columns, where the overlay applies
    time = has_time_ratio(table)
    reference = table.attrs.get("reference")  # set by comparison_table; a table read back from csv has none
    for _, row in table.iterrows():
        name = _cell(row["variant"])
        verdict = _cell(row.get("verdict"))
        if _cell(row.get("verdict_end")) not in ("–", verdict):
            verdict += f" → {_cell(row['verdict_end'])}"
        diverged = f"{int(row['diverged'])}/{int(row['seeds'])}"
        if int(row.get("failed", 0)):
            diverged += f" ({int(row['failed'])} failed)"
        rows.append([  # the columns of SUMMARY_MD's header, in order
            f"**{name}**" if bool(row.get("best")) else name,
            verdict,
            _with_ci(row, "final_metric"),
            "reference" if str(row["variant"]) == reference else _with_ci(row, "diff_vs_reference", signed=True),
            _with_ci(row, "log10_grad_ratio", signed=True),
            *([_with_ci(row, "log10_time_ratio", signed=True)] if time else []),
            _number(row["steps_per_s_mean"]),
            diverged,
        ])  # fmt: skip
        if theory:
            rows[-1] += [_number(row[theory_overlay.PREDICTED], signed=True),
                         _number(row[theory_overlay.MEASURED], signed=True)]  # fmt: skip
        for column in ("verdict", "verdict_end"):
            trigger = row.get(f"{column}_trigger")
            if isinstance(trigger, str) and trigger and (column == "verdict" or row["verdict_end"] != row["verdict"]):
                when = "at the end" if column == "verdict_end" else "at the start"
                triggers.append(f"{name}, {_cell(row[column])} {when}: {_cell(trigger)}")
    return SUMMARY_MD.render(title=_cell(title), rows=rows, triggers=triggers, theory=theory, time=time)


def claims_markdown(claims: pd.DataFrame) -> str:
    """The suite's claims as a markdown table under the comparison (empty when it states none)."""
    if claims is None or claims.empty:
        return ""
    header = "| claim | judged on | effect [95 % t-interval] | seeds | status |"
    lines = ["", "Claims:", "", header, "|---|---|---|---|---|"]
    for row in claims.itertuples():
        effect = "–" if math.isnan(row.effect) else _number(row.effect, signed=True)
        if not math.isnan(row.ci_low):
            effect += f" [{_number(row.ci_low, signed=True)}, {_number(row.ci_high, signed=True)}]"
        lines.append(f"| {_cell(row.claim)} | {row.metric} | {effect} | {row.seeds} | {row.status.replace('_', ' ')} |")
    return "\n".join(lines) + "\n"


def write_summary(folder: Path, table: pd.DataFrame, title: str, claims: pd.DataFrame | None = None) -> None:
    """Write folder/summary.csv (every column) and folder/summary.md (for a PR comment, with the suite's
    claims), each atomically."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    markdown = summary_markdown(table, title) + claims_markdown(claims)
    atomic_write(folder / "summary.csv", lambda temp: table.to_csv(temp, index=False))
    atomic_write(folder / "summary.md", lambda temp: Path(temp).write_text(markdown, encoding="utf-8"))
