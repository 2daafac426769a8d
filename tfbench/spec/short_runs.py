"""Short runs: under SHORT_RUN_STEPS optimizer updates a run is dominated by tracing, so the harness
trains it one step per call and with Grappler's graph rewrites (fusions, constant folding: about 0.3 s
per traced function) switched off. The whole quick profile is such a run; the manifest records, per
level, whether Grappler was on."""

from __future__ import annotations

SHORT_RUN_STEPS = 100


def grappler_on(steps: int) -> bool:
    """Whether a run of `steps` updates trains with Grappler's graph rewrites."""
    return steps >= SHORT_RUN_STEPS
