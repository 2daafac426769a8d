"""The suites of the source articles' remedies (depth, learning_rate, residual, recurrent, dropout,
loss, input_scale, pretraining): each loads, its variants differ from its base in the
factor alone, and the effect each one is about shows at step 0 or within the quick profile."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tfbench.analysis import verdict
from tfbench.harness.train import train_run
from tfbench.spec.canonical import canonical, setup_hash
from tfbench.spec.discovery import load_file
from tfbench.spec.profiles import get_profile
from tfbench.spec.setup import SETUP_FIELDS

SUITES_DIR = Path(__file__).resolve().parent.parent / "suites"
FILES = {
    "depth.py": ["depth_sigmoid", "depth_relu"],
    "learning_rate.py": ["learning_rate"],
    "residual.py": ["residual"],
    "recurrent.py": ["recurrent_20", "recurrent_100"],
    "dropout.py": ["dropout"],
    "loss.py": ["loss"],
    "input_scale.py": ["input_scale"],
    "pretraining.py": ["pretraining"],
}


def suite(name: str):
    for file, names in FILES.items():
        if name in names:
            return {s.name: s for s in load_file(SUITES_DIR / file)}[name]
    raise KeyError(name)


@pytest.mark.parametrize("file", sorted(FILES))
def test_each_suite_file_loads_and_its_variants_are_distinct_runs_with_distinct_levels(file):
    suites = load_file(SUITES_DIR / file)
    assert [s.name for s in suites] == FILES[file]
    for s in suites:
        variants = s.variants()
        assert len(variants) >= 2 and s.question and set(s.factor_fields) <= set(SETUP_FIELDS)
        assert s.reference_label in [v.label for v in variants], s.name
        # every variant is a run of its own: resume and the records tell them apart by the setup hash
        hashes = {setup_hash(v.setup, seed=0) for v in variants}
        assert len(hashes) == len(variants), s.name
        # the levels differ from each other in the factor
        values = [tuple(str(canonical(getattr(v.setup, f))) for f in s.factor_fields) for v in variants]
        assert len(set(values)) == len(values), s.name


def step0_verdict(setup) -> tuple[str, float]:
    """The step-0 verdict and log10 kernel-gradient ratio, from a 2-update run."""
    result = train_run(dataclasses.replace(setup, steps=2, eval_every=2), seed=0, mode="none")
    layers = result.layers_table
    judged, _, kernel_ratio, _ = verdict.judge_step(layers[layers.step == 0])
    return judged, kernel_ratio


@pytest.mark.slow
def test_depth_sigmoid_vanishes_at_20_layers_where_relu_stays_healthy_at_30():
    sigmoid = {v.label: v.setup for v in suite("depth_sigmoid").variants()}
    relu = {v.label: v.setup for v in suite("depth_relu").variants()}
    assert step0_verdict(sigmoid["depth=2"])[0] == "healthy"
    judged, ratio = step0_verdict(sigmoid["depth=20"])
    assert judged == "vanishing" and ratio < -4
    assert step0_verdict(relu["depth=30"])[0] == "healthy"


@pytest.mark.slow
def test_residual_keeps_a_30_layer_sigmoid_net_healthy_where_the_plain_net_vanishes():
    setups = {v.label: v.setup for v in suite("residual").variants()}
    assert step0_verdict(setups["plain"])[0] == "vanishing"
    assert step0_verdict(setups["residual"])[0] == "healthy"


def test_learning_rate_suite_diverges_at_the_top_rate_and_converges_at_the_small_ones():
    quick = get_profile("quick")
    variants = suite("learning_rate").variants()
    top = train_run(quick.apply(variants[-1].setup), seed=0, mode="none")
    assert variants[-1].setup.learning_rate == max(v.setup.learning_rate for v in variants)
    assert top.status == "diverged" and top.steps < quick.apply(variants[-1].setup).steps
    small = train_run(quick.apply(variants[1].setup), seed=0, mode="none")
    assert small.status == "ok"
    loss = small.steps_table["loss"].dropna()
    assert loss.iloc[-1] < loss.iloc[0]
