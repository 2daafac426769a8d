"""The speed gate's power on this machine: how many pairs and seconds it needs to call a planted slowdown,
and how often it raises a false alarm on identical code. A script, not a pytest module (it runs minutes):

    PYTHONPATH=. python tests/bench/speed_power.py --out speed-power.json

It builds a throwaway git repository (this checkout's tfbench and one suite file, a 4x128 ReLU MLP on
digits) and commits the suite again with a busy wait of +5 %, +10 % and +20 % of the measured time per
update inside every update of the HEAD revision (a py_function that spins on the clock and adds zero to
the activations: results unchanged). The BASE revision runs the same py_function with no wait, so only the
planted time differs. Then:

- A/A: `speed BASE BASE` --aa times at the default threshold (10 %): decisions, false alarms (slower or
  faster), pairs and seconds to "same";
- planted: `speed BASE HEAD_p --fail-on speed:1` for p = 5, 10, 20: pairs and seconds until "slower".

From each run's speed.json (every block kept) it recomputes, pair by pair, when the decision was first
reached, and the spread of d = log(t_HEAD / t_BASE) per pair. Prints the Markdown table for docs/speed.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from speed_repo import ROOT, commit_suite, new_repo  # noqa: E402

from tfbench.speed.decision import decide  # noqa: E402
from tfbench.speed.interval import t_interval  # noqa: E402

SUITE = '''"""The speed gate's power suite: a 4x128 ReLU MLP on digits with a busy wait in every forward pass."""

import time

import keras
import tensorflow as tf

from tfbench import Setup, Suite

WAIT_S = {wait!r}  # seconds spun in each update (0 in BASE: the same py_function, no wait)


def spin():
    end = time.perf_counter() + WAIT_S
    while time.perf_counter() < end:
        pass
    return 0.0


class Spin(keras.layers.Layer):
    def call(self, x):
        done = tf.reshape(tf.py_function(spin, [], tf.float32), [])
        return x + 0.0 * tf.stop_gradient(done)


def mlp(setup):
    inputs = keras.Input((64,))
    x = Spin()(inputs)
    for _ in range(setup.depth):
        x = keras.layers.Dense(setup.width, activation="relu")(x)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))


SUITE = Suite(
    name="power",
    factor="width",
    question="How fast does the speed gate call a planted slowdown?",
    base=Setup(model=mlp, depth=4, width=128, data="digits", batch_size=64, steps=300, learning_rate=0.05),
    levels=[128],
)
'''


def speed(repo: Path, base: str, head: str, fail_on: str, max_seconds: float) -> dict:
    """One `tfbench speed` run; its speed.json, the exit code and the command's wall time added."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out"
        command = [sys.executable, "-m", "tfbench", "speed", base, head, "suites/power.py", "--fail-on", fail_on,
                   "--max-seconds", str(max_seconds), "--out", str(out)]  # fmt: skip
        started = time.monotonic()
        result = subprocess.run(command, cwd=repo, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                                text=True)  # fmt: skip
        if result.returncode not in (0, 1):
            raise SystemExit(f"speed failed: {result.stderr.strip()}")
        report = json.loads((out / "speed.json").read_text())
    report["exit_code"], report["wall_s"] = result.returncode, time.monotonic() - started
    return report


def step_pairs(report: dict) -> list[tuple[float, float]]:
    """(log ratio, seconds since the command started when the pair ended) of the step series, in order."""
    pairs: dict[int, dict] = {}
    for block in report["blocks"]:
        if block["quantity"] == "step":
            pairs.setdefault(block["pair"], {})[block["revision"]] = block
    done = [p for _, p in sorted(pairs.items()) if len(p) == 2]
    return [(math.log(p["head"]["seconds"] / p["base"]["seconds"]),
             max(b["started_s"] + b["seconds"] for b in p.values())) for p in done]  # fmt: skip


def first_decision(report: dict, wanted: str, percent: float) -> tuple[int | None, float | None]:
    """(pairs, seconds) at which the step series' decision first became `wanted`."""
    pairs = step_pairs(report)
    for n in range(2, len(pairs) + 1):
        low, high = t_interval([d for d, _ in pairs[:n]], 0.99)
        if decide(low, high, percent) == wanted:
            return n, pairs[n - 1][1]
    return None, None


def summary(report: dict, wanted: str, percent: float, planted: float) -> dict:
    d = [value for value, _ in step_pairs(report)]
    pairs, seconds = first_decision(report, wanted, percent)
    step = next(r for r in report["results"] if r["quantity"] == "step")
    return {
        "planted_percent": planted,
        "threshold_percent": percent,
        "decision": step["decision"],
        "decisions": {f"{r['variant']} {r['quantity']}": r["decision"] for r in report["results"]},
        "measured_ratio": step["ratio"],
        "pair_sd_of_log_ratio": float(np.std(d, ddof=1)) if len(d) > 1 else math.nan,
        "pairs": len(d),
        "pairs_to_decision": pairs,
        "seconds_to_decision": seconds,
        "wall_s": report["wall_s"],
        "exit_code": report["exit_code"],
    }


def markdown(rows: list[dict]) -> str:
    lines = ["| case | threshold | decision | measured ratio | sd of log ratio per pair | pairs (to decision) | "
             "seconds to decision | command wall s |", "|---|---:|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in rows:
        case = "A/A (identical code)" if r["planted_percent"] == 0 else f"+{r['planted_percent']:g} % planted"
        lines.append(f"| {case} | {r['threshold_percent']:g} % | {r['decision']} | {r['measured_ratio']:.3f} | "
                     f"{r['pair_sd_of_log_ratio']:.3f} | {r['pairs']} ({_number(r['pairs_to_decision'])}) | "
                     f"{_number(r['seconds_to_decision'])} | {r['wall_s']:.0f} |")  # fmt: skip
    alarms = sum(r["decision"] in ("slower", "faster") for r in rows if r["planted_percent"] == 0)
    runs = sum(r["planted_percent"] == 0 for r in rows)
    return "\n".join(lines) + f"\n\nA/A false alarms (slower or faster at 10 %): {alarms} of {runs} runs.\n"


def _number(value) -> str:
    return "—" if value is None else f"{value:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aa", type=int, default=10, help="A/A runs (default 10)")
    parser.add_argument("--planted", default="5,10,20", help="planted slowdowns in percent (default 5,10,20)")
    parser.add_argument("--max-seconds", type=float, default=180.0, help="per speed run (default 180)")
    parser.add_argument("--out", help="also write every row as JSON here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        repo, base = new_repo(Path(folder), "power", SUITE.format(wait=0.0))
        rows, per_update = [], []
        for index in range(max(args.aa, 1)):
            report = speed(repo, base, base, "speed:10", args.max_seconds)
            rows.append(summary(report, "same", 10.0, 0.0))
            per_update += [b["seconds"] / b["updates"] for b in report["blocks"] if b["quantity"] == "step"]
            print(f"A/A {index + 1}/{args.aa}: {rows[-1]['decisions']}", flush=True)
        if not per_update:
            raise SystemExit("no step block was timed in the A/A runs: raise --max-seconds")
        update_s = float(np.median(per_update))  # the planted waits are percents of this
        for percent in (float(p) for p in args.planted.split(",")):
            wait = update_s * percent / 100
            head = commit_suite(repo, "power", SUITE.format(wait=wait), f"+{percent:g} %")
            rows.append(summary(speed(repo, base, head, "speed:1", args.max_seconds), "slower", 1.0, percent))
            print(f"+{percent:g} % ({wait * 1e6:.0f} us per update): {rows[-1]['decisions']}", flush=True)
    table = markdown(rows)
    print(f"\nper update at BASE: {update_s * 1000:.3f} ms\n\n{table}")
    if args.out:
        Path(args.out).write_text(json.dumps({"update_ms": update_s * 1000, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
