"""Benchmark 3: deploy overhead, staging and a production promotion, every gate on.

Each run makes a release of three fresh SHAs (playbooks/release.yml, not timed), deploys it to
staging, then promotes it to production (soak 0, an approver), on the sandbox as a user runs
it: ``ansible-playbook playbooks/deploy.yml -i inventories/sandbox -l staging|production``
against the App Platform emulator (its own process) and its registry (deploys go out by
digest: each run checks that every component of the live app runs the registry's digest of
its new SHA), a scratch copy of releases/manifest.json, SECRET values from
TACHYON_SECRET_<KEY>. The emulator's four deployment phases take a known time
(``phase_seconds`` each); T, the platform's own time, is read back from the emulator (created
-> ACTIVE of the deployment).

Overhead = the ansible-playbook wall time minus T: Ansible's start, the plan (manifest, SHAs,
registry digests, the target app, staging's proof for production, lock and freeze), the lock,
the PUT and the polls' lag, the verification (health, read-back, smoke checks), the record,
the unlock and the summary. The same run times a one-task ``ansible-playbook`` (the floor any
playbook pays on this machine, now) and reports the ratio. A callback
(bench/callback_plugins/bench_timings.py) records each task's time for the breakdown.

Baseline model (the replaced system): ``doctl apps update --wait`` notices ACTIVE at its
next 10 s poll (10*ceil(T/10) - T late), then the health loop's first poll finds the app
healthy (no wait). Tool start-up, GitHub Actions steps and the manifest commit are not
counted, so the model is a lower bound; averaged over deployment times the doctl part alone
is 5 s.
"""
import hashlib
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


def _digest(service, sha):
    """The digest the emulator's registry answers for ghcr.io/tachyonapp/<service>:<sha>."""
    from emulator.registry import generated_manifest
    return "sha256:" + hashlib.sha256(generated_manifest("tachyonapp/" + service, sha)).hexdigest()


def _one_task_playbook(env, scratch, bin_dir, runs):
    path = os.path.join(scratch, "one.yml")
    with open(path, "w") as handle:
        handle.write("- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug: {msg: one}\n")
    times = []
    for _run in range(runs):
        start = time.time()
        subprocess.run([os.path.join(bin_dir, "ansible-playbook"), "-i", "localhost,", "-c", "local", path],
                       cwd=ROOT, env=env, capture_output=True, timeout=300, check=True)
        times.append(time.time() - start)
    return times


def _deploy(env, bin_dir, target, extra, timings):
    if os.path.exists(timings):
        os.unlink(timings)
    cmd = [os.path.join(bin_dir, "ansible-playbook"), "playbooks/deploy.yml", "-i", "inventories/sandbox",
           "-l", target, "-e", json.dumps(extra)]
    start = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    wall = time.time() - start
    if proc.returncode != 0:
        raise RuntimeError("%s deploy failed (rc %d):\n%s" % (target, proc.returncode, proc.stdout[-3000:]))
    tasks, events = common.task_times(timings)
    if events:
        tasks["(ansible-playbook start until the playbook starts)"] = events[0]["t"] - start
    return wall, tasks, proc.stdout


def run(runs=5, seed=None):
    aps, parse_time, _sandbox_seed, _seed_data, running_emulator = common.project_imports()
    scratch = tempfile.mkdtemp(prefix="bench-deploy-")
    results = {"staging": {"overhead": [], "wall": [], "platform": [], "tasks": [], "lines": [], "banners": []},
               "production": {"overhead": [], "wall": [], "platform": [], "tasks": [], "lines": [], "banners": []}}
    try:
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
                       TACHYON_SANDBOX_ENDPOINT=emu.url, TACHYON_SANDBOX_SOAK_MINUTES="0")
            env.update(_secret_env(aps))
            one_task = _one_task_playbook(env, scratch, bin_dir, max(3, runs))
            for i in range(runs):
                shas = {name: uuid.uuid4().hex + uuid.uuid4().hex[:8]
                        for name in ("tachyon-api", "tachyon-workers", "tachyon-db-migrate")}
                version = "9.%d.%d" % (i, int(time.time()) % 100000)
                release = subprocess.run(
                    [os.path.join(bin_dir, "ansible-playbook"), "playbooks/release.yml", "-i", "inventories/sandbox",
                     "-e", json.dumps({"manifest_path": manifest, "release_version": version,
                                       "api_sha": shas["tachyon-api"], "workers_sha": shas["tachyon-workers"],
                                       "db_sha": shas["tachyon-db-migrate"]})],
                    cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
                if release.returncode != 0:
                    raise RuntimeError("release %s failed:\n%s" % (version, release.stdout[-3000:]))
                for target, extra in (
                        ("staging", {"manifest_path": manifest, "tachyon_deployed_by": "bench", "tachyon_shas": shas}),
                        ("production", {"manifest_path": manifest, "tachyon_deployed_by": "bench",
                                        "tachyon_version": version, "tachyon_approved_by": "bench"})):
                    wall, tasks, out = _deploy(env, bin_dir, target, extra, timings)
                    client, app_id = emu.client(target), emu.app_ids[target]
                    active = client.apps.get(app_id)["app"]["active_deployment"]
                    spec = active["spec"]
                    running = {c["name"]: (c.get("image") or {}).get("digest")
                               for kind in ("services", "workers", "jobs") for c in spec.get(kind) or []}
                    want = {"api": _digest("tachyon-api", shas["tachyon-api"]),
                            "workers": _digest("tachyon-workers", shas["tachyon-workers"]),
                            "db-migrate": _digest("tachyon-db-migrate", shas["tachyon-db-migrate"])}
                    if {k: running.get(k) for k in want} != want:
                        raise RuntimeError("%s run %d: the live app does not run the new digests: %s, expected %s"
                                           % (target, i, running, want))
                    t_platform = parse_time(active["phase_last_updated_at"]) - parse_time(active["created_at"])
                    res = results[target]
                    res["wall"].append(wall)
                    res["platform"].append(t_platform)
                    res["overhead"].append(wall - t_platform)
                    res["tasks"].append(tasks)
                    res["lines"].append(len(out.splitlines()))
                    res["banners"].append(out.count("TASK ["))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    platform = results["staging"]["platform"] + results["production"]["platform"]
    baseline = [stats.next_poll_latency(t, PERIOD) for t in platform]
    floor = stats.summary(one_task)["p50"]
    rows, notes = [], []
    for target in ("staging", "production"):
        res = results[target]
        summary = stats.summary(res["overhead"])
        rows.append({"label": "ours: %s deploy (playbooks/deploy.yml -l %s, every gate)%s" % (
            target, target, ", a promotion, soak 0" if target == "production" else ""), "summary": summary})
        notes.append("%s: %d deploys; T %.3f-%.3f s; wall p50 %.2f s; overhead p50 %.2f s = %.1fx the one-task "
                     "playbook (%.2f s p50, same run); output %s lines, %s task banners"
                     % (target, runs, min(res["platform"]), max(res["platform"]), stats.summary(res["wall"])["p50"],
                        summary["p50"], summary["p50"] / floor if floor else 0.0, floor,
                        "/".join(str(n) for n in sorted(set(res["lines"]))),
                        "/".join(str(n) for n in sorted(set(res["banners"])))))
    rows.append({"label": "one-task ansible-playbook (debug), the floor on this machine now",
                 "summary": stats.summary(one_task)})
    notes.append("baseline averaged over deployment times: 5 s from doctl's polling alone")
    return {
        "id": "deploy", "title": "3. Deploy overhead", "unit": "s",
        "measure": "deploy wall time minus the platform's deployment time T (staging; production promotion)",
        "rows": rows,
        "baseline": {"label": "replaced system model: doctl --wait 10 s polls, then 15 s health loop "
                              "(healthy at its first poll)", "summary": stats.summary(baseline)},
        "target": {"stat": "p50", "limit": 3.0},
        "notes": notes,
        "breakdown": common.median_breakdown(results["staging"]["tasks"]),
        "ratio_to_one_task": {t: (stats.summary(results[t]["overhead"])["p50"] / floor if floor else None)
                              for t in ("staging", "production")},
    }
