"""playbooks/release_notes.yml on file:// fixture remotes (make_repos.py + advance_repos.py): a
manifest whose production runs 0.1.9 and whose candidate is 0.2.0, three commits in tachyon-api,
two in tachyon-db (one adds a migration), none in tachyon-workers. No emulator is needed."""
import json
import os
import subprocess
import sys

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures", "services"))
import advance_repos  # noqa: E402  (fixture helpers, not a package)
import make_repos  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
import service_catalog as catalog  # noqa: E402  (fixture helper, not a package)

NOW = "2026-02-01T00:00:00Z"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("notes")
    first = make_repos.make_repos(tmp / "repos")
    second = advance_repos.advance(tmp / "repos")
    old = {service: first[repo]["sha"] for repo, service in make_repos.SERVICES.items()}
    new = dict(old, **{make_repos.SERVICES[repo]: pin["sha"] for repo, pin in second.items()})
    doc = mf.create_release(None, "0.1.9", old, now=NOW, **catalog.RELEASE_ARGS)
    for env in ("staging", "production"):
        doc = mf.record_deployment(doc, env, "succeeded", deployment_id="dep-%s-1" % env,
                                   services={n: {"sha": s} for n, s in old.items()}, deployed_by="tester",
                                   approved_by="boss" if env == "production" else None,
                                   health_verified_at=NOW, at=NOW)
    doc = mf.create_release(doc, "0.2.0", new, now=NOW, **catalog.RELEASE_ARGS)
    manifest = tmp / "manifest.json"
    manifest.write_text(mf.to_json_text(doc))
    return {"tmp": tmp, "manifest": manifest, "old": old, "new": new,
            "base": (tmp / "repos" / "remotes").as_uri()}


def notes(world, *args):
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"], ANSIBLE_NOCOLOR="1",
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"))
    cmd = ["ansible-playbook", "playbooks/release_notes.yml", "-i", "inventories/sandbox",
           "-e", json.dumps({"manifest_path": str(world["manifest"]), "tachyon_repo_base_url": world["base"],
                             "tachyon_repo_cache": str(world["tmp"] / "cache")})] + list(args)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_production_against_the_candidate_as_text(world):
    dest = world["tmp"] / "notes.txt"
    rc, out = notes(world, "-l", "production", "-e", "notes_output=%s" % dest)
    assert rc == 0, out[-3000:]
    assert "Release notes: production 0.1.9 -> candidate 0.2.0" in out
    text = dest.read_text()
    assert text.startswith("Release notes: production 0.1.9 -> candidate 0.2.0\n")
    assert text.endswith("5 commits in 2 of 3 services; migrations changed\n") and "\\n" not in text
    assert "tachyon-workers: no change (%s)" % world["old"]["tachyon-workers"][:7] in out
    assert "tachyon-api: %s -> %s, 3 commits" % (world["old"]["tachyon-api"][:7], world["new"]["tachyon-api"][:7]) in out
    assert "https://github.com/tachyonapp/tachyon-api/pull/42" in out
    assert "MIGRATIONS CHANGED: src/migrations.js" in out
    assert "5 commits in 2 of 3 services; migrations changed" in out


def test_two_versions_as_json_written_to_a_file(world):
    dest = world["tmp"] / "notes.json"
    rc, out = notes(world, "-e", "from_version=0.1.9", "-e", "to_version=0.2.0", "-e", "format=json",
                    "-e", "notes_output=%s" % dest)
    assert rc == 0, out[-3000:]
    data = json.loads(dest.read_text())
    services = {s["service"]: s for s in data["services"]}
    assert [c["subject"] for c in services["tachyon-db-migrate"]["commits"]] == [
        "Document the migrate user", "Add job_runs.duration_ms (#7)"]
    assert services["tachyon-db-migrate"]["migrations_changed"] is True
    assert services["tachyon-workers"]["status"] == "no change" and data["commit_count"] == 5
    assert json.loads(world["manifest"].read_text()) == json.loads(world["manifest"].read_text())
    assert "release_notes" not in world["manifest"].read_text() and "Ada Lovelace" not in world["manifest"].read_text()


def test_bad_input_is_refused_as_data(world):
    rc, out = notes(world, "-e", "from_version={{ lookup('pipe', 'id') }}", "-e", "to_version=0.2.0")
    assert rc != 0 and "from_version" in out and "uid=" not in out, out[-3000:]
    rc, out = notes(world, "-e", "from_version=0.1.8", "-e", "to_version=0.2.0")
    assert rc != 0 and "release 0.1.8 is not in the manifest" in out, out[-3000:]
    rc, out = notes(world)
    assert rc != 0 and "limit it (-l production)" in out, out[-3000:]


def test_as_awx_runs_it_the_notes_are_job_artifacts(world, tmp_path):
    """The workflow's release-notes node (awx/release_notes.yml) through ansible-runner, AWX's job
    runner, with the workflow survey's tachyon_version as AWX passes it: the notes are in the
    job's artifacts (set_stats), which the approval node's description points at."""
    ansible_runner = pytest.importorskip("ansible_runner", reason="ansible-runner is in requirements-dev.txt")
    extravars = {"manifest_path": str(world["manifest"]), "tachyon_repo_base_url": world["base"],
                 "tachyon_repo_cache": str(world["tmp"] / "cache"), "tachyon_version": "0.2.0"}
    result = ansible_runner.run(
        private_data_dir=str(tmp_path), project_dir=ROOT, playbook=os.path.join(ROOT, "playbooks", "release_notes.yml"),
        inventory=os.path.join(ROOT, "inventories", "sandbox"), limit="production", extravars=extravars,
        envvars={"ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"), "PATH": BIN + os.pathsep + os.environ["PATH"]},
        quiet=True)
    assert result.rc == 0, result.stdout.read()[-3000:]
    (stats,) = [e for e in result.events if e["event"] == "playbook_on_stats"]
    artifact = stats["event_data"]["artifact_data"]["tachyon_release_notes"]
    assert artifact["notes"]["to"]["version"] == "0.2.0" and artifact["notes"]["commit_count"] == 5
    assert "MIGRATIONS CHANGED: src/migrations.js" in artifact["text"]
    assert "[#42](https://github.com/tachyonapp/tachyon-api/pull/42)" in artifact["markdown"]
