"""Budgets: how many seeds and how many updates a run of a suite gets (docs/design.md §8)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from tfbench.errors import TfbenchError


@dataclass(frozen=True)
class Profile:
    name: str
    seeds: int
    description: str

    def steps(self, suite_steps: int) -> int:
        if self.name == "quick":
            return min(suite_steps, QUICK_STEPS)
        if self.name == "full":
            return 3 * suite_steps
        return suite_steps

    def apply(self, setup):
        """The effective Setup under this profile: the step budgets (training, and layer-wise pretraining
        per layer) scaled alike, eval_every kept in range."""
        steps = self.steps(setup.steps)
        eval_every = None if setup.eval_every is None else min(setup.eval_every, steps)
        pretrain_steps = self.steps(setup.pretrain_steps) if setup.pretrain_steps else 0
        return dataclasses.replace(setup, steps=steps, eval_every=eval_every, pretrain_steps=pretrain_steps)


# Enough updates to exercise every code path and see the step-0 verdicts; not enough to train.
QUICK_STEPS = 30

PROFILES = {
    "quick": Profile("quick", 1, f"1 seed, min(steps, {QUICK_STEPS}) updates: smoke tests and CI"),
    "standard": Profile("standard", 3, "3 seeds, the suite's steps"),
    "full": Profile("full", 5, "5 seeds, 3 x the suite's steps"),
}


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise TfbenchError(f"profile {name!r} is unknown: expected one of {', '.join(PROFILES)}")
    return PROFILES[name]
