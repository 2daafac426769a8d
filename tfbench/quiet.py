"""Keep TensorFlow's import-time notices (oneDNN, absl, CUDA probing) out of the user's stderr.

TF_CPP_MIN_LOG_LEVEL silences most C++ logging, but some notices are written straight to file
descriptor 2 before logging is configured; only redirecting the descriptor itself hides them.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys


@contextlib.contextmanager
def stderr_silenced():
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and Keras once, with their start-up chatter discarded and the objects the
    import creates frozen out of the garbage collector's way."""
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with stderr_silenced():
        import keras  # noqa: F401
        import tensorflow as tf

        tf.config.list_physical_devices()  # device probing logs once, here, into the void
    # The hundreds of thousands of objects the import creates live as long as the process: out of the
    # collector's way, each of its full passes (which tracing triggers often) walks only what runs
    # create. Once per process, right after the import, so no later garbage is frozen with them.
    gc.collect()
    gc.freeze()
    tf.get_logger().setLevel("ERROR")  # retracing notices concern tf.function internals, not results
