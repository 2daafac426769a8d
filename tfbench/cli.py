"""Command line: parse, call, map errors to exit codes (docs/design.md §8). Nothing else lives here.

Exit codes: 0 done (divergence is a result), 1 a variant failed or compare found a regression, 2 bad input or
usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import time

from tfbench.engine.executors import EXECUTORS
from tfbench.errors import TfbenchError
from tfbench.harness.plan import MONITOR_MODES
from tfbench.quiet import quiet_environment, tensorflow_notices_filtered
from tfbench.records import output_folder
from tfbench.spec import limits
from tfbench.spec.profiles import PROFILES

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


def count_up_to(maximum: int):
    """An argparse type: an integer from 1 to `maximum`, refused with both bounds named."""

    def count(text: str) -> int:
        value = positive_int(text)  # says "a positive integer" for 0, -1 or "x"
        if value > maximum:
            raise argparse.ArgumentTypeError(f"{text!r} is invalid: expected an integer from 1 to {maximum}")
        return value

    return count


def make_parser() -> Parser:
    parser = Parser(prog="tfbench", description="Matched Keras experiments on vanishing and exploding gradients.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    commands.required = True

    run = commands.add_parser("run", help="train suites and write records")
    run.add_argument("targets", nargs="*", default=["all"], help="'all', suite names, or paths to .py files")
    run.add_argument("--profile", choices=list(PROFILES), default="standard")
    run.add_argument("--seeds", type=count_up_to(limits.MAX_SEEDS), help="number of seeds (overrides the profile's)")
    run.add_argument("--out", default="reports", help="output folder (default: reports)")
    run.add_argument("--monitor", choices=MONITOR_MODES, default="standard", help="per-layer recording")
    run.add_argument("--resume", action="store_true", help="skip runs already recorded with the same setup")
    run.add_argument("--verbose", action="store_true", help="show Keras' own progress bar")
    run.add_argument(
        "--tensorboard", metavar="DIR", help="also write TensorBoard events under DIR/<suite>/<variant>/seed_<n>"
    )
    run.add_argument(
        "--workers",
        type=count_up_to(limits.MAX_WORKERS),
        help="runs in parallel processes (default: every core when there are more runs)",
    )
    run.add_argument("--executor", choices=EXECUTORS, default="local", help="local processes or Ray tasks")
    run.add_argument("--ray-address", help="an existing Ray cluster (default: $RAY_ADDRESS, else a local Ray)")

    report = commands.add_parser("report", help="regenerate the HTML pages of a run folder from its records")
    report.add_argument("dir", help="a folder written by 'run' (it holds manifest.json)")

    compare = commands.add_parser("compare", help="compare two run folders; exit 1 on a regression")
    compare.add_argument("base", help="the reference run folder (e.g. a committed baseline)")
    compare.add_argument("current", help="the run folder to judge")
    compare.add_argument("--fail-on", metavar="SPEC",
                         help="gates, e.g. metric:0.02,grad:0.25,speed:25%%,verdict:on,missing:on")  # fmt: skip
    compare.add_argument("--markdown", metavar="FILE", help="also write the comparison as Markdown (PR comment)")

    baseline = commands.add_parser("baseline", help="copy a run's manifest and runs.csv files into a baseline folder")
    baseline.add_argument("source", help="a folder written by 'run'")
    baseline.add_argument("dest", help="the baseline folder to replace (e.g. tests/baseline/quick)")

    diagnose = commands.add_parser("diagnose", help="gradient flow of a saved Keras model on your data, no training")
    diagnose.add_argument("model", help="a model file saved with model.save('model.keras')")
    diagnose.add_argument("--data", required=True, help="a .npz file holding x_train and y_train")
    diagnose.add_argument("--batches", type=count_up_to(limits.MAX_BATCHES), default=8,
                          help="batches to average over (default 8)")  # fmt: skip
    diagnose.add_argument("--batch-size", type=count_up_to(limits.MAX_BATCH_SIZE), default=64,
                          help="examples per batch (default 64)")  # fmt: skip
    diagnose.add_argument("--out", help="folder for the HTML page (default: reports/diagnose-<model file name>)")

    add_speed_parser(commands)

    commands.add_parser("list", help="list suites with their factor, levels and question")

    check = commands.add_parser("check", help="build and compile every variant without training")
    check.add_argument("targets", nargs="*", default=["all"])
    check.add_argument("--profile", choices=list(PROFILES), default="standard")
    return parser


def cmd_run(args) -> int:
    from tfbench.engine.executors import start_worker_server
    from tfbench.engine.scheduling import planned_workers
    from tfbench.spec.discovery import discover
    from tfbench.spec.profiles import get_profile

    started = time.monotonic()
    with tensorflow_notices_filtered():  # a suite file may import Keras, and with it TensorFlow
        suites = discover(args.targets)
    seeds = args.seeds or get_profile(args.profile).seeds
    with output_folder.writing(args.out):  # held until the report is written too
        if args.executor == "local" and planned_workers(args.workers, seeds, suites) > 1:
            # The workers' TensorFlow import overlaps the imports below; render_suite_page's module preloaded.
            start_worker_server(preload=("tfbench.report.html",))
        from tfbench.engine.runner import run
        from tfbench.report.html import render_suite_page

        summary = run(suites, profile=args.profile, seeds=args.seeds, out=args.out, monitor=args.monitor,
                      resume=args.resume, verbose=args.verbose, log=lambda line: print(line, flush=True),
                      tensorboard=args.tensorboard, workers=args.workers, executor=args.executor,
                      ray_address=args.ray_address, suite_task=render_suite_page)  # fmt: skip
        counts = summary.counts
        print(f"runs: {counts['ok']} ok, {counts['diverged']} diverged, {counts['failed']} failed, "
              f"{counts['resumed']} kept from an earlier run; records in {summary.out}/")  # fmt: skip
        if summary.claims:
            print(summary.claims)
        print(f"report: {render_report(summary.out, summary.suite_results)}")
    for failure in summary.failures:
        print(f"failed: {failure}", file=sys.stderr)
    print(f"done in {duration_text(time.monotonic() - started)}", flush=True)
    return EXIT_FAILED if summary.exit_code else EXIT_OK


def duration_text(seconds: float) -> str:
    """A wall time as a person reads it: 45 s, 1 m 52 s, 2 h 03 m."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} m {secs:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} m"


def render_report(out, cards: dict | None = None) -> str:
    from tfbench.report.html import write_report

    return str(write_report(out, cards))


def cmd_report(args) -> int:
    with output_folder.writing(args.dir, option="report", existing=True):
        print(f"report: {render_report(args.dir)}")
    return EXIT_OK


def cmd_compare(args) -> int:
    from tfbench.compare.comparison import compare
    from tfbench.compare.output import check_markdown_path, terminal_text, write_markdown

    if args.markdown:
        check_markdown_path(args.markdown)
    comparison = compare(args.base, args.current, args.fail_on)
    print(terminal_text(comparison))
    if args.markdown:
        write_markdown(args.markdown, comparison)
    return EXIT_FAILED if comparison.failed else EXIT_OK


def cmd_baseline(args) -> int:
    from tfbench.compare.baseline import save_baseline

    names = save_baseline(args.source, args.dest)
    print(f"baseline: {args.dest} now holds manifest.json and runs.csv of {len(names)} suites: {', '.join(names)}")
    return EXIT_OK


def add_speed_parser(commands) -> None:
    speed = commands.add_parser("speed", help="time two git revisions in alternating pairs; exit 1 if HEAD is slower")
    speed.add_argument("base", help="the reference revision (anything git rev-parse accepts)")
    speed.add_argument("head", help="the revision to judge")
    speed.add_argument("targets", nargs="*", help="suite names or files (default: built-in MLP, CNN and LSTM)")
    speed.add_argument("--fail-on", metavar="speed:PCT", help="slower beyond PCT %% fails (default speed:10)")
    speed.add_argument("--max-seconds", type=float, default=180.0, help="time for the whole command (default 180)")
    speed.add_argument("--threads", type=positive_int, default=1, help="TensorFlow intra-op threads (default 1)")
    speed.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                       help="judge CPU time (default) or wall time (sleeps, waits included)")  # fmt: skip
    speed.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown (PR comment)")
    speed.add_argument("--out", help="folder for speed.json (every block) and index.html")


def cmd_speed(args) -> int:
    from tfbench.speed.command import exit_code, speed
    from tfbench.speed.output import table_lines

    report = speed(args.base, args.head, args.targets, fail_on=args.fail_on, max_seconds=args.max_seconds,
                   threads=args.threads, out=args.out, markdown=args.markdown,
                   log=lambda line: print(line, flush=True), clock=args.clock)  # fmt: skip
    print("\n".join(table_lines(report["results"]) + report["notes"]))
    return exit_code(report)


def cmd_list(args) -> int:
    from tfbench.spec.discovery import all_suites

    with tensorflow_notices_filtered():  # a suite file may import Keras, and with it TensorFlow
        suites = all_suites()
    for suite in suites:
        labels = ", ".join(v.label for v in suite.variants())
        print(f"{suite.name}  [{suite.factor_name}]  {suite.question}\n    levels: {labels}")
    return EXIT_OK


def cmd_check(args) -> int:
    from tfbench.engine.validation import check_suites
    from tfbench.quiet import import_tensorflow_quietly
    from tfbench.spec.discovery import discover
    from tfbench.spec.profiles import get_profile

    import_tensorflow_quietly()
    suites = discover(args.targets)
    count = check_suites(suites, get_profile(args.profile), build=True, log=lambda line: print(line, flush=True))
    print(f"all {count} variants of {len(suites)} suites build and compile")
    return EXIT_OK


def cmd_diagnose(args) -> int:
    from pathlib import Path

    from tfbench.quiet import import_tensorflow_quietly

    with output_folder.writing(args.out or Path("reports") / f"diagnose-{Path(args.model).stem}") as out:
        import_tensorflow_quietly()
        from tfbench.report.diagnose_page import write_page
        from tfbench.user.diagnosis import diagnose, format_table, summary_lines

        result = diagnose(args.model, args.data, batches=args.batches, batch_size=args.batch_size)
        print(format_table(result))
        print("\n".join(summary_lines(result)))
        print(f"page: {write_page(result, out, args.model, args.data)}")
    return EXIT_OK


COMMANDS = {
    "run": cmd_run, "list": cmd_list, "check": cmd_check, "report": cmd_report,
    "compare": cmd_compare, "baseline": cmd_baseline, "diagnose": cmd_diagnose, "speed": cmd_speed,
}  # fmt: skip


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def plain_text(error: Exception) -> str:
    """The message on one line without terminal colour codes (Keras puts bold markers in its own)."""
    return " ".join(ANSI_ESCAPE.sub("", str(error)).split())


def os_error_text(error: OSError) -> str:
    where = f"{error.filename!r}: " if error.filename else ""
    return (f"{where}{error.strerror or error}: expected room and write permission for tfbench's files "
            "(every record already written is intact)")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    quiet_environment()  # before anything imports TensorFlow: a suite file, a worker, a report
    try:
        args = make_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except TfbenchError as error:
        print(f"tfbench: error: {plain_text(error)}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:  # a full disk, a folder made read-only meanwhile: the file and the reason
        print(f"tfbench: error: {plain_text(TfbenchError(os_error_text(error)))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        again = shlex.join(["python", "-m", "tfbench", *argv, *([] if "--resume" in argv else ["--resume"])])
        print(f"\ninterrupted: finished runs are saved; continue with: {again}", file=sys.stderr)
        return EXIT_INTERRUPTED
