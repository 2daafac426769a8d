"""Judge a suite's claims against its runs.csv (docs/design.md §11): reproduced, not reproduced,
inconclusive, or unavailable.

Claims arrive as the manifest keeps them (`Claim.to_json()`), so `report` and `compare` judge any run
folder or baseline from its records alone.

- Comparison: per seed, the difference `better` − `than` on the column, signed so that positive means
  the claimed direction; effect = its mean over seeds, with a 95 % t-interval. Reproduced when the
  interval lies above 0, not reproduced when below, inconclusive otherwise (always with one seed).
  Seeds where either run diverged or failed are left out (a diverged run has no final metric).
- Verdict: reproduced when every seed of the variant that has a verdict has the claimed one.
- Unavailable: no seed is left to judge (the variant failed, diverged everywhere, or did not run).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from tfbench.analysis.statistics import paired_differences, t_interval
from tfbench.records import store
from tfbench.records.schema import HIGHER_IS_BETTER
from tfbench.spec.claim import Claim
from tfbench.vocabulary import INCONCLUSIVE, METRIC_COLUMNS, NOT_REPRODUCED, REPRODUCED, STATUSES, UNAVAILABLE, VERDICT

CLAIMS_FILE = "claims.csv"
CLAIM_TABLE_COLUMNS = ("suite", "claim", "source", "kind", "metric", "effect", "ci_low", "ci_high", "seeds", "status")
# Worse to better: `compare` calls a claim whose status moved down this list a regression.
STATUS_ORDER = STATUSES


def judge_claim(suite: str, claim: Claim | dict, runs: pd.DataFrame) -> dict:
    """One claims.csv row; `claim` as the suite states it or as the manifest keeps it (Claim.to_json())."""
    claim = claim if isinstance(claim, Claim) else Claim.from_json(claim)
    row = {"suite": suite, "claim": claim.text, "source": claim.source, "kind": claim.kind, "metric": claim.column,
           "effect": math.nan, "ci_low": math.nan, "ci_high": math.nan, "seeds": 0}  # fmt: skip
    judged = _judge_verdict(claim, runs) if claim.kind == VERDICT else _judge_comparison(claim, runs)
    return {**row, **judged}


def _judge_verdict(claim: Claim, runs: pd.DataFrame) -> dict:
    if claim.column not in runs:
        return {"status": UNAVAILABLE}
    verdicts = runs.loc[runs["variant"].astype(str) == claim.variant, claim.column].dropna().astype(str)
    verdicts = verdicts[verdicts != ""]
    if verdicts.empty:
        return {"status": UNAVAILABLE}
    held = bool((verdicts == claim.verdict).all())
    return {"seeds": len(verdicts), "status": REPRODUCED if held else NOT_REPRODUCED}


def claim_differences(claim: Claim, runs: pd.DataFrame) -> pd.Series:
    """Per seed, better − than on the claim's column, positive in the claimed direction."""
    differences = paired_differences(runs, claim.on, claim.better, claim.than)
    return differences if higher_is_better(claim, runs) else -differences


def higher_is_better(claim: Claim, runs: pd.DataFrame) -> bool:
    if claim.on in METRIC_COLUMNS:
        names = runs["metric_name"].dropna().astype(str) if "metric_name" in runs else pd.Series(dtype=str)
        return HIGHER_IS_BETTER.get(names.iloc[0], True) if len(names) else True
    return not claim.lower


def _judge_comparison(claim: Claim, runs: pd.DataFrame) -> dict:
    differences = claim_differences(claim, runs)
    n = len(differences)
    if n == 0:
        return {"status": UNAVAILABLE}
    effect, low, high = t_interval(differences)
    if n < 2:
        return {"effect": effect, "seeds": n, "status": INCONCLUSIVE}
    status = REPRODUCED if low > 0 else NOT_REPRODUCED if high < 0 else INCONCLUSIVE
    return {"effect": effect, "ci_low": low, "ci_high": high, "seeds": n, "status": status}


def claims_table(manifest: dict, runs_by_suite: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every claim of every suite with records, in the manifest's suite order."""
    rows = []
    for suite, entry in (manifest.get("suites") or {}).items():
        if suite in runs_by_suite:
            rows += [judge_claim(suite, claim, runs_by_suite[suite]) for claim in entry.get("claims") or []]
    return pd.DataFrame(rows, columns=list(CLAIM_TABLE_COLUMNS))


def summary_line(table: pd.DataFrame) -> str:
    """`claims: 23/24 reproduced, 1 inconclusive` (empty when no suite states a claim)."""
    if table.empty:
        return ""
    counts = table["status"].value_counts()
    others = [f"{counts[status]} {status.replace('_', ' ')}" for status in reversed(STATUS_ORDER[:-1])
              if counts.get(status, 0)]  # fmt: skip
    return f"claims: {counts.get(REPRODUCED, 0)}/{len(table)} reproduced" + "".join(f", {o}" for o in others)


def write_claims(out, manifest: dict | None = None, runs_by_suite: dict | None = None) -> pd.DataFrame:
    """Judge every claim of the run folder `out` and write OUT/claims.csv; returns the table. A caller
    that has read the manifest and every suite's runs.csv already passes them, so they are read once."""
    out = Path(out)
    manifest = store.read_manifest(out) if manifest is None else manifest
    if runs_by_suite is None:
        runs_by_suite = {name: store.read_runs(out / name) for name in store.suite_names(out)}
    table = claims_table(manifest, runs_by_suite)
    store.atomic_write(out / CLAIMS_FILE, lambda temp: table.to_csv(temp, index=False))
    return table
