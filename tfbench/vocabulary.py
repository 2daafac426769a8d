"""The words records, claims and pages share: verdict names, claim kinds and statuses, and the runs.csv
columns a claim may judge. Spelled once here, imported everywhere else; no TensorFlow, so `check`,
`report` and `compare` can read it without loading a model.
"""

from __future__ import annotations

# What the gradients did (docs/design.md §7); a failed run has none.
HEALTHY, VANISHING, EXPLODING, DIVERGED = VERDICTS = ("healthy", "vanishing", "exploding", "diverged")

# The two kinds of claim (docs/design.md §11).
COMPARISON, VERDICT = CLAIM_KINDS = ("comparison", "verdict")

# A claim's status, worse to better: `compare` calls a claim whose status moved down this list a regression.
NOT_REPRODUCED, UNAVAILABLE, INCONCLUSIVE, REPRODUCED = STATUSES = (
    "not_reproduced", "unavailable", "inconclusive", "reproduced",
)  # fmt: skip

# runs.csv columns whose better direction comes from the run's metric (accuracy: higher, MAE: lower).
METRIC_COLUMNS = ("final_metric", "best_metric")

# runs.csv columns a comparison claim may compare: numbers a run computes about the model.
CLAIM_COLUMNS = (*METRIC_COLUMNS, "final_loss", "log10_grad_ratio", "log10_delta_ratio", "log10_time_ratio", "steps")

# A verdict claim's at= -> the runs.csv column it judges: step 0, or the last recorded step.
WHEN = {"init": "verdict", "end": "verdict_end"}
