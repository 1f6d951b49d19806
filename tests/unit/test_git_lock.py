"""The deploy lock and freezes in a git remote (module_utils/_git/lock.py), against local bare
repositories reached through file:// URLs, and the local file fallback."""
import os
import subprocess
import threading
import time

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._git import lock as git_lock


def _git(cwd, *args):
    return subprocess.run(["git"] + list(args), cwd=str(cwd), check=True, capture_output=True, text=True).stdout


@pytest.fixture
def hub(tmp_path):
    """A bare hub remote and two clones of it (two runners)."""
    bare = tmp_path / "hub.git"
    _git(tmp_path, "init", "-q", "--bare", str(bare))
    clones = []
    for name in ("laptop", "runner"):
        path = tmp_path / name
        _git(tmp_path, "clone", "-q", "file://%s" % bare, str(path))
        clones.append(path)
    return bare, clones


def _store(clone):
    return git_lock.GitRefStore(str(clone), "origin")


def _holder(who, purpose="deploy of staging", ttl=600, kind="lock", **kw):
    return git_lock.new_holder(kind, who, purpose, ttl, **kw)


def test_acquire_records_the_holder_in_the_remote_ref_and_refuses_a_second(hub):
    bare, (laptop, runner) = hub
    env = {"GITHUB_SERVER_URL": "https://github.example", "GITHUB_REPOSITORY": "org/hub", "GITHUB_RUN_ID": "42"}
    taken = git_lock.acquire(_store(laptop), "staging", _holder("alice", run_url=git_lock.run_url_from_env(env)))
    assert taken["taken_over"] is None and taken["token"]
    assert _git(bare, "rev-parse", "refs/tachyon/locks/staging").strip() == taken["token"]
    message = _git(bare, "log", "-1", "--format=%B", "refs/tachyon/locks/staging")
    for text in ("Tachyon-Holder: alice", "Tachyon-Purpose: deploy of staging",
                 "Tachyon-Run-Url: https://github.example/org/hub/actions/runs/42", "Tachyon-Expires-At: ",
                 "Tachyon-Started: ", "Tachyon-Host: "):
        assert text in message
    with pytest.raises(git_lock.LockHeld) as err:
        git_lock.acquire(_store(runner), "staging", _holder("bob"))
    assert "held by alice" in str(err.value) and "deploy of staging" in str(err.value)
    assert "actions/runs/42" in str(err.value) and "tachyon_lock_wait" in str(err.value)
    # production is another lock
    assert git_lock.acquire(_store(runner), "production", _holder("bob"))["token"]
    assert git_lock.release(_store(laptop), "staging", taken["token"]) == "released"
    assert "refs/tachyon/locks/staging" not in _git(bare, "show-ref")


def test_two_runners_racing_exactly_one_wins(hub):
    _bare, clones = hub
    for _round in range(3):
        barrier = threading.Barrier(2)
        outcomes = {}

        def contend(clone, who):
            barrier.wait()
            try:
                outcomes[who] = git_lock.acquire(_store(clone), "staging", _holder(who))
            except git_lock.LockHeld as exc:
                outcomes[who] = exc
        threads = [threading.Thread(target=contend, args=(c, w)) for c, w in zip(clones, ("alice", "bob"))]
        [t.start() for t in threads]
        [t.join() for t in threads]
        winners = [w for w, o in outcomes.items() if isinstance(o, dict)]
        assert len(winners) == 1, outcomes
        loser = ({"alice", "bob"} - set(winners)).pop()
        assert "held by %s" % winners[0] in str(outcomes[loser])
        assert git_lock.release(_store(clones[0]), "staging", outcomes[winners[0]]["token"]) == "released"


def test_wait_polls_with_progress_until_the_holder_releases(hub):
    _bare, (laptop, runner) = hub
    first = git_lock.acquire(_store(laptop), "staging", _holder("alice"))
    lines = []
    threading.Timer(0.6, git_lock.release, (_store(laptop), "staging", first["token"])).start()
    second = git_lock.acquire(_store(runner), "staging", _holder("bob"), wait=20, poll=0.2, progress=lines.append)
    assert second["waited"] >= 0.5 and lines and "held by alice" in lines[0]
    with pytest.raises(git_lock.LockHeld) as err:
        git_lock.acquire(_store(laptop), "staging", _holder("carol"), wait=0.5, poll=0.2)
    assert "waited" in str(err.value) and "held by bob" in str(err.value)


def test_an_expired_lock_is_taken_over_naming_the_old_holder(hub):
    _bare, (laptop, runner) = hub
    dead = git_lock.acquire(_store(laptop), "staging", _holder("alice", ttl=1))
    time.sleep(1.1)
    taken = git_lock.acquire(_store(runner), "staging", _holder("bob"))
    assert "took over a stale lock of alice" in taken["taken_over"] and "expired at" in taken["taken_over"]
    # the old holder's release leaves the new lock alone
    assert "held by bob" in git_lock.release(_store(laptop), "staging", dead["token"])
    assert git_lock.status(_store(laptop), "staging")["lock"]["holder"] == "bob"


def test_a_freeze_blocks_every_runner_until_released_and_break_glass_is_named(hub):
    _bare, (laptop, runner) = hub
    changed, rec = git_lock.freeze(_store(laptop), "production", _holder(
        "alice", "freeze of production", kind="freeze", reason="incident 12"))
    assert changed and rec["expires_at"] == "never"
    assert git_lock.freeze(_store(runner), "production", _holder("bob", kind="freeze"))[0] is False
    with pytest.raises(git_lock.LockHeld) as err:
        git_lock.acquire(_store(runner), "production", _holder("bob"), wait=30)
    assert "FROZEN by alice" in str(err.value) and "incident 12" in str(err.value)
    assert "lock_action=release" in str(err.value) and "tachyon_break_glass" in str(err.value)
    status = git_lock.status(_store(runner), "production")
    assert status["frozen"] and status["freeze"]["reason"] == "incident 12" and status["freeze"]["started"]
    glass = git_lock.acquire(_store(runner), "production", _holder("bob"), break_glass="hotfix")
    assert glass["break_glass"]["holder"] == "alice"
    git_lock.release(_store(runner), "production", glass["token"])
    assert git_lock.unfreeze(_store(runner), "production")[0] is True
    assert git_lock.acquire(_store(laptop), "production", _holder("alice"))["break_glass"] is None


def test_credentials_in_the_remote_url_never_reach_a_message(tmp_path):
    store = git_lock.GitRefStore(str(tmp_path), "https://x-access-token:ghs_secret@127.0.0.1:9/hub.git")
    with pytest.raises(git_lock.LockError) as err:
        store.read("refs/tachyon/locks/staging")
    assert "ghs_secret" not in str(err.value) and "***@" in str(err.value)


def test_environment_names_are_checked():
    with pytest.raises(git_lock.LockError):
        git_lock.lock_ref("../heads/main")


def test_file_fallback_refuses_a_live_holder_and_takes_over_a_dead_process(tmp_path):
    store = git_lock.FileStore(str(tmp_path / ".deploy-staging.lock"))
    first = git_lock.acquire(store, "staging", _holder("alice"))
    with pytest.raises(git_lock.LockHeld) as err:
        git_lock.acquire(store, "staging", _holder("bob"))
    assert "held by alice" in str(err.value) and "this controller" in str(err.value)
    assert git_lock.release(store, "staging", first["token"]) == "released"
    dead = subprocess.Popen(["true"])
    dead.wait()
    git_lock.acquire(store, "staging", _holder("alice", pid=dead.pid))
    taken = git_lock.acquire(store, "staging", _holder("bob"))
    assert "took over a stale lock of alice" in taken["taken_over"] and "is gone" in taken["taken_over"]
    assert git_lock.freeze(store, "staging", _holder("carol", kind="freeze", reason="r"))[0]
    assert (tmp_path / ".deploy-staging.freeze").exists()
    assert [f for f in os.listdir(str(tmp_path)) if f.endswith(".tmp")] == []
