"""Fuzz Setup, Suite and the Keras-level validation: any value gives a valid object or a one-line
TfbenchError, never another exception (a TypeError from deep inside Keras would be a traceback)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfbench import Setup, Suite, TfbenchError
from tfbench.engine.validation import check_suites
from tfbench.spec.canonical import canonical, setup_hash
from tfbench.spec.profiles import get_profile
from tfbench.spec.setup import SETUP_FIELDS

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-2, max_value=70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0.0, max_value=1.0),
    st.text(max_size=6),
    st.sampled_from(["relu", "tanh", "sgd", "adam", "l2", "he_normal", "mlp", "cnn", "lstm", "digits", "mse"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["class_name", "config", "l2", "stddev", "x"]), inner, max_size=3),
    ),
    max_leaves=6,
)
FIELD_NAMES = st.one_of(st.sampled_from(SETUP_FIELDS), st.text(max_size=8))


def as_json(value) -> str:
    return json.dumps(canonical(value), sort_keys=True)


def assert_one_line(error: TfbenchError) -> None:
    text = str(error)
    assert text and "\n" not in text, text


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(SETUP_FIELDS), VALUES, max_size=5))
def test_any_setup_values_give_a_setup_or_a_one_line_tfbench_error(changes):
    try:
        setup = Setup(**changes)
    except TfbenchError as error:
        assert_one_line(error)
    else:  # what an accepted Setup promises: a stable hash that tells it apart from any other Setup
        assert setup_hash(setup, 0) == setup_hash(Setup(**changes), 0) != setup_hash(setup, 1)
        default = Setup()
        for name, value in changes.items():
            if as_json(value) != as_json(getattr(default, name)):
                assert setup_hash(setup, 0) != setup_hash(default, 0), name


@settings(max_examples=300, deadline=None)
@given(
    name=st.one_of(st.sampled_from(["probe", "a_b"]), st.text(max_size=5), st.integers()),
    factor=st.one_of(FIELD_NAMES, st.tuples(FIELD_NAMES, FIELD_NAMES), st.integers()),
    levels=st.one_of(
        st.lists(VALUES, max_size=4),
        st.dictionaries(st.text(max_size=3), VALUES, max_size=4),
        VALUES,
    ),
    reference=st.one_of(st.none(), st.text(max_size=4), st.sampled_from(["relu", "tanh"])),
)
def test_any_suite_gives_a_suite_or_a_one_line_tfbench_error(name, factor, levels, reference):
    try:
        suite = Suite(name=name, factor=factor, question="?", base=Setup(steps=6), levels=levels, reference=reference)
    except TfbenchError as error:
        assert_one_line(error)
    else:  # what a valid suite promises: one variant per level, told apart by text labels, the reference among them
        variants = suite.variants()
        labels = [variant.label for variant in variants]
        assert len(variants) == len(levels) and len(set(labels)) == len(labels)
        assert all(isinstance(label, str) for label in labels) and suite.reference_label in labels


KERAS_FIELDS = ("activation", "initializer", "bias_initializer", "regularizer", "optimizer", "loss")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(KERAS_FIELDS), value=VALUES)
def test_any_keras_valued_field_passes_check_or_fails_with_a_one_line_tfbench_error(field, value):
    """What `check` and `run` do before training: resolve every value through Keras."""
    try:
        suite = Suite(name="fuzz", factor=field, question="?", base=Setup(depth=1, width=2, steps=2), levels=[value])
        check_suites([suite], get_profile("quick"), build=False)
    except TfbenchError as error:
        assert_one_line(error)
