"""plugins/modules/manifest_publish.py against a local bare repository (file://) with a second
clone that pushes concurrently."""
import json
import os
import shutil
import subprocess

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.tachyon.infra.plugins.modules import manifest_publish

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

MANIFEST = "releases/manifest.json"
IDENTITY = {"author_name": "tachyon CI", "author_email": "ci@example.invalid"}
GIT_ENV = dict(os.environ, GIT_AUTHOR_NAME="other", GIT_AUTHOR_EMAIL="other@example.invalid",
               GIT_COMMITTER_NAME="other", GIT_COMMITTER_EMAIL="other@example.invalid",
               GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")


def git(cwd, *args):
    return subprocess.run(["git"] + list(args), cwd=str(cwd), env=GIT_ENV, check=True,
                          capture_output=True, text=True).stdout.strip()


def write_manifest(clone, history):
    path = clone / MANIFEST
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"version": "0.1.0", "history": history}, indent=2) + "\n")


@pytest.fixture
def repos(tmp_path, monkeypatch):
    """bare origin, hub clone (the checkout the module runs in) and a second clone."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    seed = tmp_path / "seed"
    git(tmp_path, "clone", "-q", "file://%s" % bare, str(seed))
    write_manifest(seed, ["a"])
    (seed / "README.md").write_text("hub\n")
    git(seed, "add", ".")
    git(seed, "commit", "-qm", "seed")
    git(seed, "push", "-q", "origin", "HEAD:main")
    hub = tmp_path / "hub"
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", "file://%s" % bare, str(hub))
    git(tmp_path, "clone", "-q", "file://%s" % bare, str(other))
    return bare, hub, other


def run(capsys, hub, check=False, diff=False, **args):
    args.setdefault("repo_dir", str(hub))
    args.setdefault("note", "deploy: record staging")
    for key, value in IDENTITY.items():
        args.setdefault(key, value)
    if check:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        manifest_publish.main()
    return json.loads(capsys.readouterr().out), exc.value.code != 0


def remote_file(bare, path=MANIFEST):
    return git(bare, "show", "main:%s" % path)


def test_nothing_to_commit_nothing_to_push(capsys, repos):
    _bare, hub, _other = repos
    result, failed = run(capsys, hub)
    assert not failed and result["changed"] is False
    assert result["committed"] is False and result["pushed"] is False


def test_commit_and_push_four_ways(capsys, repos):
    bare, hub, _other = repos
    write_manifest(hub, ["a", "b"])
    head = git(hub, "rev-parse", "HEAD")
    result, failed = run(capsys, hub, check=True, diff=True)
    assert not failed and result["changed"] is True and result["committed"] is True
    assert '"b"' in result["diff"]["prepared"]
    assert git(hub, "rev-parse", "HEAD") == head and git(hub, "status", "--porcelain")

    result, failed = run(capsys, hub)
    assert not failed and result["changed"] and result["pushed"] and result["push_attempts"] == 1
    assert json.loads(remote_file(bare))["history"] == ["a", "b"]
    assert git(bare, "log", "-1", "--format=%an|%s", "main") == "tachyon CI|deploy: record staging"

    for check in (True, False):
        result, _failed = run(capsys, hub, check=check)
        assert result["changed"] is False


def test_only_the_manifest_is_committed(capsys, repos):
    bare, hub, _other = repos
    write_manifest(hub, ["a", "b"])
    (hub / "README.md").write_text("local edit\n")
    (hub / "staged.txt").write_text("staged\n")
    git(hub, "add", "staged.txt")
    result, failed = run(capsys, hub)
    assert not failed and result["committed"]
    assert git(bare, "show", "--name-only", "--format=", "main") == MANIFEST
    assert (hub / "README.md").read_text() == "local edit\n"
    assert "A  staged.txt" in git(hub, "status", "--porcelain")


def test_unpushed_commit_is_pushed(capsys, repos):
    bare, hub, _other = repos
    write_manifest(hub, ["a", "c"])
    git(hub, "commit", "-qam", "committed earlier, push failed")
    result, _failed = run(capsys, hub, check=True)
    assert result["changed"] and result["pushed"] and not result["committed"]
    result, _failed = run(capsys, hub)
    assert result["changed"] and result["pushed"]
    assert json.loads(remote_file(bare))["history"] == ["a", "c"]


def test_concurrent_push_is_rebased_onto(capsys, repos):
    bare, hub, other = repos
    (other / "README.md").write_text("hub, edited elsewhere\n")
    git(other, "commit", "-qam", "concurrent change")
    git(other, "push", "-q", "origin", "HEAD:main")
    write_manifest(hub, ["a", "b"])
    result, failed = run(capsys, hub)
    assert not failed and result["pushed"] and result["rebased"] and result["push_attempts"] == 2
    assert json.loads(remote_file(bare))["history"] == ["a", "b"]
    assert remote_file(bare, "README.md") == "hub, edited elsewhere"
    assert git(bare, "rev-parse", "main") == git(hub, "rev-parse", "HEAD")


def test_conflicting_concurrent_manifest_change_aborts_cleanly(capsys, repos):
    bare, hub, other = repos
    write_manifest(other, ["a", "from-other"])
    git(other, "commit", "-qam", "other deploy recorded")
    git(other, "push", "-q", "origin", "HEAD:main")
    write_manifest(hub, ["a", "from-hub"])
    result, failed = run(capsys, hub, retries=2)
    assert failed
    assert "conflicts" in result["msg"] and "rebase was aborted" in result["msg"]
    assert not os.path.exists(hub / ".git" / "rebase-merge")
    assert not os.path.exists(hub / ".git" / "rebase-apply")
    assert git(hub, "status", "--porcelain") == ""
    assert git(hub, "log", "-1", "--format=%s") == "deploy: record staging"
    assert json.loads((hub / MANIFEST).read_text())["history"] == ["a", "from-hub"]
    assert json.loads(remote_file(bare))["history"] == ["a", "from-other"]


def test_retries_zero_reports_rejection(capsys, repos):
    _bare, hub, other = repos
    (other / "x.txt").write_text("x\n")
    git(other, "add", "x.txt")
    git(other, "commit", "-qm", "x")
    git(other, "push", "-q", "origin", "HEAD:main")
    write_manifest(hub, ["a", "b"])
    result, failed = run(capsys, hub, retries=0)
    assert failed and "still rejected after 1 attempts" in result["msg"]


def test_credentials_in_remote_url_are_never_printed(capsys, repos):
    _bare, hub, _other = repos
    token = "ghp_" + "A1b2C3d4" * 4 + "e5f6"
    git(hub, "remote", "add", "tokened", "http://x-access-token:%s@127.0.0.1:9/hub.git" % token)
    write_manifest(hub, ["a", "b"])
    result, failed = run(capsys, hub, remote="tokened")
    assert failed
    assert token not in json.dumps(result)
    assert "***@127.0.0.1" in result["msg"] or "x-access-token" not in result["msg"]


def test_detached_head_needs_branch(capsys, repos):
    _bare, hub, _other = repos
    git(hub, "checkout", "-q", "--detach")
    result, failed = run(capsys, hub)
    assert failed and "detached" in result["msg"]


def test_path_must_stay_inside_repo(capsys, repos):
    _bare, hub, _other = repos
    result, failed = run(capsys, hub, path="../outside.json")
    assert failed and "inside it" in result["msg"]
