"""Marks every test under tests/bench with `bench`, so the default `pytest` run deselects them.

Run them with: pytest tests/bench --benchmark-only -m bench
"""

from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before the mark plugin applies -m
def pytest_collection_modifyitems(config, items):
    for item in items:
        if BENCH_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.bench)
