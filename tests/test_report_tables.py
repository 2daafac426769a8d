"""The comparison table (issue: report page per suite): t-intervals, paired differences, counts,
verdict triggers, summary.csv / summary.md. Hand-built records everywhere but one test, which checks
the table against pandas on the records a real (tiny) run wrote."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats

from tfbench.analysis.statistics import paired_differences
from tfbench.report import tables
from tfbench.report.tables import comparison_table, verdict_trigger, write_summary

# --------------------------------------------------------------------------------------------- builders


def run_row(variant, seed, metric, status="ok", verdict="healthy", verdict_end=None, loss=None, ratio=0.0, speed=100.0):
    diverged = status == "diverged"
    failed = status == "failed"
    return {
        "suite": "s", "factor": "activation", "variant": variant, "level": variant, "seed": seed, "status": status,
        "verdict": math.nan if failed else verdict,
        "verdict_end": math.nan if failed else (verdict_end or ("diverged" if diverged else verdict)),
        "steps": 10, "metric_name": "accuracy",
        "final_metric": math.nan if diverged or failed else metric,
        "final_loss": math.nan if diverged or failed else (loss if loss is not None else 1 - metric),
        "log10_grad_ratio": math.nan if failed else ratio, "steps_per_s": math.nan if failed else speed,
    }  # fmt: skip


def layer_rows(variant, seed, step, kernel, act=None, nonfinite=None, grad_max=None):
    """One run's layers at one step: kernel[i] is the kernel gradient norm at depth i + 1 (last = output)."""
    act = act or kernel
    nonfinite = nonfinite or [0] * len(kernel)
    grad_max = grad_max or [k / 10 for k in kernel]
    names = [f"dense_{d}" for d in range(1, len(kernel))] + ["output"]
    return [
        {"suite": "s", "variant": variant, "seed": seed, "step": step, "layer": name, "depth": depth,
         "kernel_grad_norm": k, "act_grad_norm": a, "nonfinite": float(n), "grad_max_abs": g}
        for depth, (name, k, a, n, g) in enumerate(zip(names, kernel, act, nonfinite, grad_max, strict=True), 1)
    ]  # fmt: skip


HEALTHY = [1.0, 1.2, 0.9, 2.0]  # depth 1..3 hidden + output: ratio log10(1/0.9) ≈ 0.05
VANISHING = [1e-6, 1e-4, 1e-2, 1.0]  # dense_1 / dense_3 = 10^-4


@pytest.fixture
def suite():
    """Three variants x three seeds: ref (reference), good (better), bad (vanishing, one diverged, one failed)."""
    runs = [
        run_row("ref", 0, 0.50, speed=100), run_row("ref", 1, 0.60, speed=110), run_row("ref", 2, 0.55, speed=90),
        run_row("good", 0, 0.70, speed=80), run_row("good", 1, 0.75, speed=85), run_row("good", 2, 0.90, speed=70),
        run_row("bad", 0, 0.10, verdict="vanishing", ratio=-4.0),
        run_row("bad", 1, 0.0, status="diverged", verdict="vanishing", ratio=-4.5),
        run_row("bad", 2, 0.0, status="failed"),
    ]  # fmt: skip
    layers = []
    for variant, kernel in (("ref", HEALTHY), ("good", HEALTHY), ("bad", VANISHING)):
        for seed in (0, 1):
            layers += layer_rows(variant, seed, 0, kernel) + layer_rows(variant, seed, 5, kernel)
    return pd.DataFrame(runs), pd.DataFrame(layers)


# --------------------------------------------------------------------------------------------- paired differences


def test_paired_differences_use_the_same_seeds_only():
    runs = pd.DataFrame(
        [run_row("ref", s, m) for s, m in ((0, 0.5), (1, 0.6))]
        + [run_row("x", s, m) for s, m in ((0, 0.7), (1, 0.9), (2, 0.1))]  # seed 2 has no reference
    )
    diffs = paired_differences(runs, "final_metric", "x", "ref")
    assert diffs.index.tolist() == [0, 1]
    assert diffs.tolist() == pytest.approx([0.2, 0.3])


def test_paired_differences_drop_failed_reference_runs():
    runs = pd.DataFrame([run_row("ref", 0, 0.5), run_row("ref", 1, 0.5, status="failed"),
                         run_row("x", 0, 0.6), run_row("x", 1, 0.7)])  # fmt: skip
    assert paired_differences(runs, "final_metric", "x", "ref").index.tolist() == [0]


# --------------------------------------------------------------------------------------------- comparison table


def test_table_means_and_cis_equal_pandas_on_the_usable_runs(suite):
    runs, layers = suite
    table = comparison_table(runs, layers, "ref", higher_is_better=True).set_index("variant")
    assert table.index.tolist() == ["ref", "good", "bad"]  # order of first appearance
    usable = runs[runs.status != "failed"]
    for column in ("final_metric", "final_loss", "log10_grad_ratio", "steps_per_s"):
        expected = usable.groupby("variant", sort=False)[column].mean()
        assert table[f"{column}_mean"].to_dict() == pytest.approx(expected.to_dict()), column
        for variant, mean in expected.items():
            values = usable.loc[usable.variant == variant, column].dropna()
            if len(values) > 1:
                sem = stats.sem(values)  # scipy gives NaN for a zero spread; the interval is then the mean
                expected_ci = (
                    stats.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=sem) if sem else (mean, mean)
                )
                got = (table.at[variant, f"{column}_low"], table.at[variant, f"{column}_high"])
                assert got == pytest.approx(expected_ci, rel=1e-12)
                assert table.at[variant, f"{column}_low"] <= mean <= table.at[variant, f"{column}_high"]
    # bad: seed 1 diverged (NaN metric, dropped), seed 2 failed (excluded): one value, no interval
    assert table.at["bad", "final_metric_mean"] == pytest.approx(0.10)
    assert math.isnan(table.at["bad", "final_metric_low"])
    assert table.at["bad", "log10_grad_ratio_mean"] == pytest.approx(-4.25)  # diverged run's ratio stays in


def test_table_counts_diverged_and_failed_seeds(suite):
    runs, layers = suite
    table = comparison_table(runs, layers, "ref", higher_is_better=True).set_index("variant")
    assert table[["seeds", "diverged", "failed"]].loc["bad"].tolist() == [3, 1, 1]
    assert table[["seeds", "diverged", "failed"]].loc["ref"].tolist() == [3, 0, 0]


def test_table_paired_difference_against_the_reference(suite):
    runs, layers = suite
    table = comparison_table(runs, layers, "ref", higher_is_better=True).set_index("variant")
    assert table.loc["ref", ["diff_vs_reference_mean", "diff_vs_reference_low", "diff_vs_reference_high"]].isna().all()
    wide = runs.pivot(index="seed", columns="variant", values="final_metric")
    expected = (wide["good"] - wide["ref"]).mean()
    assert table.at["good", "diff_vs_reference_mean"] == pytest.approx(expected)
    assert table.at["good", "diff_vs_reference_low"] <= expected <= table.at["good", "diff_vs_reference_high"]
    # bad pairs only seed 0 with the reference (seed 1 diverged, seed 2 failed)
    assert table.at["bad", "diff_vs_reference_mean"] == pytest.approx(0.10 - 0.50)


def test_best_flag_respects_the_metric_direction(suite):
    runs, layers = suite
    higher = comparison_table(runs, layers, "ref", higher_is_better=True)
    lower = comparison_table(runs, layers, "ref", higher_is_better=False)
    assert higher.loc[higher.best, "variant"].tolist() == ["good"]
    assert lower.loc[lower.best, "variant"].tolist() == ["bad"]
    all_nan = runs.assign(final_metric=math.nan)
    assert not comparison_table(all_nan, layers, "ref", higher_is_better=True)["best"].any()


def test_verdicts_are_the_most_common_with_ties_to_the_first_seed():
    runs = pd.DataFrame([
        run_row("a", 0, 0.5, verdict="healthy"), run_row("a", 1, 0.5, verdict="vanishing"),
        run_row("a", 2, 0.5, verdict="vanishing"),
        run_row("b", 0, 0.5, verdict="exploding"), run_row("b", 1, 0.5, verdict="healthy"),
    ])  # fmt: skip
    layers = pd.DataFrame([r for v in "ab" for s in (0, 1, 2) for r in layer_rows(v, s, 0, HEALTHY)])
    table = comparison_table(runs, layers, "a", higher_is_better=True).set_index("variant")
    assert table.at["a", "verdict"] == "vanishing"
    assert table.at["b", "verdict"] == "exploding"


def test_vanishing_trigger_names_the_first_layer_and_step_0(suite):
    runs, layers = suite
    table = comparison_table(runs, layers, "ref", higher_is_better=True).set_index("variant")
    assert table.at["bad", "verdict"] == "vanishing"
    trigger = table.at["bad", "verdict_trigger"]
    assert "dense_1 (depth 1)" in trigger and "step 0" in trigger and "10^-4.0" in trigger and "dense_3" in trigger
    assert "seed 0" in trigger
    assert "within" in table.at["ref", "verdict_trigger"] and "dense_1" in table.at["ref", "verdict_trigger"]


def test_verdict_trigger_picks_the_larger_ratio_like_the_judge():
    rows = pd.DataFrame(layer_rows("v", 0, 0, kernel=[1e-1, 1, 1, 1], act=[1e-5, 1e-3, 1, 1]))
    assert verdict_trigger(rows, "vanishing", 0).startswith(
        "dense_1 (depth 1) at step 0: δ gradient 10^-5.0 of dense_3's"
    )
    rows = pd.DataFrame(layer_rows("v", 0, 3, kernel=[1e3, 1, 1, 1], act=[1, 1, 1, 1]))
    sentence = verdict_trigger(rows, "exploding", 3)
    assert sentence.startswith("dense_1 (depth 1) at step 3: kernel gradient 10^+3.0") and "beyond ±2" in sentence


def test_diverged_trigger_names_the_first_non_finite_step_and_worst_layer():
    rows = pd.DataFrame(
        layer_rows("v", 0, 0, HEALTHY)
        + layer_rows("v", 0, 1, HEALTHY, nonfinite=[0, 0, 0, 0])
        + layer_rows("v", 0, 2, [1.0, math.inf, 1.0, 1.0], nonfinite=[0, 7, 2, 0])
    )
    assert verdict_trigger(rows, "diverged", 0).startswith("dense_2 (depth 2) at step 2: 7 non-finite")
    # loss blow-up without non-finite gradients: the last recorded step and the largest gradient entry
    rows = pd.DataFrame(layer_rows("v", 0, 0, HEALTHY) + layer_rows("v", 0, 4, HEALTHY, grad_max=[1, 5e6, 2, 3]))
    sentence = verdict_trigger(rows, "diverged", 4)
    assert sentence.startswith("dense_2 (depth 2) at step 4") and "5e+06" in sentence
    assert verdict_trigger(rows.iloc[0:0], "diverged", 0) == "no finite step recorded"


# --------------------------------------------------------------------------------------------- summary files


def test_write_summary_writes_csv_and_markdown(suite, tmp_path):
    runs, layers = suite
    table = comparison_table(runs, layers, "ref", higher_is_better=True)
    write_summary(tmp_path / "s", table, title="activation")
    back = pd.read_csv(tmp_path / "s" / "summary.csv", dtype={"variant": str, "level": str})
    pd.testing.assert_frame_equal(back, table, check_dtype=False)
    lines = (tmp_path / "s" / "summary.md").read_text().splitlines()
    header = (
        "| "
        + " | ".join(
            [
                "Variant",
                "Verdict",
                "Final metric [95 % t-interval]",
                "Δ vs reference, paired [95 % t-interval]",
                "log10 grad ratio",
                "steps/s",
                "diverged",
            ]
        )
        + " |"
    )
    assert header in lines
    body = [line for line in lines if line.startswith("| ") and line != header]
    assert [line.split(" | ")[0] for line in body] == ["| ref", "| **good**", "| bad"]
    assert all(line.count(" | ") == 6 for line in body)
    good = next(line for line in body if "good" in line)
    assert "0.783 [" in good and "+0.233 [" in good
    assert "| reference |" in next(line for line in body if line.startswith("| ref"))
    bad = next(line for line in body if line.startswith("| bad"))
    assert "1/3 (1 failed)" in bad and "0.100 |" in bad  # one value: no interval
    assert not [p for p in (tmp_path / "s").iterdir() if p.name.endswith(".tmp")]


def test_markdown_formats_nan_as_a_dash(suite, tmp_path):
    runs, layers = suite
    table = comparison_table(runs.assign(final_metric=math.nan), layers, "ref", higher_is_better=True)
    write_summary(tmp_path, table, title="t")
    ref = next(line for line in (tmp_path / "summary.md").read_text().splitlines() if line.startswith("| ref"))
    assert ref.split(" | ")[2] == "–"


# --------------------------------------------------------------------------------------------- real records


TINY_LEVELS = {"0.05": 0.05, "1e-1": 0.1, "0.3": 0.3}


@pytest.fixture(scope="module")
def tiny_records(tmp_path_factory):
    from tfbench import Setup, Suite
    from tfbench.engine import runner
    from tfbench.records import store as records

    suite = Suite(name="tiny", factor="learning_rate", question="?", base=Setup(depth=2, width=8, steps=6),
                  levels=TINY_LEVELS, reference="1e-1")  # fmt: skip
    out = tmp_path_factory.mktemp("report") / "out"
    runner.run([suite], profile="quick", seeds=3, out=out, log=lambda line: None)
    return records.load_results(out)["tiny"]


def test_table_from_real_records_matches_pandas(tiny_records):
    runs, layers = tiny_records.runs, tiny_records.layers
    table = comparison_table(runs, layers, "1e-1", higher_is_better=True)
    assert table["variant"].tolist() == list(TINY_LEVELS)
    indexed = table.set_index("variant")
    usable = runs[runs.status != "failed"]
    grouped = usable.groupby("variant")
    for column in ("final_metric", "final_loss", "log10_grad_ratio", "steps_per_s"):
        expected = grouped[column].mean()
        for variant in TINY_LEVELS:
            assert indexed.at[variant, f"{column}_mean"] == pytest.approx(expected[variant], nan_ok=True), column
    assert indexed["seeds"].to_dict() == runs.groupby("variant").size().to_dict()
    assert (
        indexed["diverged"].to_dict()
        == runs.assign(d=runs.status == "diverged").groupby("variant")["d"].sum().to_dict()
    )
    wide = usable.pivot(index="seed", columns="variant", values="final_metric")
    for variant in ("0.05", "0.3"):
        assert indexed.at[variant, "diff_vs_reference_mean"] == pytest.approx(
            (wide[variant] - wide["1e-1"]).mean(), nan_ok=True
        )
    assert math.isnan(indexed.at["1e-1", "diff_vs_reference_mean"])
    for variant in TINY_LEVELS:
        verdicts = usable[usable.variant == variant].sort_values("seed")["verdict"]
        counts = verdicts.value_counts()
        expected = next(v for v in verdicts if counts[v] == counts.max())  # ties: the first seed's
        assert indexed.at[variant, "verdict"] == expected
        trigger = indexed.at[variant, "verdict_trigger"]
        assert "step 0" in trigger and ("dense_1 (depth 1)" in trigger or indexed.at[variant, "verdict"] == "diverged")
    assert list(table.columns) == list(tables.TABLE_COLUMNS)
