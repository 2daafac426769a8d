"""The order of the two blocks of each pair: randomized ABBA / BAAB.

Alternating in quads cancels a linear drift of the machine's speed within each quad (A and B each sit
once first, once second), and drawing ABBA or BAAB at random keeps a periodic disturbance from lining
up with one revision.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

BASE, HEAD = "base", "head"


def pair_orders(rng: random.Random) -> Iterator[tuple[str, str]]:
    """Endless (first, second) revisions per pair; each two consecutive pairs form ABBA or BAAB."""
    while True:
        first = rng.choice((BASE, HEAD))
        second = HEAD if first == BASE else BASE
        yield first, second
        yield second, first
