"""Grappler's graph rewrites are off for runs under SHORT_RUN_STEPS updates (the quick profile), on for
longer ones, and the manifest says which per level — the same rule the harness applies."""

from __future__ import annotations

import contextlib

import pytest
import tensorflow as tf

from tfbench.harness import train
from tfbench.spec.manifest_entry import suite_entry
from tfbench.spec.setup import Setup
from tfbench.spec.short_runs import SHORT_RUN_STEPS
from tfbench.spec.suite import Suite

SUITE = Suite(
    name="budget",
    factor="steps",
    question="?",
    base=Setup(depth=1, width=4, steps=600),
    levels={"long": 600, "short": SHORT_RUN_STEPS - 1},
)


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ("quick", {"long": False, "short": False}),
        ("standard", {"long": True, "short": False}),
        ("full", {"long": True, "short": True}),  # 3 x 99 updates
    ],
)
def test_the_manifest_records_per_level_whether_grappler_was_on(profile, expected):
    assert suite_entry(SUITE, profile)["grappler"] == expected


def meta_optimizer_disabled() -> bool:
    return bool(tf.config.optimizer.get_experimental_options().get("disable_meta_optimizer", False))


@pytest.mark.parametrize("enabled", [True, False])
def test_graph_rewrites_switch_grappler_for_the_block_and_restore_it(enabled):
    before = meta_optimizer_disabled()
    with train.graph_rewrites(enabled):
        assert meta_optimizer_disabled() is (not enabled or before)
    assert meta_optimizer_disabled() is before


def test_a_run_trains_with_grappler_as_the_manifest_says(monkeypatch):
    seen = []
    original = train.graph_rewrites

    @contextlib.contextmanager
    def spy(enabled):
        with original(enabled):
            seen.append(meta_optimizer_disabled())
            yield

    monkeypatch.setattr(train, "graph_rewrites", spy)
    setup = Setup(depth=1, width=4, steps=4, eval_every=4)
    train.train_run(setup, seed=0, mode="none")
    short = Suite(name="short", factor="width", question="?", base=setup, levels=[4])
    assert seen == [not suite_entry(short)["grappler"]["4"]] == [True]
