"""Setup and Suite (docs/design.md §3): defaults, structural validation, variants, labels, eval cadence, hash."""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tfbench import Setup, Suite, TfbenchError
from tfbench.errors import SuiteError
from tfbench.spec.canonical import level_label, setup_hash
from tfbench.spec.discovery import load_file

REPO = Path(__file__).resolve().parents[1]
FIELD_NAMES = [f.name for f in dataclasses.fields(Setup)]


def make_suite(**overrides) -> Suite:
    options = dict(name="s", factor="activation", question="q?", base=Setup(), levels=["relu", "tanh"])
    options.update(overrides)
    return Suite(**options)


# --------------------------------------------------------------------------------------------- Setup


def test_setup_defaults_are_those_of_design_section_3():
    expected = {
        "model": "mlp", "depth": 10, "width": 64, "activation": "relu", "initializer": "glorot_uniform",
        "bias_initializer": "zeros", "regularizer": None, "batch_norm": False, "dropout": 0.0,
        "cell": "simple_rnn", "optimizer": "sgd", "learning_rate": 0.01, "clipnorm": None, "clipvalue": None,
        "global_clipnorm": None, "loss": None, "data": "digits", "batch_size": 64, "steps": 600,
        "eval_every": None, "output_activation": None, "pretrain_steps": 0,
    }  # fmt: skip
    setup = Setup()
    assert {name: getattr(setup, name) for name in FIELD_NAMES} == expected
    assert type(setup.dropout) is float and type(setup.learning_rate) is float


def test_setup_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Setup().depth = 3


@pytest.mark.parametrize(
    "changes, quoted",
    [
        ({"depth": 0}, "Setup.depth=0"),
        ({"depth": -3}, "Setup.depth=-3"),
        ({"width": 0}, "Setup.width=0"),
        ({"batch_size": -1}, "Setup.batch_size=-1"),
        ({"steps": 0}, "Setup.steps=0"),
        ({"eval_every": 0}, "Setup.eval_every=0"),
        ({"depth": True}, "Setup.depth=True"),
        ({"steps": False}, "Setup.steps=False"),
        ({"width": 8.0}, "Setup.width=8.0"),
        ({"batch_size": "64"}, "Setup.batch_size='64'"),
        ({"dropout": 1.0}, "Setup.dropout=1.0"),
        ({"dropout": -0.1}, "Setup.dropout=-0.1"),
        ({"dropout": math.nan}, "Setup.dropout=nan"),
        ({"dropout": True}, "Setup.dropout=True"),
        ({"model": "transformer"}, "Setup.model='transformer'"),
        ({"cell": "rnn_cell"}, "Setup.cell='rnn_cell'"),
        ({"clipnorm": -1.0}, "Setup.clipnorm=-1.0"),
        ({"clipvalue": 0}, "Setup.clipvalue=0"),
        ({"global_clipnorm": math.inf}, "Setup.global_clipnorm=inf"),
        ({"learning_rate": math.nan}, "Setup.learning_rate=nan"),
        ({"learning_rate": None}, "Setup.learning_rate=None"),
        ({"learning_rate": 0.0}, "Setup.learning_rate=0.0"),
        ({"learning_rate": 10**400}, "Setup.learning_rate=1000"),  # an int no float can hold
        ({"batch_norm": "yes"}, "Setup.batch_norm='yes'"),
        ({"loss": 3}, "Setup.loss=3"),
    ],
)
def test_structural_errors_quote_the_bad_value(changes, quoted):
    with pytest.raises(TfbenchError) as caught:
        Setup(**changes)
    assert quoted in str(caught.value)
    assert "\n" not in str(caught.value)


def test_unknown_model_family_and_cell_list_what_is_accepted():
    with pytest.raises(TfbenchError, match="mlp, cnn, rnn, resnet"):
        Setup(model="transformer")
    with pytest.raises(TfbenchError, match="simple_rnn, lstm, gru"):
        Setup(cell="rnn_cell")


def test_valid_non_default_setups_are_accepted():
    def my_model(setup):  # pragma: no cover - never called
        raise AssertionError

    setup = Setup(model=my_model, depth=1, width=1, dropout=0.999, clipnorm=1, clipvalue=0.5, global_clipnorm=2.0,
                  learning_rate=1, batch_size=1, steps=1, eval_every=1, cell="gru", batch_norm=True)  # fmt: skip
    assert setup.model is my_model and setup.cell == "gru"


POSITIVE_INT_FIELDS = ("depth", "width", "steps")


def _valid_positive_int(value) -> bool:
    return type(value) is int and value >= 1


def _valid_dropout(value) -> bool:
    return type(value) in (int, float) and 0 <= value < 1


def _valid_learning_rate(value) -> bool:
    if type(value) not in (int, float):
        return False
    try:
        as_float = float(value)
    except OverflowError:
        return False
    return value > 0 and math.isfinite(as_float)


ANY_VALUE = st.one_of(
    st.integers(),
    st.integers(min_value=-3, max_value=3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0.0, max_value=1.0),
    st.text(max_size=4),
    st.booleans(),
    st.none(),
)


@settings(max_examples=400, deadline=None)
@given(depth=ANY_VALUE, width=ANY_VALUE, steps=ANY_VALUE, dropout=ANY_VALUE, learning_rate=ANY_VALUE)
def test_fuzzed_setups_are_valid_exactly_when_every_value_is_or_raise_tfbench_error(
    depth, width, steps, dropout, learning_rate
):
    values = dict(depth=depth, width=width, steps=steps, dropout=dropout, learning_rate=learning_rate)
    should_be_valid = (
        all(_valid_positive_int(values[name]) for name in POSITIVE_INT_FIELDS)
        and _valid_dropout(dropout)
        and _valid_learning_rate(learning_rate)
    )
    try:
        setup = Setup(**values)
    except TfbenchError as error:  # any other exception type fails the test
        assert not should_be_valid, f"rejected a valid Setup: {error}"
        assert str(error).startswith("Setup.")
    else:
        assert should_be_valid, f"accepted an invalid Setup: {values!r}"
        assert setup.depth == depth and setup.learning_rate == learning_rate


# --------------------------------------------------------------------------------------------- Suite


def test_list_levels_label_each_variant_by_its_string_value():
    suite = make_suite(levels=["sigmoid", "tanh", "relu"])
    assert [v.label for v in suite.variants()] == ["sigmoid", "tanh", "relu"]
    assert [v.setup.activation for v in suite.variants()] == ["sigmoid", "tanh", "relu"]
    assert suite.reference_label == "sigmoid"  # the first level when no reference is given


def test_dict_levels_keep_their_labels_and_order():
    suite = make_suite(factor="batch_norm", levels={"plain": False, "bn": True}, reference="bn")
    assert [(v.label, v.setup.batch_norm) for v in suite.variants()] == [("plain", False), ("bn", True)]
    assert suite.reference_label == "bn"


def test_dict_labels_are_text_even_when_keys_are_numbers():
    # records store labels as text; a label 1 that came back as "1" would never match on resume
    suite = make_suite(factor="depth", levels={1: 1, 2.5e-3: 2})
    assert [v.label for v in suite.variants()] == ["1", "0.0025"]


def test_level_label_for_non_string_values():
    def my_activation(x):  # pragma: no cover - never called
        return x

    class FakeInitializer:
        def get_config(self):
            return {"stddev": 0.5}

    assert level_label("relu") == "relu"
    assert level_label(None) == "none"
    assert level_label({"class_name": "RandomNormal", "config": {"stddev": 0.01}}) == "RandomNormal(stddev=0.01)"
    assert level_label({"class_name": "L2", "config": {"l2": 0.001}}) == "L2(l2=0.001)"
    assert level_label({"optimizer": "sgd", "learning_rate": 0.05}) == "optimizer=sgd,learning_rate=0.05"
    assert level_label({"class_name": "SGD", "config": {"momentum": 0.9, "nesterov": True}}) == (
        "SGD(momentum=0.9,nesterov=True)"
    )
    assert level_label(FakeInitializer()) == "FakeInitializer(stddev=0.5)"
    assert level_label(my_activation) == "my_activation"
    assert level_label(0.1) == "0.1"


def test_list_levels_that_are_not_strings_get_readable_labels():
    suite = make_suite(factor="regularizer", levels=[None, {"class_name": "L2", "config": {"l2": 0.001}}])
    assert [v.label for v in suite.variants()] == ["none", "L2(l2=0.001)"]
    assert suite.variants()[0].setup.regularizer is None


def test_tuple_factor_with_dict_levels_sets_every_field():
    suite = make_suite(
        factor=("optimizer", "learning_rate"),
        levels={
            "sgd": {"optimizer": "sgd", "learning_rate": 0.05},
            "adam": {"learning_rate": 1e-3, "optimizer": "adam"},  # key order does not matter
        },
    )
    assert suite.factor_name == "optimizer+learning_rate"
    assert [(v.label, v.setup.optimizer, v.setup.learning_rate) for v in suite.variants()] == [
        ("sgd", "sgd", 0.05),
        ("adam", "adam", 1e-3),
    ]


def test_tuple_factor_level_with_an_extra_key_names_it():
    with pytest.raises(SuiteError) as caught:
        make_suite(
            factor=("optimizer", "learning_rate"),
            levels={"sgd": {"optimizer": "sgd", "learning_rate": 0.05, "depth": 3}},
        )
    message = str(caught.value)
    assert "extra 'depth'" in message and "'sgd'" in message


def test_tuple_factor_level_with_a_missing_key_names_it():
    with pytest.raises(SuiteError) as caught:
        make_suite(factor=("optimizer", "learning_rate"), levels={"sgd": {"optimizer": "sgd"}})
    assert "missing learning_rate" in str(caught.value)


def test_tuple_factor_level_that_is_not_a_dict_is_rejected():
    with pytest.raises(SuiteError, match="not a dict"):
        make_suite(factor=("optimizer", "learning_rate"), levels=["sgd"])


@pytest.mark.parametrize("factor", ["colour", ("optimizer", "colour")])
def test_factor_that_is_not_a_setup_field_is_named(factor):
    with pytest.raises(SuiteError, match="'colour' is not a Setup field"):
        make_suite(factor=factor, levels=[{"optimizer": "sgd", "colour": 1}] if isinstance(factor, tuple) else [1])


@pytest.mark.parametrize("levels, label", [(["relu", "tanh", "relu"], "relu"), ([None, "none"], "none")])
def test_duplicate_labels_are_rejected(levels, label):
    with pytest.raises(SuiteError, match=f"duplicate level label '{label}'"):
        make_suite(factor="regularizer" if None in levels else "activation", levels=levels)


@pytest.mark.parametrize("levels", [[], {}, ()])
def test_empty_levels_are_rejected(levels):
    with pytest.raises(SuiteError, match="non-empty"):
        make_suite(levels=levels)


def test_reference_that_is_not_a_level_is_named():
    with pytest.raises(SuiteError, match="reference 'swish' is not a level"):
        make_suite(reference="swish")


def test_level_that_makes_an_invalid_setup_names_the_level_and_the_value():
    with pytest.raises(SuiteError) as caught:
        make_suite(factor="depth", levels={"shallow": 2, "none": 0})
    assert "level 'none'" in str(caught.value) and "Setup.depth=0" in str(caught.value)


def test_suite_errors_are_tfbench_errors():
    assert issubclass(SuiteError, TfbenchError)


def _factor_value(suite: Suite, variant, name: str):
    return variant.level if isinstance(suite.factor, str) else variant.level[name]


def _assert_variants_differ_only_in_factor(suite: Suite):
    fields = (suite.factor,) if isinstance(suite.factor, str) else suite.factor
    for variant in suite.variants():
        for f in dataclasses.fields(Setup):
            value = getattr(variant.setup, f.name)
            if f.name in fields:
                assert value == _factor_value(suite, variant, f.name), (suite.name, variant.label, f.name)
            else:
                assert value == getattr(suite.base, f.name), (suite.name, variant.label, f.name)


def test_constructed_variants_differ_from_base_only_in_the_factor():
    base = Setup(depth=3, width=16, activation="tanh", learning_rate=0.2, steps=40)
    _assert_variants_differ_only_in_factor(make_suite(base=base, levels=["relu", "elu"]))
    _assert_variants_differ_only_in_factor(
        make_suite(base=base, factor=("clipnorm", "clipvalue"), levels={"a": {"clipnorm": 1.0, "clipvalue": None}})
    )


@pytest.mark.parametrize("path", sorted((REPO / "suites").glob("*.py")), ids=lambda p: p.stem)
def test_shipped_suite_variants_differ_from_base_only_in_the_factor(path):
    for suite in load_file(path):
        _assert_variants_differ_only_in_factor(suite)


# --------------------------------------------------------------------------------------------- cadence


@pytest.mark.parametrize(
    "steps, eval_every, expected",
    [
        (30, None, 3),  # 30 // 10 = 3 divides 30
        (600, None, 60),
        (97, None, 1),  # prime: wanted 9, divisors 1 and 97; |1 - 9| < |97 - 9|
        (98, None, 7),  # wanted 9; divisors 1, 2, 7, 14, 49, 98; 7 is 2 away, 14 is 5
        (6, None, 1),  # 6 // 10 = 0 -> at least 1
        (1, None, 1),
        (100, 7, 5),  # divisors 5 and 10 are 2 and 3 away
        (12, 5, 4),  # 4 and 6 both 1 away: the smaller wins
        (30, 30, 30),
    ],
)
def test_effective_eval_every_is_the_nearest_divisor(steps, eval_every, expected):
    assert Setup(steps=steps, eval_every=eval_every).effective_eval_every == expected


@pytest.mark.parametrize("steps", [1, 2, 30, 64, 97, 120, 121, 360])
def test_effective_eval_every_divides_steps_and_no_divisor_is_closer(steps):
    for eval_every in [None, *range(1, steps + 1, max(1, steps // 17))]:
        got = Setup(steps=steps, eval_every=eval_every).effective_eval_every
        wanted = eval_every or max(1, steps // 10)
        assert steps % got == 0
        closer = [d for d in range(1, steps + 1) if steps % d == 0 and abs(d - wanted) < abs(got - wanted)]
        assert not closer, (steps, eval_every, got, closer)


# --------------------------------------------------------------------------------------------- hash

HASH_SETUP_SOURCE = (
    "Setup(depth=3, initializer={'class_name': 'RandomNormal', 'config': {'stddev': 0.5, 'mean': 0.0}},"
    " regularizer={'class_name': 'L2', 'config': {'l2': 0.001}}, learning_rate=0.1, steps=30)"
)


def test_setup_hash_is_16_hex_digits_and_stable_across_processes():
    here = setup_hash(eval(HASH_SETUP_SOURCE, {"Setup": Setup}), 7)
    assert len(here) == 16 and int(here, 16) >= 0
    code = (
        "from tfbench import Setup; from tfbench.spec.canonical import setup_hash; "
        f"print(setup_hash({HASH_SETUP_SOURCE}, 7))"
    )
    for hash_seed in ("0", "12345"):  # str hashing randomization must not leak into the digest
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        there = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                               check=True, timeout=60).stdout.strip()  # fmt: skip
        assert there == here


ALTERNATIVE_VALUES = {
    "model": "cnn", "depth": 3, "width": 32, "activation": "tanh", "initializer": "he_normal",
    "bias_initializer": "ones", "regularizer": "l2", "batch_norm": True, "dropout": 0.5, "cell": "lstm",
    "optimizer": "adam", "learning_rate": 0.1, "clipnorm": 1.0, "clipvalue": 0.5, "global_clipnorm": 2.0,
    "loss": "mse", "data": "spirals", "batch_size": 32, "steps": 100, "eval_every": 10,
    "output_activation": "sigmoid", "pretrain_steps": 5,
}  # fmt: skip


def test_setup_hash_changes_with_every_field_and_with_the_seed():
    assert set(ALTERNATIVE_VALUES) == set(FIELD_NAMES), "a new Setup field needs an alternative value here"
    base = Setup()
    digests = {"base": setup_hash(base, 0), "seed": setup_hash(base, 1)}
    for name, value in ALTERNATIVE_VALUES.items():
        assert getattr(base, name) != value
        digests[name] = setup_hash(dataclasses.replace(base, **{name: value}), 0)
    assert len(set(digests.values())) == len(digests), digests


def test_setup_hash_is_equal_for_equal_setups_built_separately():
    def build():
        return Setup(depth=4, width=8, activation="elu", optimizer={"class_name": "SGD", "config": {"momentum": 0.9}})

    first, second = build(), build()
    assert first is not second and first == second
    assert setup_hash(first, 3) == setup_hash(second, 3)


def test_config_dicts_with_reordered_keys_hash_equal():
    one = Setup(initializer={"class_name": "RandomNormal", "config": {"mean": 0.0, "stddev": 0.5}})
    two = Setup(initializer={"config": {"stddev": 0.5, "mean": 0.0}, "class_name": "RandomNormal"})
    other = Setup(initializer={"class_name": "RandomNormal", "config": {"mean": 0.0, "stddev": 0.25}})
    assert setup_hash(one, 0) == setup_hash(two, 0)
    assert setup_hash(one, 0) != setup_hash(other, 0)
