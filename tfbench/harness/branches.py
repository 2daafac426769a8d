"""`only_taken_branch`: build `tf.cond`s whose untaken branch costs nothing at run time; `when`: a
part of the train step that runs always, or only where a traced condition holds.

Inside a `tf.function`, TensorFlow lowers each `tf.cond` to Switch/Merge ops by default. The executor
then still visits every op of the untaken branch (propagating "dead" tensors through it), so the
per-layer statistics cost a little on every step, recorded or not. Kept as a functional `If` op, a
cond runs only the branch it takes. TensorFlow decides this when the cond is traced, from a private
module flag with no public equivalent; the flag is set only while `train_step` traces and restored
afterwards. Where the flag does not exist, nothing changes but speed.
"""

from __future__ import annotations

import contextlib

import tensorflow as tf

try:
    from tensorflow.python.ops import control_flow_util_v2 as _flow
except ImportError:  # a TensorFlow without the module: conds stay lowered
    _flow = None

_FLAG = "_DISABLE_LOWER_USING_SWITCH_MERGE"


@contextlib.contextmanager
def only_taken_branch():
    if _flow is None or not hasattr(_flow, _FLAG):
        yield
        return
    saved = getattr(_flow, _FLAG)
    setattr(_flow, _FLAG, True)
    try:
        yield
    finally:
        setattr(_flow, _FLAG, saved)


def when(condition, action, otherwise):
    """`action()` where `condition` is None (decided when tracing); otherwise a cond on the boolean
    tensor `condition` whose branch not taken costs nothing (`otherwise` gives what it returns)."""
    if condition is None:
        return action()
    with only_taken_branch():
        return tf.cond(condition, action, otherwise)
