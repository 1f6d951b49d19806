"""Hardening class 6 (issue 26): our deploy lock taken over (or removed) during a deploy is
detected - before the record (app_deploy's action plugin, once the deployment is live) and at
release (deploy_lock state=absent) - by module_utils/_git/lock.warn_takeover, never silently.
The issue's example was another holder taking the git-ref lock over mid-deploy; here also: the lock removed, a takeover of the local file lock,
a second takeover after the first, and a lock still ours (no warning)."""
import subprocess

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._git import lock as git_lock
from ansible_collections.tachyon.infra.plugins.module_utils._report import summary as job_summary


def _git(cwd, *args):
    return subprocess.run(["git"] + list(args), cwd=str(cwd), check=True, capture_output=True, text=True).stdout


@pytest.fixture(params=["git", "file"])
def stores(request, tmp_path):
    """Two runners' stores of one lock: two clones of a bare remote, or one lock file."""
    if request.param == "file":
        path = str(tmp_path / "releases" / ".deploy-staging.lock")
        return git_lock.FileStore(path), git_lock.FileStore(path)
    bare = tmp_path / "hub.git"
    _git(tmp_path, "init", "-q", "--bare", str(bare))
    out = []
    for name in ("ours", "theirs"):
        _git(tmp_path, "clone", "-q", "file://%s" % bare, str(tmp_path / name))
        out.append(git_lock.GitRefStore(str(tmp_path / name), "origin"))
    return out


def _take(store, who, ttl=600, now=None):
    return git_lock.acquire(store, "staging", git_lock.new_holder("lock", who, "deploy of staging", ttl, now=now))


def _steal(store, who):
    """Another holder replaces the lock (as an expired lock is taken over)."""
    token, _current = store.read(git_lock.lock_ref("staging"))
    new = store.create(git_lock.lock_ref("staging"), git_lock.new_holder("lock", who, "deploy of staging", 600),
                       expected=token)
    assert new


def test_a_lock_still_ours_is_no_takeover(stores):
    ours, _theirs = stores
    taken = _take(ours, "alice")
    assert git_lock.takeover(ours, "staging", taken["token"]) is None
    assert git_lock.release(ours, "staging", taken["token"]) == "released"


def test_a_takeover_during_the_run_names_the_new_holder_and_the_lock_is_left(stores):
    ours, theirs = stores
    taken = _take(ours, "alice")
    _steal(theirs, "mallory")
    lost = git_lock.takeover(ours, "staging", taken["token"])
    assert "TAKEN OVER" in lost and "mallory" in lost and "another run may be deploying staging" in lost
    assert "held by mallory" in git_lock.release(ours, "staging", taken["token"])
    assert theirs.read(git_lock.lock_ref("staging"))[1]["holder"] == "mallory"  # left in place


def test_a_second_takeover_is_named_by_its_last_holder(stores):
    ours, theirs = stores
    taken = _take(ours, "alice")
    _steal(theirs, "bob")
    _steal(theirs, "carol")
    lost = git_lock.takeover(ours, "staging", taken["token"])
    assert "carol" in lost and "bob" not in lost


def test_a_removed_lock_is_reported_too(stores):
    ours, theirs = stores
    taken = _take(ours, "alice")
    token, _holder = theirs.read(git_lock.lock_ref("staging"))
    assert theirs.delete(git_lock.lock_ref("staging"), token)
    lost = git_lock.takeover(ours, "staging", taken["token"])
    assert "REMOVED" in lost


def test_warn_takeover_warns_once_when_lost_and_not_while_ours(stores):
    """The one warning both call sites (app_deploy before the record, deploy_lock at release) give."""
    ours, theirs = stores
    taken = _take(ours, "alice")
    warned = []
    display = type("D", (), {"warning": lambda self, text: warned.append(text)})()
    assert git_lock.warn_takeover(display, ours, "staging", taken["token"]) is None and warned == []
    _steal(theirs, "mallory")
    lost = git_lock.warn_takeover(display, ours, "staging", taken["token"])
    assert warned == [lost] and "TAKEN OVER" in lost and "mallory" in lost


def test_the_summary_shows_the_takeover_as_a_warning():
    summary = job_summary.build("staging", "succeeded", version="1.0.0",
                                warnings=["our staging lock in remote origin was TAKEN OVER during this run by mallory"])
    markdown = job_summary.render(summary)
    assert ":warning: **Warning:** our staging lock" in markdown and "mallory" in markdown
