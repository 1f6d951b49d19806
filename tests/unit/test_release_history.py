"""module_utils/_release/history.py (the release list of playbooks/releases.yml): histories the
product's own release_manifest functions wrote, the synthetic history, and every real legacy
manifest of the corpus read through the product's reader/upgrade path."""
import glob
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.module_utils._release import history as rh

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "history"))
import synthetic  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
import service_catalog as catalog  # noqa: E402  (fixture helper, not a package)

SHARED = Path(os.environ.get("TACHYON_SHARED_DIR") or ROOT.parent / "shared")
CORPUS_FILES = sorted(glob.glob(str(SHARED / "corpus" / "tachyon-infra" / "release-manifest" / "*.json")))
NO_CORPUS = "legacy manifest corpus <shared>/corpus/tachyon-infra/release-manifest is absent (TACHYON_SHARED_DIR)"
API, WORKERS, DB = "tachyon-api", "tachyon-workers", "tachyon-db-migrate"
SHAS1 = {API: "1111111", WORKERS: "2222222", DB: "3333333"}
SHAS2 = {API: "4444444", WORKERS: "2222222", DB: "5555555"}


def ran(shas):
    return {n: {"sha": s, "tag": s, "image": "ghcr.io/tachyonapp/" + n} for n, s in shas.items()}


def two_releases():
    """0.1.0 deployed to both; 0.2.0 verified on staging, then production failed and rolled back."""
    m = mf.create_release(None, "0.1.0", SHAS1, now="2026-05-01T00:00:00Z", created_by="rel", **catalog.RELEASE_ARGS)
    m = mf.record_deployment(m, "staging", "succeeded", deployment_id="stg-1", services=ran(SHAS1),
                             deployed_by="alice", health_verified_at="2026-05-01T01:00:00Z", at="2026-05-01T01:00:00Z")
    m = mf.record_deployment(m, "production", "succeeded", deployment_id="prd-1", services=ran(SHAS1),
                             deployed_by="alice", approved_by="carol", at="2026-05-01T02:00:00Z")
    m = mf.create_release(m, "0.2.0", SHAS2, now="2026-05-02T00:00:00Z", created_by="rel", **catalog.RELEASE_ARGS)
    m = mf.record_deployment(m, "staging", "succeeded", deployment_id="stg-2", services=ran(SHAS2),
                             deployed_by="bob", health_verified_at="2026-05-02T01:00:00Z", at="2026-05-02T01:00:00Z")
    m = mf.record_deployment(m, "production", "rolled_back", deployment_id="prd-2", services=ran(SHAS2),
                             deployed_by="bob", approved_by="carol", rolled_back_to="prd-1",
                             at="2026-05-02T02:00:00Z")
    return m


def test_two_releases_with_their_outcomes_newest_first():
    view = rh.history_view(two_releases())
    new, old = view["releases"]
    assert (new["version"], old["version"]) == ("0.2.0", "0.1.0")
    assert new["current"] and new["created_at"] == "2026-05-02T00:00:00Z" and new["created_by"] == "rel"
    assert old["created_at"] is None and not old["current"]
    assert new["environments"]["staging"]["last"]["outcome"] == "succeeded"
    prod = new["environments"]["production"]
    assert prod["attempts"] == 1 and prod["succeeded"] == 0
    assert {k: prod["last"][k] for k in ("outcome", "at", "deployed_by", "approved_by", "deployment_id",
                                         "rolled_back_to")} == {
        "outcome": "rolled_back", "at": "2026-05-02T02:00:00Z", "deployed_by": "bob", "approved_by": "carol",
        "deployment_id": "prd-2", "rolled_back_to": "prd-1"}
    assert old["environments"]["production"]["last"]["outcome"] == "succeeded"
    # production was rolled back to 0.1.0's deployment: that is what it runs
    assert view["running"]["production"]["version"] == "0.1.0"
    assert view["running"]["production"]["via"] == "rollback"
    assert view["running"]["production"]["deployment_id"] == "prd-1"
    assert view["running"]["staging"]["version"] == "0.2.0"
    assert new["running_in"] == ["staging"] and old["running_in"] == ["production"]


def test_text_view():
    out = rh.text(rh.history_view(two_releases(), "releases/manifest.json"))
    assert out.splitlines()[0] == "Releases in releases/manifest.json: 2 (4 deploy attempts recorded)"
    assert "0.2.0  current release, created 2026-05-02T00:00:00Z by rel  [runs in staging]" in out
    assert ("  production  rolled_back 2026-05-02T02:00:00Z  by bob  approved by carol  deployment prd-2  "
            "rolled back to prd-1  (1 attempt, 0 succeeded)") in out
    assert "0.1.0  created: not recorded" in out
    assert "  production  0.1.0 since 2026-05-02T02:00:00Z (rolled back to deployment prd-1 by bob)" in out


def test_a_failed_latest_attempt_is_named_while_the_last_success_still_runs():
    m = synthetic.manifest({API: {k: k[1] * 7 for k in ("a1", "a2", "a3", "a4", "a5")},
                            WORKERS: {k: "e" + k[1] * 6 for k in ("w1", "w2")}})
    view = rh.history_view(m)
    assert [r["version"] for r in view["releases"]] == ["0.4.0", "0.3.0", "0.2.1", "0.2.0", "0.1.0"]
    prod = view["running"]["production"]
    assert prod["version"] == "0.3.0" and prod["deployment_id"] == "p-5"
    assert prod["latest_attempt"]["outcome"] == "failed"
    assert "latest attempt FAILED at 2026-04-07T00:00:00Z (deployment p-6)" in rh.text(view)
    r021 = [r for r in view["releases"] if r["version"] == "0.2.1"][0]
    assert r021["environments"]["production"]["attempts"] == 3 and r021["environments"]["production"]["succeeded"] == 2


@pytest.mark.parametrize("versions,expected", [
    (["0.9.0", "0.10.0", "0.2.0"], ["0.10.0", "0.9.0", "0.2.0"]),
    (["1.0.0-rc.1", "1.0.0", "1.0.0-alpha", "1.0.0-rc.2"], ["1.0.0", "1.0.0-rc.2", "1.0.0-rc.1", "1.0.0-alpha"]),
])
def test_semver_order(versions, expected):
    m = mf.create_release(None, versions[-1], SHAS1, now="2026-05-01T00:00:00Z", **catalog.RELEASE_ARGS)
    for i, v in enumerate(versions):
        m = mf.record_deployment(m, "staging", "failed", version=v, at="2026-05-01T00:%02d:00Z" % i)
    assert [r["version"] for r in rh.releases(m)] == expected


@pytest.mark.skipif(not CORPUS_FILES, reason=NO_CORPUS)
@pytest.mark.parametrize("path", CORPUS_FILES, ids=[os.path.basename(p) for p in CORPUS_FILES])
def test_every_real_legacy_manifest_lists(path):
    raw = json.load(open(path))
    view = rh.read(path)
    assert view["legacy_manifest"] is True and view["current_release"] == raw["version"]
    for env in mf.ENVIRONMENTS:
        deployed = raw["environments"][env].get("deployed_at") or None
        assert view["running"][env]["since"] == deployed
        if deployed:
            assert view["running"][env]["deployed_by"] == (raw["environments"][env].get("deployed_by") or None)
    rh.text(view)  # renders


def test_releases_playbook_lists_both_releases_text_and_json(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(mf.to_json_text(two_releases()))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    bin_dir = Path(sys.executable).parent
    out = subprocess.run([str(bin_dir / "ansible-playbook"), str(ROOT / "playbooks" / "releases.yml"),
                          "-e", "manifest_path=%s" % path], env=env, capture_output=True, text=True,
                         check=False, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0.2.0  current release" in out.stdout and "0.1.0  created: not recorded" in out.stdout
    assert "rolled_back 2026-05-02T02:00:00Z  by bob  approved by carol  deployment prd-2" in out.stdout
    assert "  production  succeeded   2026-05-01T02:00:00Z  by alice  approved by carol  deployment prd-1" in out.stdout
    js = subprocess.run([str(bin_dir / "ansible-playbook"), str(ROOT / "playbooks" / "releases.yml"),
                         "-e", "manifest_path=%s" % path, "-e", "format=json"], env=env, capture_output=True,
                        text=True, check=False, timeout=120)
    assert js.returncode == 0, js.stdout + js.stderr
    block = js.stdout.split("msg: |-\n", 1)[1].split("\n\nPLAY RECAP", 1)[0]
    data = json.loads("\n".join(line[8:] for line in block.splitlines()))
    assert [(r["version"], r["environments"]["production"]["last"]["outcome"]) for r in data["releases"]] == [
        ("0.2.0", "rolled_back"), ("0.1.0", "succeeded")]
    bad = subprocess.run([str(bin_dir / "ansible-playbook"), str(ROOT / "playbooks" / "releases.yml"),
                          "-e", "manifest_path=%s" % path, "-e", "format=xml"], env=env, capture_output=True,
                         text=True, check=False, timeout=120)
    assert bad.returncode == 2 and "neither text nor json" in bad.stdout


# ----------------------------------------------------------------------------- git history
def _commit(repo, text, date):
    env = dict(os.environ, GIT_AUTHOR_NAME="hub", GIT_AUTHOR_EMAIL="hub@tachyon.invalid",
               GIT_COMMITTER_NAME="hub", GIT_COMMITTER_EMAIL="hub@tachyon.invalid",
               GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    (repo / "releases").mkdir(exist_ok=True)
    (repo / "releases" / "manifest.json").write_text(text)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", "manifest at %s" % date], cwd=repo, check=True, env=env)


def _hub(tmp_path):
    repo = tmp_path / "hub"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "--initial-branch=main"], cwd=repo, check=True)
    return repo


def test_git_history_gives_earlier_releases_their_creation_time(tmp_path):
    repo = _hub(tmp_path)
    m = mf.create_release(None, "0.1.0", SHAS1, now="2026-05-01T00:00:00Z", created_by="rel", **catalog.RELEASE_ARGS)
    _commit(repo, mf.to_json_text(m), "2026-05-01T00:00:05Z")
    full = two_releases()
    _commit(repo, mf.to_json_text(full), "2026-05-02T03:00:00Z")
    _commit(repo, "{not json", "2026-05-02T04:00:00Z")  # a broken commit in between is skipped
    _commit(repo, mf.to_json_text(full), "2026-05-02T05:00:00Z")
    path = repo / "releases" / "manifest.json"
    view = rh.read(str(path), git_history=True)
    old = [r for r in view["releases"] if r["version"] == "0.1.0"][0]
    assert (old["created_at"], old["created_by"], old["created_source"]) == ("2026-05-01T00:00:00Z", "rel", "manifest")
    assert view["git_history"]["available"] and view["git_history"]["revisions"] == 3
    assert len(view["git_history"]["skipped"]) == 1
    out = rh.text(view)
    assert "0.1.0  created 2026-05-01T00:00:00Z by rel (from the manifest's git history)" in out
    assert "git history of the manifest: 3 revision(s) read, 1 unreadable skipped" in out
    assert view["attempts"] == 4  # nothing recorded twice
    # without it: not recorded, and the hint
    plain = rh.read(str(path))
    assert [r for r in plain["releases"] if r["version"] == "0.1.0"][0]["created_at"] is None
    assert "-e git_history=true" in rh.text(plain)


def test_git_history_outside_a_work_tree_says_so(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(mf.to_json_text(two_releases()))
    view = rh.read(str(path), git_history=True)
    assert view["git_history"]["available"] is False and "not in a git work tree" in view["git_history"]["reason"]
    assert len(view["releases"]) == 2
    assert "git history of the manifest: not read (" in rh.text(view)


@pytest.mark.skipif(len(CORPUS_FILES) < 2, reason=NO_CORPUS)
def test_git_history_of_the_real_legacy_manifests_recovers_the_overwritten_deployments(tmp_path):
    """The corpus holds the committed versions of the bash-era releases/manifest.json; committed
    one after the other (in file-name order: their real order does not matter here) and then
    upgraded, the list shows every distinct legacy deployment, not only the last per environment."""
    repo = _hub(tmp_path)
    distinct = set()
    for i, path in enumerate(CORPUS_FILES):
        raw = json.load(open(path))
        for env in mf.ENVIRONMENTS:
            if raw["environments"][env].get("deployed_at"):
                distinct.add((env, raw["environments"][env]["deployed_at"]))
        _commit(repo, open(path).read(), "2026-03-%02dT00:00:00Z" % (i + 1))
    last = json.load(open(CORPUS_FILES[-1]))
    upgraded, _legacy = mf.parse(json.dumps(last))
    _commit(repo, mf.to_json_text(upgraded), "2026-04-30T00:00:00Z")
    view = rh.read(str(repo / "releases" / "manifest.json"), git_history=True)
    assert view["git_history"]["revisions"] == len(CORPUS_FILES) + 1 and view["git_history"]["skipped"] == []
    assert view["attempts"] == len(distinct)
    legacy_row = [r for r in view["releases"] if r["version"] is None][0]
    assert sum(slot["attempts"] for slot in legacy_row["environments"].values() if slot) == len(distinct)


def test_the_optional_rollback_and_migration_fields_are_shown():
    """rollback_of_version (rollback.yml -e tachyon_rollback_version) and after_migration (the
    migration guard) are optional history fields other parts of the hub add; the list shows them."""
    m = two_releases()
    m["history"][-1]["after_migration"] = "rollback"
    back = dict(m["history"][1], at="2026-05-03T00:00:00Z", deployment_id="prd-3", rollback_of_version="0.2.0")
    m["history"].append(back)
    m["environments"]["production"].update(deployment_id="prd-3", deployed_at="2026-05-03T00:00:00Z")
    view = rh.history_view(m)
    last = [r for r in view["releases"] if r["version"] == "0.1.0"][0]["environments"]["production"]["last"]
    assert last["rollback_of_version"] == "0.2.0"
    assert view["running"]["production"]["via"] == "rollback to version"
    out = rh.text(view)
    assert "deployment prd-3  rollback from 0.2.0  (2 attempts, 2 succeeded)" in out
    assert "rolled back to prd-1  after its migration: rollback" in out
    assert "  production  0.1.0 since 2026-05-03T00:00:00Z  by alice  approved by carol  deployment prd-3  (rollback from 0.2.0)" in out
