"""Benchmark 2: failure detection latency.

The App Platform emulator (its own process, ``running_emulator(subprocess=True)``) fails a
deployment at a random moment: before each run the benchmark sets faults on the run's app
(``slow_phase`` PENDING_BUILD and BUILDING, then ``deploy_fail`` at ``build``), so the
deployment the module creates ends in ERROR, with an ERROR build step, F seconds after it
was created, F drawn uniformly from [0.5, 10.5) (one period of ``doctl --wait``). The real
``app_deploy`` module runs as a subprocess with the deploy role's arguments: it PUTs the
rendered staging App Spec (a fresh api tag, so a deployment is created), follows the
deployment and fails. Latency = the module process's exit minus the moment the deployment
turned ERROR (the emulator's ``phase_last_updated_at``). Inside the window: the remaining
poll wait, the failure report (failing step, build log tail fetched from the API) and the
interpreter exit. Runs execute a few at a time, each on its own app of the emulator.

Baseline: ``doctl apps create-deployment --wait`` (commands/apps.go,
waitForActiveDeployment): get the deployment, return an error when ErrorSteps > 0, else sleep
10 s; 180 attempts. Its latency is computed from the same runs: the wait from F to its next
poll (10 s grid from the deployment's creation) plus one measured API request.
"""
import os
import queue
import random
import tempfile
import time
import uuid

from bench import ROOT, common, modrun, stats

PERIOD = 10.0  # doctl --wait's polling interval


def _spec_and_secrets(aps, tag):
    spec = aps.load_spec(os.path.join(ROOT, ".do", "app.staging.yml"))
    images = {name: {"tag": tag if name == "api" else "bench-fixed"} for name in aps.image_components(spec)}
    rendered = aps.redact_secrets(aps.render_images(spec, images))
    secrets = {key: "bench-secret-%s" % key.lower() for _comp, key in aps.secret_env_keys(rendered)}
    return rendered, secrets


def configurations():
    d = common.role_defaults()
    return [
        ("ours, deploy role defaults (poll_interval=%s)" % d["tachyon_poll_interval"],
         {"poll_interval": d["tachyon_poll_interval"]}),
        ("ours, tuned (poll_interval=1)", {"poll_interval": 1}),
    ]


def run(runs=20, seed=11, workers=4):
    aps, parse_time, sandbox_seed, seed_data, running_emulator = common.project_imports()
    rng = random.Random(seed)
    moments = [rng.uniform(0.5, 0.5 + PERIOD) for _run in range(runs)]
    configs = configurations()
    jobs = [(c, i) for i in range(runs) for c in range(len(configs))]
    base = seed_data(sandbox_seed)
    staging_app = next(a for a in base["apps"] if a["account"] == "staging")
    accounts, apps = [], []
    for k in range(workers):
        name = "bench%d" % k
        accounts.append({"name": name, "token": "bench-token-%d-%s" % (k, uuid.uuid4().hex)})
        apps.append({"id": str(uuid.UUID(int=0xBE0C0000000040008000000000000000 + k)), "account": name,
                     "spec": dict(staging_app["spec"], name="tachyon-bench-%d" % k)})
    seed_dict = {"settings": dict(base.get("settings") or {}, rate_limit={"limit": 100000, "burst": 10000,
                                                                          "burst_window": 60}),
                 "accounts": accounts, "apps": apps}
    tmp = tempfile.mkdtemp(prefix="bench-failure-")
    with running_emulator(seed=seed_dict, phase_seconds=0.2, subprocess=True) as emu:
        slots = queue.Queue()
        for account in accounts:
            slots.put(account["name"])

        def one(job):
            c, i = job
            account = slots.get()
            try:
                app_id = emu.app_ids[account]
                f = moments[i]
                pending = round(f * 0.3, 3)
                emu.set_faults([
                    {"kind": "slow_phase", "phase": "PENDING_BUILD", "seconds": pending, "app_id": app_id, "count": 1},
                    {"kind": "slow_phase", "phase": "BUILDING", "seconds": round(f - pending, 3), "app_id": app_id,
                     "count": 1},
                    {"kind": "deploy_fail", "stage": "build", "app_id": app_id, "count": 1},
                ])
                spec, secrets = _spec_and_secrets(aps, uuid.uuid4().hex[:12])
                args = dict(configs[c][1], app_id=app_id, token=emu.tokens[account], api_endpoint=emu.url,
                            spec=spec, secrets=secrets, timeout=120)
                proc, path = modrun.start_module("app_deploy", args, tmp)
                ended, result = modrun.finish(proc, path, timeout=180)
                dep_id = result.get("deployment_id")
                if not result.get("failed") or not dep_id:
                    raise RuntimeError("app_deploy did not fail on a failing deployment: %s" % result.get("msg"))
                dep = emu.client(account).apps.get_deployment(app_id, dep_id)["deployment"]
                if dep["phase"] != "ERROR" or result.get("phase") != "ERROR":
                    raise RuntimeError("deployment %s ended %s (module said %s)" % (dep_id, dep["phase"], result.get("phase")))
                failed_at, created = parse_time(dep["phase_last_updated_at"]), parse_time(dep["created_at"])
                return {"returned": ended - failed_at, "f": failed_at - created,
                        "log": bool((result.get("failure") or {}).get("log_tail"))}
            finally:
                slots.put(account)

        results = common.run_parallel(one, jobs, workers)
        client = emu.client(accounts[0]["name"])
        app_id = emu.app_ids[accounts[0]["name"]]
        dep_id = client.apps.list_deployments(app_id)["deployments"][0]["id"]
        rtts = []
        for _sample in range(10):
            start = time.perf_counter()
            client.apps.get_deployment(app_id, dep_id)
            rtts.append(time.perf_counter() - start)
        rtt = stats.summary(rtts)["p50"]
    rows = []
    for c, (label, _args) in enumerate(configs):
        mine = [r for (cc, _i), r in zip(jobs, results) if cc == c]
        rows.append({"label": label, "summary": stats.summary([r["returned"] for r in mine]),
                     "with_log": sum(r["log"] for r in mine)})
    measured_f = [r["f"] for (cc, _i), r in zip(jobs, results) if cc == 0]
    baseline = [stats.next_poll_latency(f, PERIOD) + rtt for f in measured_f]
    return {
        "id": "failure", "title": "2. Failure detection latency", "unit": "s",
        "measure": "deployment turned ERROR -> app_deploy failed (exit, with failing step and log tail)",
        "rows": rows,
        "baseline": {"label": "doctl --wait: poll every 10 s (computed from the same moments + %.1f ms request)"
                              % (rtt * 1000), "summary": stats.summary(baseline)},
        "target": {"stat": "max", "limit": 2.0},
        "notes": [
            "%d runs per configuration, failure F ~ uniform[0.5, 10.5) s after the deployment was created "
            "(seed %d), %d runs at a time against one emulator process" % (runs, seed, workers),
            "failure reports with the build log tail: %s" % "; ".join(
                "%s %d/%d" % (r["label"].split(" (")[0], r["with_log"], r["summary"]["n"]) for r in rows),
        ],
    }
