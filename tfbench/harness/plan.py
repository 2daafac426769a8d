"""Which steps get per-layer statistics, for each monitor mode (docs/design.md §5)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tfbench.errors import TfbenchError

MONITOR_MODES = ("none", "standard", "full")

# Per-layer rows per run in `standard` mode: enough for smooth curves and heatmaps, few enough
# that the monitor costs ≤ 3 % of a step on average.
STANDARD_RECORDED_STEPS = 200


@dataclass(frozen=True)
class RecordPlan:
    steps: int
    recorded: np.ndarray  # sorted step indices that get per-layer statistics

    @classmethod
    def for_mode(cls, steps: int, mode: str) -> RecordPlan:
        if mode not in MONITOR_MODES:
            raise TfbenchError(f"monitor mode {mode!r} is unknown: expected one of {', '.join(MONITOR_MODES)}")
        if mode == "full":
            recorded = np.arange(steps)
        elif mode == "standard":
            count = min(STANDARD_RECORDED_STEPS, steps)
            recorded = np.unique(np.round(np.linspace(0, steps - 1, count)).astype(np.int64))
        else:
            recorded = np.array([0])
        return cls(steps=steps, recorded=recorded)

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
