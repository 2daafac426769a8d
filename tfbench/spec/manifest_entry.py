"""A suite as manifest.json describes it: what the report needs to know that the run records do not say."""

from __future__ import annotations

from tfbench.spec.canonical import canonical
from tfbench.spec.profiles import get_profile
from tfbench.spec.short_runs import grappler_on


def suite_entry(suite, profile: str | None = None) -> dict:
    """What the report needs to know about a suite that the run records do not say.

    `setups` holds each level's effective Setup (the profile applied) in tfbench.spec.suite.canonical form,
    from which the report computes the mean-field prediction; manifests without it get no overlay.
    `grappler` says, per level, whether its runs trained with Grappler's graph rewrites (off for runs
    under tfbench.spec.short_runs.SHORT_RUN_STEPS updates).
    """
    apply = get_profile(profile).apply if profile else (lambda setup: setup)
    return {
        "factor": suite.factor_name,
        "question": suite.question,
        "reference": suite.reference_label,
        "levels": [v.label for v in suite.variants()],
        "tolerances": {key: str(value) for key, value in suite.tolerances.items()},  # compare's per-suite gates
        "claims": [claim.to_json() for claim in suite.claims],  # so compare judges a baseline's runs.csv alone
        "setups": {v.label: canonical(apply(v.setup)) for v in suite.variants()},
        "grappler": {v.label: grappler_on(apply(v.setup).steps) for v in suite.variants()},  # off for short runs
    }
