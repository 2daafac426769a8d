"""Fixtures shared by the test modules."""

from __future__ import annotations

import pytest

from tfbench.data.loading import load_data


@pytest.fixture(scope="session")
def digits():
    """The built-in digits data set (cached and read-only: every test sees the same arrays)."""
    return load_data("digits")
