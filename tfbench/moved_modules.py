"""The flat module paths of earlier releases (`tfbench.theory`, `tfbench.runner`, ...) keep importing:
each old name is an alias of the module's new home in its subpackage, so a user's script written
against them goes on working. Names that are packages now (spec, data, records, compare) are not here.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

MOVED = {
    "tfbench.runner": "tfbench.engine.runner",
    "tfbench.executors": "tfbench.engine.executors",
    "tfbench.ray_executor": "tfbench.engine.ray_executor",
    "tfbench.calibration": "tfbench.engine.calibration",
    "tfbench.validation": "tfbench.engine.validation",
    "tfbench.build": "tfbench.harness.build",
    "tfbench.monitor_api": "tfbench.user.monitored",
    "tfbench.diagnosis": "tfbench.user.diagnosis",
    "tfbench.user_records": "tfbench.user.run_records",
    "tfbench.verdict": "tfbench.analysis.verdict",
    "tfbench.causes": "tfbench.analysis.causes",
    "tfbench.theory": "tfbench.analysis.theory",
    "tfbench.init_variance": "tfbench.analysis.init_variance",
    "tfbench.compare_output": "tfbench.compare.output",
    "tfbench.tolerance": "tfbench.compare.tolerance",
    "tfbench.baseline": "tfbench.compare.baseline",
    "tfbench.records.baseline": "tfbench.compare.baseline",
    "tfbench.schema": "tfbench.records.schema",
    "tfbench.manifest": "tfbench.records.manifest",
    "tfbench.digits_scales": "tfbench.data.digits",
    "tfbench.keras_datasets": "tfbench.data.keras_datasets",
    "tfbench.profiles": "tfbench.spec.profiles",
    "tfbench.discovery": "tfbench.spec.discovery",
}


class MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old name and hands out the module at its new path (imported once, shared)."""

    def find_spec(self, name, path=None, target=None):
        return importlib.util.spec_from_loader(name, self) if name in MOVED else None

    def create_module(self, spec):
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module) -> None:
        """Nothing to run: the module at the new path is already executed."""


def install() -> None:
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(MovedModuleFinder())
