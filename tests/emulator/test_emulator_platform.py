"""What App Platform does on its own, as the recordings in tests/recorded/fixtures show it:
GET app's pending_deployment semantics, logs by stage (400 / live_url / historic_urls),
automated rollback after a failed deployment, maintenance deployments, cause_details, and
the hourly rate limit without Retry-After."""
import time

import pytest
import requests
from azure.core.exceptions import HttpResponseError

from emulator.testing import SANDBOX_SEED, _seed_data, running_emulator
from emulator_helpers import conforms, conforms_error, wait_phase, with_tag


def _update(client, app_id, tag):
    spec = client.apps.get(app_id)["app"]["spec"]
    app = conforms(client.apps.update(app_id, {"spec": with_tag(spec, tag), "update_all_source_versions": True}),
                   "update_app")["app"]
    return app["pending_deployment"]["id"]


def _wait_until(client, app_id, dep_id, phase, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        dep = client.apps.get_deployment(app_id, dep_id)["deployment"]
        if dep["phase"] == phase:
            return dep
        assert time.monotonic() < deadline, "deployment %s never reached %s (is %s)" % (dep_id, phase, dep["phase"])
        time.sleep(0.01)


def test_get_app_pending_deployment_is_the_latest_not_cancelled(emu, staging):
    client, app_id = staging
    initial = conforms(client.apps.get(app_id), "apps_get")["app"]
    # a settled app: the most recent deployment is the active one
    assert initial["pending_deployment"] == {"id": initial["active_deployment"]["id"],
                                             "spec": initial["active_deployment"]["spec"]}
    emu.set_faults([{"kind": "deploy_fail", "stage": "deploy", "count": 1}])
    failed_id = _update(client, app_id, "badc0de")
    assert wait_phase(client, app_id, failed_id)[0]["phase"] == "ERROR"
    app = conforms(client.apps.get(app_id), "apps_get")["app"]
    # after a failure GET's pending_deployment is the failed deployment, nothing is in progress
    assert app["pending_deployment"]["id"] == failed_id
    assert "in_progress_deployment" not in app
    assert app["active_deployment"]["id"] == initial["active_deployment"]["id"]
    # a cancelled deployment is skipped
    emu.set_faults([{"kind": "slow_phase", "phase": "PENDING_BUILD", "seconds": 30, "count": 1}])
    slow = _update(client, app_id, "5107000")
    assert client.apps.get(app_id)["app"]["in_progress_deployment"]["id"] == slow
    client.apps.cancel_deployment(app_id, slow)
    assert client.apps.get(app_id)["app"]["pending_deployment"]["id"] == failed_id


def test_logs_by_stage_400_live_url_then_historic_urls(emu, staging):
    client, app_id = staging
    emu.set_faults([{"kind": "slow_phase", "phase": "PENDING_BUILD", "seconds": 0.6, "count": 1},
                    {"kind": "slow_phase", "phase": "DEPLOYING", "seconds": 1.5, "count": 1}])
    dep_id = _update(client, app_id, "10951ab")
    # the deploy stage is not reached yet: 400 with DigitalOcean's error body
    url = "%s/v2/apps/%s/deployments/%s/logs?type=DEPLOY" % (emu.url, app_id, dep_id)
    headers = {"Authorization": "Bearer " + emu.tokens["staging"]}
    body = conforms_error(requests.get(url, headers=headers, timeout=5), 400)
    assert body["id"] == "bad_request"
    with pytest.raises(HttpResponseError) as err:
        client.apps.get_logs_aggregate(app_id, dep_id, type="RUN")
    assert err.value.status_code == 400
    # while the stage runs: live_url only
    _wait_until(client, app_id, dep_id, "DEPLOYING")
    live = conforms(client.apps.get_logs_aggregate(app_id, dep_id, type="DEPLOY"), "list_logs")
    assert set(live) == {"live_url"} and "sig=" in live["live_url"]
    assert "Starting service" in requests.get(live["live_url"], timeout=5).text
    # afterwards: historic_urls only
    assert wait_phase(client, app_id, dep_id)[0]["phase"] == "ACTIVE"
    done = conforms(client.apps.get_logs_aggregate(app_id, dep_id, type="DEPLOY"), "list_logs")
    assert set(done) == {"historic_urls"} and "api is ready" in requests.get(done["historic_urls"][0], timeout=5).text
    # RUN logs: live while the deployment is the active one, archived once superseded
    assert set(client.apps.get_logs_aggregate(app_id, dep_id, type="RUN")) == {"live_url"}
    wait_phase(client, app_id, _update(client, app_id, "10951ac"))
    assert set(client.apps.get_logs_aggregate(app_id, dep_id, type="RUN")) == {"historic_urls"}


def test_automated_rollback_after_a_failed_deployment(emu, staging):
    client, app_id = staging
    good = client.apps.get(app_id)["app"]["active_deployment"]
    emu.set_faults([{"kind": "deploy_fail", "stage": "deploy", "count": 1}, {"kind": "auto_rollback", "count": 1}])
    failed_id = _update(client, app_id, "badc0de")
    assert wait_phase(client, app_id, failed_id)[0]["phase"] == "ERROR"
    listing = conforms(client.apps.list_deployments(app_id), "existing_deployments")["deployments"]
    rollback = listing[0]
    assert rollback["cause"] == 'automated rollback after failed deployment of "%s"' % failed_id
    assert rollback["cloned_from"] == good["id"]
    assert rollback["cause_details"] == {"type": "AUTO_ROLLBACK"}
    rollback, _ = wait_phase(client, app_id, rollback["id"])
    assert rollback["phase"] == "ACTIVE"
    built = rollback["progress"]["steps"][0]["steps"][1]["steps"]
    assert {s["reason"]["code"] for s in built} == {"PreviousBuildReused"}
    app = client.apps.get(app_id)["app"]
    assert app["active_deployment"]["id"] == rollback["id"] == app["pending_deployment"]["id"]
    assert emu.health(app_id)[1]["version"] == "sandbox-initial"
    # a build failure does not roll back (the running app was never touched)
    emu.set_faults([{"kind": "deploy_fail", "stage": "build", "count": 1}, {"kind": "auto_rollback", "count": 1}])
    failed_build = _update(client, app_id, "badc0df")
    assert wait_phase(client, app_id, failed_build)[0]["phase"] == "ERROR"
    assert client.apps.list_deployments(app_id)["deployments"][0]["id"] == failed_build


def test_maintenance_deployment_by_admin_call_and_seed(emu, staging):
    client, app_id = staging
    before = client.apps.get(app_id)["app"]["active_deployment"]["id"]
    dep = emu.maintenance(app_id)
    assert dep["cause_details"] == {"internal": True, "type": "MAINTENANCE"}
    dep, _ = wait_phase(client, app_id, dep["id"])
    assert dep["phase"] == "ACTIVE"
    assert client.apps.get_deployment(app_id, before)["deployment"]["phase"] == "SUPERSEDED"
    seed = _seed_data(SANDBOX_SEED)
    seed["apps"][0]["maintenance"] = True
    with running_emulator(seed=seed, phase_seconds=0.05) as other:
        seeded = other.client("staging", retry_total=0)
        deps = seeded.apps.list_deployments(other.app_ids["staging"])["deployments"]
        assert [(d["phase"], d["cause_details"]["type"]) for d in deps] == [("ACTIVE", "MAINTENANCE"),
                                                                          ("SUPERSEDED", "MANUAL")]


def test_cause_details_of_user_actions(emu, staging):
    client, app_id = staging
    owner = client.apps.get(app_id)["app"]["owner_uuid"]
    dep, _ = wait_phase(client, app_id, _update(client, app_id, "ca05e01"))
    details = dep["cause_details"]
    assert (details["type"], details["digitalocean_user_action"]["name"]) == ("MANUAL", "UPDATE_SPEC")
    assert details["digitalocean_user_action"]["user"]["uuid"] == owner
    created = client.apps.create_deployment(app_id, {"force_build": True})["deployment"]
    assert created["cause_details"]["digitalocean_user_action"]["name"] == "CREATE_DEPLOYMENT"
    wait_phase(client, app_id, created["id"])
    rollback = client.apps.create_rollback(app_id, {"deployment_id": dep["id"], "skip_pin": True})["deployment"]
    assert rollback["cause_details"]["type"] == "MANUAL_ROLLBACK"
    assert rollback["cause_details"]["digitalocean_user_action"]["name"] == "ROLLBACK_APP"


def test_hourly_rate_limit_has_no_retry_after(emu, staging):
    client, app_id = staging
    headers = {"Authorization": "Bearer " + emu.tokens["staging"]}
    emu.set_faults([{"kind": "rate_limit", "scope": "hourly", "reset_in": 30, "count": 1}])
    before = time.time()
    response = requests.get("%s/v2/apps/%s" % (emu.url, app_id), headers=headers, timeout=5)
    conforms_error(response, 429)
    assert "retry-after" not in response.headers
    assert response.headers["ratelimit-remaining"] == "0"
    assert before + 29 <= int(response.headers["ratelimit-reset"]) <= time.time() + 31
    # the real hourly quota behaves the same
    emu.configure(rate_limit={"limit": 3, "burst": 100})
    answers = [requests.get("%s/v2/apps" % emu.url, headers=headers, timeout=5) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert "retry-after" not in answers[-1].headers and answers[-1].headers["ratelimit-remaining"] == "0"
    # the burst limit does send Retry-After
    emu.configure(rate_limit={"limit": 100, "burst": 1, "burst_window": 60})
    answers = [requests.get("%s/v2/apps" % emu.url, headers=headers, timeout=5) for _ in range(2)]
    assert answers[1].status_code == 429 and int(answers[1].headers["retry-after"]) >= 1
