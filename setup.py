"""setup.cfg holds the metadata. This adds what setup.cfg cannot say next to `find:`: the top-level
suites/ folder ships inside the package as tfbench/builtin_suites, so an installed tfbench finds its suites."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["tfbench", "tfbench.*"]), "tfbench.builtin_suites"],
    package_dir={"tfbench.builtin_suites": "suites"},
)
