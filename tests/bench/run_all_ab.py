"""`tfbench run all` end to end, two revisions in turns: what a user waits for, before and after a change.

Each revision's tree comes from `git archive` (tfbench.speed.revisions) and runs with PYTHONPATH at
that tree, in this environment; every round runs BASE and HEAD once each, in an order that alternates
round by round, each through tests/bench/process_tree.py's account of the whole process tree (wall
time, CPU seconds over every process, cores busy, the peak sum of proportional set sizes). The
figure per revision is its fastest round; the ratio is HEAD's fastest over BASE's.

    python tests/bench/run_all_ab.py 33e97c6 HEAD --rounds 10 --profile quick
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from process_tree import account  # noqa: E402

from tfbench.speed.revisions import Trees, repository_root, resolve  # noqa: E402


def one_round(tree: Path, profile: str, scratch: Path) -> dict:
    out = scratch / "out"
    shutil.rmtree(out, ignore_errors=True)
    command = ["env", f"PYTHONPATH={tree}", sys.executable, "-m", "tfbench", "run", "all", "--profile", profile,
               "--out", str(out)]  # fmt: skip
    figures = account(command, quiet=True, cwd=tree)
    if figures["exit_code"] != 0:
        raise SystemExit(f"run all failed in {tree} with exit code {figures['exit_code']}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("head")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--profile", default="quick")
    args = parser.parse_args()
    repo = repository_root(Path.cwd())
    commits = {"base": resolve(repo, args.base), "head": resolve(repo, args.head)}
    rounds: dict[str, list[dict]] = {"base": [], "head": []}
    with Trees(repo) as trees, tempfile.TemporaryDirectory(prefix="tfbench-ab-") as scratch:
        for index in range(args.rounds):
            order = ["base", "head"] if index % 2 == 0 else ["head", "base"]
            for side in order:
                figures = one_round(trees.tree(commits[side]), args.profile, Path(scratch))
                rounds[side].append(figures)
                line = "wall {wall_s:.1f} s, CPU {cpu_s:.1f} s, {cores:.2f} cores, PSS sum {peak_pss_sum_mb:.0f} MB"
                print(f"round {index + 1} {side}: " + line.format(**figures), flush=True)
    print(f"\n`run all --profile {args.profile}`, {args.rounds} rounds each, alternated")
    for quantity, unit in (("wall_s", "s"), ("cpu_s", "CPU-s"), ("peak_pss_sum_mb", "MB")):
        best = {side: min(r[quantity] for r in rounds[side]) for side in rounds}
        median = {side: statistics.median(r[quantity] for r in rounds[side]) for side in rounds}
        print(f"{quantity:>16}: base {best['base']:.1f} {unit} (median {median['base']:.1f}), head {best['head']:.1f} "
              f"{unit} (median {median['head']:.1f}), head/base {best['head'] / best['base']:.3f}")  # fmt: skip
    cores = {side: statistics.median(r["cores"] for r in rounds[side]) for side in rounds}
    print(f"  cores busy (median): base {cores['base']:.2f}, head {cores['head']:.2f}")


if __name__ == "__main__":
    main()
