"""Whether BASE and CURRENT are the same experiment: the profile, monitor mode and seeds their
manifests record, and each run's setup_hash. A difference is a note beside the comparison, never a
regression: comparing a quick run with a standard one is allowed, but the reader should know."""

from __future__ import annotations

import pandas as pd

# Manifest keys that define the experiment, and how a note names them.
SETTINGS = {"profile": "profile", "monitor": "monitor mode", "seeds": "seeds"}
# Beyond this many variants with a changed setup, one line counts the rest.
MAX_SETUP_NOTES = 10


def experiment_notes(base, current) -> list[str]:
    """Notes for every setting and run setup that differs between the two sides (Side objects)."""
    notes = [note for key in SETTINGS if (note := setting_note(key, base.manifest, current.manifest))]
    return notes + setup_notes(base.runs, current.runs)


def setting_note(key: str, base: dict, current: dict) -> str | None:
    before, after = base.get(key), current.get(key)
    if before is None or after is None or before == after:  # not recorded on one side: nothing to say
        return None
    return f"not the same experiment: BASE ran {SETTINGS[key]} {_shown(before)}, CURRENT {_shown(after)}"


def _shown(value) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def setup_notes(base: pd.DataFrame, current: pd.DataFrame) -> list[str]:
    """One note per (suite, variant) whose runs of the same seed carry different setup hashes."""
    keys = ["suite", "variant", "seed"]
    pairs = base[[*keys, "setup_hash"]].merge(current[[*keys, "setup_hash"]], on=keys, suffixes=("_base", "_current"))
    pairs = pairs.dropna(subset=["setup_hash_base", "setup_hash_current"])
    changed = pairs[pairs.setup_hash_base.astype(str) != pairs.setup_hash_current.astype(str)]
    notes = []
    for (suite, variant), runs in changed.groupby(["suite", "variant"], sort=False):
        seeds = ", ".join(str(seed) for seed in sorted(runs.seed))
        notes.append(f"setup differs: {suite}/{variant} seed {seeds} (setup_hash differs: another Setup or "
                     f"profile made these runs)")  # fmt: skip
    if len(notes) > MAX_SETUP_NOTES:
        notes = [*notes[:MAX_SETUP_NOTES], f"setup differs in {len(notes) - MAX_SETUP_NOTES} more variants"]
    return notes
