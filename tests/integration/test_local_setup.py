"""playbooks/setup.yml end to end: clones the fixture repos through file:// URLs, changes
nothing the second time, and fails naming the repository whose URL is missing."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "services"))
import make_repos  # noqa: E402


def setup_playbook(extra_vars: Path):
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run(
        [str(Path(sys.executable).with_name("ansible-playbook")), "-i", "inventories/local",
         "playbooks/setup.yml", "-e", "@%s" % extra_vars],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def recap_changed(output: str) -> int:
    line = [ln for ln in output.splitlines() if ln.startswith("localhost ") and "changed=" in ln][-1]
    return int(line.split("changed=")[1].split()[0])


@pytest.fixture(scope="module")
def remotes(tmp_path_factory):
    return make_repos.make_repos(tmp_path_factory.mktemp("fixtures"))


def write_vars(path: Path, siblings: Path, repos_list) -> Path:
    path.write_text(json.dumps({"repos_dir": str(siblings), "repos_list": repos_list}))
    return path


def test_setup_clones_then_changes_nothing(tmp_path, remotes):
    extra = write_vars(tmp_path / "vars.json", tmp_path / "siblings",
                       [{"name": n, "url": r["url"]} for n, r in remotes.items()])
    first = setup_playbook(extra)
    assert first.returncode == 0, first.stdout + first.stderr
    assert recap_changed(first.stdout) == 1  # the clone task
    for name, remote in remotes.items():
        head = subprocess.run(["git", "-C", str(tmp_path / "siblings" / name), "rev-parse", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        assert head == remote["sha"]
        assert "%s: ok, main at %s" % (name, remote["sha"][:12]) in first.stdout
    second = setup_playbook(extra)
    assert second.returncode == 0, second.stdout + second.stderr
    assert recap_changed(second.stdout) == 0


def test_missing_url_fails_naming_the_repo(tmp_path, remotes):
    repos_list = [{"name": n, "url": r["url"]} for n, r in remotes.items()]
    repos_list[1] = {"name": "tachyon-workers"}
    result = setup_playbook(write_vars(tmp_path / "vars.json", tmp_path / "siblings", repos_list))
    assert result.returncode != 0
    assert "repository tachyon-workers has no url" in result.stdout
    assert not (tmp_path / "siblings").exists()  # nothing cloned


def test_wrong_remote_fails_naming_the_repo(tmp_path, remotes):
    siblings = tmp_path / "siblings"
    subprocess.run(["git", "clone", "-q", remotes["tachyon-db"]["url"], str(siblings / "tachyon-db")], check=True)
    repos_list = [{"name": n, "url": r["url"]} for n, r in remotes.items()]
    repos_list[2]["url"] = remotes["tachyon-api"]["url"]  # tachyon-db expected from elsewhere
    result = setup_playbook(write_vars(tmp_path / "vars.json", siblings, repos_list))
    assert result.returncode != 0
    assert "tachyon-db: origin is %s, expected %s" % (remotes["tachyon-db"]["url"], remotes["tachyon-api"]["url"]) in result.stdout
