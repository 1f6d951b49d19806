"""Benchmark 5: how the cost grows with the number of components and services.

For N = 10, 100 and 1,000 the benchmark writes an App Spec with N services (each an image
component with four envs, one of them SECRET, all declared in env/.env.example) and calls,
in this process, the real modules' ``main()`` with Ansible's argument passing (no
interpreter start, so the per-item cost is what is measured):

* ``app_spec`` state=rendered: load the YAML, set N image tags, redact secrets;
* ``app_spec`` state=validated: DigitalOcean's App Spec schema + env keys against the schema;
* ``release_manifest`` state=created with N services (known_services = the N names), then
  state=recorded of a successful staging deployment of the N services (each on a fresh
  manifest: JSON Schema validation, atomic write under the lock).

Time: the median of a few repetitions (time.perf_counter). Peak memory: tracemalloc's peak
of Python allocations during one more call, measured separately so tracing does not slow
the timed calls. Growth: a least-squares line time = a + b*N (b = time per item) and the
exponent of a log-log fit (1.0 = linear, 2.0 = quadratic).
"""
import hashlib
import os
import tempfile
import time
import tracemalloc

import yaml

from bench import ROOT, common, modrun, stats

SIZES = (10, 100, 1000)
REPEATS = {10: 5, 100: 5, 1000: 3}
SHA = hashlib.sha1(b"bench-scale-release").hexdigest()  # a git SHA; no literal that looks like a secret


def make_spec(n):
    services = []
    for i in range(n):
        name = "svc-%04d" % i
        services.append({
            "name": name,
            "image": {"registry_type": "GHCR", "registry": "tachyonapp", "repository": name, "tag": "initial"},
            "instance_count": 1, "instance_size_slug": "apps-s-1vcpu-0.5gb", "http_port": 4000,
            "routes": [{"path": "/%s" % name}],
            "envs": [{"key": "NODE_ENV", "value": "production"}, {"key": "LOG_LEVEL", "value": "info"},
                     {"key": "PORT", "value": "4000"},
                     {"key": "REDIS_PASSWORD", "type": "SECRET", "scope": "RUN_TIME", "value": ""}],
        })
    return {"name": "tachyon-scale", "region": "nyc", "envs": [{"key": "APP_ENV", "value": "staging"}],
            "services": services}


def _operations(n, tmp):
    common.project_imports()  # puts .collections on sys.path
    from ansible_collections.tachyon.infra.plugins.modules import app_spec, release_manifest

    spec_path = os.path.join(tmp, "app-%d.yml" % n)
    with open(spec_path, "w") as handle:
        yaml.safe_dump(make_spec(n), handle, sort_keys=False)
    names = ["svc-%04d" % i for i in range(n)]
    counter = [0]

    def render():
        return modrun.run_in_process(app_spec, {"src": spec_path, "state": "rendered",
                                                "images": {name: {"tag": SHA} for name in names}})

    def validate():
        return modrun.run_in_process(app_spec, {"src": spec_path,
                                                "env_schema": os.path.join(ROOT, "env", ".env.example")})

    def fresh_manifest():
        counter[0] += 1
        folder = os.path.join(tmp, "m-%d-%d" % (n, counter[0]))
        os.makedirs(folder)
        return os.path.join(folder, "manifest.json")

    def create(path=None):
        path = path or fresh_manifest()
        return modrun.run_in_process(release_manifest, {
            "path": path, "state": "created", "version": "1.0.0", "known_services": names,
            "images": {name: "registry.invalid/%s" % name for name in names},
            "services": {name: SHA for name in names}})

    def record(path):
        return modrun.run_in_process(release_manifest, {
            "path": path, "state": "recorded", "environment": "staging", "outcome": "succeeded",
            "deployment_id": "dep-%d" % counter[0], "deployed_by": "bench",
            "services": {name: {"sha": SHA, "tag": SHA} for name in names}})

    def prepared_record():
        path = fresh_manifest()
        create(path)
        return path

    # (label, setup returning the argument or None, timed call)
    return [("App Spec render (state=rendered)", None, render),
            ("App Spec validation (schema + env keys)", None, validate),
            ("manifest create (N services)", None, create),
            ("manifest record (N services)", prepared_record, record)]


def _check(label, result):
    if result.get("failed") or result.get("findings"):
        raise RuntimeError("%s failed: %s %s" % (label, result.get("msg"), (result.get("report") or [])[:3]))


def run(sizes=SIZES, repeats=None):
    repeats = repeats or REPEATS
    tmp = tempfile.mkdtemp(prefix="bench-scale-")
    table = {}
    for n in sizes:
        for label, setup, call in _operations(n, tmp):
            times = []
            for _repeat in range(repeats.get(n, 3)):
                arg = setup() if setup else None
                start = time.perf_counter()
                result = call(arg) if setup else call()
                times.append(time.perf_counter() - start)
                _check(label, result)
            arg = setup() if setup else None
            tracemalloc.start()
            call(arg) if setup else call()
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            table.setdefault(label, {})[n] = {"time": stats.summary(times)["p50"], "peak": peak}
    rows = []
    for label, per_n in table.items():
        fit = stats.linear_fit(list(per_n), [v["time"] for v in per_n.values()])
        mem_fit = stats.linear_fit(list(per_n), [v["peak"] for v in per_n.values()])
        rows.append({"label": label, "per_n": per_n, "fit": fit, "mem_fit": mem_fit})
    return {"id": "scale", "title": "5. Scale", "unit": "s", "rows": rows, "sizes": list(sizes),
            "notes": ["time = median of %s repetitions per size; peak = tracemalloc peak of one more call"
                      % ", ".join("%d (N=%d)" % (repeats.get(n, 3), n) for n in sizes)]}
