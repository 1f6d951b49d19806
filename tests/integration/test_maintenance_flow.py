"""Maintenance mode for a release that carries a migration (issue 30), deploy.yml against the
emulator: the app answers the offline page while the migration runs and its own health after;
with a failure at each step after maintenance went on (the migration, the verification, a
kill -9 of the run) maintenance ends off, or the next plan says it is on and what to do."""
import os
import signal
import subprocess
import threading
import time

import pytest
import requests

from playbook_run import NEXT, RELEASE, ROOT, playbook_run

YES = {"tachyon_maintenance": "yes", "tachyon_offline_page_url": "https://status.example.com/offline.html"}


@pytest.fixture()
def run(tmp_path, monkeypatch):
    with playbook_run(tmp_path, monkeypatch) as value:
        yield value


class Watch(threading.Thread):
    """Polls the live /health while a deploy runs: the statuses seen, in order (repeats folded)."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url = url
        self.seen = []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                answer = requests.get(self.url, timeout=2)
                state = "offline" if "offline for maintenance" in answer.text else str(answer.status_code)
            except requests.RequestException:
                state = "error"
            if not self.seen or self.seen[-1] != state:
                self.seen.append(state)
            time.sleep(0.02)


def _maintenance(run):
    return (run.app()["active_deployment"]["spec"].get("maintenance") or {}).get("enabled", False)


def test_maintenance_on_for_the_migration_and_off_whatever_failed(run):
    marker = run.manifest.parent / ".maintenance-staging.json"
    watch = Watch(run.emu.live_url(run.app_id) + "/health")
    watch.start()
    # the release's deployment builds slowly: the migration window is long enough to be seen
    run.emu.set_faults([{"kind": "slow_phase", "phase": "BUILDING", "seconds": 1.5, "skip": 1, "count": 1}])
    rc, out = run.deploy(RELEASE, extra=YES)
    watch.stop.set()
    watch.join()
    assert rc == 0, out[-3000:]
    assert "maintenance: the release carries a migration: the app answers an offline page while it runs " \
           "(offline page https://status.example.com/offline.html)" in " ".join(out.split())
    assert watch.seen[-1] == "200" and "offline" in watch.seen, watch.seen
    assert watch.seen.index("offline") > 0  # healthy before, offline during the migration, healthy after
    assert not _maintenance(run) and not marker.exists()

    # the migration fails (the release's deployment, not the maintenance one): maintenance ends off
    run.emu.set_faults([{"kind": "deploy_fail", "stage": "deploy", "component": "db-migrate", "skip": 1, "count": 1}])
    rc, out = run.deploy(NEXT, extra=YES)
    assert rc != 0 and "failing step" in out, out[-3000:]
    assert not _maintenance(run) and not marker.exists() and run.emu.health(run.app_id)[0] == 200

    # the verification fails (App Platform reports workers unhealthy): rolled back, maintenance off
    run.emu.set_faults([{"kind": "component_health", "component": "workers", "skip": 1, "count": 1}])
    rc, out = run.deploy(NEXT, extra=YES)
    assert rc != 0 and "workers: UNHEALTHY" in out, out[-3000:]
    assert not _maintenance(run) and not marker.exists() and run.emu.health(run.app_id)[0] == 200

    # kill -9 of the run while maintenance is on: the marker says so; the next plan refuses, naming the fix
    run.emu.set_faults([{"kind": "slow_phase", "phase": "BUILDING", "seconds": 30, "skip": 1, "count": 1}])
    cmd = ["ansible-playbook", "playbooks/deploy.yml", "-i", "inventories/sandbox", "-l", "staging", "-e",
           __import__("json").dumps(dict(YES, tachyon_shas=NEXT, manifest_path=str(run.manifest),
                                         tachyon_poll_interval=0.3, tachyon_deploy_timeout=120, tachyon_deployed_by="t",
                                         tachyon_soak_minutes=0))]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=run.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        for _attempt in range(600):
            if marker.exists() and _maintenance(run):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("maintenance never went on")
        time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert marker.exists() and _maintenance(run)
    rc, out = run.deploy(NEXT, args=["--check"])
    flat = " ".join(out.split())
    assert rc != 0 and "maintenance was left on: the live app's spec has maintenance enabled" in flat, out[-3000:]
    assert "ansible-playbook playbooks/maintenance.yml -i inventories/staging -e maintenance=off" in flat
    assert "-e tachyon_maintenance_leftover=turn_off" in flat
    # the deploy that is told to turn it off first does, then deploys (no maintenance: staging's mode is off)
    run.emu.clear_faults()
    rc, out = run.deploy(NEXT, extra={"tachyon_maintenance_leftover": "turn_off"})
    assert rc == 0, out[-3000:]
    assert "this deploy turns it off first" in " ".join(out.split())
    assert not _maintenance(run) and not marker.exists() and run.emu.health(run.app_id)[0] == 200
