"""Release list, delivery metrics and HTML report on a large history (not part of `make bench`).

    .venv/bin/python -m bench.history [--entries 5000] [--runs 3]

Builds the synthetic service repos of tests/fixtures/history/synthetic.py (file:// remotes) and a
manifest of N generated attempts over its five releases (both environments, every 7th production
attempt failed, every 13th a rollback), writes it, then times, each the median of --runs:
reading it (manifest.load: strict JSON + schema validation), the release list
(release_history.history_view + text), the metrics without remotes, the metrics with the commit
dates from the remotes (bare fetch done once before, as a reused cache), and the HTML report
(render). Prints the figures and the report's size.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

from bench import ROOT

sys.path.insert(0, os.path.join(ROOT, ".collections"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures", "history"))

from ansible_collections.tachyon.infra.plugins.module_utils._common.times import parse_utc  # noqa: E402
from ansible_collections.tachyon.infra.plugins.module_utils._report import metrics as dm  # noqa: E402
from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf  # noqa: E402
from ansible_collections.tachyon.infra.plugins.module_utils._release import history as rh  # noqa: E402
from ansible_collections.tachyon.infra.plugins.module_utils._report import report as rr  # noqa: E402
from ansible_collections.tachyon.infra.plugins.module_utils._git.cache import GitCache  # noqa: E402
import synthetic  # noqa: E402


def _median(fn, runs):
    times, value = [], None
    for _run in range(runs):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="bench-history-")
    shas, urls = synthetic.make_repos(tmp)
    path = os.path.join(tmp, "manifest.json")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(mf.to_json_text(synthetic.manifest(shas, synthetic.large_attempts(args.entries))))
    cache = GitCache(os.path.join(tmp, "cache"))
    for service, url in urls.items():
        cache.sync(service, url)
    commits = dm.cache_commits(cache, urls)
    load_t, (manifest, _legacy, _text) = _median(lambda: mf.load(path), args.runs)
    until = max(parse_utc(e["at"]) for e in manifest["history"])
    list_t, view = _median(lambda: rh.text(rh.history_view(manifest, path)), args.runs)
    plain_t, _plain = _median(lambda: dm.metrics(manifest, "all", until), args.runs)
    git_t, result = _median(lambda: dm.metrics(manifest, "all", until, commits=commits), args.runs)
    view = rh.history_view(manifest, path)
    html_t, page = _median(lambda: rr.render(manifest, view, result, until), args.runs)
    print("history of %d attempts (%d bytes of manifest), median of %d runs:" % (
        len(manifest["history"]), os.path.getsize(path), args.runs))
    print("  read + validate the manifest      %.3f s" % load_t)
    print("  release list (view + text)        %.3f s" % list_t)
    print("  metrics, no remotes               %.3f s" % plain_t)
    print("  metrics, commit dates from git    %.3f s (production: %d commits)" % (
        git_t, result["environments"]["production"]["lead_time"]["commits"]))
    print("  HTML report render                %.3f s (%d bytes)" % (html_t, len(page.encode("utf-8"))))


if __name__ == "__main__":
    main()
