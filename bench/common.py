"""Shared pieces of the benchmarks: configurations read from the repo, parallel runs."""
import concurrent.futures
import os

import yaml

from bench import ROOT

ROLE_DEFAULTS = os.path.join(ROOT, "roles", "deploy", "defaults", "main.yml")


def role_defaults():
    """The deploy role's defaults (what a deploy uses unless the inventory overrides them)."""
    with open(ROLE_DEFAULTS, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def run_parallel(func, items, workers):
    """``func(item)`` for every item, ``workers`` at a time; results in item order."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, items))
