"""No record lost to a concurrent publisher: manifest_publish re-applies our operation to the
manifest another run pushed meanwhile (module_utils/_release/replay.py), against local bare
repositories (file://). The 20 concurrent rounds call manifest_publish.publish() in threads with a
small stand-in for AnsibleModule (run_command through subprocess) so they stay fast."""
import json
import os
import shutil
import subprocess
import sys
import threading

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.module_utils._release import replay as manifest_replay
from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest_task
from ansible_collections.tachyon.infra.plugins.modules import manifest_publish

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
import service_catalog as catalog  # noqa: E402  (fixture helper, not a package)

MANIFEST = "releases/manifest.json"
GIT_ENV = {"GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@example.invalid", "GIT_COMMITTER_NAME": "ci",
           "GIT_COMMITTER_EMAIL": "ci@example.invalid", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
SERVICES = {"tachyon-api": "4a091424887308027935eb247097d4ffd77c8f99",
            "tachyon-workers": "2f9e050447ffe25d88c4035db2d4bb3f9987b7ff",
            "tachyon-db-migrate": "9252ea24498a84c0fdcdc75be8ea8182caebb176"}


def git(cwd, *args):
    return subprocess.run(["git"] + list(args), cwd=str(cwd), env=dict(os.environ, **GIT_ENV), check=True,
                          capture_output=True, text=True).stdout.strip()


class Module(object):
    """What publish() uses of AnsibleModule."""
    check_mode = False
    _diff = False

    def get_bin_path(self, name, required=False):
        return shutil.which(name)

    def run_command(self, args, cwd=None, environ_update=None, data=None, binary_data=False):
        env = dict(os.environ, **GIT_ENV)
        env.update(environ_update or {})
        proc = subprocess.run(args, cwd=cwd, env=env,
                              input=data if isinstance(data, bytes) else (data or "").encode(), capture_output=True,
                              check=False)
        return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def params(clone, message="record"):
    return dict(repo_dir=str(clone), path=MANIFEST, note=message, remote="origin", branch=None,
                author_name=None, author_email=None, retries=8, push=True)


def publish(clone, message="record"):
    module = Module()
    p = params(clone, message)
    env = dict(GIT_ENV, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    return manifest_publish.publish(module, manifest_publish.Git(module, str(clone), env), p)


def record(clone, environment, deployment_id, at):
    p = {key: spec.get("default") for key, spec in manifest_task.ARGUMENT_SPEC.items()}
    p.update(path=str(clone / MANIFEST), state="recorded", environment=environment, outcome="succeeded",
             deployment_id=deployment_id, services=SERVICES, deployed_by="ci",
             approved_by="alice" if environment == "production" else None, health_verified_at=at, at=at,
             note="deployed")
    failed, result = manifest_task.execute(p)
    assert not failed, result


@pytest.fixture
def hub(tmp_path, monkeypatch):
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    bare = tmp_path / "hub.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    seed = tmp_path / "seed"
    git(tmp_path, "clone", "-q", "file://%s" % bare, str(seed))
    (seed / "releases").mkdir()
    shutil.copy(os.path.join(ROOT, MANIFEST), str(seed / MANIFEST))
    git(seed, "add", ".")
    git(seed, "commit", "-qm", "release 0.1.0")
    git(seed, "push", "-q", "origin", "HEAD:main")
    clones = []
    for name in ("staging-runner", "production-runner"):
        git(tmp_path, "clone", "-q", "file://%s" % bare, str(tmp_path / name))
        clones.append(tmp_path / name)
    return bare, clones


def remote_manifest(bare):
    return mf.parse(git(bare, "show", "main:%s" % MANIFEST), "remote")[0]


def test_staging_and_production_publishing_at_the_same_moment_lose_nothing_20_times(hub, monkeypatch):
    bare, (stage, prod) = hub
    # the retry pause stays jittered, only shorter (the test is about the outcome, not the pause)
    real_backoff = manifest_publish.backoff
    monkeypatch.setattr(manifest_publish, "backoff", lambda attempt, **kw: real_backoff(attempt, **kw) / 10)
    expected = []
    for round_no in range(20):
        for clone in (stage, prod):
            git(clone, "pull", "-q", "--ff-only", "origin", "main")
        at = "2026-01-01T00:%02d:00Z" % round_no
        record(stage, "staging", "stg-%02d" % round_no, at)
        record(prod, "production", "prd-%02d" % round_no, at)
        barrier = threading.Barrier(2)
        results, errors = {}, {}

        def go(clone, name):
            barrier.wait()
            try:
                results[name] = publish(clone, "%s round %d" % (name, round_no))
            except Exception as exc:  # reported by the assertion below
                errors[name] = exc
        threads = [threading.Thread(target=go, args=(c, n)) for c, n in ((stage, "staging"), (prod, "production"))]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert not errors, errors
        assert all(r["pushed"] for r in results.values())
        expected.append({"stg-%02d" % round_no, "prd-%02d" % round_no})
        manifest = remote_manifest(bare)  # parse() validates it
        ids = [e["deployment_id"] for e in manifest["history"]]
        assert len(ids) == 2 * (round_no + 1)
        for number, pair in enumerate(expected):
            assert set(ids[2 * number:2 * number + 2]) == pair, ids
        assert manifest["environments"]["staging"]["deployment_id"] == "stg-%02d" % round_no
        assert manifest["environments"]["production"]["deployment_id"] == "prd-%02d" % round_no
        # the checkout that re-applied is on the remote's commit, its file the published one
        replayed = [name for name, r in results.items() if r["replayed"]]
        assert len(replayed) == 1, results
        clone = stage if replayed == ["staging"] else prod
        assert git(clone, "rev-parse", "HEAD") == git(bare, "rev-parse", "main")
        assert (clone / MANIFEST).read_text() == git(bare, "show", "main:%s" % MANIFEST) + "\n"
        assert git(clone, "status", "--porcelain", "--untracked-files=no") == ""
    assert any("Re-applied on top of" in git(bare, "log", "-1", "--format=%B", "main~%d" % n) for n in range(40))


def test_a_record_of_a_replaced_release_is_refused_and_kept_on_the_remote(hub):
    bare, (stage, other) = hub
    # someone creates release 0.2.0 and pushes it while our staging record of 0.1.0 is unpublished
    p = {key: spec.get("default") for key, spec in manifest_task.ARGUMENT_SPEC.items()}
    p.update(path=str(other / MANIFEST), state="created", version="0.2.0",
             services={k: "b" * 40 for k in SERVICES}, created_by="bob", **catalog.RELEASE_ARGS)
    assert not manifest_task.execute(p)[0]
    git(other, "commit", "-qam", "release 0.2.0")
    git(other, "push", "-q", "origin", "HEAD:main")
    record(stage, "staging", "stg-1", "2026-01-01T00:00:00Z")
    ours = git(stage, "rev-parse", "HEAD")
    with pytest.raises(manifest_publish.GitError) as err:
        publish(stage)
    text = str(err.value)
    assert "release was replaced underneath" in text and "0.2.0" in text and "bob" in text
    kept = err.value.extra["kept_ref"]
    # issue 26: the record is kept under refs/tachyon/records/<env>/<deployment>
    assert kept == "refs/tachyon/records/staging/stg-1" and kept in text
    kept_manifest = json.loads(git(bare, "show", "%s:%s" % (kept, MANIFEST)))
    assert kept_manifest["history"][-1]["deployment_id"] == "stg-1"
    assert remote_manifest(bare)["version"] == "0.2.0" and git(bare, "rev-parse", "main") != ours


def test_operations_are_what_turned_base_into_ours():
    with open(os.path.join(ROOT, MANIFEST)) as handle:
        base = mf.parse(handle.read(), "base")[0]
    ours = mf.record_deployment(base, "staging", "failed", deployment_id="d1", deployed_by="ci",
                                at="2026-01-01T00:00:00Z", message="boom")
    ops = manifest_replay.operations(base, ours)
    assert [kind for kind, _op in ops] == ["recorded"] and "staging failed" in manifest_replay.summarize(ops)
    edited = json.loads(json.dumps(ours))
    edited["environments"]["production"]["deployed_by"] = "mallory"
    with pytest.raises(manifest_replay.ReplayConflict) as err:
        manifest_replay.operations(base, edited)
    assert "more than" in str(err.value)
    rewritten = json.loads(json.dumps(base))
    rewritten["history"] = []
    theirs = mf.record_deployment(base, "production", "failed", deployment_id="p1", deployed_by="ci",
                                  at="2026-01-01T00:00:01Z")
    merged, _ops = manifest_replay.replay(base, ours, theirs)
    assert [e["deployment_id"] for e in merged["history"]][-2:] == ["p1", "d1"]
    # recording the same attempt twice changes nothing
    assert manifest_replay.replay(base, ours, merged)[0] == merged


def test_a_record_with_every_optional_field_is_replayed_whole():
    """Events (issue 30), the migration guard's decision and a rollback to a version are part of
    the record: a concurrent publish re-applies them, it does not call the record 'more than'."""
    with open(os.path.join(ROOT, MANIFEST)) as handle:
        base = mf.parse(handle.read(), "base")[0]
    ours = mf.record_deployment(base, "staging", "failed", deployment_id="d2", deployed_by="ci",
                                at="2026-01-01T00:00:02Z", message="verify failed",
                                after_migration="rollback", rollback_of_version=base["version"],
                                events=[{"at": "2026-01-01T00:00:01Z", "type": "DEPLOYMENT", "what": "ours"}])
    assert ours["history"][-1].get("events")
    theirs = mf.record_deployment(base, "production", "failed", deployment_id="p2", deployed_by="ci",
                                  at="2026-01-01T00:00:03Z")
    merged, ops = manifest_replay.replay(base, ours, theirs)
    assert merged["history"][-1] == ours["history"][-1] and [kind for kind, _op in ops] == ["recorded"]
