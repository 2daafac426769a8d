"""Names that become paths, and paths that must stay inside the folder a command was given
(docs/design.md §13).

A plain name is one path segment that cannot climb out of its folder, hide, or read as a URL scheme
on a page: a letter, digit or underscore, then letters, digits and `_ - . + =`, at most 100 characters.
"""

from __future__ import annotations

import re
from pathlib import Path

from tfbench.errors import TfbenchError

MAX_NAME = 100
PLAIN = re.compile(r"\w[\w.+=-]*")  # \w: letters of any script, as in a Python identifier
PLAIN_RULE = f"a plain name: a letter, digit or '_', then letters, digits and _ - . + = (at most {MAX_NAME})"
# A label is text on a page and in runs.csv, never a path: any printable text of a sensible length.
MAX_LABEL = 200


def is_plain(name) -> bool:
    return isinstance(name, str) and len(name) <= MAX_NAME and PLAIN.fullmatch(name) is not None


def plain_name(name, what: str) -> str:
    """`name` itself, or a TfbenchError naming `what` it is (e.g. "suite name")."""
    if not is_plain(name):
        raise TfbenchError(f"{what} {shown(name)} is invalid: expected {PLAIN_RULE}")
    return name


def label(text, what: str) -> str:
    """`text` itself when it is printable text of at most MAX_LABEL characters, else a TfbenchError."""
    if not isinstance(text, str) or not text or len(text) > MAX_LABEL or not text.isprintable():
        raise TfbenchError(f"{what} {shown(text)} is invalid: expected printable text of 1 to {MAX_LABEL} characters")
    return text


def shown(value) -> str:
    """The bad value quoted on one line, cut short: a hostile name can be long."""
    text = repr(value)
    return text if len(text) <= 2 * MAX_NAME else text[: 2 * MAX_NAME] + "...'"


def refuse_links(root, *parts: str) -> Path:
    """root/parts..., refused when any entry below `root` on the way is a symbolic link: no read or write
    follows a link out of the folder the command was given (`root` itself may be one)."""
    path = Path(root)
    for part in parts:
        path = path / part
        if path.is_symlink():
            raise TfbenchError(
                f"{str(path)!r} is a symbolic link: expected a plain file or folder (tfbench reads and writes "
                f"only inside {str(root)!r}, never through a link)"
            )
    return path
