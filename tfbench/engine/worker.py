"""What runs inside any worker, local or Ray: TensorFlow's thread pools pinned, then one job.

Executors (executors.py, ray_executor.py) import this module; it imports neither of them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import pickle
import sys
from collections.abc import Callable

# Every training run, in every executor, uses this many intra-op threads. The number of threads
# decides how some kernels (convolution gradients, through oneDNN) split their sums, and float
# addition is not associative: a CNN trained with 1 and with 2 intra-op threads gives different
# gradients in the last bits. Pinning one count makes records identical whether a run executes
# serially, in a local pool or on a Ray node with any number of cores; --workers uses the cores.
INTRA_OP_THREADS = 1


def configure_threads(inter_op: int) -> bool:
    """Pin TensorFlow's thread pools before it runs anything; False when it already has other ones."""
    from tfbench.quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    import tensorflow as tf

    threading = tf.config.threading
    try:
        threading.set_intra_op_parallelism_threads(INTRA_OP_THREADS)
        threading.set_inter_op_parallelism_threads(inter_op)
    except RuntimeError:  # TensorFlow already ran something in this process: its pools are fixed
        return threading.get_intra_op_parallelism_threads() == INTRA_OP_THREADS
    return True


def threads_per_worker(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // workers)


def call_job(files: dict[str, str], fn: Callable, payload: bytes):
    """Run `fn(*arguments)` in a worker, `payload` being the pickled arguments: the user's suite files
    are loaded first, so the Setups among the arguments unpickle."""
    from tfbench.spec.discovery import load_modules

    load_modules(files)
    try:
        return fn(*pickle.loads(payload))
    finally:
        return_freed_memory()


def return_freed_memory() -> None:
    """Hand the heap's free pages back to the system after a job (glibc keeps them for later by
    default), so a long-lived worker's memory follows what it holds now, not its largest job."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc
        return
    trim(0)
