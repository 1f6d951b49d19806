"""plugins/modules/release_manifest.py driven through AnsibleModule: states, check mode, diff,
idempotence, errors that change nothing, lock and kill behaviour."""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.modules import release_manifest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.normpath(os.path.join(ROOT, "..", "shared", "corpus", "tachyon-infra",
                                       "release-manifest"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
import service_catalog as catalog  # noqa: E402  (fixture helper, not a package)

SHAS = {"tachyon-api": "9f8e7d6", "tachyon-workers": "1a2b3c4", "tachyon-db-migrate": "5d6e7f8"}
NOW = "2026-05-01T12:00:00Z"


def run(capsys, check=False, diff=False, **args):
    """Run the module in-process; return (result, failed)."""
    if check:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        release_manifest.main()
    result = json.loads(capsys.readouterr().out)
    return result, exc.value.code != 0


@pytest.fixture
def manifest_path(tmp_path):
    path = tmp_path / "manifest.json"
    shutil.copy(os.path.join(ROOT, "releases", "manifest.json"), path)
    return path


def create(capsys, path, version="0.2.0", shas=None, known_services=None, images=None, **kw):
    """state=created as roles/release runs it: the catalog's names and images (or those given)."""
    return run(capsys, path=str(path), state="created", version=version, services=dict(shas or SHAS),
               **catalog.release_args(known_services=known_services, images=images), **kw)


def test_created_four_ways(capsys, manifest_path):
    original = manifest_path.read_text()
    result, failed = create(capsys, manifest_path, check=True, diff=True)
    assert not failed and result["changed"] is True
    assert '"version": "0.2.0"' in result["diff"]["after"]
    assert result["diff"]["before"] == original
    assert manifest_path.read_text() == original, "check mode wrote the file"

    result, _failed = create(capsys, manifest_path)
    assert result["changed"] is True and result["version"] == "0.2.0"
    applied = manifest_path.read_text()
    assert json.loads(applied)["services"]["tachyon-api"]["sha"] == "9f8e7d6"

    result, _failed = create(capsys, manifest_path, check=True, diff=True)
    assert result["changed"] is False and "diff" not in result
    result, _failed = create(capsys, manifest_path)
    assert result["changed"] is False
    assert manifest_path.read_text() == applied


def test_created_into_missing_file(capsys, tmp_path):
    result, failed = create(capsys, tmp_path / "new.json")
    assert not failed and result["changed"] and result["legacy"] is False
    assert mf.load(str(tmp_path / "new.json"))[0]["version"] == "0.2.0"


@pytest.mark.parametrize("shas,match", [
    (dict(SHAS, **{"tachyon-api": "xyz"}), "not a git SHA"),
    (dict(SHAS, **{"tachyon-mobile": "abcdef1"}), "unknown service"),
])
def test_created_bad_input_changes_nothing(capsys, manifest_path, shas, match):
    before = manifest_path.read_text()
    result, failed = create(capsys, manifest_path, shas=shas)
    assert failed and match in result["msg"]
    assert manifest_path.read_text() == before


def test_created_bad_semver(capsys, manifest_path):
    result, failed = create(capsys, manifest_path, version="2.0")
    assert failed and "not a semantic version" in result["msg"]


def test_known_services_from_catalog(capsys, manifest_path):
    result, failed = create(capsys, manifest_path, shas={"tachyon-api": "abcdef1"},
                            known_services=["tachyon-api"])
    assert not failed and list(result["services"]) == ["tachyon-api"]


def test_created_needs_the_catalogs_names_and_a_new_services_image(capsys, manifest_path, tmp_path):
    """No built-in list of services: without known_services state=created fails, and a service the
    manifest does not pin yet needs its image; neither failure writes anything."""
    before = manifest_path.read_text()
    result, failed = run(capsys, path=str(manifest_path), state="created", version="0.2.0", services=SHAS)
    assert failed and "state is created but all of the following are missing: known_services" in result["msg"]
    assert manifest_path.read_text() == before
    result, failed = run(capsys, path=str(tmp_path / "new.json"), state="created", version="0.2.0",
                         services=SHAS, known_services=catalog.NAMES)
    assert failed and "images.tachyon-api: no image repository for tachyon-api" in result["msg"], result
    assert not (tmp_path / "new.json").exists()


def test_malformed_manifest_fails_naming_file_and_is_left_alone(capsys, manifest_path):
    manifest_path.write_text("{not json")
    for state_args in ({"state": "read"}, dict(catalog.RELEASE_ARGS, state="created", version="0.2.0", services=SHAS)):
        result, failed = run(capsys, path=str(manifest_path), **state_args)
        assert failed and str(manifest_path) in result["msg"] and "not valid JSON" in result["msg"]
    assert manifest_path.read_text() == "{not json"


def test_recorded_success_then_same_attempt_is_no_change(capsys, manifest_path):
    create(capsys, manifest_path)
    args = dict(path=str(manifest_path), state="recorded", environment="staging",
                outcome="succeeded", version="0.2.0", deployment_id="dep-1",
                services={n: {"sha": s, "tag": s} for n, s in SHAS.items()},
                deployed_by="ci", health_verified_at=NOW, at=NOW)
    result, failed = run(capsys, check=True, diff=True, **args)
    assert not failed and result["changed"] is True and "dep-1" in result["diff"]["after"]
    assert mf.load(str(manifest_path))[0]["history"] == []
    result, _failed = run(capsys, **args)
    assert result["changed"] is True
    assert result["history_entry"]["deployment_id"] == "dep-1"
    assert result["environments"]["staging"]["deployment_id"] == "dep-1"
    result, _failed = run(capsys, **{**args, "at": "2026-05-01T13:00:00Z"})
    assert result["changed"] is False and result["history_entry"]["at"] == NOW
    assert len(mf.load(str(manifest_path))[0]["history"]) == 1


def test_recorded_failure_keeps_environments(capsys, manifest_path):
    before = mf.load(str(manifest_path))[0]
    result, failed = run(capsys, path=str(manifest_path), state="recorded", environment="production",
                         outcome="failed", note="deploy step failed", at=NOW)
    assert not failed and result["changed"]
    after = mf.load(str(manifest_path))[0]
    assert after["environments"] == before["environments"]
    assert after["history"][-1]["message"] == "deploy step failed"


def test_promotable_reports_what_is_missing(capsys, manifest_path):
    before = manifest_path.read_text()
    result, failed = run(capsys, path=str(manifest_path), state="promotable",
                         environment="production", version="0.1.0", approved_by="alice")
    assert failed and "staging has no successful deployment" in result["msg"]
    assert manifest_path.read_text() == before


def test_promotable_returns_services(capsys, manifest_path):
    create(capsys, manifest_path)
    run(capsys, path=str(manifest_path), state="recorded", environment="staging",
        outcome="succeeded", deployment_id="dep-1", deployed_by="ci",
        services={n: {"sha": s} for n, s in SHAS.items()}, health_verified_at=NOW, at=NOW)
    result, failed = run(capsys, path=str(manifest_path), state="promotable",
                         environment="production", version="0.2.0", approved_by="alice")
    assert not failed and result["changed"] is False
    assert {n: s["sha"] for n, s in result["services"].items()} == SHAS


@pytest.fixture
def legacy_path(tmp_path):
    files = sorted(glob.glob(os.path.join(CORPUS, "*.json")))
    if not files:
        pytest.skip("legacy manifest corpus %s is absent" % CORPUS)
    path = tmp_path / "manifest.json"
    shutil.copy(files[0], path)
    os.chmod(path, 0o644)
    return path


def test_read_legacy_upgrades_in_memory_only(capsys, legacy_path):
    before = legacy_path.read_text()
    result, failed = run(capsys, path=str(legacy_path), state="read")
    assert not failed and result["legacy"] is True and result["changed"] is False
    assert result["manifest"]["schema_version"] == 1
    assert legacy_path.read_text() == before


def test_upgraded_four_ways_with_backup(capsys, legacy_path):
    before = legacy_path.read_text()
    result, _failed = run(capsys, check=True, diff=True, path=str(legacy_path), state="upgraded")
    assert result["changed"] is True and result["diff"]["before"] == before
    assert legacy_path.read_text() == before
    assert not os.path.exists(result["backup_file"])

    result, _failed = run(capsys, path=str(legacy_path), state="upgraded")
    assert result["changed"] is True
    with open(result["backup_file"]) as handle:
        assert handle.read() == before
    upgraded = legacy_path.read_text()
    assert json.loads(upgraded)["schema_version"] == 1

    for check in (True, False):
        result, _failed = run(capsys, check=check, path=str(legacy_path), state="upgraded")
        assert result["changed"] is False and result["legacy"] is False
    assert legacy_path.read_text() == upgraded


def test_recorded_on_legacy_asks_for_upgrade(capsys, legacy_path):
    result, failed = run(capsys, path=str(legacy_path), state="recorded", environment="staging",
                         outcome="failed", at=NOW)
    assert failed and "upgrade it first" in result["msg"]


def test_locked_manifest_fails_naming_holder(capsys, manifest_path):
    prelude = "import sys; sys.path[:0] = %r\n" % [os.path.join(ROOT, ".collections"), ROOT]
    code = textwrap.dedent("""
        import time
        from ansible_collections.tachyon.infra.plugins.module_utils._common.atomic_file import FileLock
        with FileLock(sys.argv[1], purpose="another deploy"):
            print("READY", flush=True)
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", prelude + code, str(manifest_path)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "READY"
        before = manifest_path.read_text()
        result, failed = create(capsys, manifest_path, lock_timeout=0.2)
        assert failed and "pid %d" % proc.pid in result["msg"] and "another deploy" in result["msg"]
        assert manifest_path.read_text() == before
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def test_killed_module_run_leaves_a_valid_manifest(tmp_path, manifest_path):
    """SIGKILL a real module process while it is inside the manifest write."""
    before = manifest_path.read_text()
    args = {"ANSIBLE_MODULE_ARGS": dict(catalog.RELEASE_ARGS, path=str(manifest_path), state="created",
                                        version="0.2.0", services=SHAS)}
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps(args))
    prelude = "import sys; sys.path[:0] = %r\n" % [os.path.join(ROOT, ".collections"), ROOT]
    code = textwrap.dedent("""
        import time
        from ansible_collections.tachyon.infra.plugins.module_utils._common import atomic_file
        def stuck_fsync(fd):
            print("READY", flush=True)
            time.sleep(60)
        atomic_file.os.fsync = stuck_fsync
        from ansible_collections.tachyon.infra.plugins.modules import release_manifest
        sys.argv = ["release_manifest", sys.argv[1]]
        release_manifest.main()
    """)
    proc = subprocess.Popen([sys.executable, "-c", prelude + code, str(args_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.strip() == "READY", proc.stderr.read()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert manifest_path.read_text() == before
    assert mf.load(str(manifest_path))[0]["version"] == "0.1.0"


def test_concurrent_recorders_lose_no_history_entry(tmp_path, manifest_path):
    """Several module processes record at once: the lock serializes the read-modify-write."""
    prelude = "import sys; sys.path[:0] = %r\n" % [os.path.join(ROOT, ".collections"), ROOT]
    code = textwrap.dedent("""
        from ansible_collections.tachyon.infra.plugins.modules import release_manifest
        sys.argv = ["release_manifest", sys.argv[1]]
        release_manifest.main()
    """)
    procs = []
    for index in range(6):
        args_file = tmp_path / ("args%d.json" % index)
        args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {
            "path": str(manifest_path), "state": "recorded", "environment": "staging",
            "outcome": "failed", "deployment_id": "dep-%d" % index, "note": "run %d" % index}}))
        procs.append(subprocess.Popen([sys.executable, "-c", prelude + code, str(args_file)],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, out + err
        assert json.loads(out)["changed"] is True
    history = mf.load(str(manifest_path))[0]["history"]
    assert sorted(h["deployment_id"] for h in history) == ["dep-%d" % i for i in range(6)]
