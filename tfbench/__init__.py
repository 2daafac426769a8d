"""tfbench: matched Keras experiments that show where gradients vanish or explode, and which remedy helps."""

from tfbench.errors import TfbenchError
from tfbench.spec.claim import Claim
from tfbench.spec.setup import Setup
from tfbench.spec.suite import Suite

__version__ = "0.1.0"


def run(targets=("all",), **options):
    """Discover `targets` (suite names, 'all', or .py paths) and run them; see `tfbench.engine.runner.run`."""
    from tfbench.engine.runner import run as run_suites
    from tfbench.spec.discovery import discover

    return run_suites(discover(targets), **options)


def load_results(out):
    """Every suite's records (runs, steps, layers DataFrames) from a run's output folder."""
    from tfbench.records.store import load_results as load

    return load(out)


def monitored(model, layers=None, every: int = 10, tensorboard=None, task=None):
    """`model` wrapped so that its own `fit` records gradients per layer; see `tfbench.user.monitored.monitored`."""
    from tfbench.user.monitored import monitored as wrap

    return wrap(model, layers=layers, every=every, tensorboard=tensorboard, task=task)


def diagnose(model, data, batches: int = 8, batch_size: int = 64):
    """Step-0 gradient statistics of a keras.Model (or a saved model's path) on `data`; see tfbench.user.diagnosis."""
    from tfbench.user.diagnosis import diagnose as run_diagnosis

    return run_diagnosis(model, data, batches=batches, batch_size=batch_size)


__all__ = ["Claim", "Setup", "Suite", "TfbenchError", "run", "load_results", "monitored", "diagnose", "__version__"]
