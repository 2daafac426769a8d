"""Every built-in claim cites what a reader can look up (docs/design.md §11): a paper as "authors year,
title", or a source article by its title (original and English, as the articles' README lists them),
never a file name that means nothing outside this repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tfbench.spec.discovery import load_file, suite_files

SUITES = Path(__file__).resolve().parents[1] / "suites"
CLAIMS = [(suite.name, claim) for path in suite_files(SUITES) for suite in load_file(path) for claim in suite.claims]

# The articles' titles, copied from their README (original, English); the untitled one by its subject.
ARTICLE_TITLES = (
    ("损失函数的稳定性: 避免梯度消失和梯度爆炸", "Stability of the loss: avoiding vanishing and exploding gradients"),
    (
        "卷积神经网络梯度消失,神经网络中梯度的概念",
        "Vanishing gradients in convolutional networks; the concept of the gradient",
    ),
    ("梯度消失&梯度爆炸", "Vanishing & exploding gradients (study notes)"),
    ("梯度爆炸与梯度消失的原因", "Causes of exploding and vanishing gradients"),
    ("梯度爆炸与模型鲁棒性", "exploding gradients and model robustness"),
)
FILE_NAME = re.compile(r"\b\d{3}_[0-9a-f]{8,}|\.txt\b|\.md\b|/")
# Authors (a capitalised name, "et al." or more names), a year, then a title of at least two words.
PAPER = re.compile(r"[A-Z][\w-]+(?: et al\.|(?:,? (?:&|and)? ?[A-Z][\w-]+)*) (?:19|20)\d\d, [^;]*[\w-]+ [\w-]+")


def test_every_builtin_claim_is_found():
    assert len(CLAIMS) == 45


@pytest.mark.parametrize(("suite", "claim"), CLAIMS, ids=[f"{s}: {c.text[:40]}" for s, c in CLAIMS])
def test_source_names_a_paper_or_an_article_title_and_no_file(suite, claim):
    assert not FILE_NAME.search(claim.source), claim.source
    articles = [original in claim.source and english in claim.source for original, english in ARTICLE_TITLES]
    assert PAPER.search(claim.source) or any(articles), claim.source


@pytest.mark.parametrize(
    ("source", "accepted"),
    [
        ("001_c9177f1e47383ab4.txt", False),
        ("Kingma & Ba 2015", False),  # no title
        ("Glorot & Bengio 2010, Understanding the difficulty of training deep feedforward neural networks", True),
        ("Srivastava et al. 2014, Dropout: a simple way to prevent neural networks from overfitting", True),
        ("article: 梯度消失&梯度爆炸 (Vanishing & exploding gradients (study notes))", True),
        ("article: 梯度消失&梯度爆炸", False),  # the original title alone
    ],
)
def test_the_rule_rejects_what_a_reader_cannot_look_up(source, accepted):
    articles = any(original in source and english in source for original, english in ARTICLE_TITLES)
    assert (not FILE_NAME.search(source) and bool(PAPER.search(source) or articles)) == accepted
