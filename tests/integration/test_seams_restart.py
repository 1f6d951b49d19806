"""Hardening classes 1 and 6 (issue 26) at the seams of the rolling restart (issue 30), end to end:
playbooks/restart.yml from clones of a hub that share one bare remote, against the emulator.

- Class 1, a record can be lost: a restart (succeeded, or failed after App Platform took it) is
  recorded in the manifest of the run's checkout; with tachyon_publish_manifest, as for a deploy,
  that record reaches the hub's remote (a throwaway CI or AWX checkout would lose it).
- Class 6, silent lock changes: another holder taking our lock over during the restart is warned
  in the output and said in the job summary, and the thief's lock is left in place."""
import time

import pytest

# the hub (a bare remote, clones, the emulator) of the deploy lock's end-to-end test
from test_deploy_lock import Hub, running_emulator

# at collection time, like every test's collection imports (inside a test, after another test on the same
# worker installed ansible's collection finder, it needs collection metadata that finder never loaded)
from ansible_collections.tachyon.infra.plugins.module_utils._git import lock as git_lock  # noqa: E402


@pytest.fixture
def hub(tmp_path):
    with running_emulator(phase_seconds=0.05) as emu:
        yield Hub(emu, tmp_path)


def test_a_restart_record_reaches_the_hub_s_remote_succeeded_or_failed(hub):
    a = hub.clone("laptop")
    rc, out = hub.run(a, "restart.yml", who="alice", extra={"components": "api"})
    assert rc == 0, out[-3000:]
    restarts = hub.manifest().get("restarts") or []
    assert [(r["outcome"], r["components"]) for r in restarts] == [("succeeded", ["api"])], out[-3000:]
    assert restarts[0]["deployment_id"] == hub.app()["active_deployment"]["id"]

    # a restart App Platform took that then failed (its component reported UNHEALTHY): recorded too
    hub.emu.set_faults([{"kind": "component_health", "component": "workers", "count": 1}])
    b = hub.clone("runner")
    rc, out = hub.run(b, "restart.yml", who="bob", extra={"components": "workers", "tachyon_health_timeout": 2})
    assert rc != 0 and "UNHEALTHY" in out, out[-3000:]
    restarts = hub.manifest().get("restarts") or []
    assert [(r["outcome"], r["components"]) for r in restarts] == [("succeeded", ["api"]), ("failed", ["workers"])]


def test_a_takeover_of_our_lock_during_a_restart_is_warned_and_summarised(hub):
    a, b = hub.clone("laptop"), hub.clone("runner")
    summary = hub.tmp / "step-summary.md"
    # the restart's health check waits a while (health fault): time for the thief
    hub.emu.set_faults([{"kind": "health", "mode": "slow_start", "seconds": 3}])
    proc = hub.start(a, "restart.yml", who="alice", extra={"components": "api", "tachyon_health_timeout": 20,
                                                           "tachyon_summary_path": str(summary)})
    thief = git_lock.GitRefStore(str(b), "origin")
    ref = git_lock.lock_ref("staging")
    deadline = time.monotonic() + 120
    taken = False
    while time.monotonic() < deadline and proc.poll() is None:
        token, _current = thief.read(ref)
        if token:
            taken = thief.create(ref, git_lock.new_holder("lock", "mallory", "deploy of staging", 600), expected=token)
            break
        time.sleep(0.05)
    out, _err = proc.communicate(timeout=300)
    assert taken, out[-3000:]
    assert proc.returncode == 0, out[-3000:]
    assert "TAKEN OVER during this run by mallory" in out, out[-3000:]
    text = summary.read_text()
    assert "TAKEN OVER" in text and "mallory" in text, text
    assert thief.read(ref)[1]["holder"] == "mallory"


def test_maintenance_mode_by_hand_waits_for_the_deploy_lock_like_every_verb_that_deploys(hub):
    """Class 6: playbooks/maintenance.yml changes the app's spec (App Platform deploys it): while
    another run holds the deploy lock (a deploy mid-migration), it is refused naming the holder and
    changes nothing; with the lock free it takes it, and leaves it free."""
    a, b = hub.clone("laptop"), hub.clone("runner")
    other = git_lock.GitRefStore(str(b), "origin")
    ref = git_lock.lock_ref("staging")
    token = other.create(ref, git_lock.new_holder("lock", "mallory", "deploy of staging (release 0.2.0)", 600))
    assert token
    before = hub.app()["active_deployment"]["id"]
    rc, out = hub.run(a, "maintenance.yml", who="alice", extra={"maintenance": "on"})
    assert rc != 0 and "mallory" in out, out[-3000:]
    assert hub.app()["active_deployment"]["id"] == before and not hub.app()["spec"].get("maintenance")
    assert other.read(ref)[0] == token  # the other run's lock is left alone
    assert other.delete(ref, token)
    for state in ("on", "off"):
        rc, out = hub.run(a, "maintenance.yml", who="alice", extra={"maintenance": state})
        assert rc == 0, out[-3000:]
        assert other.read(ref)[0] is None  # taken and released
    assert not hub.app()["spec"].get("maintenance")
