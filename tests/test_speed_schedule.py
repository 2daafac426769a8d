"""ABBA / BAAB: every two consecutive pairs mirror each other, so each revision runs first equally often,
and both patterns occur."""

from __future__ import annotations

import itertools
import random

from tfbench.speed.schedule import BASE, HEAD, pair_orders


def test_each_quad_is_abba_or_baab_and_both_occur():
    orders = list(itertools.islice(pair_orders(random.Random(3)), 400))
    quads = {"".join("A" if r == BASE else "B" for pair in orders[i : i + 2] for r in pair) for i in range(0, 400, 2)}
    assert quads == {"ABBA", "BAAB"}


def test_after_every_even_number_of_pairs_each_revision_went_first_equally_often():
    orders = list(itertools.islice(pair_orders(random.Random(7)), 200))
    for count in range(2, 201, 2):
        firsts = [first for first, _ in orders[:count]]
        assert firsts.count(BASE) == firsts.count(HEAD) == count // 2
    assert all(set(pair) == {BASE, HEAD} for pair in orders)


def test_the_patterns_are_drawn_not_alternated():
    # a fixed ABBA ABBA ... or an alternation would let a periodic disturbance line up with one revision
    orders = list(itertools.islice(pair_orders(random.Random(11)), 200))
    starts = [orders[i][0] for i in range(0, 200, 2)]
    runs = sum(1 for a, b in itertools.pairwise(starts) if a == b)
    assert 20 < runs < 80
