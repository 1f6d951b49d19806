"""Hardening class 2 (issue 26) at the seams of the rolling restart (issue 30): once App Platform
took a restart, every failure names what the app runs now (its deployment, phase and images, read
again), whether a rollback pins it, and the commands that continue (standing.describe) - for a
restart deployment that fails, one whose health does not come back, one whose component App
Platform reports unhealthy, and one whose app cannot be read back (the API refusing the reads). Against
the App Platform emulator (its faults: emulator/faults.py)."""
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.tachyon.infra.plugins.module_utils._platform import restart
from ansible_collections.tachyon.infra.plugins.module_utils._platform.client import make_client
from ansible_collections.tachyon.infra.plugins.module_utils._platform.verify import VERIFY_OPTIONS
# imported when the file is collected, like every module test (the emulator's server code too:
# running_emulator imports it lazily, and it imports module_utils): imported inside a test or fixture,
# after another test on the same pytest worker installed ansible's collection finder
# (tests/unit/test_awx_data.py does), they need collection metadata that finder never loaded here
# ("collection metadata was not loaded for collection tachyon.infra")
from ansible_collections.tachyon.infra.plugins.modules import app_maintenance
from emulator import bootstrap as _emulator_bootstrap  # noqa: F401 pylint: disable=unused-import
from emulator.testing import running_emulator

CATALOG = [{"name": "tachyon-api", "component": "api", "kind": "service"},
           {"name": "tachyon-workers", "component": "workers", "kind": "worker"}]
NEXT = ("Next: restart again (ansible-playbook playbooks/restart.yml -i inventories/staging -e components=api), or go "
        "back to the deployment from before the restart: ansible-playbook playbooks/rollback.yml -i inventories/staging "
        "-e tachyon_rollback_to=%s")


@pytest.fixture(scope="module")
def emu():
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


def _maintenance(emu, tmp_path, capsys, state, environment="staging"):
    args = dict(app_id=emu.app_ids["staging"], token=emu.tokens["staging"], api_endpoint=emu.url, state=state,
                marker=str(tmp_path / ".maintenance-staging.json"), timeout=20, poll_interval=0.05)
    if environment:
        args["environment"] = environment
    with patch_module_args(args), pytest.raises(SystemExit):
        app_maintenance.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def fresh_emu():
    """An emulator of this test's own: a maintenance deployment that failed leaves the app's spec with
    maintenance set, and App Platform (like the emulator) makes no new deployment for an unchanged spec."""
    with running_emulator(phase_seconds=0.02) as emulator:
        yield emulator


@pytest.mark.parametrize("environment", ["staging", None], ids=["environment-given", "environment-of-the-marker"])
def test_maintenance_that_fails_names_what_the_app_runs_and_the_command_that_continues(fresh_emu, tmp_path, capsys,
                                                                                       environment):
    """Maintenance mode is a spec change App Platform deploys: when turning it on fails (its
    deployment ends in ERROR) or turning it off fails (the API refuses the change), the failure
    says what the app runs now, whether maintenance is on in it, and the command that continues
    (the deploy's always turns it off without naming the environment: the marker's name has it)."""
    fresh_emu.clear_faults()
    result = _maintenance(fresh_emu, tmp_path, capsys, "on", environment)
    assert not result.get("failed"), result.get("msg")
    fresh_emu.set_faults([{"kind": "http_error", "method": "PUT", "path": "/v2/apps/*", "status": 422, "count": 1}])
    result = _maintenance(fresh_emu, tmp_path, capsys, "off", environment)
    fresh_emu.clear_faults()
    active = fresh_emu.client("staging").apps.get(fresh_emu.app_ids["staging"])["app"]["active_deployment"]["id"]
    assert result["failed"] and "turning maintenance off failed: " in result["msg"], result["msg"]
    assert ("The app runs deployment %s (ACTIVE; " % active) in result["msg"], result["msg"]
    assert ("not pinned. Next: ansible-playbook playbooks/maintenance.yml -i inventories/staging -e maintenance=off. "
            "Maintenance is ON in its spec.") in result["msg"], result["msg"]
    result = _maintenance(fresh_emu, tmp_path, capsys, "off", environment)
    assert not result.get("failed"), result.get("msg")

    fresh_emu.set_faults([{"kind": "deploy_fail", "stage": "deploy", "count": 1}])
    result = _maintenance(fresh_emu, tmp_path, capsys, "on", environment)
    fresh_emu.clear_faults()
    active = fresh_emu.client("staging").apps.get(fresh_emu.app_ids["staging"])["app"]["active_deployment"]["id"]
    assert result["failed"] and result["msg"].startswith("turning maintenance on failed: "), result["msg"]
    assert ("The app runs deployment %s (ACTIVE; " % active) in result["msg"], result["msg"]
    assert ("not pinned. Next: ansible-playbook playbooks/maintenance.yml -i inventories/staging -e maintenance=on. "
            "Maintenance is off in its spec.") in result["msg"], result["msg"]
