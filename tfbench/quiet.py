"""Keep TensorFlow's import-time notices (oneDNN, absl, CUDA probing) out of the user's stderr.

TF_CPP_MIN_LOG_LEVEL silences most C++ logging, but some notices are written straight to file
descriptor 2 before logging is configured; only redirecting the descriptor itself hides them.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import sys
import tempfile

# TensorFlow's C++ log lines (glog style: I/W/E, date, time, thread, file:line]), absl's note before its
# log is initialized, and the second line of cpu_feature_guard's notice.
TF_NOTICE = re.compile(
    r"^(?:[IWEF]\d{4} \d+:\d+:\d+\.\d+\s+\d+ [\w.]+:\d+\] "
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags)"
)
_ready = False


def quiet_environment() -> None:
    """Ask TensorFlow's C++ logging for errors only, in this process and every process it starts;
    effective for a TensorFlow imported later (a user's `import keras` in a suite file included)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@contextlib.contextmanager
def tensorflow_notices_filtered():
    """Run the block with file descriptor 2 captured, then pass on what it wrote except TensorFlow's
    notices: a user's suite file that imports Keras first prints nothing of TensorFlow's, while its
    own warnings still reach the terminal."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().decode(errors="replace").splitlines(keepends=True)
                    if not TF_NOTICE.match(line)]  # fmt: skip
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


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
    global _ready
    if _ready:
        return
    quiet_environment()
    with stderr_silenced():  # also when a suite file imported TensorFlow first: the device probing below
        import keras  # noqa: F401
        import tensorflow as tf

        tf.config.list_physical_devices()  # device probing logs once, here, into the void
    # The hundreds of thousands of objects the import creates live as long as the process: out of the
    # collector's way, each of its full passes (which tracing triggers often) walks only what runs
    # create. Once per process, right after the import, so no later garbage is frozen with them.
    gc.collect()
    gc.freeze()
    tf.get_logger().setLevel("ERROR")  # retracing notices concern tf.function internals, not results
    _ready = True
