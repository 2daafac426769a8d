"""A task run here and now, handed back as the `concurrent.futures.Future` an executor's `submit`
returns: the executors that have no worker processes of their own (serial, Ray) run their checks and
calibration this way."""

from __future__ import annotations

from concurrent.futures import Future


def finished_future(fn, *args) -> Future:
    """`fn(*args)` run here and now, as a Future holding its result or its exception."""
    future = Future()
    try:
        future.set_result(fn(*args))
    except Exception as error:
        future.set_exception(error)
    return future
