"""Compare two run folders (BASE, CURRENT) per (suite, variant) and name every regression.

Reads only manifest.json and <suite>/runs.csv on each side, so a committed baseline needs nothing else.
What counts as a regression, and the tolerance arithmetic, is in tfbench/compare/tolerance.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tfbench.analysis.claims import STATUS_ORDER, claims_table
from tfbench.compare import tolerance
from tfbench.compare.experiment import experiment_notes
from tfbench.errors import TfbenchError
from tfbench.records import store as records
from tfbench.records.schema import HIGHER_IS_BETTER
from tfbench.records.tolerances import parse_mapping
from tfbench.vocabulary import DIVERGED, EXPLODING, HEALTHY, VANISHING

KEYS = ["suite", "variant"]
# Compared quantity -> the gate that judges it.
QUANTITIES = {"final_metric": "metric", "best_metric": "metric", "log10_grad_ratio": "grad",
              "log10_time_ratio": "grad", "speed": "speed"}  # fmt: skip
# Gradient ratios (log10): 0 is balanced, farther from 0 on either side is worse.
RATIOS = ("log10_grad_ratio", "log10_time_ratio")
# Appended to runs.csv after schema 1 was first written (older records lack it) and NaN for runs
# of models it does not apply to (non-recurrent): compared where both sides have it.
OPTIONAL = ("log10_time_ratio",)
# How bad each verdict is; a move to a larger rank is a regression. A failed run has no verdict.
VERDICT_RANK = {HEALTHY: 0, VANISHING: 1, EXPLODING: 1, DIVERGED: 2, "failed": 3}
VERDICTS = ("verdict", "verdict_end")
# Every runs.csv column compare reads; a file without one of them is not a tfbench run.
REQUIRED_COLUMNS = ("suite", "variant", "seed", "status", *VERDICTS, "metric_name", "final_metric", "best_metric",
                    "log10_grad_ratio", "steps_per_s")  # fmt: skip


@dataclass
class Side:
    path: Path
    manifest: dict
    runs: pd.DataFrame

    @property
    def reference_speed(self) -> float | None:
        calibration = self.manifest.get("calibration") or {}
        value = calibration.get("reference_steps_per_s") if isinstance(calibration, dict) else None
        return float(value) if isinstance(value, (int, float)) and value > 0 else None


@dataclass
class Comparison:
    variants: pd.DataFrame  # one row per (suite, variant): presence, seeds, verdicts, regressions
    changes: pd.DataFrame  # one row per (suite, variant, quantity): base, current, change, tolerance
    notes: list[str] = field(default_factory=list)
    # one row per claim of CURRENT's suites: suite, claim, base, current (statuses), regression
    claims: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(CLAIM_COLUMNS)))

    @property
    def regressions(self) -> pd.DataFrame:
        return self.variants[self.variants.regressions.str.len() > 0]

    @property
    def claim_regressions(self) -> pd.DataFrame:
        return self.claims[self.claims.regression.astype(bool)] if len(self.claims) else self.claims

    @property
    def failed(self) -> bool:
        return bool(len(self.regressions) or len(self.claim_regressions))


def load_side(path: str | Path, role: str) -> Side:
    path = Path(path)
    if not path.is_dir():
        raise TfbenchError(f"{role} {str(path)!r} is not a directory: expected a tfbench run folder")
    if not (path / records.MANIFEST_FILE).is_file():
        raise TfbenchError(f"{role} {str(path)!r} has no {records.MANIFEST_FILE}: expected a tfbench run folder")
    manifest = records.read_manifest(path)
    names = records.suite_names(path)
    if not names:
        raise TfbenchError(f"{role} {str(path)!r} holds no <suite>/{records.RUNS_FILE}: expected a tfbench run folder")
    tables = []
    for name in names:
        runs = records.read_runs(path / name)
        missing = [column for column in REQUIRED_COLUMNS if column not in runs]
        if missing:
            raise TfbenchError(f"{role} {str(path / name / records.RUNS_FILE)!r} lacks {', '.join(missing)}: "
                               f"expected schema version 1 with {', '.join(REQUIRED_COLUMNS)}")  # fmt: skip
        tables.append(runs)
    runs = pd.concat(tables, ignore_index=True)
    return Side(path=path, manifest=manifest if isinstance(manifest, dict) else {}, runs=runs)


def _worst_mode(states: pd.Series) -> str:
    """The most common verdict over seeds; a tie goes to the worse verdict."""
    counts = states.value_counts()
    tied = counts[counts == counts.max()].index
    return max(tied, key=lambda state: VERDICT_RANK.get(state, -1))


def summarize(runs: pd.DataFrame, reference: float | None) -> pd.DataFrame:
    """Per (suite, variant): verdict modes, metric name, seed count, and mean/std/count of each quantity."""
    failed = runs.status == "failed"
    runs = runs.assign(
        speed=runs.steps_per_s / (reference or 1.0),
        **{name: runs[name].where(~failed, "failed").fillna("failed") for name in VERDICTS},
    )
    groups = runs.groupby(KEYS, sort=False)
    table = groups.agg(
        seeds=("seed", "nunique"), metric_name=("metric_name", "first"),
        **{name: (name, _worst_mode) for name in VERDICTS},
    )  # fmt: skip
    finite = runs[~failed].replace([math.inf, -math.inf], math.nan)
    finite = finite.assign(**{name: math.nan for name in OPTIONAL if name not in finite})  # older records
    stats = finite.groupby(KEYS)[list(QUANTITIES)].agg(["mean", "std", "count"])
    stats.columns = [f"{quantity}_{stat}" for quantity, stat in stats.columns]
    return table.join(stats)


def suite_gates(base: Side, current: Side, cli: dict) -> dict[str, dict]:
    """Each suite's gates: its tolerances as CURRENT's manifest records them (else BASE's) with --fail-on."""
    gates = {}
    for name in sorted(set(base.runs.suite) | set(current.runs.suite)):
        entry = (current.manifest.get("suites") or {}).get(name) or (base.manifest.get("suites") or {}).get(name)
        declared = (entry or {}).get("tolerances") or {}
        gates[name] = tolerance.resolve(cli, parse_mapping(declared, f"suite {name!r} tolerances"))
    return gates


def harm(quantity: str, metric_name, base: float, current: float) -> float | None:
    """How much worse CURRENT is than BASE (positive = worse); None when the direction is unknown."""
    if quantity in RATIOS:  # farther from 0 decades = gradients less balanced across depth or time
        if base * current < 0:  # vanishing side <-> exploding side: a different imbalance, judged by the move
            return abs(current - base)
        return abs(current) - abs(base)
    if quantity == "speed":
        return base - current
    higher = HIGHER_IS_BETTER.get(metric_name)
    if higher is None:
        return None
    return base - current if higher else current - base


def judge_quantity(quantity, row, gate, metric_name) -> dict:
    """One quantity of one (suite, variant): the change, its tolerance, and whether it regressed."""
    base, current = row[f"{quantity}_mean_base"], row[f"{quantity}_mean_current"]
    n_base, n_current = row[f"{quantity}_count_base"], row[f"{quantity}_count_current"]
    result = {"quantity": quantity, "base": base, "current": current, "change": current - base,
              "half_width": math.nan, "floor": math.nan, "tolerance": math.nan, "regression": False}  # fmt: skip
    if not (math.isfinite(base) and math.isfinite(current)):
        return result
    result["half_width"] = tolerance.half_width(row[f"{quantity}_std_base"], int(n_base), int(n_current))
    result["floor"] = tolerance.floor_at(gate, base)
    result["tolerance"] = max(result["half_width"], result["floor"])
    worse_by = harm(quantity, metric_name, base, current)
    result["regression"] = worse_by is not None and worse_by > result["tolerance"]
    return result


def compare_sides(base: Side, current: Side, cli_gates: dict) -> Comparison:
    notes = []
    ref_base, ref_current = base.reference_speed, current.reference_speed
    if ref_base and ref_current:
        notes.append(f"speed: steps/s divided by each run's reference speed (calibration workload: "
                     f"{ref_base:.0f} steps/s in BASE, {ref_current:.0f} in CURRENT)")  # fmt: skip
    else:
        ref_base = ref_current = None
        side = "BASE" if base.reference_speed is None else "CURRENT"
        notes.append(f"speed: raw steps/s ({side} has no calibration in its manifest), machines may differ")
    absent = [absent_note(name, base, current) for name in OPTIONAL]
    notes.extend(filter(None, [execution_note(base, current), *absent]))
    notes.extend(experiment_notes(base, current))
    merged = summarize(base.runs, ref_base).merge(
        summarize(current.runs, ref_current),
        how="outer",
        left_index=True,
        right_index=True,
        suffixes=("_base", "_current"),
    )
    order = pd.concat([base.runs[KEYS], current.runs[KEYS]]).drop_duplicates()
    merged = merged.reindex(pd.MultiIndex.from_frame(order))
    gates = suite_gates(base, current, cli_gates)
    variants, changes = [], []
    for (suite, variant), row in merged.iterrows():
        entry, rows = judge_variant(suite, variant, row, gates[suite], notes)
        variants.append(entry)
        changes.extend(rows)
    return Comparison(variants=pd.DataFrame(variants), changes=pd.DataFrame(changes), notes=notes,
                      claims=compare_claims(base, current, gates))  # fmt: skip


CLAIM_COLUMNS = ("suite", "claim", "base", "current", "regression")


def compare_claims(base: Side, current: Side, gates: dict) -> pd.DataFrame:
    """CURRENT's claims judged on both sides' runs.csv (a baseline keeps no claims.csv): a status that
    moved toward not_reproduced is a regression where the suite's claims gate is on."""
    definitions = {"suites": {name: {"claims": (entry or {}).get("claims") or []}
                              for name, entry in (current.manifest.get("suites") or {}).items()}}  # fmt: skip
    tables = [claims_table(definitions, {n: r for n, r in side.runs.groupby("suite")}) for side in (base, current)]
    merged = tables[0].merge(tables[1], on=["suite", "claim"], how="right", suffixes=("_base", "_current"))
    rows = []
    for row in merged.itertuples():
        before = row.status_base if isinstance(row.status_base, str) else None
        worse = before is not None and STATUS_ORDER.index(row.status_current) < STATUS_ORDER.index(before)
        rows.append({"suite": row.suite, "claim": row.claim, "base": before or "", "current": row.status_current,
                     "regression": bool(worse and gates.get(row.suite, {}).get("claims", True))})  # fmt: skip
    return pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))


def judge_variant(suite, variant, row, gates, notes) -> tuple[dict, list[dict]]:
    entry = {"suite": suite, "variant": variant, "presence": "both",
             "seeds": f"{_count(row.seeds_base)}/{_count(row.seeds_current)}", "regressions": []}  # fmt: skip
    for name in VERDICTS:
        before, after = row[f"{name}_base"], row[f"{name}_current"]
        entry[name] = before if before == after or pd.isna(after) or pd.isna(before) else f"{before} -> {after}"
    if pd.isna(row.seeds_base) or pd.isna(row.seeds_current):
        entry["presence"] = "new" if pd.isna(row.seeds_base) else "missing"
        if entry["presence"] == "missing" and gates["missing"]:
            entry["regressions"].append("missing")
        return entry, []
    for name in VERDICTS:
        before, after = row[f"{name}_base"], row[f"{name}_current"]
        if gates["verdict"] and verdict_worsened(before, after):
            entry["regressions"].append(name)
    metric_name = row.metric_name_current if row.metric_name_current == row.metric_name_base else None
    if metric_name is None and not (pd.isna(row.metric_name_base) or pd.isna(row.metric_name_current)):
        notes.append(f"{suite}/{variant}: metric changed from {row.metric_name_base} to "
                     f"{row.metric_name_current}; metrics not gated")  # fmt: skip
    rows = []
    for quantity, gate_key in QUANTITIES.items():
        judged = judge_quantity(quantity, row, gates[gate_key], metric_name)
        rows.append({"suite": suite, "variant": variant, **judged})
        if judged["regression"]:
            entry["regressions"].append(quantity)
    return entry, rows


def verdict_worsened(before, after) -> bool:
    """A move to a worse verdict, or between two different unhealthy ones (vanishing <-> exploding)."""
    rank_before, rank_after = VERDICT_RANK.get(before, 0), VERDICT_RANK.get(after, 0)
    return rank_after > rank_before or (rank_after == rank_before > 0 and before != after)


def absent_note(column: str, base: Side, current: Side) -> str | None:
    """Say so when one side's runs.csv lacks an appended column that the other side has values in."""
    sides = {"BASE": base.runs, "CURRENT": current.runs}
    lacking = [role for role, runs in sides.items() if column not in runs]
    if len(lacking) != 1 or not any(column in runs and runs[column].notna().any() for runs in sides.values()):
        return None
    return f"{column}: not in {lacking[0]}'s runs.csv (written before the column was added); not compared"


def execution_note(base: Side, current: Side) -> str | None:
    """Say so when both sides record their executor and worker count and they differ."""
    keys = ("executor", "workers")
    before, after = ([side.manifest.get(key) for key in keys] for side in (base, current))
    if before == after or None in (*before, *after):  # a run made before these were recorded: nothing to say
        return None

    def described(values) -> str:
        return ", ".join(f"{key} {value}" for key, value in zip(keys, values, strict=True))

    return (f"execution differs: BASE ran with {described(before)}, CURRENT with {described(after)}; every run "
            f"and the calibration use one intra-op thread either way")  # fmt: skip


def _count(value) -> str:
    return "0" if pd.isna(value) else str(int(value))


def compare(base_dir: str | Path, current_dir: str | Path, fail_on: str | None = None) -> Comparison:
    """Load both folders and compare them; bad folders or a bad --fail-on raise TfbenchError."""
    cli_gates = tolerance.parse_fail_on(fail_on)
    return compare_sides(load_side(base_dir, "BASE"), load_side(current_dir, "CURRENT"), cli_gates)
