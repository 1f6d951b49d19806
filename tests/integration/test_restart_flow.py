"""playbooks/restart.yml against the emulator (issue 30): four ways (check, apply, check,
apply), then a restart whose component App Platform reports UNHEALTHY; the manifest keeps the
restarts apart from the release history, the delivery metrics do not count them, and bad
component names are refused before anything is read or changed."""
import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._platform import drift
from ansible_collections.tachyon.infra.plugins.module_utils._release import history
from ansible_collections.tachyon.infra.plugins.module_utils._report import metrics
from playbook_run import RELEASE, playbook_run


@pytest.fixture()
def run(tmp_path, monkeypatch):
    with playbook_run(tmp_path, monkeypatch) as value:
        yield value


def test_restart_four_ways_a_failing_component_and_the_record(run, tmp_path):
    rc, out = run.deploy(RELEASE)
    assert rc == 0, out[-3000:]
    released = run.app()["active_deployment"]
    history_before = run.manifest_data()["history"]
    figures_before = metrics.metrics(run.manifest_data(), since="30d")

    seen = []
    for mode in ("check", "apply", "check", "apply"):
        before = run.app()["active_deployment"]["id"]
        count = len(run.deployments())
        summary = tmp_path / ("summary-%d.md" % len(seen))
        rc, out = run.playbook("restart.yml", extra={"components": "api,workers",
                                                     "tachyon_summary_path": str(summary)},
                               args=["--check"] if mode == "check" else [])
        assert rc == 0, out[-3000:]
        assert "restart plan: RESTART" in out and "running deployment: %s" % before in out, out[-3000:]
        if mode == "check":
            assert len(run.deployments()) == count and "would restart api, workers" in out
            continue
        active = run.app()["active_deployment"]
        assert active["id"] != before and len(run.deployments()) == count + 1
        assert active["cause_details"]["digitalocean_user_action"]["name"] == "RESTART"
        assert active["spec"]["services"] == released["spec"]["services"]  # images kept
        text = summary.read_text()
        assert "rolling restart of api, workers (release" in text and "| api | HEALTHY |" in text, text
        seen.append((before, active["id"]))

    manifest = run.manifest_data()
    assert manifest["history"] == history_before  # restarts are not deploy attempts
    restarts = manifest["restarts"]
    assert [(r["restart_of"], r["deployment_id"], r["outcome"]) for r in restarts] == [
        (b, a, "succeeded") for b, a in seen]
    assert restarts[0]["components"] == ["api", "workers"]
    figures = metrics.metrics(manifest, since="30d")["environments"]["staging"]
    before = figures_before["environments"]["staging"]
    assert figures["deployment_frequency"]["deployments"] == before["deployment_frequency"]["deployments"] == 1
    assert figures["change_failure_rate"] == before["change_failure_rate"]

    # the release history lists them apart
    text = history.text(history.history_view(manifest))
    assert "Restarts (rolling restarts of the running release" in text
    assert "restart api, workers  succeeded  deployment %s (of %s)" % (seen[1][1], seen[1][0]) in text
    # drift takes the restarted deployment as the recorded release's
    record = drift.recorded_state(manifest, "staging")
    assert drift.deployment_findings(record, run.app()) == []

    # a failing component: App Platform reports workers UNHEALTHY after the restart
    run.emu.set_faults([{"kind": "component_health", "component": "workers", "count": 1}])
    rc, out = run.playbook("restart.yml", extra={"components": "workers"})
    assert rc != 0 and "workers: UNHEALTHY, 0 of 1 replicas ready" in out, out[-3000:]
    last = run.manifest_data()["restarts"][-1]
    assert last["outcome"] == "failed" and last["components"] == ["workers"] and "UNHEALTHY" in last["message"]

    # bad names: refused naming the catalog, nothing read or changed
    count = len(run.deployments())
    run.emu.clear_requests()
    for bad, why in (("api,nope", "nope not in the service catalog"),
                     ("db-migrate", "db-migrate not running components"),
                     ("all,api", "give it alone")):
        rc, out = run.playbook("restart.yml", extra={"components": bad})
        assert rc != 0 and why in out, (bad, out[-2000:])
    assert len(run.deployments()) == count
    assert not [r for r in run.emu.requests() if r["method"] != "GET"]
