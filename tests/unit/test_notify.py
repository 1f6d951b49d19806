"""plugins/module_utils/_notify/webhooks.py: payload shapes (generic JSON, Slack-compatible), event
filters, bounded retries, and no webhook URL or secret in a payload or a result."""
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.tachyon.infra.plugins.module_utils._notify import webhooks as notify
from ansible_collections.tachyon.infra.plugins.modules import notify as notify_module

SERVICES = {"tachyon-api": {"sha": "4a091424887308027935eb247097d4ffd77c8f99", "tag": "4a09142", "digest": None},
            "tachyon-workers": "2f9e050447ffe25d88c4035db2d4bb3f9987b7ff"}
HOOK_SECRET = "T000/B000/XXXXsecretpath"  # pragma: allowlist secret
HOOKS = [{"url": "https://hooks.slack.com/services/" + HOOK_SECRET, "format": "slack", "events": ["failed"]},
         {"url": "https://events.example.com/in?token=qs-secret-1", "format": "json", "name": "events"}]


def data(event="failed", **kw):
    args = dict(release="0.2.0", services=SERVICES, deployed_by="alice", approved_by="bob",
                deployment_id="dep-1", duration=12.345,
                run_url="https://github.com/o/r/actions/runs/7?check_suite_focus=true&token=abc",
                app_url="https://tachyon.ondigitalocean.app/?token=live-secret",
                message="deploy failed: see https://logs.example.com/x?X-Amz-Signature=deadbeef and "
                        "dop_v1_" + "a" * 64)
    args.update(kw)
    return notify.event_data(event, "production", **args)


def test_generic_payload_carries_the_facts_and_no_credentials():
    payload = data()
    assert {k: payload[k] for k in ("source", "event", "outcome", "environment", "release", "deployed_by",
                                    "approved_by", "deployment_id", "duration_seconds")} == {
        "source": "tachyon-infra", "event": "failed", "outcome": "failure", "environment": "production",
        "release": "0.2.0", "deployed_by": "alice", "approved_by": "bob", "deployment_id": "dep-1",
        "duration_seconds": 12.3}
    assert payload["shas"] == {"tachyon-api": SERVICES["tachyon-api"]["sha"], "tachyon-workers": SERVICES["tachyon-workers"]}
    assert payload["run_url"] == "https://github.com/o/r/actions/runs/7"
    assert payload["app_url"] == "https://tachyon.ondigitalocean.app/"
    text = json.dumps(payload)
    for secret in ("token=abc", "live-secret", "deadbeef", "dop_v1_a"):
        assert secret not in text


def test_slack_payload_has_a_text_fallback_and_blocks():
    slack = notify.slack_payload(data())
    assert slack["text"].startswith(":x: production: deploy FAILED (release 0.2.0)")
    fields = [f["text"] for b in slack["blocks"] if b["type"] == "section" for f in b.get("fields", [])]
    assert "*Approved by*\nbob" in fields and any("tachyon-api `4a0914248873`" in f for f in fields)
    context = [b for b in slack["blocks"] if b["type"] == "context"][0]["elements"][0]["text"]
    assert context == "<https://github.com/o/r/actions/runs/7|Run> | <https://tachyon.ondigitalocean.app/|App>"
    json.dumps(slack)


@pytest.mark.parametrize("event", notify.EVENTS)
def test_every_event_has_a_payload(event):
    slack = notify.slack_payload(data(event))
    assert notify.OUTCOME[event] and slack["text"]


def test_each_webhook_gets_its_format_and_only_its_events():
    calls = []

    def post(url, body):
        calls.append((url, body))
        return 200, None

    sent, failed = notify.deliver(HOOKS, "failed", data(), post, sleep=lambda s: None)
    assert [c[1].get("event", "slack") for c in calls] == ["slack", "failed"]
    assert "blocks" in calls[0][1] and calls[1][1]["source"] == "tachyon-infra"
    assert sent == [{"webhook": "webhook #1 (hooks.slack.com)", "attempts": 1, "status": 200},
                    {"webhook": "events", "attempts": 1, "status": 200}] and failed == []
    calls[:] = []
    sent, failed = notify.deliver(HOOKS, "succeeded", data("succeeded"), post)
    assert [c[0] for c in calls] == [HOOKS[1]["url"]]


def test_retries_are_bounded_and_failures_never_name_the_url():
    attempts, sleeps = [], []

    def down(url, body):
        attempts.append(url)
        return None, "Request failed: <urlopen error [Errno 111] Connection refused> " + url

    sent, failed = notify.deliver(HOOKS, "failed", data(), down, sleep=sleeps.append)
    assert len(attempts) == 6 and sleeps == [0.5, 1.0, 0.5, 1.0] and sent == []
    assert [f["attempts"] for f in failed] == [3, 3]
    text = json.dumps(failed)
    assert HOOK_SECRET not in text and "qs-secret-1" not in text and "hooks.slack.com/services" not in text
    assert "Connection refused" in text


def test_a_4xx_is_not_retried_and_an_exception_is_a_failure_not_a_crash():
    seen = []

    def gone(url, body):
        seen.append(url)
        if "slack" in url:
            return 404, None
        raise RuntimeError("boom " + url)

    sent, failed = notify.deliver(HOOKS, "failed", data(), gone, sleep=lambda s: None)
    assert seen.count(HOOKS[0]["url"]) == 1 and seen.count(HOOKS[1]["url"]) == 3
    assert failed == [{"webhook": "webhook #1 (hooks.slack.com)", "attempts": 1, "error": "HTTP 404"},
                      {"webhook": "events", "attempts": 3, "error": "RuntimeError"}]


# ----------------------------------------------------------------------------- the module
def run_notify(capsys, **args):
    with patch_module_args(dict(dict(webhooks=HOOKS, event="failed", environment="production",
                                     _ansible_check_mode=True), **args)), pytest.raises(SystemExit) as exc:
        notify_module.main()
    return json.loads(capsys.readouterr().out), exc.value.code != 0


def test_module_check_mode_returns_the_payload_and_sends_nothing(capsys):
    result, failed = run_notify(capsys, release="0.2.0", deployed_by="alice")
    assert not failed and result["sent"] == [] and result["payload"]["deployed_by"] == "alice"


@pytest.mark.parametrize("option", notify_module.TEXT_OPTIONS)
def test_module_refuses_a_list_where_one_string_belongs(capsys, option):
    # type str would have sent the text "['alice', 'bob']"
    result, failed = run_notify(capsys, **{option: ["alice", "bob"]})
    assert failed and result["msg"].startswith("argument '%s' is of type list" % option)
    assert "one string" in result["msg"] and "payload" not in result
