"""Benchmark 1: health detection latency.

A local HTTP server serves one /health endpoint per run. Each run's endpoint turns healthy
with the right version at a random moment: U seconds after the first poll reaches it, U
drawn uniformly from [0, 15) (one period of the replaced system's 15 s loop, so the baseline
is not favoured or penalised by where the moments fall). Before that moment it answers
like an app being replaced: even runs 503 without a payload (slow start), odd runs 200
healthy but with the previous version (stale). The real ``health_check`` module runs as a
subprocess with the deploy role's arguments; latency = the module process's exit minus the
moment. The module's interpreter start happens before its first poll, so it is outside the
measured window; the confirming poll(s) (``consecutive``), the result JSON and the
interpreter exit are inside it. Runs execute a few at a time, each against its own endpoint.

Baseline (the replaced system): poll, then sleep 15 s, up to ten times. Its latency is
computed from the same moments: the wait until its next poll (15 s grid from the first
poll) plus one measured request to the same server. It counts nothing else (no process
start, no version check), so it is a lower bound for the replaced system.
"""
import hashlib
import http.server
import json
import random
import tempfile
import threading
import time
import urllib.request

from bench import common, modrun, stats

PERIOD = 15.0  # the replaced system's health polling interval
# the version before and after the deploy (git SHAs; derived so no literal looks like a secret)
OLD, NEW = (hashlib.sha1(b"bench-old-release").hexdigest(), hashlib.sha1(b"bench-new-release").hexdigest())


class _Runs:
    def __init__(self):
        self.lock = threading.Lock()
        self.runs = {}

    def add(self, run_id, delay, stale):
        with self.lock:
            self.runs[run_id] = {"delay": delay, "stale": stale, "first": None, "moment": None,
                                 "requests": []}

    def answer(self, run_id):
        now = time.time()
        with self.lock:
            run = self.runs.get(run_id)
            if run is None:
                return 404, None
            if run["first"] is None:
                run["first"], run["moment"] = now, now + run["delay"]
            healthy = now >= run["moment"]
            run["requests"].append((now, healthy))
        if healthy:
            return 200, {"status": "healthy", "version": NEW, "checks": {"postgres": "connected", "redis": "connected"}}
        if run["stale"]:
            return 200, {"status": "healthy", "version": OLD, "checks": {"postgres": "connected", "redis": "connected"}}
        return 503, None


def _server(runs):
    class Handler(http.server.BaseHTTPRequestHandler):
        disable_nagle_algorithm = True

        def do_GET(self):  # noqa: N802 - http.server's naming
            parts = self.path.strip("/").split("/")
            status, payload = runs.answer(parts[1] if len(parts) == 3 and parts[0] == "run" else None)
            body = json.dumps(payload).encode() if payload is not None else b"upstream not ready"
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if payload is not None else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def configurations():
    d = common.role_defaults()
    role = {"consecutive": d["tachyon_health_consecutive"], "max_interval": d["tachyon_health_max_interval"],
            "checks": d["tachyon_health_checks"]}
    # what it takes to meet the 1 s target: poll at most every 0.5 s, accept one healthy poll
    tuned = dict(role, max_interval=0.5, consecutive=1)
    return [
        ("ours, deploy role defaults (%s)" % ", ".join("%s=%s" % kv for kv in sorted(role.items()) if kv[0] != "checks")
         + "; module defaults for the rest", role),
        ("ours, tuned (max_interval=0.5, consecutive=1)", tuned),
    ]


def run(runs=20, seed=7, workers=4):
    rng = random.Random(seed)
    delays = [rng.uniform(0.0, PERIOD) for _run in range(runs)]
    registry = _Runs()
    server = _server(registry)
    base = "http://127.0.0.1:%d" % server.server_address[1]
    configs = configurations()
    jobs = [(c, i) for i in range(runs) for c in range(len(configs))]
    tmp = tempfile.mkdtemp(prefix="bench-health-")

    def one(job):
        c, i = job
        run_id = "c%di%d" % (c, i)
        registry.add(run_id, delays[i], stale=bool(i % 2))
        args = dict(configs[c][1], url="%s/run/%s/health" % (base, run_id), expected_version=NEW, timeout=60)
        proc, path = modrun.start_module("health_check", args, tmp)
        ended, result = modrun.finish(proc, path, timeout=120)
        info = registry.runs[run_id]
        first_ok = next((t for t, ok in info["requests"] if ok), None)
        if result.get("failed") or info["moment"] is None or first_ok is None:
            raise RuntimeError("health run %s did not succeed: %s" % (run_id, result.get("msg")))
        return {"returned": ended - info["moment"], "noticed": first_ok - info["moment"],
                "polls": len(info["requests"])}

    try:
        results = common.run_parallel(one, jobs, workers)
        # one request to a healthy endpoint: the baseline's cost of its detecting poll
        registry.add("rtt", 0.0, stale=False)
        rtts = []
        for _sample in range(20):
            start = time.perf_counter()
            with urllib.request.urlopen(base + "/run/rtt/health", timeout=10) as response:
                response.read()
            rtts.append(time.perf_counter() - start)
        rtt = stats.summary(rtts)["p50"]
    finally:
        server.shutdown()
        server.server_close()
    rows = []
    for c, (label, _args) in enumerate(configs):
        mine = [r for (cc, _i), r in zip(jobs, results) if cc == c]
        rows.append({"label": label, "summary": stats.summary([r["returned"] for r in mine]),
                     "noticed": stats.summary([r["noticed"] for r in mine]),
                     "polls": stats.summary([r["polls"] for r in mine])})
    baseline = [stats.next_poll_latency(u, PERIOD) + rtt for u in delays]
    return {
        "id": "health", "title": "1. Health detection latency", "unit": "s",
        "measure": "moment healthy (right version) -> health_check returned",
        "rows": rows,
        "baseline": {"label": "replaced system: poll every 15 s (computed from the same moments + %.1f ms request)"
                              % (rtt * 1000), "summary": stats.summary(baseline)},
        "target": {"stat": "max", "limit": 1.0},
        "notes": [
            "%d runs per configuration, moments U ~ uniform[0, %g) s after the first poll (seed %d), "
            "%d runs at a time" % (runs, PERIOD, seed, workers),
            "'noticed' = first healthy poll - moment (server side): %s" % "; ".join(
                "%s p50 %.3f s, max %.3f s" % (r["label"].split(" (")[0], r["noticed"]["p50"], r["noticed"]["max"])
                for r in rows),
        ],
    }
