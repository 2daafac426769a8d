"""What a suite declares: Setup, Suite and its variants, profiles, the model-family registry, suite discovery.
Plain Python, no TensorFlow."""

from tfbench.spec.setup import Setup
from tfbench.spec.suite import Suite

__all__ = ["Setup", "Suite"]
