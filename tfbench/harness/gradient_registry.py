"""Forget the gradient functions that tracing a run's steps registered globally, once the run is over.

Keras' optimizer sums the gradients over replicas (`ReplicaContext.all_reduce`) even under the
default strategy, and in a traced function that sum is a `tf.custom_gradient`: each trace registers
a gradient function under a new name ("CustomGradient-<n>") in TensorFlow's process-wide gradient
registry, which never forgets it. The function closes over the traced graph's tensors, so every
model a worker ever traced stayed in memory after the model cache evicted it: about 8 MB per graph,
hundreds of MB over a `run all`. The registered gradients are only read while the step that created
them is traced (its own `tape.gradient`); nothing differentiates a finished train step again, so
once the run is over they can go. Where TensorFlow's private registry is not there, nothing changes.
"""

from __future__ import annotations

import contextlib

try:
    from tensorflow.python.framework import ops as _ops

    _REGISTRY = _ops._gradient_registry._registry
except (ImportError, AttributeError):  # a TensorFlow laid out otherwise: registrations stay
    _REGISTRY = None

PREFIX = "CustomGradient-"  # tensorflow/python/ops/custom_gradient.py names each registration so


@contextlib.contextmanager
def custom_gradients_released():
    """Drop the custom gradients registered while the block ran, when it ends."""
    if _REGISTRY is None:
        yield
        return
    before = set(_REGISTRY)
    try:
        yield
    finally:
        for name in [name for name in _REGISTRY if name.startswith(PREFIX) and name not in before]:
            _REGISTRY.pop(name, None)
