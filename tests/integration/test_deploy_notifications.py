"""Deploy notifications against a local HTTP sink on 127.0.0.1: the sink receives started and
succeeded (generic JSON and Slack-compatible), rolled_back after a failed health check, and
drift_found from the drift report; with the sink down the deploy still succeeds with a warning;
no payload and no output carries a secret value, the token or a webhook URL's secret parts."""
import contextlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from playbook_run import NEXT, RELEASE, playbook_run

HOOK_PATH_SECRET = "T0SINK/B0SINK/hook-path-secret-9c1e"  # pragma: allowlist secret
HOOK_QUERY_SECRET = "sink-query-secret-41aa"  # pragma: allowlist secret


@contextlib.contextmanager
def sink():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append({"path": self.path, "type": self.headers.get("Content-Type"), "body": json.loads(body)})
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()
        server.server_close()


# GitHub's REST API for deployments as its description states it (github/rest-api-description,
# operations repos/create-deployment and repos/create-deployment-status): POST .../deployments
# needs `ref` and answers 201 with the deployment; POST .../deployments/{id}/statuses needs a
# `state` of the enum and answers 201 with the status.
STATUS_STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")


@contextlib.contextmanager
def fake_github(token):
    calls = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            calls.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization"),
                          "version": self.headers.get("X-GitHub-Api-Version")})
            parts = self.path.strip("/").split("/")
            ok = self.headers.get("Authorization") == "Bearer " + token
            if ok and parts[:1] == ["repos"] and parts[3:] == ["deployments"] and body.get("ref"):
                answer = {"id": 1000 + len(calls), "ref": body["ref"], "environment": body.get("environment")}
            elif ok and parts[3:4] == ["deployments"] and parts[5:] == ["statuses"] and body.get("state") in STATUS_STATES:
                answer = {"id": 2000 + len(calls), "state": body["state"]}
            else:
                self.send_response(422 if ok else 401)
                self.end_headers()
                self.wfile.write(b'{"message": "Validation Failed"}')
                return
            data = json.dumps(answer).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield "http://127.0.0.1:%d" % server.server_address[1], calls
    finally:
        server.shutdown()
        server.server_close()


def webhooks(port):
    base = "http://127.0.0.1:%d" % port
    return [{"name": "events", "url": "%s/json?token=%s" % (base, HOOK_QUERY_SECRET), "format": "json"},
            {"url": "%s/slack/%s" % (base, HOOK_PATH_SECRET), "format": "slack",
             "events": ["succeeded", "failed", "rolled_back", "drift_found"]}]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_no_secret(run, text):
    for secret in list(run.secrets.values()) + [run.token, HOOK_PATH_SECRET, HOOK_QUERY_SECRET]:
        assert secret not in text


def test_deploy_notifications_reach_the_sink_without_secrets(tmp_path, monkeypatch):
    gh_token = "ghs_" + "Q7" * 18
    with playbook_run(tmp_path, monkeypatch) as run, sink() as (port, received), fake_github(gh_token) as (api, gh):
        run.env.update(GITHUB_API_URL=api, GITHUB_TOKEN=gh_token, GITHUB_REPOSITORY="tachyonapp/tachyon-infra",
                       GITHUB_SHA="e" * 40, GITHUB_SERVER_URL="https://github.com", GITHUB_RUN_ID="77")
        hooks = {"tachyon_notify_webhooks": webhooks(port), "tachyon_github_deployments": True}
        rc, out = run.deploy(extra=hooks)
        assert rc == 0, out
        # GitHub: one deployment of the run's commit in staging, in_progress then success with the app's URL
        assert [c["path"] for c in gh] == ["/repos/tachyonapp/tachyon-infra/deployments",
                                           "/repos/tachyonapp/tachyon-infra/deployments/1001/statuses",
                                           "/repos/tachyonapp/tachyon-infra/deployments/1001/statuses"]
        assert {k: gh[0]["body"][k] for k in ("ref", "environment", "auto_merge", "required_contexts")} == {
            "ref": "e" * 40, "environment": "staging", "auto_merge": False, "required_contexts": []}
        assert [c["body"]["state"] for c in gh[1:]] == ["in_progress", "success"]
        assert gh[2]["body"]["environment_url"].startswith(run.emu.url + "/_live/")
        assert gh[2]["body"]["log_url"] == "https://github.com/tachyonapp/tachyon-infra/actions/runs/77"
        assert all(c["version"] == "2022-11-28" for c in gh)
        # the slack webhook does not subscribe to started
        assert [(r["path"].split("/")[1].split("?")[0], r["body"].get("event")) for r in received] == [
            ("json", "started"), ("json", "succeeded"), ("slack", None)]
        started, succeeded, slack = (r["body"] for r in received)
        assert received[0]["type"] == "application/json"
        manifest = run.manifest_data()["environments"]["staging"]
        assert started["event"] == "started" and started["outcome"] == "in_progress"
        assert {k: succeeded[k] for k in ("event", "outcome", "environment", "release", "deployed_by",
                                          "deployment_id", "shas")} == {
            "event": "succeeded", "outcome": "success", "environment": "staging", "release": "0.1.0",
            "deployed_by": "tester", "deployment_id": manifest["deployment_id"], "shas": RELEASE}
        assert succeeded["duration_seconds"] > 0 and succeeded["app_url"].startswith(run.emu.url)
        assert slack["text"].startswith(":white_check_mark: staging: deployed (release 0.1.0)")

        # health never verifies: the deploy rolls back and says so
        run.emu.set_faults([{"kind": "health", "mode": "unhealthy"}])
        received[:] = []
        rc, out = run.deploy(NEXT, extra=hooks)
        assert rc != 0 and "Rolled back" in out, out[-3000:]
        run.emu.clear_faults()
        assert [r["body"].get("event") for r in received if r["path"].startswith("/json")] == ["started", "rolled_back"]
        rolled = [r["body"] for r in received if r["path"].startswith("/json")][1]
        assert rolled["outcome"] == "rolled_back" and "health" in rolled["message"].lower()
        assert [r["body"]["text"].split(" ")[0] for r in received if r["path"].startswith("/slack")] == [":rewind:"]
        assert [c["body"].get("state") for c in gh[3:]] == [None, "in_progress", "failure"]

        # drift found: one more event
        client = run.client()
        spec = client.apps.get(run.app_id)["app"]["active_deployment"]["spec"]
        spec["services"][0]["instance_count"] = 3
        client.apps.update(run.app_id, {"spec": spec})
        received[:] = []
        rc, out_drift = run.playbook("drift.yml", extra=hooks)
        assert rc == 2, out_drift
        drift = [r["body"] for r in received if r["path"].startswith("/json")]
        assert [d["event"] for d in drift] == ["drift_found"] and "instance_count" in drift[0]["message"]
        assert_no_secret(run, out + out_drift + json.dumps([r["body"] for r in received]))
        assert gh_token not in out + json.dumps([c["body"] for c in gh])


def test_with_the_sink_down_the_deploy_succeeds_with_a_warning(tmp_path, monkeypatch):
    with playbook_run(tmp_path, monkeypatch) as run:
        hooks = [{"name": "team", "url": "http://127.0.0.1:%d/hook?token=%s" % (free_port(), HOOK_QUERY_SECRET)}]
        rc, out = run.deploy(extra={"tachyon_notify_webhooks": hooks})
        assert rc == 0, out[-3000:]
        assert "notification started to team not delivered after 3 attempt(s)" in out
        assert "notification succeeded to team not delivered" in out
        assert_no_secret(run, out)
        assert run.manifest_data()["environments"]["staging"]["deployment_id"]


def test_a_freeze_is_notified_with_its_reason(tmp_path, monkeypatch):
    with playbook_run(tmp_path, monkeypatch) as run, sink() as (port, received):
        hooks = {"tachyon_notify_webhooks": webhooks(port)}
        rc, out = run.playbook("lock.yml", extra=dict(hooks, lock_action="acquire", lock_reason="incident 9"))
        assert rc == 0, out[-3000:]
        events = [(r["path"].split("/")[1].split("?")[0], r["body"].get("event")) for r in received]
        # the slack webhook subscribes to other events only
        assert events == [("json", "frozen")], events
        frozen = received[0]["body"]
        assert frozen["environment"] == "staging" and frozen["message"] == "incident 9"
        received[:] = []
        rc, out_release = run.playbook("lock.yml", extra=dict(hooks, lock_action="release"))
        assert rc == 0 and received == [], out_release[-3000:]
        assert_no_secret(run, out + out_release + json.dumps([r["body"] for r in received]))
