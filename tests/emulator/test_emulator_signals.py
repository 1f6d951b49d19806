"""App Platform's own signals in the emulator (emulator/signals.py), every body validated
against the vendored OpenAPI response schemas: component health (apps_get_health.yml), the
events list with an autoscaling event (apps_list_events.yml), event logs, the rolling restart
(apps_restart.yml, a deployment with godo's RESTART user action) and maintenance mode
(app_maintenance_spec.yml: the live URL answers the offline page)."""
import pytest
import requests
from azure.core.exceptions import HttpResponseError

from emulator.faults import FaultError, normalize_fault
from emulator_helpers import conforms, wait_phase


def _restart(client, app_id, names=None):
    body = {"components": names} if names is not None else {}
    return conforms(client.apps.restart(app_id, body), "new_app_deployment")["deployment"]


def test_health_reports_each_running_component_and_a_faulted_one_unhealthy(emu, staging):
    client, app_id = staging
    health = conforms(client.apps.get_health(app_id), "apps_health")["app_health"]["components"]
    assert [c["name"] for c in health] == ["api", "workers"]  # the job (db-migrate) runs no replicas
    assert all(c["state"] == "HEALTHY" and c["replicas_ready"] == c["replicas_desired"] == 1 for c in health)
    assert all(0 < c["cpu_usage_percent"] < 100 and 0 < c["memory_usage_percent"] < 100 for c in health)
    emu.set_faults([{"kind": "component_health", "component": "workers", "count": 1}])
    dep = _restart(client, app_id)
    wait_phase(client, app_id, dep["id"])
    health = {c["name"]: c for c in conforms(client.apps.get_health(app_id), "apps_health")["app_health"]["components"]}
    assert health["workers"]["state"] == "UNHEALTHY" and health["workers"]["replicas_ready"] == 0
    assert health["api"]["state"] == "HEALTHY"
    # the live /health (the app's own probe) does not see it: only the platform does
    assert emu.health(app_id)[0] == 200


def test_restart_keeps_the_images_and_names_the_user_action(emu, staging):
    client, app_id = staging
    before = client.apps.get(app_id)["app"]["active_deployment"]
    dep = _restart(client, app_id, ["api"])
    assert dep["cause_details"]["digitalocean_user_action"]["name"] == "RESTART"
    done, _seen = wait_phase(client, app_id, dep["id"])
    assert done["phase"] == "ACTIVE" and done["spec"]["services"] == before["spec"]["services"]
    with pytest.raises(HttpResponseError) as err:
        client.apps.restart(app_id, {"components": ["api", "nope"]})
    assert err.value.status_code == 400 and "nope" in err.value.response.json()["message"]
    assert client.apps.list_deployments(app_id)["meta"]["total"] == 2  # the refused one created nothing


def test_events_list_deployments_and_autoscaling_newest_first_and_filter(emu, staging):
    client, app_id = staging
    emu.autoscale(app_id, "api", 3)
    body = conforms(client.apps.list_events(app_id), "list_events")
    assert [e["type"] for e in body["events"]] == ["AUTOSCALING", "DEPLOYMENT"]
    scaled, deployed = body["events"]
    assert scaled["autoscaling"]["components"] == {"api": {"from": 1, "to": 3, "triggering_metric": "cpu"}}
    assert scaled["deployment_id"] == deployed["deployment_id"] == deployed["deployment"]["id"]
    only = client.apps.list_events(app_id, event_types=["DEPLOYMENT"])
    assert [e["type"] for e in only["events"]] == ["DEPLOYMENT"]
    event = conforms(client.apps.get_event(app_id, deployed["id"]), "get_event")["event"]
    assert event["id"] == deployed["id"]
    assert "historic_urls" in client.apps.get_event_logs(app_id, deployed["id"], type="DEPLOY")
    # a job runs no replicas: App Platform cannot scale it
    refused = requests.post(emu.url + "/_emulator/autoscale", json={"app_id": app_id, "component": "db-migrate", "to": 2},
                            timeout=5)
    assert refused.status_code == 400 and "not a service or worker" in refused.json()["message"]


def test_autoscale_fault_scales_while_a_deployment_starts(emu, staging):
    client, app_id = staging
    emu.set_faults([{"kind": "autoscale", "component": "workers", "to": 2, "count": 1}])
    running = client.apps.get(app_id)["app"]["active_deployment"]["id"]
    dep = _restart(client, app_id)
    wait_phase(client, app_id, dep["id"])
    _restart(client, app_id)  # the fault is used up: no second autoscaling
    events = client.apps.list_events(app_id)["events"]
    scaled = [e for e in events if e["type"] == "AUTOSCALING"]
    assert len(scaled) == 1 and scaled[0]["deployment_id"] == running  # the deployment that was scaled
    assert scaled[0]["autoscaling"]["components"]["workers"]["to"] == 2


def test_maintenance_mode_answers_the_offline_page_until_it_is_off(emu, staging):
    client, app_id = staging
    spec = client.apps.get(app_id)["app"]["spec"]
    spec["maintenance"] = {"enabled": True, "offline_page_url": "https://example.com/offline.html?a=<b>"}
    dep = client.apps.update(app_id, {"spec": spec})["app"]["pending_deployment"]
    wait_phase(client, app_id, dep["id"])
    answer = requests.get(emu.live_url(app_id) + "/health", timeout=5)
    assert answer.status_code == 503 and "offline for maintenance" in answer.text
    assert "https://example.com/offline.html?a=&lt;b&gt;" in answer.text  # escaped, never markup
    spec["maintenance"] = {"enabled": False}
    dep = client.apps.update(app_id, {"spec": spec})["app"]["pending_deployment"]
    wait_phase(client, app_id, dep["id"])
    assert emu.health(app_id)[0] == 200


@pytest.mark.parametrize("fault,error", [
    ({"kind": "component_health"}, "component must name"),
    ({"kind": "component_health", "component": "api", "state": "HEALTHY"}, "state must be UNHEALTHY or UNKNOWN"),
    ({"kind": "autoscale", "component": "api", "to": -1}, "to must be a replica count"),
])
def test_signal_faults_are_checked(fault, error):
    with pytest.raises(FaultError, match=error):
        normalize_fault(fault)


def test_a_deployment_fault_can_let_deployments_pass_first(emu, staging):
    client, app_id = staging
    emu.set_faults([{"kind": "deploy_fail", "stage": "deploy", "component": "workers", "skip": 1, "count": 1}])
    first = _restart(client, app_id)
    assert wait_phase(client, app_id, first["id"])[0]["phase"] == "ACTIVE"
    second = _restart(client, app_id)
    assert wait_phase(client, app_id, second["id"])[0]["phase"] == "ERROR"
    with pytest.raises(FaultError, match="skip must be"):
        normalize_fault({"kind": "deploy_fail", "stage": "build", "skip": -1})
