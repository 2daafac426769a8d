"""Which steps get per-layer statistics, for each monitor mode (docs/design.md §5)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tfbench.errors import TfbenchError
from tfbench.spec.short_runs import SHORT_RUN_STEPS

MONITOR_MODES = ("none", "standard", "full")

# Per-layer rows per run in `standard` mode at most: enough for smooth curves and heatmaps.
STANDARD_RECORDED_STEPS = 200

# Below this many updates a run is dominated by tracing, and the loop that runs several steps per
# call costs more to trace than it saves.
MULTI_STEP_MIN_STEPS = SHORT_RUN_STEPS


def steps_per_execution(steps: int, chunk: int, limit: int = 16) -> int:
    """Run several train steps per tf.function call (fewer Python round trips): the largest divisor
    of the chunk up to `limit`, so executions never straddle a validation boundary."""
    if steps < MULTI_STEP_MIN_STEPS:
        return 1
    return max(d for d in range(1, min(chunk, limit) + 1) if chunk % d == 0)


@dataclass(frozen=True)
class RecordPlan:
    steps: int
    recorded: np.ndarray  # sorted step indices that get per-layer statistics

    @classmethod
    def for_mode(cls, steps: int, mode: str, per_execution: int = 1) -> RecordPlan:
        """With `per_execution` > 1 updates per call of the train function, `standard` records the first
        step of every other execution: the other steps run the plain traced step, and the unrecorded
        executions are what the run measures the monitor's cost against (`monitor_s`)."""
        if mode not in MONITOR_MODES:
            raise TfbenchError(f"monitor mode {mode!r} is unknown: expected one of {', '.join(MONITOR_MODES)}")
        if mode == "full":
            recorded = np.arange(steps)
        elif mode == "standard":
            starts = np.arange(0, steps, per_execution)
            share = len(starts) if per_execution == 1 else -(-len(starts) // 2)
            count = min(STANDARD_RECORDED_STEPS, share)
            recorded = np.unique(starts[np.round(np.linspace(0, len(starts) - 1, count)).astype(np.int64)])
        else:
            recorded = np.array([0])
        return cls(steps=steps, recorded=recorded)

    @classmethod
    def for_setup(cls, setup, mode: str) -> RecordPlan:
        """The plan of a harness run of `setup`, aligned with the executions `build_model` gives it."""
        return cls.for_mode(setup.steps, mode, steps_per_execution(setup.steps, setup.effective_eval_every))

    @property
    def n_recorded(self) -> int:
        return len(self.recorded)

    @property
    def every_step(self) -> bool:
        return self.n_recorded == self.steps

    @property
    def mask(self) -> np.ndarray:
        mask = np.zeros(self.steps, dtype=bool)
        mask[self.recorded] = True
        return mask

    @property
    def slots(self) -> np.ndarray:
        """Row of the layer buffer for each step, -1 where the step is not recorded."""
        slots = np.full(self.steps, -1, dtype=np.int32)
        slots[self.recorded] = np.arange(self.n_recorded, dtype=np.int32)
        return slots
