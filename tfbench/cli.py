"""Command line: parse, call, map errors to exit codes (DESIGN §8). Nothing else lives here.

Exit codes: 0 done (divergence is a result), 1 a variant failed, 2 bad input or usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from tfbench.errors import TfbenchError
from tfbench.executors import EXECUTORS
from tfbench.harness.plan import MONITOR_MODES
from tfbench.profiles import PROFILES

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (no usage dump) and exit code 2."""

    def error(self, message):
        command = " ".join(["python", "-m", "tfbench", *self.prog.split()[1:], "--help"])
        raise TfbenchError(f"{message} (see: {command})")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is invalid: expected a positive integer")
    return value


def make_parser() -> Parser:
    parser = Parser(prog="tfbench", description="Matched Keras experiments on vanishing and exploding gradients.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    commands.required = True

    run = commands.add_parser("run", help="train suites and write records")
    run.add_argument("targets", nargs="*", default=["all"], help="'all', suite names, or paths to .py files")
    run.add_argument("--profile", choices=list(PROFILES), default="standard")
    run.add_argument("--seeds", type=positive_int, help="number of seeds (overrides the profile's)")
    run.add_argument("--out", default="reports", help="output folder (default: reports)")
    run.add_argument("--monitor", choices=MONITOR_MODES, default="standard", help="per-layer recording")
    run.add_argument("--resume", action="store_true", help="skip runs already recorded with the same setup")
    run.add_argument("--verbose", action="store_true", help="show Keras' own progress bar")
    run.add_argument("--workers", type=positive_int, default=1, help="runs in parallel processes (default 1)")
    run.add_argument("--executor", choices=EXECUTORS, default="local", help="local processes or Ray tasks")
    run.add_argument("--ray-address", help="an existing Ray cluster (default: $RAY_ADDRESS, else a local Ray)")

    report = commands.add_parser("report", help="regenerate the HTML pages of a run folder from its records")
    report.add_argument("dir", help="a folder written by 'run' (it holds manifest.json)")

    commands.add_parser("list", help="list suites with their factor, levels and question")

    check = commands.add_parser("check", help="build and compile every variant without training")
    check.add_argument("targets", nargs="*", default=["all"])
    check.add_argument("--profile", choices=list(PROFILES), default="standard")
    return parser


def cmd_run(args) -> int:
    from tfbench.discovery import discover
    from tfbench.quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    from tfbench.runner import run

    suites = discover(args.targets)
    summary = run(suites, profile=args.profile, seeds=args.seeds, out=args.out, monitor=args.monitor,
                  resume=args.resume, verbose=args.verbose, log=lambda line: print(line, flush=True),
                  workers=args.workers, executor=args.executor, ray_address=args.ray_address)  # fmt: skip
    counts = summary.counts
    print(f"done: {counts['ok']} ok, {counts['diverged']} diverged, {counts['failed']} failed, "
          f"{counts['resumed']} kept from an earlier run; records in {summary.out}/")  # fmt: skip
    print(f"report: {render_report(summary.out)}")
    for failure in summary.failures:
        print(f"failed: {failure}", file=sys.stderr)
    return EXIT_FAILED if summary.exit_code else EXIT_OK


def render_report(out) -> str:
    from tfbench.report.html import write_report

    return str(write_report(out))


def cmd_report(args) -> int:
    print(f"report: {render_report(args.dir)}")
    return EXIT_OK


def cmd_list(args) -> int:
    from tfbench.discovery import all_suites

    for suite in all_suites():
        labels = ", ".join(v.label for v in suite.variants())
        print(f"{suite.name}  [{suite.factor_name}]  {suite.question}\n    levels: {labels}")
    return EXIT_OK


def cmd_check(args) -> int:
    from tfbench.discovery import discover
    from tfbench.profiles import get_profile
    from tfbench.quiet import import_tensorflow_quietly
    from tfbench.validation import check_suites

    import_tensorflow_quietly()
    suites = discover(args.targets)
    count = check_suites(suites, get_profile(args.profile), build=True, log=lambda line: print(line, flush=True))
    print(f"all {count} variants of {len(suites)} suites build and compile")
    return EXIT_OK


COMMANDS = {"run": cmd_run, "list": cmd_list, "check": cmd_check, "report": cmd_report}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = make_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except TfbenchError as error:
        print(f"tfbench: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        again = shlex.join(["python", "-m", "tfbench", *argv, *([] if "--resume" in argv else ["--resume"])])
        print(f"\ninterrupted: finished runs are saved; continue with: {again}", file=sys.stderr)
        return EXIT_INTERRUPTED
