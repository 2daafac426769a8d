"""`Suite`: matched variants of a base Setup that differ in one declared factor, and its `Variant`s."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tfbench.errors import SuiteError, TfbenchError
from tfbench.records.names import MAX_NAME, is_plain, shown
from tfbench.records.tolerances import parse_mapping
from tfbench.spec.canonical import level_label
from tfbench.spec.claim import Claim
from tfbench.spec.limits import MAX_LEVELS
from tfbench.spec.setup import SETUP_FIELDS, Setup


@dataclass(frozen=True)
class Variant:
    """One level of a suite's factor, applied to the suite's base Setup."""

    label: str
    level: Any
    setup: Setup


@dataclass(frozen=True)
class Suite:
    """Matched variants of `base` that differ only in `factor` (a Setup field or a tuple of fields)."""

    name: str
    factor: str | tuple[str, ...]
    question: str
    base: Setup
    levels: list | dict
    reference: str | None = None
    tolerances: Mapping[str, float | str] = field(default_factory=dict)
    claims: tuple[Claim, ...] = ()

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier() or not is_plain(self.name):
            raise SuiteError(
                f"Suite name {shown(self.name)} is invalid: expected an identifier like 'activation' of at most "
                f"{MAX_NAME} characters (it names the suite's folder)"
            )
        if not isinstance(self.base, Setup):
            raise SuiteError(f"Suite {self.name!r}: base={self.base!r} is invalid: expected a tfbench.Setup")
        factor_ok = isinstance(self.factor, str) or (
            isinstance(self.factor, (tuple, list)) and self.factor and all(isinstance(f, str) for f in self.factor)
        )
        if not factor_ok:
            raise SuiteError(
                f"Suite {self.name!r}: factor={self.factor!r} is invalid: expected a Setup field or a tuple of fields"
            )
        for name in self.factor_fields:
            if name not in SETUP_FIELDS:
                raise SuiteError(
                    f"Suite {self.name!r}: factor {name!r} is not a Setup field: expected one of "
                    f"{', '.join(SETUP_FIELDS)}"
                )
        if not isinstance(self.levels, (list, tuple, dict)) or len(self.levels) == 0:
            raise SuiteError(
                f"Suite {self.name!r}: levels={self.levels!r} is invalid: expected a non-empty list or dict"
            )
        if len(self.levels) > MAX_LEVELS:
            raise SuiteError(f"Suite {self.name!r}: {len(self.levels)} levels are too many: expected from 1 to "
                             f"{MAX_LEVELS} levels (each is trained for every seed)")  # fmt: skip
        try:
            parse_mapping(self.tolerances, f"Suite {self.name!r} tolerances")  # compare's gates, e.g. {"metric": 0.05}
        except TfbenchError as error:
            raise SuiteError(str(error)) from None
        variants = self.variants()  # builds every Setup: structural errors surface here
        labels = [v.label for v in variants]
        if self.reference is not None and self.reference not in labels:
            raise SuiteError(
                f"Suite {self.name!r}: reference {self.reference!r} is not a level: expected one of {', '.join(labels)}"
            )
        self._check_claims(labels)

    def _check_claims(self, labels: list[str]) -> None:
        if not isinstance(self.claims, (list, tuple)) or not all(isinstance(c, Claim) for c in self.claims):
            raise SuiteError(f"Suite {self.name!r}: claims={self.claims!r} is invalid: expected a list of Claim")
        object.__setattr__(self, "claims", tuple(self.claims))  # frozen: a list would be shared and mutable
        for claim in self.claims:
            unknown = [label for label in claim.variants if label not in labels]
            if unknown:
                raise SuiteError(f"Suite {self.name!r}: claim {claim.text!r} names {unknown[0]!r}, which is not a "
                                 f"level: expected one of {', '.join(labels)}")  # fmt: skip

    @property
    def factor_fields(self) -> tuple[str, ...]:
        return (self.factor,) if isinstance(self.factor, str) else tuple(self.factor)

    @property
    def factor_name(self) -> str:
        return "+".join(self.factor_fields)

    @property
    def reference_label(self) -> str:
        return self.reference or self.variants()[0].label

    def _changes(self, value: Any) -> dict:
        fields = self.factor_fields
        if len(fields) == 1:
            return {fields[0]: value}
        if not isinstance(value, Mapping) or set(value) != set(fields):
            problems = ["it is not a dict"]
            if isinstance(value, Mapping):
                missing = ", ".join(f for f in fields if f not in value)
                extra = ", ".join(repr(k) for k in value if k not in fields)
                problems = ([f"missing {missing}"] if missing else []) + ([f"extra {extra}"] if extra else [])
            # variants() prefixes the suite and the level's label
            raise SuiteError(
                f"{value!r} is invalid for factor {self.factor_name!r} ({'; '.join(problems)}): "
                f"expected a dict with exactly the keys {', '.join(fields)}"
            )
        return dict(value)

    def variants(self) -> list[Variant]:
        items = self.levels.items() if isinstance(self.levels, dict) else [(v, v) for v in self.levels]
        variants, seen = [], set()
        for label, value in items:
            label = level_label(label)  # labels are text: records and resume match them as strings
            if label in seen:
                raise SuiteError(
                    f"Suite {self.name!r}: duplicate level label {label!r}: expected a distinct label per level "
                    "(levels as a dict label -> value give each its own)"
                )
            seen.add(label)
            try:
                setup = dataclasses.replace(self.base, **self._changes(value))
            except TfbenchError as error:
                raise SuiteError(f"Suite {self.name!r}, level {label!r}: {error}") from None
            variants.append(Variant(label=label, level=value, setup=setup))
        return variants
