"""repo_layout: URL normalisation and the per-repository inspection, on real git checkouts."""
import subprocess

import pytest

from ansible_collections.tachyon.infra.plugins.modules.repo_layout import inspect_repo, normalize_url


def git(path, *args):
    proc = subprocess.run(["git", "-C", path, *args], capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout.strip()


@pytest.mark.parametrize("a, b", [
    ("https://github.com/tachyonapp/tachyon-api.git", "git@github.com:tachyonapp/tachyon-api.git"),
    ("https://github.com/tachyonapp/tachyon-api", "ssh://git@GitHub.com/tachyonapp/tachyon-api.git/"),
    ("file:///srv/git/tachyon-api.git", "/srv/git/tachyon-api"),
])
def test_same_repository_whatever_the_url_form(a, b):
    assert normalize_url(a) == normalize_url(b)


def test_different_repositories_differ():
    assert normalize_url("https://github.com/tachyonapp/tachyon-api.git") != \
        normalize_url("https://github.com/someone/tachyon-api.git")


@pytest.fixture()
def checkout(tmp_path):
    path = tmp_path / "tachyon-api"
    path.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    subprocess.run(["git", "-C", str(path), "remote", "add", "origin", "https://github.com/tachyonapp/tachyon-api.git"], check=True)
    (path / "package.json").write_text("{}")
    subprocess.run(["git", "-C", str(path), "add", "package.json"], check=True)
    subprocess.run(["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"], check=True)
    return path


def repo(path, **extra):
    return {"name": "tachyon-api", "path": str(path), "url": "git@github.com:tachyonapp/tachyon-api.git",
            "branch": "main", "required_files": ["package.json"], **extra}


def test_a_good_checkout_has_no_problem(checkout):
    result = inspect_repo(repo(checkout), git)
    assert result["problems"] == []
    assert result["git"] and result["remote_matches"] and result["on_branch"] and not result["dirty"]
    assert len(result["commit"]) == 40
    assert result["summary"].startswith("tachyon-api: ok, main at ")


def test_missing_directory_names_the_repo_and_the_fix(tmp_path):
    result = inspect_repo(repo(tmp_path / "tachyon-api"), git)
    assert result["present"] is False
    assert result["summary"].startswith("tachyon-api: ")
    assert "run playbooks/setup.yml" in result["summary"]


def test_not_a_git_checkout(tmp_path):
    (tmp_path / "tachyon-api").mkdir()
    (tmp_path / "tachyon-api" / "package.json").write_text("{}")
    result = inspect_repo(repo(tmp_path / "tachyon-api"), git)
    assert result["git"] is False and "is not a git checkout" in result["summary"]


def test_wrong_remote_and_missing_file_are_both_reported(checkout):
    (checkout / "package.json").unlink()
    result = inspect_repo(repo(checkout, url="https://github.com/someone/else.git"), git)
    assert "origin is https://github.com/tachyonapp/tachyon-api.git, expected https://github.com/someone/else.git" in result["problems"]
    assert "missing package.json" in result["problems"]
    assert result["dirty"] is True  # the tracked package.json was deleted


def test_another_branch_is_reported_not_a_problem(checkout):
    subprocess.run(["git", "-C", str(checkout), "checkout", "-qb", "feature"], check=True)
    result = inspect_repo(repo(checkout), git)
    assert result["problems"] == [] and result["on_branch"] is False
    assert "feature (not main)" in result["summary"]
