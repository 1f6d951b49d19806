"""App Platform's own signals as the product reads them (plugins/module_utils/_platform/signals.py):
component health problems named with state and figures, bounded waiting on UNKNOWN, the events
timeline with what is not ours marked, and the deploy summary's rendering of both."""
from ansible_collections.tachyon.infra.plugins.module_utils._plan import gates, plan
from ansible_collections.tachyon.infra.plugins.module_utils._platform import drift, signals
from ansible_collections.tachyon.infra.plugins.module_utils._platform.client import DOApiError
from ansible_collections.tachyon.infra.plugins.module_utils._report import summary as ds


def _comp(name, state="HEALTHY", ready=1, cpu=5.555, mem=20.32):
    # the shape of the OpenAPI app_health example (responses/examples.yml#/app_health)
    return {"name": name, "cpu_usage_percent": cpu, "memory_usage_percent": mem, "replicas_desired": 1,
            "replicas_ready": ready, "state": state}


class Apps(object):
    def __init__(self, health=(), events=(), fail_events=False):
        self.health = list(health)
        self.events = list(events)
        self.fail_events = fail_events
        self.health_reads = 0

    def get_health(self, app_id):
        self.health_reads += 1
        answer = self.health[min(self.health_reads, len(self.health)) - 1]
        return {"app_health": {"components": answer}}

    def list_events(self, app_id, page=1, per_page=20):
        if self.fail_events:
            raise DOApiError("list the app's events: the API failed (500)")
        return {"events": self.events[(page - 1) * per_page: page * per_page], "links": {"pages": {}}}


def _client(**kw):
    client = type("Client", (), {})()
    client.apps = Apps(**kw)
    return client


class Clock(object):
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


EVENTS = [  # newest first, as the API lists them (apps_list_events.yml)
    {"id": "e3", "type": "AUTOSCALING", "created_at": "2026-12-07T10:00:09Z", "deployment_id": "old",
     "autoscaling": {"phase": "SUCCEEDED", "components": {"api": {"from": 1, "to": 3, "triggering_metric": "cpu"}}}},
    {"id": "e2", "type": "DEPLOYMENT", "created_at": "2026-12-07T10:00:05Z", "deployment_id": "ours",
     "deployment": {"id": "ours", "cause": "manual", "phase": "ACTIVE", "cause_details": {"type": "MANUAL"}}},
    {"id": "e1", "type": "DEPLOYMENT", "created_at": "2026-12-07T09:00:00Z", "deployment_id": "old",
     "deployment": {"id": "old", "cause": "App Platform maintenance", "phase": "SUPERSEDED",
                    "cause_details": {"type": "MAINTENANCE"}}},
]
SINCE = 1796637600.0  # 2026-12-07T10:00:00Z


def test_an_unhealthy_component_fails_at_once_naming_state_and_figures():
    clock = Clock()
    client = _client(health=[[_comp("api"), _comp("workers", "UNHEALTHY", ready=0, cpu=6.61, mem=54.79)]])
    found, message = signals.verify(client, "app", "ours", SINCE, timeout=30, clock=clock, sleep=clock.sleep)
    assert message.startswith("App Platform reports component(s) not healthy after deployment ours went live: "
                              "workers: UNHEALTHY, 0 of 1 replicas ready (cpu 6.6%, memory 54.8%).")
    assert client.apps.health_reads == 1 and clock.now == 0  # no waiting when the platform says UNHEALTHY
    assert found["components"]["api"] == {"state": "HEALTHY", "cpu": 5.555, "memory": 20.32,
                                          "replicas": "1 of 1 replicas ready"}


def test_unknown_is_waited_out_then_said_never_taken_for_healthy():
    clock = Clock()
    client = _client(health=[[_comp("api", "UNKNOWN", ready=0)]])
    _found, message = signals.verify(client, "app", "ours", SINCE, timeout=3, clock=clock, sleep=clock.sleep)
    assert "api: UNKNOWN, 0 of 1 replicas ready" in message and 2 <= clock.now <= 3
    clock = Clock()
    client = _client(health=[[_comp("api", "UNKNOWN", ready=0)], [_comp("api")]])
    found, message = signals.verify(client, "app", "ours", SINCE, timeout=3, clock=clock, sleep=clock.sleep)
    assert message is None and found["problems"] == [] and client.apps.health_reads == 2


def test_a_component_the_platform_does_not_report_is_a_problem():
    assert signals.problems(signals.read_health(_client(health=[[_comp("api")]]), "app"), ["api", "workers"]) == [
        "workers: not reported by App Platform"]


def test_the_timeline_is_the_window_oldest_first_with_foreign_events_marked():
    client = _client(health=[[_comp("api")]], events=EVENTS)
    found = signals.read_signals(client, "app", SINCE, ours=["ours"])
    assert [(e["deployment_id"], e["ours"]) for e in found["timeline"]] == [("ours", True), ("old", False)]
    assert found["timeline"][0]["what"] == "deployment ours (manual): ACTIVE"
    assert found["foreign"][0]["what"] == "App Platform autoscaled api 1 -> 3 replicas (cpu)"
    # before the window: the maintenance redeploy of 09:00 is not in it
    everything = signals.timeline(signals.read_events(client, "app"), ["ours"])
    assert everything[0]["what"] == ("App Platform maintenance redeploy old (App Platform maintenance): SUPERSEDED")


def test_events_that_cannot_be_read_leave_the_verification_to_health():
    client = _client(health=[[_comp("api")]], fail_events=True)
    found, message = signals.verify(client, "app", "ours", SINCE)
    assert message is None and found["timeline"] == [] and "500" in found["events_error"]
    assert signals.events_note(client, "app", SINCE) == ""


def test_the_summary_shows_cpu_memory_and_the_timeline_escaped():
    health = {"status": "healthy", "platform": {"api": {"state": "HEALTHY", "cpu": 5.555, "memory": 20.32,
                                                        "replicas": "1 of 1 replicas ready"}},
              "timeline": [{"at": "2026-12-07T10:00:05Z", "type": "DEPLOYMENT", "deployment_id": "ours",
                            "what": "deployment ours (manual): ACTIVE", "ours": True},
                           {"at": "2026-12-07T10:00:09Z", "type": "AUTOSCALING", "deployment_id": "old",
                            "what": "App Platform autoscaled api 1 -> 3 replicas (<b>cpu</b>)", "ours": False}]}
    data = ds.build("staging", "succeeded", version="1.2.3", health=health)
    text = ds.render(data)
    assert "| api | HEALTHY | 5.6 % | 20.3 % | 1 of 1 replicas ready |" in text
    assert "- `2026-12-07T10:00:05Z` deployment ours (manual): ACTIVE\n" in text
    assert "autoscaled api 1 -\\> 3 replicas (\\<b\\>cpu\\</b\\>) - **not ours**" in text
    assert "App Platform" not in ds.render(ds.build("staging", "succeeded", health={"status": "healthy"}))


def test_drift_reports_events_the_manifest_does_not_record():
    manifest = {"history": [{"environment": "staging", "outcome": "succeeded", "deployment_id": "dep-1",
                             "rolled_back_to": None}],
                "restarts": [{"environment": "staging", "outcome": "succeeded", "deployment_id": "dep-2",
                              "restart_of": "dep-1"}]}
    record = {"deployment_id": "dep-1", "accept": ["dep-1", "dep-2"], "outcome": "succeeded", "services": {}}

    def dep(at, dep_id, cause_type="MANUAL", cloned_from=None, cause="manual"):
        return {"id": "e-" + dep_id, "type": "DEPLOYMENT", "created_at": at, "deployment_id": dep_id,
                "deployment": {"id": dep_id, "cause": cause, "phase": "ACTIVE", "cloned_from": cloned_from,
                               "cause_details": {"type": cause_type}}}
    events = [signals._event(e) for e in [  # newest first
        dep("2026-12-07T10:00:40Z", "dep-5", "MAINTENANCE", cause="App Platform maintenance"),
        {"id": "e-a", "type": "AUTOSCALING", "created_at": "2026-12-07T10:00:30Z", "deployment_id": "dep-2",
         "autoscaling": {"components": {"api": {"from": 1, "to": 2, "triggering_metric": "cpu"}}}},
        dep("2026-12-07T10:00:25Z", "dep-4", "MANUAL_ROLLBACK", cloned_from="dep-1"),  # our rescue's rollback
        dep("2026-12-07T10:00:20Z", "dep-3", cause="manual by someone else"),
        dep("2026-12-07T10:00:10Z", "dep-2"),
        dep("2026-12-07T10:00:00Z", "dep-1"),
        dep("2026-12-07T09:00:00Z", "dep-0"),  # before the recorded deployment: not in the window
    ]]
    findings, entries = drift.event_report(events, manifest, "staging", record, active_id="dep-5")
    assert [f["deployment_id"] for f in findings] == ["dep-3"]  # dep-5 is the active one: the deployment finding
    assert [e["deployment_id"] for e in entries] == ["dep-3", "dep-2", "dep-5"]
    assert [e["type"] for e in entries] == ["DEPLOYMENT", "AUTOSCALING", "DEPLOYMENT"]
    assert entries[2]["what"] == "App Platform maintenance redeploy dep-5 (App Platform maintenance): ACTIVE"
    report = drift.compare({"id": "app", "active_deployment": {"id": "dep-5", "spec": {}}}, {}, record, [],
                           environment="staging", events=events, manifest=manifest)
    text = drift.text_report(report)
    assert "event: deployment dep-3 (manual by someone else): ACTIVE at 2026-12-07T10:00:20Z, not recorded" in text
    assert "App Platform autoscaled api 1 -> 2 replicas (cpu)" in text
    assert drift.compare({"id": "app", "active_deployment": {"id": "dep-2", "spec": {}}}, {}, record, [],
                         environment="staging", events=events[4:], manifest=manifest)["events"] == []


def test_the_production_gate_needs_staging_components_healthy_on_app_platform():
    facts = plan.Facts({"environment": "production", "manifest_path": "m.json"})
    assert gates.staging_platform_healthy(facts) is None  # not a promotion
    facts.staging_proof = True
    facts.staging_platform = signals.read_health(_client(health=[[_comp("api"), _comp("workers", "UNHEALTHY", 0)]]),
                                                 "staging-app")
    refused = gates.staging_platform_healthy(facts)
    assert not refused["ok"] and refused["name"] == "staging components healthy"
    assert "App Platform reports staging's workers: UNHEALTHY, 0 of 1 replicas ready (cpu 5.6%, memory 20.3%)" \
        in refused["detail"]
    facts.staging_platform = facts.staging_platform[:1]
    assert gates.staging_platform_healthy(facts)["ok"]
    # a reading of the right shape that names no component (or no reading at all) proves nothing
    for empty in ([], None):
        facts.staging_platform = empty
        refused = gates.staging_platform_healthy(facts)
        assert not refused["ok"] and "reported no component health for staging" in refused["detail"], refused
    facts.staging_platform_problem = "read the app's component health: the API failed (500)"
    assert "could not be read: read the app's component health" in gates.staging_platform_healthy(facts)["detail"]
