"""Benchmark: what the deploy lock in the hub's git remote adds to a deploy (issue 19).

Staging deploys on the sandbox (``ansible-playbook playbooks/deploy.yml -i inventories/sandbox
-l staging`` against the App Platform emulator in its own process), each pinning a fresh
tachyon-api SHA so a real deployment happens. The hub is a clone of a local bare repository
reached through a file:// URL; with ``tachyon_lock_remote: origin`` the deploy takes and
releases ``refs/tachyon/locks/staging`` there by compare-and-swap pushes. The
bench_timings callback records every task's time: the lock's cost is the time of the two lock
tasks (take + release, including Ansible's per-task overhead), and, for comparison, the same
with the local lock file (``tachyon_lock_remote: ""``). A real remote adds its network round
trips (about four: ls-remote + push to take, ls-remote + push to release).

    .venv/bin/python -m bench.lock [--runs 10]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

from bench import ROOT, common, stats
from bench.deploy import _secret_env

LOCK_TASKS = ("deploy : Take the deploy lock", "deploy : Release the deploy lock")


def _git(cwd, *args):
    subprocess.run(["git"] + list(args), cwd=cwd, check=True, capture_output=True, text=True)


def run(runs=10):
    aps, _parse_time, _sandbox_seed, _seed_data, running_emulator = common.project_imports()
    scratch = tempfile.mkdtemp(prefix="bench-lock-")
    try:
        subprocess.run([sys.executable, os.path.join(ROOT, "tests", "fixtures", "services", "make_repos.py"),
                        os.path.join(scratch, "repos")], cwd=ROOT, check=True, capture_output=True, timeout=120)
        bare, hub = os.path.join(scratch, "hub.git"), os.path.join(scratch, "hub")
        _git(scratch, "init", "-q", "--bare", bare)
        _git(scratch, "clone", "-q", "file://" + bare, hub)
        os.makedirs(os.path.join(hub, "releases"))
        manifest = os.path.join(hub, "releases", "manifest.json")
        shutil.copy(os.path.join(ROOT, "releases", "manifest.json"), manifest)
        timings = os.path.join(scratch, "timings.jsonl")
        bin_dir = os.path.dirname(sys.executable)
        results = {}
        with running_emulator(phase_seconds=0.05, subprocess=True) as emu:
            env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""),
                       ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                       ANSIBLE_CALLBACK_PLUGINS=os.path.join(ROOT, "bench", "callback_plugins"),
                       ANSIBLE_CALLBACKS_ENABLED="bench_timings", BENCH_TIMINGS_FILE=timings,
                       TACHYON_SANDBOX_ENDPOINT=emu.url)
            env.update(_secret_env(aps))
            for label, remote in (("git remote (file://)", "origin"), ("local file", "")):
                costs = []
                for i in range(runs):
                    if os.path.exists(timings):
                        os.unlink(timings)
                    cmd = [os.path.join(bin_dir, "ansible-playbook"), "playbooks/deploy.yml", "-i", "inventories/sandbox",
                           "-l", "staging", "-e", json.dumps({
                               "manifest_path": manifest, "tachyon_deployed_by": "bench",
                               "tachyon_lock_remote": remote, "tachyon_lock_repo_dir": hub,
                               "tachyon_poll_interval": 0.3, "tachyon_health_max_interval": 0.3,
                               "tachyon_repo_base_url": "file://%s/repos/remotes" % scratch,
                               "tachyon_shas": {"tachyon-api": uuid.uuid4().hex + uuid.uuid4().hex[:8]}})]
                    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
                                          check=False)
                    if proc.returncode != 0:
                        raise RuntimeError("deploy run %d (%s) failed:\n%s" % (i, label, proc.stdout[-3000:]))
                    tasks, _events = common.task_times(timings)
                    lock = [t for name, t in tasks.items() if name.startswith(LOCK_TASKS)]
                    if len(lock) != 2:
                        raise RuntimeError("run %d: expected the two lock tasks, got %s" % (i, sorted(tasks)))
                    costs.append(sum(lock))
                results[label] = stats.summary(costs)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    started = time.time()
    results = run(args.runs)
    print("| lock store | n | min | p50 | p90 | max |\n|---|---|---|---|---|---|")
    for label, s in results.items():
        print("| %s | %d | %.3f s | %.3f s | %.3f s | %.3f s |" % (label, s["n"], s["min"], s["p50"], s["p90"], s["max"]))
    print("\n(take + release the deploy lock, per staging deploy; %.0f s in all; load average %s)"
          % (time.time() - started, " ".join("%.2f" % v for v in os.getloadavg())))


if __name__ == "__main__":
    main()
