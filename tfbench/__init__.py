"""tfbench: matched Keras experiments that show where gradients vanish or explode, and which remedy helps."""

from tfbench.errors import TfbenchError
from tfbench.spec import Setup, Suite

__version__ = "0.1.0"


def run(targets=("all",), **options):
    """Discover `targets` (suite names, 'all', or .py paths) and run them; see `tfbench.runner.run`."""
    from tfbench.discovery import discover
    from tfbench.runner import run as run_suites

    return run_suites(discover(targets), **options)


def load_results(out):
    """Every suite's records (runs, steps, layers DataFrames) from a run's output folder."""
    from tfbench.records import load_results as load

    return load(out)


__all__ = ["Setup", "Suite", "TfbenchError", "run", "load_results", "__version__"]
