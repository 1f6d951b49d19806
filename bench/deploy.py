"""Benchmark 3: deploy overhead.

A full staging deploy on the sandbox, driven as scripts/demo.sh drives it:
``ansible-playbook playbooks/deploy.yml -i inventories/sandbox -l staging`` against the App
Platform emulator (its own process), a scratch copy of releases/manifest.json, the fixture
service repos behind file:// remotes (``git ls-remote`` resolves tachyon-workers and
tachyon-db) and SECRET values from TACHYON_SECRET_<KEY> in the environment. Each run pins a
fresh tachyon-api SHA (``tachyon_shas``) so a real deployment happens every time. The
emulator's four deployment phases take a known time (``phase_seconds`` each; the
deployment is ACTIVE exactly T = 4 x phase_seconds after it was created, read back from the
emulator) and /health is healthy with the new version as soon as it is ACTIVE.

Overhead = the ansible-playbook wall time minus T: Ansible's start, the preflight and
manifest read, ls-remote, render, lock, the PUT and the polls' lag, the health check (with
the role's confirming poll), the manifest record, the unlock. A callback
(bench/callback_plugins/bench_timings.py) records each task's time for the breakdown.

Baseline model (the replaced system): ``doctl apps update --wait`` notices ACTIVE at its
next 10 s poll (10*ceil(T/10) - T late), then the health loop's first poll finds the app
healthy (no wait). Tool start-up, GitHub Actions steps and the manifest commit are not
counted, so the model is a lower bound; averaged over deployment times the doctl part alone
is 5 s.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

from bench import ROOT, common, stats

PHASE_SECONDS = 0.75
PERIOD = 10.0


def _secret_env(aps):
    keys = set()
    for name in ("app.staging.yml", "app.prod.yml"):
        spec = aps.load_spec(os.path.join(ROOT, ".do", name))
        keys |= {key for _comp, key in aps.secret_env_keys(spec)}
    return {"TACHYON_SECRET_%s" % key: "bench-%s-%s" % (key.lower(), uuid.uuid4().hex[:8]) for key in keys}


def run(runs=5, seed=None):
    aps, parse_time, _sandbox_seed, _seed_data, running_emulator = common.project_imports()
    scratch = tempfile.mkdtemp(prefix="bench-deploy-")
    try:
        subprocess.run([sys.executable, os.path.join(ROOT, "tests", "fixtures", "services", "make_repos.py"),
                        os.path.join(scratch, "repos")], cwd=ROOT, check=True, capture_output=True, timeout=120)
        os.makedirs(os.path.join(scratch, "releases"))
        manifest = os.path.join(scratch, "releases", "manifest.json")
        shutil.copy(os.path.join(ROOT, "releases", "manifest.json"), manifest)
        timings = os.path.join(scratch, "timings.jsonl")
        bin_dir = os.path.dirname(sys.executable)
        with running_emulator(phase_seconds=PHASE_SECONDS, subprocess=True) as emu:
            env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""),
                       ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                       ANSIBLE_CALLBACK_PLUGINS=os.path.join(ROOT, "bench", "callback_plugins"),
                       ANSIBLE_CALLBACKS_ENABLED="bench_timings", BENCH_TIMINGS_FILE=timings,
                       TACHYON_SANDBOX_ENDPOINT=emu.url)
            env.update(_secret_env(aps))
            client, app_id = emu.client("staging"), emu.app_ids["staging"]
            walls, platform, overheads, per_task = [], [], [], []
            for i in range(runs):
                if os.path.exists(timings):
                    os.unlink(timings)
                api_sha = uuid.uuid4().hex + uuid.uuid4().hex[:8]
                cmd = [os.path.join(bin_dir, "ansible-playbook"), "playbooks/deploy.yml", "-i", "inventories/sandbox",
                       "-l", "staging", "-e", json.dumps({
                           "manifest_path": manifest, "tachyon_deployed_by": "bench",
                           "tachyon_repo_base_url": "file://%s/repos/remotes" % scratch,
                           "tachyon_shas": {"tachyon-api": api_sha}})]
                start = time.time()
                proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
                wall = time.time() - start
                if proc.returncode != 0:
                    raise RuntimeError("deploy run %d failed (rc %d):\n%s" % (i, proc.returncode, proc.stdout[-3000:]))
                active = client.apps.get(app_id)["app"]["active_deployment"]
                if api_sha not in json.dumps(active["spec"]):
                    raise RuntimeError("deploy run %d: the live app does not run the new api tag" % i)
                t_platform = parse_time(active["phase_last_updated_at"]) - parse_time(active["created_at"])
                tasks, events = common.task_times(timings)
                tasks["(ansible-playbook start until the playbook starts)"] = events[0]["t"] - start
                walls.append(wall)
                platform.append(t_platform)
                overheads.append(wall - t_platform)
                per_task.append(tasks)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    t_known = 4 * PHASE_SECONDS
    baseline = [stats.next_poll_latency(t, PERIOD) for t in platform]
    breakdown = common.median_breakdown(per_task)
    return {
        "id": "deploy", "title": "3. Deploy overhead", "unit": "s",
        "measure": "staging deploy wall time minus the platform's deployment time T",
        "rows": [{"label": "ours: ansible-playbook playbooks/deploy.yml -i inventories/sandbox -l staging "
                           "(role defaults)", "summary": stats.summary(overheads)}],
        "baseline": {"label": "replaced system model: doctl --wait 10 s polls, then 15 s health loop "
                              "(healthy at its first poll)", "summary": stats.summary(baseline)},
        "target": {"stat": "max", "limit": 5.0},
        "notes": [
            "%d deploys; T = %.2f s (4 phases x %.2f s; measured from the emulator: %.3f-%.3f s); wall time "
            "p50 %.2f s (first run %.2f s)" % (runs, t_known, PHASE_SECONDS, min(platform), max(platform),
                                               stats.summary(walls)["p50"], walls[0]),
            "baseline averaged over deployment times: 5 s from doctl's polling alone",
        ],
        "breakdown": breakdown,
    }
