"""`Claim`: what a suite's source says its variants will show, checked by every run (docs/design.md §11).

Two kinds. A comparison claim — `better` beats `than` on a numeric runs.csv column `on` — is judged on
per-seed paired differences with a 95 % confidence interval. A verdict claim — `variant` has
`verdict` at initialization or at the end — holds when every seed of the variant has it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tfbench.errors import SuiteError
from tfbench.vocabulary import CLAIM_COLUMNS, COMPARISON, METRIC_COLUMNS, VERDICT, VERDICTS, WHEN

__all__ = ["CLAIM_COLUMNS", "METRIC_COLUMNS", "VERDICTS", "WHEN", "Claim"]


@dataclass(frozen=True)
class Claim:
    text: str
    better: str | None = None
    than: str | None = None
    on: str = "final_metric"
    lower: bool = False  # for a column outside METRIC_COLUMNS: smaller is better
    variant: str | None = None
    verdict: str | None = None
    at: str = "init"
    source: str = ""  # a paper (authors, year, title) or a source article's title, never a file name

    def __post_init__(self):
        if not isinstance(self.text, str) or not self.text.strip():
            raise SuiteError(f"Claim text {self.text!r} is invalid: expected a sentence saying what is claimed")
        if not isinstance(self.source, str) or not self.source.strip():
            raise SuiteError(f"Claim {self.text!r}: source={self.source!r} is invalid: expected the article or paper")
        comparison = self.better is not None or self.than is not None
        if comparison == (self.variant is not None or self.verdict is not None):
            raise SuiteError(
                f"Claim {self.text!r} is neither or both kinds: expected better= and than= (a comparison) or "
                "variant= and verdict= (a verdict claim)"
            )
        if comparison:
            self._check_comparison()
        else:
            self._check_verdict()

    def _check_comparison(self) -> None:
        if not isinstance(self.better, str) or not isinstance(self.than, str) or self.better == self.than:
            raise SuiteError(
                f"Claim {self.text!r}: better={self.better!r}, than={self.than!r}: expected two different level labels"
            )
        if self.on not in CLAIM_COLUMNS:
            raise SuiteError(f"Claim {self.text!r}: on={self.on!r} is not a claimable runs.csv column: expected one "
                             f"of {', '.join(CLAIM_COLUMNS)}")  # fmt: skip

    def _check_verdict(self) -> None:
        if not isinstance(self.variant, str):
            raise SuiteError(f"Claim {self.text!r}: variant={self.variant!r} is invalid: expected a level label")
        if self.verdict not in VERDICTS:
            raise SuiteError(f"Claim {self.text!r}: verdict={self.verdict!r} is unknown: expected one of "
                             f"{', '.join(VERDICTS)}")  # fmt: skip
        if self.at not in WHEN:
            raise SuiteError(f"Claim {self.text!r}: at={self.at!r} is unknown: expected 'init' or 'end'")

    @property
    def kind(self) -> str:
        return VERDICT if self.variant is not None else COMPARISON

    @property
    def variants(self) -> tuple[str, ...]:
        return (self.variant,) if self.kind == VERDICT else (self.better, self.than)

    @property
    def column(self) -> str:
        """The runs.csv column judged."""
        return WHEN[self.at] if self.kind == VERDICT else self.on

    def to_json(self) -> dict:
        """The claim as the manifest keeps it, so `compare` can judge a baseline's runs.csv alone."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, data: dict) -> Claim:
        """The claim `to_json` wrote (a manifest's, or a baseline's); keys it does not know are ignored, so
        a manifest from a later version still reads."""
        if not isinstance(data, dict):
            raise SuiteError(f"claim {data!r} is invalid: expected a mapping as Claim.to_json() writes it")
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})
