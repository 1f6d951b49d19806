"""Benchmark 4: ``make validate`` wall time on the repository.

Ours: ``make validate`` (the CI gate: yamllint, env schema, App Specs, secret scan,
ansible-lint production profile, one report) run from the repo root, as a user runs it,
timed from start to exit; the exit status is reported too (findings make it fail, which
does not change what it has to do). The bench_timings callback gives the time per task.

Baseline: the two linters the gate runs, run bare one after the other
(``yamllint --strict .`` then ``ansible-lint --profile production``), which is the least a
CI job checking the same tree does; the gate adds the env schema, App Spec and secret
checks and runs the linters in the background next to them.
"""
import os
import subprocess
import sys
import tempfile
import time

from bench import ROOT, common, stats


def _timed(cmd, env):
    start = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
    return time.time() - start, proc.returncode


def run(runs=3, baseline_runs=2):
    bin_dir = os.path.dirname(sys.executable)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""), ANSIBLE_NOCOLOR="1")
    tmp = tempfile.mkdtemp(prefix="bench-validate-")
    timings = os.path.join(tmp, "timings.jsonl")
    ours, codes, per_task = [], [], []
    for _run in range(runs):
        if os.path.exists(timings):
            os.unlink(timings)
        run_env = dict(env, ANSIBLE_CALLBACK_PLUGINS=os.path.join(ROOT, "bench", "callback_plugins"),
                       ANSIBLE_CALLBACKS_ENABLED="bench_timings", BENCH_TIMINGS_FILE=timings)
        wall, code = _timed(["make", "--no-print-directory", "validate"], run_env)
        ours.append(wall)
        codes.append(code)
        if os.path.exists(timings):
            per_task.append(common.task_times(timings)[0])
    base, base_codes = [], []
    for _run in range(baseline_runs):
        start = time.time()
        _w1, c1 = _timed([os.path.join(bin_dir, "yamllint"), "--strict", "."], env)
        _w2, c2 = _timed([os.path.join(bin_dir, "ansible-lint"), "--profile", "production", "--nocolor"],
                         dict(env, ANSIBLE_HOME=os.path.join(ROOT, ".cache", "ansible-lint")))
        base.append(time.time() - start)
        base_codes.append(max(c1, c2))
    breakdown = common.median_breakdown(per_task)
    return {
        "id": "validate", "title": "4. Validate", "unit": "s", "measure": "make validate wall time",
        "rows": [{"label": "ours: make validate", "summary": stats.summary(ours)}],
        "baseline": {"label": "bare linters in sequence: yamllint --strict . ; ansible-lint --profile production",
                     "summary": stats.summary(base)},
        "target": {"stat": "max", "limit": 10.0},
        "notes": [
            "%d runs of ours, %d of the baseline; exit codes ours %s, baseline %s (non-zero = findings in "
            "the tree at the time of the run)" % (runs, baseline_runs, codes, base_codes),
        ],
        "breakdown": breakdown[:6],
    }
