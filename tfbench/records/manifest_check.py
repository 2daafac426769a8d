"""manifest.json as read back (docs/design.md §6, §13): every key a reader uses has the shape that
build_manifest and the runner write, or the file is refused with one line naming it.

Keys are optional (manifests written before a key existed stay readable); a key that is present must
hold what tfbench writes there.
"""

from __future__ import annotations

import math
from dataclasses import fields

from tfbench.errors import TfbenchError
from tfbench.records.names import PLAIN_RULE, is_plain, shown
from tfbench.records.schema import SCHEMA_VERSION
from tfbench.records.tolerances import parse_mapping
from tfbench.spec.claim import Claim


def _text(value) -> bool:
    return value is None or isinstance(value, str)


def _count(value) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)


def _seeds(value) -> bool:
    return isinstance(value, list) and all(isinstance(s, int) and not isinstance(s, bool) for s in value)


def _versions(value) -> bool:
    return isinstance(value, dict) and all(_text(v) for v in value.values())


def _calibration(value) -> bool:
    if not isinstance(value, dict):
        return False
    speed = value.get("reference_steps_per_s")
    return speed is None or _finite(speed)


def _memory(value) -> bool:
    if not isinstance(value, dict):
        return False
    sizes = [value.get(key) for key in ("peak_pss_mb", "largest_process_pss_mb")]
    return all(size is None or _finite(size) and size >= 0 for size in sizes) and _count(value.get("processes"))


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# key -> (its check, what it must hold)
TOP_LEVEL = {
    "versions": (_versions, "an object of package -> version text"),
    "platform": (_text, "text"), "cpu": (_text, "text"), "command_line": (_text, "text"),
    "profile": (_text, "text"), "monitor": (_text, "text"), "executor": (_text, "text"),
    "started": (_text, "a UTC time as text"), "finished": (_text, "a UTC time as text or null"),
    "cpu_count": (_count, "a count"), "workers": (_count, "a count"),
    "seeds": (_seeds, "a list of integer seeds"),
    "calibration": (_calibration, "an object with a finite reference_steps_per_s"),
    "memory": (_memory, "an object of non-negative sizes in MB and a process count"),
}  # fmt: skip
SUITE_KEYS = {
    "factor": (_text, "text"), "question": (_text, "text"), "reference": (_text, "a level label"),
    "levels": (lambda v: isinstance(v, list), "a list of level labels"),
    "setups": (lambda v: isinstance(v, dict) and all(isinstance(s, dict) for s in v.values()),
               "an object of level label -> Setup object"),
    "claims": (lambda v: isinstance(v, list) and all(isinstance(c, dict) for c in v), "a list of claim objects"),
}  # fmt: skip
CLAIM_FIELDS = tuple(f.name for f in fields(Claim))


def check_manifest(manifest, path) -> dict:
    """`manifest` (parsed from `path`) itself, or a TfbenchError naming the file and the bad key."""
    where = f"manifest {str(path)!r}"
    if not isinstance(manifest, dict):
        raise TfbenchError(f"{where} is not a JSON object: expected a tfbench run's manifest.json")
    version = manifest.get("schema_version", SCHEMA_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version > SCHEMA_VERSION:
        raise TfbenchError(
            f"{where} has schema_version {shown(version)}, which this tfbench cannot read: expected "
            f"schema_version <= {SCHEMA_VERSION} (a newer tfbench wrote these records; upgrade to read them)"
        )
    _check_keys(manifest, TOP_LEVEL, where)
    suites = manifest.get("suites", {})
    if not isinstance(suites, dict):
        raise TfbenchError(f"{where}: suites is {shown(suites)}: expected an object of suite name -> object")
    for name, entry in suites.items():
        _check_suite(name, entry, where)
    return manifest


def _check_keys(mapping: dict, checks: dict, where: str) -> None:
    for key, (check, expected) in checks.items():
        if key in mapping and not check(mapping[key]):
            raise TfbenchError(f"{where}: {key} is {shown(mapping[key])}: expected {expected}")


def _check_suite(name, entry, where: str) -> None:
    if not is_plain(name):
        raise TfbenchError(f"{where}: suite name {shown(name)} is invalid: expected {PLAIN_RULE}")
    if not isinstance(entry, dict):
        raise TfbenchError(f"{where}: suite {name!r} is {shown(entry)}: expected an object")
    _check_keys(entry, SUITE_KEYS, f"{where}: suite {name!r}")
    if "tolerances" in entry:
        parse_mapping(entry["tolerances"], f"{where}: suite {name!r} tolerances")
    if entry.get("claims"):
        entry["claims"] = [_check_claim(claim, f"{where}: suite {name!r}") for claim in entry["claims"]]


def _check_claim(claim: dict, where: str) -> dict:
    """A claim as Claim.to_json() wrote it: Claim's own checks decide, so report and compare judge only
    claims a suite could have stated. Returns it with every field (defaults for those left out)."""
    known = {key: value for key, value in claim.items() if key in CLAIM_FIELDS}
    if "text" not in known:
        raise TfbenchError(
            f"{where}: a claim has no text (keys {sorted(map(str, claim))}): expected a claim object with "
            f"{', '.join(CLAIM_FIELDS)}"
        )
    for key, value in known.items():
        lower = key == "lower"
        if not (isinstance(value, bool) if lower else _text(value)):
            expected = "true or false" if lower else "text or null"
            raise TfbenchError(f"{where}: claim {key} is {shown(value)}: expected {expected}")
    try:
        return Claim(**known).to_json()
    except TfbenchError as error:
        raise TfbenchError(f"{where}: {error}") from None
