"""App Platform's own signals in a deploy, against the emulator (issue 30): a component the
platform reports UNHEALTHY fails the verification naming it and the deploy rolls back; a
deploy's summary shows each component's CPU/memory and the events timeline, with a foreign
autoscaling event of the deploy window marked as not ours; drift reports the foreign maintenance
redeploy and autoscaling that the manifest does not record."""
import json
import os
import subprocess
import time

import pytest

from playbook_run import NEXT, RELEASE, ROOT, playbook_run


@pytest.fixture()
def run(tmp_path, monkeypatch):
    with playbook_run(tmp_path, monkeypatch) as value:
        yield value


def test_platform_health_fails_verification_and_the_summary_shows_signals(run, tmp_path):
    before = run.app()["active_deployment"]["id"]
    run.emu.set_faults([{"kind": "component_health", "component": "workers", "count": 1}])
    rc, out = run.deploy(RELEASE)
    assert rc != 0, out[-3000:]
    assert "App Platform reports component(s) not healthy" in out and "workers: UNHEALTHY, 0 of 1 replicas ready" in out
    app = run.app()
    # rolled back: the app runs a rollback of the deployment it ran before
    assert app["active_deployment"]["cloned_from"] == before, app["active_deployment"]
    entry = run.manifest_data()["history"][-1]
    assert entry["outcome"] == "rolled_back" and "workers: UNHEALTHY" in entry["message"], entry
    # the failed attempt keeps the events of its deploy window, our deployment among them
    failed_id = entry["deployment_id"]
    assert any(e["ours"] and e["deployment_id"] == failed_id for e in entry.get("events") or []), entry

    summary = tmp_path / "summary.md"
    run.emu.set_faults([{"kind": "autoscale", "component": "api", "to": 3, "count": 1}])
    rc, out = run.deploy(NEXT, extra={"tachyon_summary_path": str(summary)})
    assert rc == 0, out[-3000:]
    text = summary.read_text()
    assert "| api | HEALTHY |" in text and "| workers | HEALTHY |" in text, text
    assert "App Platform autoscaled api 1 -\\> 3 replicas (cpu) - **not ours**" in text, text
    ours = run.app()["active_deployment"]["id"]
    assert "deployment %s" % ours in text, text
    # the history entry keeps the same timeline, and the HTML report shows it (as text)
    entry = run.manifest_data()["history"][-1]
    assert entry["outcome"] == "succeeded" and entry["deployment_id"] == ours, entry
    assert [e["what"] for e in entry["events"] if not e["ours"]] == ["App Platform autoscaled api 1 -> 3 replicas (cpu)"]
    assert any(e["ours"] and e["deployment_id"] == ours for e in entry["events"]), entry["events"]
    report = tmp_path / "report.html"
    proc = subprocess.run(["ansible-playbook", os.path.join("playbooks", "report.yml"), "-e",
                           json.dumps({"manifest_path": str(run.manifest), "report_path": str(report)})],
                          cwd=ROOT, env=run.env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    page = report.read_text()
    assert '<section id="platform-events">' in page and "App Platform autoscaled api 1 -&gt; 3 replicas (cpu)" in page

    # App Platform acts on its own after the deploy: a maintenance redeploy and an autoscaling
    rc, out = run.playbook("drift.yml")
    assert rc == 0 and "IN SYNC" in out, out[-3000:]
    maintenance = run.emu.maintenance(run.app_id)["id"]
    for _attempt in range(100):
        if run.app()["active_deployment"]["id"] == maintenance:
            break
        time.sleep(0.1)
    run.emu.autoscale(run.app_id, "workers", 2)
    rc, out = run.playbook("drift.yml")
    assert rc == 2, out[-3000:]
    out = " ".join(out.split())  # the YAML callback wraps long lines
    assert "App Platform events since the recorded deployment, not in the manifest:" in out
    assert "App Platform maintenance redeploy %s (App Platform maintenance): ACTIVE" % maintenance in out
    assert "App Platform autoscaled workers 1 -> 2 replicas (cpu)" in out
