"""A user's .npz archive checked member by member before numpy reads it (docs/design.md §13).

numpy allocates an array from the shape its .npy header claims before it reads the data, so a
hostile header ("shape": (10**12,)) would ask for terabytes. Each member's header is read here and
its shape and dtype must account exactly for the bytes the member holds; object dtypes (pickles)
are refused.
"""

from __future__ import annotations

import math
import zipfile

import numpy as np

from tfbench.errors import DataError

NPY_MAGIC = b"\x93NUMPY"
HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
EXPECTED = "expected an archive written by numpy.savez holding x_train and y_train"


def check_members(archive: zipfile.ZipFile, where: str) -> None:
    """Every member is a .npy array whose header matches its size; raise DataError naming the first that is not."""
    for info in archive.infolist():
        if not info.filename.endswith(".npy"):
            raise DataError(f"{where}: member {info.filename!r} is not a .npy array: {EXPECTED}")
        with archive.open(info) as member:
            shape, dtype = _header(member, info.filename, where)
            data_bytes = info.file_size - member.tell()
        if dtype.hasobject:
            raise DataError(f"{where}: {info.filename!r} holds Python objects (dtype {dtype}), which tfbench "
                            "never unpickles: expected integer or floating-point numbers")  # fmt: skip
        claimed = math.prod(shape) * dtype.itemsize
        if claimed != data_bytes:
            raise DataError(f"{where}: {info.filename!r} claims shape {shape} of {dtype} ({claimed} bytes) but "
                            f"holds {data_bytes} bytes of data: {EXPECTED}")  # fmt: skip


def _header(member, name: str, where: str) -> tuple[tuple, np.dtype]:
    try:
        version = np.lib.format.read_magic(member)
        reader = HEADER_READERS.get(version)
        if reader is None:
            raise ValueError(f".npy format version {version} is not supported (1.0 or 2.0)")
        shape, _, dtype = reader(member)
    except (ValueError, TypeError, SyntaxError, EOFError) as error:
        reason = " ".join(f"{type(error).__name__}: {error}".split())
        raise DataError(f"{where}: {name!r} has no valid .npy header ({reason}): {EXPECTED}") from None
    return shape, dtype
