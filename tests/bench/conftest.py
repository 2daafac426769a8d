"""Marks every test under tests/bench with `bench`, so the default `pytest` run deselects them, and lets
`--benchmark-only` select them again.

setup.cfg's addopts deselect `bench` for every pytest command. Asking for `--benchmark-only` means asking
for the benchmarks, so then (and only while -m is still the addopts default) `bench` is not deselected:

    pytest tests/bench --benchmark-only
"""

from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_MARKEXPR = "not slow and not bench"  # setup.cfg addopts
BENCHMARK_MARKEXPR = "not slow"


@pytest.hookimpl(tryfirst=True)  # before the mark plugin applies -m
def pytest_collection_modifyitems(config, items):
    for item in items:
        if BENCH_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.bench)
    if config.getoption("benchmark_only", default=False) and config.option.markexpr == DEFAULT_MARKEXPR:
        config.option.markexpr = BENCHMARK_MARKEXPR
