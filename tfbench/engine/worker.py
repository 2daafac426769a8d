"""What runs inside any worker, local or Ray: TensorFlow's thread pools pinned, then one job.

Executors (executors.py, ray_executor.py) import this module; it imports neither of them.
"""

from __future__ import annotations

import os
import pickle
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
    return fn(*pickle.loads(payload))
