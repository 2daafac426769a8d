"""Render the records of a run folder as HTML: OUT/index.html and one OUT/<suite>/index.html each.

Reads records from disk only (never trains), so `python -m tfbench report OUT` regenerates every
page. Tables come from report.tables, figures from report.plots, markup from the jinja2 templates;
the pages load nothing from the internet and open from disk.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import math
import multiprocessing
import os
import urllib.parse
from pathlib import Path

import jinja2
import pandas as pd

from tfbench.analysis.claims import claims_table, write_claims
from tfbench.analysis.statistics import interval_label
from tfbench.errors import TfbenchError
from tfbench.records import store as records
from tfbench.records.kernel_rows import kernel_rows
from tfbench.records.names import refuse_links
from tfbench.records.schema import HIGHER_IS_BETTER
from tfbench.report import tables, theory_overlay
from tfbench.report.time_account import memory_line, monitor_line, time_line


def number(value, digits: int = 3) -> str:
    """Compact display of a float: 3 significant digits, '–' for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if digits == 0:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def interval(low, high) -> str:
    """`[low, high]`; `[–]` where there is no interval (fewer than 2 seeds with a value)."""
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (low, high)):
        return "[–]"
    return f"[{number(low)}, {number(high)}]"


def relative_href(name: str) -> str:
    """A link to the folder `name` beside the page: "./" first and the name URL-quoted, so no name can
    read as a URL scheme ("javascript:") or climb out ("../")."""
    return "./" + urllib.parse.quote(str(name), safe="")


# What the index page shows of the manifest; a manifest may lack any of them (written by an older tfbench).
SHOWN = ("profile", "seeds", "monitor", "versions", "cpu", "cpu_count", "platform", "started", "finished",
         "command_line")  # fmt: skip


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tfbench", "report/templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["num"] = number
    env.filters["href"] = relative_href
    env.globals["ci"] = interval
    return env


def suite_info(name: str, manifest: dict, runs: pd.DataFrame) -> dict:
    """Question, factor and reference from the (validated) manifest; what the records alone tell otherwise."""
    entry = (manifest.get("suites") or {}).get(name) or {}
    variants = list(dict.fromkeys(runs["variant"].astype(str)))
    metric_names = runs["metric_name"].dropna().astype(str)
    metric_name = metric_names.iloc[0] if len(metric_names) else "accuracy"
    factor = entry.get("factor") or (str(runs["factor"].iloc[0]) if len(runs) else "")
    return {
        "name": name,
        "question": entry.get("question") or "",
        "factor": factor,
        "reference": entry.get("reference") or (variants[0] if variants else ""),
        "metric_name": metric_name,
        "higher_is_better": HIGHER_IS_BETTER.get(metric_name, True),
        "seeds": int(runs["seed"].nunique()) if len(runs) else 0,
        # variant -> mean-field Prediction; empty for manifests written before Setups were stored
        "predictions": _predictions(name, entry),
        "claim_specs": entry.get("claims") or [],  # as Claim.to_json() wrote them
        "interval_label": interval_label(int(runs["seed"].nunique()) if len(runs) else 0),
    }


def _predictions(name: str, entry: dict) -> dict:
    """The suite's mean-field predictions from the Setups its manifest entry keeps; a Setup whose values
    the theory cannot read (a hand-edited manifest) is refused in one line, not a traceback."""
    try:
        return theory_overlay.predictions(entry.get("setups") or {})
    except (TypeError, ValueError, ArithmeticError, AttributeError) as error:
        raise TfbenchError(
            f"manifest.json: suite {name!r} setups cannot be read ({records.one_line(error)}): expected each "
            "level's Setup as tfbench wrote it"
        ) from None


def render_suite(env, folder: Path, info: dict, suite_records: records.SuiteRecords, common: dict) -> list[dict]:
    """Write the suite's summary files, figures and page; return its comparison rows for the index.
    Tables and figures compare layers across depth: they read the layers with a kernel."""
    suite_records = dataclasses.replace(suite_records, layers=kernel_rows(suite_records.layers))
    definitions = {"suites": {info["name"]: {"claims": info["claim_specs"]}}}
    suite_claims = claims_table(definitions, {info["name"]: suite_records.runs})
    table = tables.comparison_table(
        suite_records.runs, suite_records.layers, info["reference"], info["higher_is_better"], suite_records.timesteps
    )
    table = theory_overlay.with_overlay_columns(table, suite_records.layers, info["predictions"])
    tables.write_summary(folder, table, title=info["name"], claims=suite_claims)
    rows = table.to_dict("records")
    figures = write_figures(folder, suite_records, info) if not suite_records.layers.empty else []
    theory = theory_overlay.PREDICTED in table.columns
    page = env.get_template("suite.html").render(
        **info,
        **common,
        root="../",
        rows=rows,
        figures=figures,
        theory=theory,
        time=tables.has_time_ratio(table),
        claims=suite_claims.to_dict("records"),
    )  # fmt: skip
    records.atomic_write(folder / "index.html", lambda temp: Path(temp).write_text(page, encoding="utf-8"))
    return rows


def write_figures(folder: Path, suite_records: records.SuiteRecords, info: dict) -> list[dict]:
    """The suite's figures as PNGs under folder/figures; their names, paths and captions for the page.
    matplotlib and seaborn are imported here, on first use: the index page needs neither, and a
    `tfbench run` imports this module before its workers start."""
    from tfbench.report import plots

    figure_folder = folder / "figures"
    figure_folder.mkdir(exist_ok=True)
    figures = []
    for key, figure in plots.suite_figures(suite_records, info["metric_name"], info["predictions"]).items():
        plots.save(figure, figure_folder / f"{key}.png")
        figures.append({"name": key, "src": f"figures/{key}.png", "caption": plots.FIGURES[key].caption})
    return figures


def _render_suite_folder(out: Path, name: str, manifest: dict, common: dict) -> dict:
    """Everything for one suite, from its folder alone: the unit of work of a report worker."""
    refuse_links(out, name, "figures")  # a linked suite or figures folder would take the pages elsewhere
    suite_records = records.read_suite(out / name)
    info = suite_info(name, manifest, suite_records.runs)
    rows = render_suite(environment(), out / name, info, suite_records, common)
    best = next((row for row in rows if row.get("best")), None)
    return {**info, "rows": rows, "best": best, "best_summary": best_summary(best)}


def best_summary(row: dict | None) -> str:
    """The index card's line for the best variant, e.g. "tanh 0.958 (95 % t-interval 0.941 – 0.975 over 3
    seeds)": the interval and the seeds it is over (those that finished), or "no interval" below 2."""
    if row is None:
        return ""
    finished = int(row["seeds"]) - int(row.get("diverged", 0)) - int(row.get("failed", 0))
    low, high = row["final_metric_low"], row["final_metric_high"]
    shown = f"{row['variant']} {number(row['final_metric_mean'])}"
    if finished < 2 or any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        seeds = max(finished, 0)
        return f"{shown} ({seeds} seed{'s' if seeds != 1 else ''}, no interval)"
    return f"{shown} ({interval_label(finished).replace(' over ', f' {number(low)} – {number(high)} over ')})"


def _common() -> dict:
    """What every page's footer says: when and by which version it was generated."""
    from tfbench import __version__

    return {"generated": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "version": __version__}


def render_suite_page(out, name: str) -> dict:
    """Render the page, summary files and figures of the suite `name` of the run folder `out` (whose
    manifest is written); its card for the index page (`write_report(out, cards=...)`). What
    `tfbench run` hands its workers as each suite finishes."""
    out = Path(out)
    return _render_suite_folder(out, name, records.read_manifest(out), _common())


def _render_all(out: Path, names: list[str], manifest: dict, common: dict) -> list[dict]:
    """Suites render in parallel processes: drawing figures is CPU-bound Python (matplotlib), so
    threads would share one core. Workers are spawned, not forked, because the parent of a `run`
    holds TensorFlow's threads, which a fork does not carry over safely."""
    workers = min(len(names), os.cpu_count() or 1)
    if workers < 2:
        return [_render_suite_folder(out, name, manifest, common) for name in names]
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        jobs = [pool.submit(_render_suite_folder, out, name, manifest, common) for name in names]
        return [job.result() for job in jobs]


def card_claims(claims: pd.DataFrame, name: str) -> dict | None:
    """A suite card's line on its claims: how many of them this run reproduced, and the others by
    status and text (claims.csv's rows of the suite); None for a suite that states none."""
    rows = claims[claims["suite"].astype(str) == name] if "suite" in claims else claims.iloc[:0]
    if rows.empty:
        return None
    reproduced = rows["status"] == "reproduced"
    others = [{"status": str(row.status), "claim": str(row.claim)} for row in rows[~reproduced].itertuples()]
    statuses = {other["status"] for other in others}
    tone = "not_reproduced" if "not_reproduced" in statuses else "inconclusive" if others else "reproduced"
    return {"reproduced": int(reproduced.sum()), "total": len(rows), "others": others, "tone": tone}


def write_report(out, cards: dict | None = None) -> Path:
    """Render every page of the run folder `out`; returns the path of its index.html. `cards`: suite
    name -> what `render_suite_page` returned for the suites already rendered (not rendered again)."""
    out = Path(out)
    names = records.suite_names(out)  # validates the folder before anything is written
    if not names:  # e.g. a diagnose page's folder: nothing to report
        raise TfbenchError(
            f"{str(out)!r} holds no <suite>/{records.RUNS_FILE}: expected a folder written by 'tfbench run'"
        )
    manifest = records.read_manifest(out)
    # every runs.csv read and validated before the first page is written: a bad one leaves the folder as it was
    runs_by_suite = {name: records.read_runs(out / name) for name in names}
    for name in names:  # and every Parquet table's columns and types, from its footer
        records.check_suite_tables(out / name)
    common = _common()
    done = cards or {}
    missing = [name for name in names if name not in done]
    rendered = dict(zip(missing, _render_all(out, missing, manifest, common), strict=True))
    cards = [done.get(name) or rendered[name] for name in names]
    claims = write_claims(out, manifest, runs_by_suite)
    runs = pd.concat(runs_by_suite.values(), ignore_index=True)
    account = {"time": time_line(manifest, runs), "memory": memory_line(manifest),
               "monitor": monitor_line(manifest, runs)}  # fmt: skip
    cards = [{**card, "claims": card_claims(claims, card["name"])} for card in cards]
    shown = {key: manifest.get(key) for key in SHOWN}
    template = environment().get_template("index.html")
    page = template.render(
        **common, root="", cards=cards, manifest=shown, account=account, claims=claims.to_dict("records")
    )
    index = out / "index.html"
    records.atomic_write(index, lambda temp: Path(temp).write_text(page, encoding="utf-8"))
    return index
