"""Profiles scale every step budget of a Setup alike: training updates and layer-wise pretraining."""

from __future__ import annotations

import pytest

from tfbench.errors import TfbenchError
from tfbench.spec.profiles import QUICK_STEPS, get_profile
from tfbench.spec.setup import Setup

BASE = Setup(steps=600, eval_every=50, pretrain_steps=300)


@pytest.mark.parametrize(
    ("profile", "steps", "pretrain_steps", "eval_every"),
    [("quick", QUICK_STEPS, QUICK_STEPS, QUICK_STEPS), ("standard", 600, 300, 50), ("full", 1800, 900, 50)],
)
def test_profile_scales_training_and_pretraining_budgets(profile, steps, pretrain_steps, eval_every):
    effective = get_profile(profile).apply(BASE)
    assert (effective.steps, effective.pretrain_steps, effective.eval_every) == (steps, pretrain_steps, eval_every)


@pytest.mark.parametrize("profile", ["quick", "standard", "full"])
def test_no_pretraining_stays_none_and_other_fields_are_untouched(profile):
    setup = Setup(steps=20, activation="tanh", width=32)
    effective = get_profile(profile).apply(setup)
    assert effective.pretrain_steps == 0
    assert (effective.activation, effective.width) == ("tanh", 32)


def test_unknown_profile_names_the_accepted_ones():
    with pytest.raises(TfbenchError, match="'fast' is unknown: expected one of quick, standard, full"):
        get_profile("fast")
