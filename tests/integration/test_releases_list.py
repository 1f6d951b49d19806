"""playbooks/releases.yml and metrics.yml on a history the real deploys wrote against the App
Platform emulator: release 0.1.0 deployed to staging, release 0.2.0 whose staging deploy failed
(App Platform kept 0.1.0 active). The list shows both releases with their outcomes and that staging
still runs 0.1.0; the metrics count the attempts."""
import json
import os
import subprocess
import sys

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from playbook_run import NEXT, RELEASE, ROOT, playbook_run

sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
import service_catalog as catalog  # noqa: E402  (fixture helper, not a package)


@pytest.fixture()
def run(tmp_path, monkeypatch):
    with playbook_run(tmp_path, monkeypatch) as value:
        yield value


def _local(run, playbook, extra=None):
    """A localhost playbook (no -l: the hub's own data, whatever the inventory)."""
    variables = dict(manifest_path=str(run.manifest), **(extra or {}))
    proc = subprocess.run(["ansible-playbook", os.path.join("playbooks", playbook), "-i", "inventories/sandbox",
                           "-e", json.dumps(variables)], cwd=ROOT, env=run.env, capture_output=True, text=True,
                          timeout=300, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def _json_msg(out):
    block = out.split("msg: |-\n", 1)[1].split("\n\nPLAY RECAP", 1)[0]
    return json.loads("\n".join(line[8:] for line in block.splitlines()))


def test_releases_and_metrics_of_two_real_releases(run, tmp_path):
    rc, out = run.deploy(RELEASE)
    assert rc == 0, out[-3000:]
    first = run.app()["active_deployment"]["id"]
    current, _legacy = mf.parse(run.manifest.read_text())
    run.manifest.write_text(mf.to_json_text(mf.create_release(current, "0.2.0", NEXT, created_by="releaser",
                                                                       **catalog.RELEASE_ARGS)))
    run.emu.set_faults([{"kind": "deploy_fail", "stage": "deploy", "component": "workers", "count": 1}])
    rc, out = run.deploy(NEXT)
    assert rc != 0, out[-3000:]

    rc, out = _local(run, "releases.yml", {"format": "json"})
    assert rc == 0, out[-3000:]
    data = _json_msg(out)
    rows = {r["version"]: r for r in data["releases"]}
    assert list(rows) == ["0.2.0", "0.1.0"]
    assert rows["0.1.0"]["environments"]["staging"]["last"]["outcome"] == "succeeded"
    assert rows["0.1.0"]["environments"]["staging"]["last"]["deployment_id"] == first
    assert rows["0.1.0"]["environments"]["staging"]["last"]["deployed_by"] == "tester"
    # App Platform keeps the active deployment when a new one fails: recorded as failed
    assert rows["0.2.0"]["environments"]["staging"]["last"]["outcome"] == "failed"
    assert rows["0.2.0"]["created_by"] == "releaser" and rows["0.2.0"]["environments"]["production"] is None
    staging_now = data["running"]["staging"]
    assert (staging_now["version"], staging_now["deployment_id"]) == ("0.1.0", first)
    assert staging_now["latest_attempt"]["outcome"] == "failed"

    rc, out = _local(run, "metrics.yml", {"since": "1d", "format": "json", "cache_dir": str(tmp_path / "cache"),
                                          "tachyon_repo_base_url": "file://%s/no-remotes" % tmp_path})
    assert rc == 0, out[-3000:]
    staging = _json_msg(out)["environments"]["staging"]
    assert staging["change_failure_rate"] == {"attempts": 2, "failures": 1, "rate": 0.5}
    assert staging["deployment_frequency"]["deployments"] == 1
    assert staging["time_to_restore"] == {"incidents": 1, "restored": 0, "open": 1,
                                          "median_seconds": None, "mean_seconds": None}
    # the remotes are unreachable: the lead time says so, naming the services (and the remote as
    # scheme://host/path only: no credentials, tests/unit/test_delivery_metrics.py)
    assert staging["lead_time"]["missing_commits"] == 3 and staging["lead_time"]["problems"]
    assert "tachyon-api" in json.dumps(staging["lead_time"]["problems"])
