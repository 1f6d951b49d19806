"""Hardening class 2 (issue 26) at the seams of the rolling restart (issue 30): once App Platform
took a restart, every failure names what the app runs now (its deployment, phase and images, read
again), whether a rollback pins it, and the commands that continue (standing.describe) - for a
restart deployment that fails, one whose health does not come back, one whose component App
Platform reports unhealthy, and one whose app cannot be read back (the API refusing the reads). Against
the App Platform emulator (its faults: emulator/faults.py)."""
import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._platform import restart
from ansible_collections.tachyon.infra.plugins.module_utils._platform.client import make_client
from ansible_collections.tachyon.infra.plugins.module_utils._platform.verify import VERIFY_OPTIONS

CATALOG = [{"name": "tachyon-api", "component": "api", "kind": "service"},
           {"name": "tachyon-workers", "component": "workers", "kind": "worker"}]
NEXT = ("Next: restart again (ansible-playbook playbooks/restart.yml -i inventories/staging -e components=api), or go "
        "back to the deployment from before the restart: ansible-playbook playbooks/rollback.yml -i inventories/staging "
        "-e tachyon_rollback_to=%s")


@pytest.fixture(scope="module")
def emu():
    from emulator.testing import running_emulator
    with running_emulator(phase_seconds=0.02) as emulator:
        yield emulator


def _verify(**change):
    verify = dict((key, spec.get("default")) for key, spec in VERIFY_OPTIONS.items())
    verify.update(health_timeout=2.0, max_interval=0.1, platform_health_timeout=1.0)
    verify.update(change)
    return verify


def _restart(emu, faults, verify):
    emu.clear_faults()
    app_id = emu.app_ids["staging"]
    client = make_client(emu.tokens["staging"], emu.url)
    plan = restart.plan(client.apps.get(app_id)["app"], ["api"], CATALOG)
    if faults:
        emu.set_faults(faults)
    with pytest.raises(restart.RestartFailed) as failed:
        restart.Restarter(client, app_id, lambda line: None, environment="staging").run(plan, {}, 20, 0.05, verify)
    emu.clear_faults()
    active = client.apps.get(app_id)["app"]["active_deployment"]["id"]
    return plan, failed.value, active


@pytest.mark.parametrize("faults, verify, says, went_live", [
    ([{"kind": "deploy_fail", "stage": "deploy", "component": "api", "count": 1}], {}, "the rolling restart failed",
     False),
    ([{"kind": "health", "mode": "unhealthy"}], {}, "did not become healthy after the restart", True),
    ([{"kind": "component_health", "component": "api", "count": 1}], {}, "App Platform reports component(s) not healthy",
     True),
], ids=["restart-deployment-fails", "health-never-comes-back", "platform-reports-unhealthy"])
def test_a_failed_restart_names_what_the_app_runs_now_and_what_continues(emu, faults, verify, says, went_live):
    plan, failure, active = _restart(emu, faults, _verify(**verify))
    assert says in failure.msg, failure.msg
    assert failure.result["went_live"] is went_live
    assert "The app runs deployment %s (ACTIVE; api " % active in failure.msg, failure.msg
    assert ", not pinned. " + NEXT % plan["deployment_id"] in failure.msg, failure.msg
    assert active == (failure.result["deployment_id"] if went_live else plan["deployment_id"])


def test_when_the_app_cannot_be_read_back_the_failure_says_what_ran_before(emu):
    # GET answers 403 once the restart is taken (a token whose read scope was revoked meanwhile)
    plan, failure, _active = _restart(emu, [{"kind": "http_error", "method": "GET", "path": "/v2/apps/*",
                                            "status": 403}], _verify())
    assert "What the app runs now could not be read" in failure.msg, failure.msg
    assert "before the restart it ran deployment %s" % plan["deployment_id"] in failure.msg
    assert NEXT % plan["deployment_id"] in failure.msg
