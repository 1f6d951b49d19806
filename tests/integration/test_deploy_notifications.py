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

HOOK_PATH_SECRET = "T0SINK/B0SINK/hook-path-secret-9c1e"
HOOK_QUERY_SECRET = "sink-query-secret-41aa"


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
    with playbook_run(tmp_path, monkeypatch) as run, sink() as (port, received):
        hooks = {"tachyon_notify_webhooks": webhooks(port)}
        rc, out = run.deploy(extra=hooks)
        assert rc == 0, out
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


def test_with_the_sink_down_the_deploy_succeeds_with_a_warning(tmp_path, monkeypatch):
    with playbook_run(tmp_path, monkeypatch) as run:
        hooks = [{"name": "team", "url": "http://127.0.0.1:%d/hook?token=%s" % (free_port(), HOOK_QUERY_SECRET)}]
        rc, out = run.deploy(extra={"tachyon_notify_webhooks": hooks})
        assert rc == 0, out[-3000:]
        assert "notification started to team not delivered after 3 attempt(s)" in out
        assert "notification succeeded to team not delivered" in out
        assert_no_secret(run, out)
        assert run.manifest_data()["environments"]["staging"]["deployment_id"]
