"""Benchmark 6: release notes for 3 repos x 1,000 commits, and the drift report.

Release notes: three local git repositories (file:// remotes) of 1,000 commits each, written
with ``git fast-import`` (one file changed per commit, a pull request number in every tenth
subject); a scratch manifest whose staging record pins each service's first commit and whose
current release pins each head (release_manifest state=created, then recorded, then created
again, in this process). ``tachyon.infra.release_notes`` runs as Ansible runs a module (its own
Python process, arguments in a file): cold (empty cache: the three fetches included) and warm
(the cache holds every commit). Each run must list 3 x 999 commits.

Drift: ``ansible-playbook playbooks/drift.yml -i inventories/sandbox -l staging`` against the
App Platform emulator (the sandbox seed app; exit 0 in sync or 2 drifted both count), wall
time, beside a one-task ``ansible-playbook`` of the same run.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from bench import ROOT, common, modrun, stats

SERVICES = ("tachyon-api", "tachyon-workers", "tachyon-db-migrate")
COMMITS = 1000


def make_repo(path, name, commits=COMMITS):
    """A repository of ``commits`` commits on main (fast-import); returns the list of SHAs, oldest first."""
    subprocess.run(["git", "init", "-q", "-b", "main", path], check=True)
    lines = []
    for i in range(commits):
        message = ("feat(%s): change %d%s" % (name, i, " (#%d)" % (i // 10 + 1) if i % 10 == 0 else "")).encode()
        content = ("%s %d\n" % (name, i)).encode()
        lines.append(b"commit refs/heads/main\nmark :%d\n" % (i + 1))
        lines.append(b"committer Bench <bench@example.invalid> %d +0000\n" % (1700000000 + i * 60))
        lines.append(b"data %d\n%s\n" % (len(message), message))
        if i:
            lines.append(b"from :%d\n" % i)
        lines.append(b"M 100644 inline src/file%d.txt\ndata %d\n%s\n" % (i % 50, len(content), content))
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=b"".join(lines), check=True)
    out = subprocess.run(["git", "rev-list", "--reverse", "main"], cwd=path, check=True,
                         capture_output=True, text=True).stdout.split()
    if len(out) != commits:
        raise RuntimeError("%s: %d commits written, %d expected" % (name, len(out), commits))
    return out


def _manifest(scratch, firsts, heads):
    from ansible_collections.tachyon.infra.plugins.modules import release_manifest

    path = os.path.join(scratch, "releases", "manifest.json")
    os.makedirs(os.path.dirname(path))
    images = {name: "registry.invalid/%s" % name for name in SERVICES}
    for args in ({"state": "created", "version": "1.0.0", "services": firsts, "images": images},
                 {"state": "recorded", "environment": "staging", "outcome": "succeeded", "deployment_id": "bench-1",
                  "deployed_by": "bench", "services": {n: {"sha": s, "tag": s} for n, s in firsts.items()}},
                 {"state": "created", "version": "1.1.0", "services": heads, "images": images}):
        result = modrun.run_in_process(release_manifest, dict(args, path=path, known_services=list(SERVICES)))
        if result.get("failed"):
            raise RuntimeError("release_manifest %s: %s" % (args["state"], result.get("msg")))
    return path


def _notes_once(scratch, manifest, repos, cache_dir):
    args = {"manifest_path": manifest, "environment": "staging", "repos": repos, "cache_dir": cache_dir,
            "order": list(SERVICES)}
    start = time.time()
    proc, path = modrun.start_module("release_notes", args, scratch)
    ended, result = modrun.finish(proc, path, 600)
    if result.get("failed"):
        raise RuntimeError("release_notes failed: %s" % result.get("msg"))
    listed = result.get("notes", {}).get("commit_count") if isinstance(result.get("notes"), dict) else None
    if listed is None:
        listed = sum(len(s.get("commits") or []) for s in result.get("services") or [])
    if listed != len(SERVICES) * (COMMITS - 1):
        raise RuntimeError("release_notes listed %s commits, %d expected" % (listed, len(SERVICES) * (COMMITS - 1)))
    return ended - start


def _drift(runs, scratch):
    aps, _parse_time, _seed, _seed_data, running_emulator = common.project_imports()
    bin_dir = os.path.dirname(sys.executable)
    manifest = os.path.join(scratch, "drift-manifest.json")
    shutil.copy(os.path.join(ROOT, "releases", "manifest.json"), manifest)
    keys = set()
    for name in ("app.staging.yml", "app.prod.yml"):
        keys |= {key for _comp, key in aps.secret_env_keys(aps.load_spec(os.path.join(ROOT, ".do", name)))}
    one = os.path.join(scratch, "one.yml")
    with open(one, "w") as handle:
        handle.write("- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug: {msg: one}\n")
    drift, floor = [], []
    with running_emulator(phase_seconds=0.05, subprocess=True) as emu:
        env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""),
                   ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   TACHYON_SANDBOX_ENDPOINT=emu.url,
                   **{"TACHYON_SECRET_%s" % key: "bench-%s" % key.lower() for key in keys})
        for _run in range(runs):
            start = time.time()
            subprocess.run([os.path.join(bin_dir, "ansible-playbook"), "-i", "localhost,", "-c", "local", one],
                           cwd=ROOT, env=env, capture_output=True, timeout=300, check=True)
            floor.append(time.time() - start)
            start = time.time()
            proc = subprocess.run([os.path.join(bin_dir, "ansible-playbook"), "playbooks/drift.yml", "-i",
                                   "inventories/sandbox", "-l", "staging", "-e", json.dumps({"manifest_path": manifest})],
                                  cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
            drift.append(time.time() - start)
            if proc.returncode not in (0, 2):
                raise RuntimeError("drift.yml failed (rc %d):\n%s" % (proc.returncode, proc.stdout[-3000:]))
    return drift, floor


def run(runs=3):
    common.project_imports()
    scratch = tempfile.mkdtemp(prefix="bench-notes-")
    try:
        started = time.time()
        firsts, heads, repos = {}, {}, {}
        for name in SERVICES:
            shas = make_repo(os.path.join(scratch, "repos", name), name)
            firsts[name], heads[name] = shas[0], shas[-1]
            repos[name] = "file://" + os.path.join(scratch, "repos", name)
        made = time.time() - started
        manifest = _manifest(scratch, firsts, heads)
        cold, warm = [], []
        for i in range(runs):
            cache = os.path.join(scratch, "cache-%d" % i)
            cold.append(_notes_once(scratch, manifest, repos, cache))
            warm.append(_notes_once(scratch, manifest, repos, cache))
        drift, floor = _drift(runs, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {
        "id": "notes", "title": "6. Release notes and drift", "unit": "s",
        "measure": "release_notes module (own process) for 3 repos x %d commits, cold and warm cache; "
                   "playbooks/drift.yml on the sandbox" % COMMITS,
        "rows": [
            {"label": "release notes, 3 x %d commits, cold cache (three fetches)" % COMMITS, "summary": stats.summary(cold)},
            {"label": "release notes, 3 x %d commits, warm cache" % COMMITS, "summary": stats.summary(warm)},
            {"label": "drift report (ansible-playbook playbooks/drift.yml -l staging)", "summary": stats.summary(drift)},
            {"label": "one-task ansible-playbook (debug), same run", "summary": stats.summary(floor)},
        ],
        "notes": ["%d runs each; the three repositories written in %.1f s (git fast-import, not timed); "
                  "every notes run listed 3 x %d commits" % (runs, made, COMMITS - 1),
                  "drift p50 = %.1fx the one-task playbook" % (stats.summary(drift)["p50"] / stats.summary(floor)["p50"])],
    }
