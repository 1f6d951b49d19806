"""Hardening class 2 (issue 26) at the seams of App Platform's own signals (issue 30): whatever
GET /v2/apps/{id}/health and GET /v2/apps/{id}/events answer - garbage of another shape (App
Platform or a proxy before it), an empty reading - the verification of a deploy or a restart
never crashes (a module traceback: no went_live, so no rollback, and no word of what the app runs)
and never passes on it: health it cannot read fails the verification naming the call; no
component at all is waited out like UNKNOWN, then said; events it cannot read leave the timeline
empty and say so (the timeline is optional), with the health still decided."""
import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._platform import signals

HEALTHY = {"app_health": {"components": [{"name": "api", "state": "HEALTHY", "replicas_desired": 1,
                                          "replicas_ready": 1}]}}


class _Apps(object):
    def __init__(self, health, events):
        self.health = health
        self.events = events
        self.reads = 0

    def get_health(self, app_id):
        self.reads += 1
        return self.health

    def list_events(self, app_id, page=1, per_page=20):
        return self.events


def _verify(health, events=None, timeout=0):
    client = type("Client", (), {})()
    client.apps = _Apps(health, {"events": []} if events is None else events)
    clock = [0.0]

    def sleep(seconds):
        clock[0] += seconds

    found, message = signals.verify(client, "app-1", "dep-1", since=0, timeout=timeout, clock=lambda: clock[0],
                                    sleep=sleep)
    return found, message, client.apps.reads


@pytest.mark.parametrize("health", [["api"], "HEALTHY", 5, {}, {"app_health": "HEALTHY"},
                                    {"app_health": {"components": "api"}}, {"app_health": {"components": {"api": 1}}}],
                         ids=["a-list", "a-string", "a-number", "empty-object", "app-health-a-string",
                              "components-a-string", "components-a-mapping"])
def test_health_of_another_shape_fails_the_verification_naming_the_call(health):
    found, message, _reads = _verify(health)
    assert found == {}
    assert message.startswith("App Platform's component health could not be read: read the app's component health: "
                              "the answer is not {app_health: {components: [...]}}"), message


@pytest.mark.parametrize("health", [{"app_health": {"components": []}}, {"app_health": {}},
                                    {"app_health": {"components": [{"name": {"x": 1}, "state": "HEALTHY"}, 7]}}],
                         ids=["no-components", "no-components-key", "no-readable-component"])
def test_no_component_at_all_is_waited_out_then_said_never_taken_for_healthy(health):
    _found, message, reads = _verify(health, timeout=3)
    assert reads > 1  # waited for a reading, like UNKNOWN
    assert message and "App Platform reports no component's health (an empty answer)" in message, message


@pytest.mark.parametrize("events", [["x"], {"events": "abc"}, {"events": {"e": 1}}],
                         ids=["a-list", "events-a-string", "events-a-mapping"])
def test_events_of_another_shape_leave_the_timeline_empty_and_say_so(events):
    found, message, _reads = _verify(HEALTHY, events)
    assert message is None and found["timeline"] == []
    assert "list the app's events: the answer is not {events: [...]}" in found["events_error"]


@pytest.mark.parametrize("event", [1, None, "x", {"type": "AUTOSCALING", "autoscaling": {"components": "api"}},
                                   {"deployment": {"cause_details": "MANUAL", "phase": 5}, "created_at": 5},
                                   {"deployment": "dep", "deployment_id": ["d"], "type": {"t": 1}}],
                         ids=["a-number", "null", "a-string", "autoscaling-components-a-string",
                              "cause-details-a-string", "fields-of-other-types"])
def test_an_event_of_another_shape_is_skipped_or_read_as_far_as_it_goes(event):
    found, message, _reads = _verify(HEALTHY, {"events": [event, {
        "id": "e1", "type": "DEPLOYMENT", "created_at": "2026-12-07T10:00:05Z", "deployment_id": "dep-1",
        "deployment": {"id": "dep-1", "phase": "ACTIVE", "cause_details": {"type": "MANUAL"}}}]})
    assert message is None and "events_error" not in found
    assert [e["deployment_id"] for e in found["timeline"] if e["ours"]] == ["dep-1"]
    for entry in found["timeline"]:
        assert isinstance(entry["what"], str) and (entry["at"] is None or isinstance(entry["at"], str))
