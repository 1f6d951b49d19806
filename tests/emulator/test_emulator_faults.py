"""Every fault kind of the emulator, seen through pydo (or plain HTTP where the client
would hide it), with the bodies validated against the vendored OpenAPI schemas."""
import pytest
import requests
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

from emulator.testing import running_emulator
from emulator_helpers import conforms, conforms_error, wait_phase, with_tag


def _update(client, app_id, tag):
    spec = client.apps.get(app_id)["app"]["spec"]
    app = client.apps.update(app_id, {"spec": with_tag(spec, tag), "update_all_source_versions": True})["app"]
    return app["pending_deployment"]["id"]


def _fault(emu, fault_id):
    return [f for f in emu.state()["faults"] if f["id"] == fault_id][0]


def test_http_error_on_chosen_calls(emu, staging):
    client, app_id = staging
    (fault,) = emu.set_faults([{"kind": "http_error", "method": "PUT", "path": "/v2/apps/*",
                                "status": 503, "count": 1}])
    client.apps.get(app_id)  # a GET does not match the fault
    with pytest.raises(HttpResponseError) as err:
        _update(client, app_id, "1234567")
    assert err.value.status_code == 503
    body = conforms(err.value.response.json(), "shared.server_error")
    assert body["id"] == "service_unavailable" and body["request_id"]
    assert err.value.response.headers["ratelimit-remaining"]
    assert client.apps.list_deployments(app_id)["meta"]["total"] == 1  # nothing changed
    assert _fault(emu, fault["id"])["hits"] == 1 and _fault(emu, fault["id"])["remaining"] == 0
    assert _update(client, app_id, "1234567")  # the count is used up


def test_http_500_on_reads_is_retried_by_pydo(emu):
    (fault,) = emu.set_faults([{"kind": "http_error", "method": "GET", "path": "/v2/apps/*", "count": 2}])
    client = emu.client("staging", retry_backoff_factor=0.01)
    assert conforms(client.apps.get(emu.app_ids["staging"]), "apps_get")["app"]["id"]
    assert _fault(emu, fault["id"])["hits"] == 2


def test_rate_limit_burst_fault_sends_retry_after(emu, staging):
    client, app_id = staging
    emu.set_faults([{"kind": "rate_limit", "path": "/v2/apps/*/deployments", "retry_after": 7, "count": 2}])
    response = requests.get("%s/v2/apps/%s/deployments" % (emu.url, app_id),
                            headers={"Authorization": "Bearer " + emu.tokens["staging"]}, timeout=5)
    conforms_error(response, 429)
    # the burst limit: Retry-After; the hourly quota is not used up
    assert response.headers["retry-after"] == "7" and int(response.headers["ratelimit-remaining"]) > 0
    with pytest.raises(HttpResponseError) as err:
        client.apps.list_deployments(app_id)
    assert err.value.status_code == 429
    assert conforms(client.apps.list_deployments(app_id), "existing_deployments")["meta"]["total"] == 1


def test_rate_limit_fault_is_retried_by_pydo_after_retry_after(emu):
    (fault,) = emu.set_faults([{"kind": "rate_limit", "method": "GET", "retry_after": 0, "count": 1}])
    client = emu.client("staging", retry_backoff_factor=0.01)
    assert client.apps.list()["meta"]["total"] == 1
    assert _fault(emu, fault["id"])["hits"] == 1


def test_burst_limit_crossed_gives_429_per_token():
    with running_emulator(rate_limit={"burst": 3, "burst_window": 60}) as emu:
        headers = {"Authorization": "Bearer " + emu.tokens["staging"]}
        url = "%s/v2/apps" % emu.url
        remaining = [int(requests.get(url, headers=headers, timeout=5).headers["ratelimit-remaining"])
                     for _request in range(3)]
        assert remaining == [4999, 4998, 4997]
        blocked = requests.get(url, headers=headers, timeout=5)
        conforms_error(blocked, 429)
        assert 1 <= int(blocked.headers["retry-after"]) <= 60
        other = requests.get(url, headers={"Authorization": "Bearer " + emu.tokens["production"]}, timeout=5)
        assert other.status_code == 200


def test_dropped_connection(emu, staging):
    client, app_id = staging
    (fault,) = emu.set_faults([{"kind": "drop_connection", "method": "GET", "path": "/v2/apps/" + app_id,
                                "count": 1}])
    with pytest.raises((ServiceResponseError, ServiceRequestError)):
        client.apps.get(app_id)
    assert conforms(client.apps.get(app_id), "apps_get")["app"]["id"] == app_id
    emu.set_faults([{"kind": "drop_connection", "method": "GET", "path": "/v2/apps/" + app_id, "count": 1}])
    retrying = emu.client("staging", retry_backoff_factor=0.01)
    assert retrying.apps.get(app_id)["app"]["id"] == app_id
    assert _fault(emu, fault["id"])["hits"] == 1


def test_deployment_failing_at_build(emu, staging):
    client, app_id = staging
    emu.set_faults([{"kind": "deploy_fail", "stage": "build", "component": "workers", "count": 1}])
    dep, seen = wait_phase(client, app_id, _update(client, app_id, "badc0de"))
    assert dep["phase"] == "ERROR" and "DEPLOYING" not in seen
    assert dep["progress"]["error_steps"] == 1
    build_stage, deploy_stage = dep["progress"]["steps"]
    assert (build_stage["status"], deploy_stage["status"]) == ("ERROR", "PENDING")
    (failed,) = [s for s in build_stage["steps"][1]["steps"] if s["status"] == "ERROR"]
    # no reason: DigitalOcean publishes no failure reason codes, the emulator invents none
    assert failed["component_name"] == "workers" and "reason" not in failed
    assert failed["message_base"] == "Building worker"
    build = conforms(client.apps.get_logs(app_id, dep["id"], "workers", type="BUILD"), "list_logs")
    text = requests.get(build["historic_urls"][0], timeout=5).text
    assert "ERROR failed to pull image ghcr.io/tachyonapp/tachyon-workers:sandbox-initial" in text
    app = client.apps.get(app_id)["app"]
    assert app["active_deployment"]["id"] != dep["id"]
    assert emu.health(app_id)[1]["version"] == "sandbox-initial"
    # the next deployment is not affected (count: 1)
    assert wait_phase(client, app_id, _update(client, app_id, "900d000"))[0]["phase"] == "ACTIVE"


def test_deployment_failing_at_deploy(emu, staging):
    client, app_id = staging
    # DEPLOYING held for 1 s so that the polls see it on a loaded machine too (a 0.05 s phase
    # went by unseen at load 16)
    emu.set_faults([{"kind": "deploy_fail", "stage": "deploy", "component": "api"},
                    {"kind": "slow_phase", "phase": "DEPLOYING", "seconds": 1, "count": 1}])
    dep, seen = wait_phase(client, app_id, _update(client, app_id, "badc0de"))
    assert dep["phase"] == "ERROR" and "DEPLOYING" in seen
    build_steps, deploy_steps = dep["progress"]["steps"]
    assert build_steps["status"] == "SUCCESS" and deploy_steps["status"] == "ERROR"
    (failed,) = [s for s in deploy_steps["steps"] if s["status"] == "ERROR"]
    assert failed["name"] == "components"
    (component,) = [s for s in failed["steps"] if s["status"] == "ERROR"]
    assert component["component_name"] == "api"
    assert [(s["name"], s["status"]) for s in component["steps"]] == [("deploy", "SUCCESS"), ("wait", "ERROR")]
    assert deploy_steps["steps"][2] == {"name": "finalize", "status": "PENDING"}
    logs = conforms(client.apps.get_logs_aggregate(app_id, dep["id"], type="DEPLOY"), "list_logs")
    text = requests.get(logs["historic_urls"][0], timeout=5).text
    assert "api" in text and "ERROR deploy failed: component api failed its health checks" in text


def _nano_time(text):
    """RFC 3339 with up to 9 fraction digits (Go's RFC3339Nano) -> datetime (microseconds)."""
    from datetime import datetime
    head, _dot, frac = text.rstrip("Z").partition(".")
    return datetime.strptime("%s.%sZ" % (head, (frac + "000000")[:6]), "%Y-%m-%dT%H:%M:%S.%fZ")


def test_slow_phase(emu, staging):
    client, app_id = staging
    emu.set_faults([{"kind": "slow_phase", "phase": "BUILDING", "seconds": 0.5, "count": 1}])
    dep, _seen = wait_phase(client, app_id, _update(client, app_id, "5105105"))
    build = dep["progress"]["steps"][0]
    started, ended = (_nano_time(build[k]) for k in ("started_at", "ended_at"))
    assert (ended - started).total_seconds() == pytest.approx(0.5, abs=0.002)
    deploy = dep["progress"]["steps"][1]
    started, ended = (_nano_time(deploy[k]) for k in ("started_at", "ended_at"))
    assert (ended - started).total_seconds() == pytest.approx(0.05, abs=0.002)


def test_health_unhealthy_forever_then_cleared(emu, staging):
    _client, app_id = staging
    emu.set_faults([{"kind": "health", "mode": "unhealthy"}])
    status, payload = emu.health(app_id)
    assert status == 503 and payload["status"] == "unhealthy" and payload["version"] == "sandbox-initial"
    assert payload["checks"]["postgres"] == "disconnected"
    emu.clear_faults()
    assert emu.health(app_id)[1]["status"] == "healthy"


def test_health_unhealthy_for_n_seconds_after_active(emu, staging):
    _client, app_id = staging
    emu.set_faults([{"kind": "health", "mode": "unhealthy", "seconds": 3600}])
    assert emu.health(app_id)[0] == 503  # still inside the window
    emu.clear_faults()
    emu.set_faults([{"kind": "health", "mode": "unhealthy", "seconds": 0}])
    assert emu.health(app_id)[0] == 200  # window over


def test_health_reports_stale_version(emu, staging):
    client, app_id = staging
    wait_phase(client, app_id, _update(client, app_id, "f00d123"))
    emu.set_faults([{"kind": "health", "mode": "stale_version", "seconds": 3600, "app_id": app_id}])
    status, payload = emu.health(app_id)
    assert status == 200 and payload["status"] == "healthy" and payload["version"] == "sandbox-initial"
    assert emu.health(emu.app_ids["production"])[1]["version"] == "sandbox-initial"
    emu.clear_faults()
    assert emu.health(app_id)[1]["version"] == "f00d123"


def test_health_slow_to_start(emu, staging):
    _client, app_id = staging
    emu.set_faults([{"kind": "health", "mode": "slow_start"}])
    assert emu.health(app_id) == (503, None)
    response = requests.get(emu.live_url(app_id) + "/health", timeout=5)
    assert response.text == "no healthy upstream\n"


def test_faults_from_the_seed_and_malformed_faults():
    seed = {"accounts": [{"name": "a", "token": "sandbox-a-token"}],
            "apps": [], "faults": [{"kind": "http_error", "method": "GET", "path": "/v2/apps", "status": 500}]}
    with running_emulator(seed=seed) as emu:
        response = requests.get(emu.url + "/v2/apps", headers={"Authorization": "Bearer sandbox-a-token"}, timeout=5)
        conforms_error(response, 500)
        with pytest.raises(ValueError, match="fault kind 'explode' is unknown"):
            emu.set_faults([{"kind": "health", "mode": "unhealthy"}, {"kind": "explode"}])
        assert [f["kind"] for f in emu.state()["faults"]] == ["http_error"]  # nothing added
        with pytest.raises(ValueError, match="stage must be"):
            emu.set_faults([{"kind": "deploy_fail", "stage": "later"}])
