"""Shared pieces of the benchmarks: configurations read from the repo, parallel runs."""
import concurrent.futures
import json
import os
import sys

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


def project_imports():
    """Put the checkout and its collection link on sys.path; return what the benchmarks use:
    (app_spec module_utils, times.epoch (an API timestamp as epoch seconds), emulator SANDBOX_SEED, seed loader,
    running_emulator)."""
    for path in (ROOT, os.path.join(ROOT, ".collections")):
        if path not in sys.path:
            sys.path.insert(0, path)
    from ansible_collections.tachyon.infra.plugins.module_utils._spec import app_spec as aps
    from ansible_collections.tachyon.infra.plugins.module_utils._common.times import epoch as parse_time
    from emulator.testing import SANDBOX_SEED, _seed_data, running_emulator
    return aps, parse_time, SANDBOX_SEED, _seed_data, running_emulator


def task_times(path):
    """{task name: seconds} from a bench_timings file, and the raw events."""
    with open(path) as handle:
        events = [json.loads(line) for line in handle if line.strip()]
    out, current = {}, None
    for event in events:
        if event["event"] == "task_start":
            current = (event["task"], event["t"])
        elif event["event"] == "task_end" and current:
            out[current[0]] = out.get(current[0], 0.0) + (event["t"] - current[1])
            current = None
    return out, events


def median_breakdown(per_run):
    """[(task, median seconds over the runs)], largest first."""
    from bench import stats
    names = []
    for tasks in per_run:
        names += [n for n in tasks if n not in names]
    return sorted(((n, stats.summary([t.get(n, 0.0) for t in per_run])["p50"]) for n in names),
                  key=lambda item: -item[1])
