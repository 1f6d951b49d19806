"""plugins/modules/health_check.py against a local http.server whose answers a test scripts.

Time is simulated (injected clock and sleep) so the backoff and timeout paths run instantly;
the HTTP requests are real.
"""
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.tachyon.infra.plugins.modules import health_check
from ansible_collections.tachyon.infra.plugins.modules.health_check import (
    evaluate, version_matches, wait_healthy)

SHA = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"
OLD = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"


def payload(version=SHA, status="healthy", postgres="connected", redis="connected"):
    return {"status": status, "version": version, "timestamp": "2026-01-01T00:00:00.000Z",
            "checks": {"postgres": postgres, "redis": redis}}


class Script(object):
    """Answers in order; the last one repeats. An answer is (http_status, body_dict)."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = 0
        self.lock = threading.Lock()
        self.headers = []

    def next(self, headers):
        with self.lock:
            self.requests += 1
            self.headers.append(dict(headers))
            return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def serve(script, port=0):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server API)
            code, body = script.next(self.headers)
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return server


@pytest.fixture
def server():
    started = []

    def start(answers, port=0):
        script = Script(answers)
        srv = serve(script, port)
        started.append(srv)
        return script, "http://127.0.0.1:%d/health" % srv.server_address[1]

    yield start
    for srv in started:
        srv.shutdown()
        srv.server_close()


class FakeTime(object):
    def __init__(self):
        self.now = 1000.0
        self.sleeps = []
        self.on_sleep = None

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 4))
        self.now += seconds
        if self.on_sleep:
            self.on_sleep(len(self.sleeps))


def poll(url, fake, **kw):
    kw.setdefault("expected_version", SHA)
    # the local server answers at once; 10 s leaves room for a loaded CI machine (a 2 s bound
    # timed out there once: 'connection failed (timed out)' instead of the payload's state)
    kw.setdefault("request_timeout", 10)
    return wait_healthy(url, clock=fake.clock, sleep=fake.sleep, **kw)


def test_becomes_healthy_later_with_backoff_then_confirmation(server):
    script, url = server([(503, {"status": "starting"})] * 4 + [(200, payload())])
    fake = FakeTime()
    result = poll(url, fake, consecutive=2, max_interval=5, confirm_interval=1)
    assert result["ok"] and result["status"] == "healthy"
    assert result["attempts"] == 6 == script.requests
    # four failures back off 0.25 * 1.5^n, then one confirm_interval before the 2nd success
    assert fake.sleeps == [0.25, 0.375, 0.5625, 0.8438, 1.0]


def test_default_intervals_cap_at_half_a_second(server):
    script, url = server([(503, {"status": "starting"})] * 4 + [(200, payload())])
    fake = FakeTime()
    result = poll(url, fake, consecutive=2)
    assert result["ok"] and script.requests == 6
    # backoff capped at the default max_interval, then the default confirm_interval
    assert fake.sleeps == [0.25, 0.375, 0.5, 0.5, 0.25]
    assert result["elapsed"] == pytest.approx(sum(fake.sleeps), abs=1e-3)
    assert result["first_healthy_after"] == pytest.approx(sum(fake.sleeps[:4]), abs=1e-3)
    assert result["payload"]["version"] == SHA


def test_interval_is_capped(server):
    _script, url = server([(503, {})])
    fake = FakeTime()
    result = poll(url, fake, timeout=30, max_interval=2)
    assert not result["ok"]
    assert max(fake.sleeps) == 2 and fake.sleeps.count(2) > 5


def test_stale_version_times_out_naming_both_versions(server):
    _script, url = server([(200, payload(version=OLD[:7]))])
    fake = FakeTime()
    result = poll(url, fake, timeout=20)
    assert not result["ok"]
    assert result["last_state"] == "version was 1a2b3c4, expected %s" % SHA
    assert result["attempts"] > 3 and fake.now - 1000.0 == pytest.approx(20)


def test_unhealthy_check(server):
    _script, url = server([(200, payload(redis="disconnected"))])
    result = poll(url, FakeTime(), timeout=5)
    assert not result["ok"] and result["last_state"] == "checks.redis=disconnected"


def test_missing_check_and_status(server):
    body = payload(status="degraded")
    del body["checks"]["postgres"]
    _script, url = server([(200, body)])
    result = poll(url, FakeTime(), timeout=1)
    assert result["last_state"] == "status=degraded, checks.postgres=missing"


def test_http_503_reported(server):
    _script, url = server([(503, {"status": "unhealthy"})])
    result = poll(url, FakeTime(), timeout=3)
    assert not result["ok"] and result["last_state"] == "HTTP 503"


def test_connection_refused_then_up(server):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens: connection refused until the server starts
    url = "http://127.0.0.1:%d/health" % port
    fake = FakeTime()
    seen = {}

    def start_on_third_sleep(count):
        if count == 3:
            seen["script"], _url = server([(200, payload())], port=port)

    fake.on_sleep = start_on_third_sleep
    result = poll(url, fake)
    assert result["ok"] and result["attempts"] == 5
    assert seen["script"].requests == 2


def test_connection_refused_message(server):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    result = poll("http://127.0.0.1:%d/health" % port, FakeTime(), timeout=2)
    assert not result["ok"] and "refused" in result["last_state"].lower()


def test_consecutive_streak_resets_on_a_bad_poll(server):
    script, url = server([(200, payload()), (200, payload(redis="disconnected")),
                          (200, payload()), (200, payload()), (200, payload())])
    result = poll(url, FakeTime(), consecutive=3)
    assert result["ok"] and script.requests == 5


def test_timeout_while_confirming_says_so(server):
    _script, url = server([(200, payload())])
    result = poll(url, FakeTime(), consecutive=10, timeout=3, confirm_interval=1)
    assert not result["ok"]
    assert result["last_state"].startswith("healthy ") and "10 needed" in result["last_state"]


def test_non_json_body(server):
    script, url = server([(200, "not an object")])
    result = poll(url, FakeTime(), timeout=1)
    assert result["last_state"] == "the response is not a JSON object"


@pytest.mark.parametrize("reported,expected,ok", [
    (SHA, SHA, True), (SHA[:7], SHA, True), (SHA, SHA[:7], True), (SHA.upper(), SHA, True),
    (OLD, SHA, False), (SHA[:6], SHA, False), ("unknown", SHA, False), (None, SHA, False),
    ("v1.2.0", "v1.2.0", True), ("anything", None, True),
])
def test_version_matching(reported, expected, ok):
    assert version_matches(reported, expected) is ok


def test_evaluate_healthy_payload():
    assert evaluate(payload(), SHA, ["postgres", "redis"]) is None
    assert evaluate(payload(), SHA, []) is None


# ----------------------------------------------------------------------------- the module
def run_module(capsys, **args):
    check = args.pop("check", False)
    if check:
        args["_ansible_check_mode"] = True
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        health_check.main()
    return json.loads(capsys.readouterr().out), exc.value.code != 0


def test_module_success_sends_headers_and_reports(server, capsys):
    script, url = server([(200, payload())])
    result, failed = run_module(capsys, url=url, expected_version=SHA[:7], timeout=10, confirm_interval=0.05,
                                headers={"Authorization": "Bearer s3cr3t-value"})
    assert not failed and result["changed"] is False and result["status"] == "healthy"
    assert result["attempts"] == 2 and "elapsed" in result
    assert script.headers[0]["Authorization"] == "Bearer s3cr3t-value"
    assert "s3cr3t-value" not in json.dumps(result)


def test_module_failure_message(server, capsys):
    _script, url = server([(200, payload(version=OLD))])
    # 2 s of 0.1 s polls: at least two attempts even on a loaded machine (0.3 s gave one at load 15)
    result, failed = run_module(capsys, url=url, expected_version=SHA, timeout=2,
                                initial_interval=0.1, max_interval=0.1)
    assert failed
    assert "version was %s, expected %s" % (OLD, SHA) in result["msg"]
    assert result["attempts"] >= 2 and result["last_state"].startswith("version was")


def test_module_runs_in_check_mode_unless_skipped(server, capsys):
    script, url = server([(200, payload())])
    result, failed = run_module(capsys, url=url, consecutive=1, check=True)
    assert not failed and result["status"] == "healthy" and script.requests == 1
    result, failed = run_module(capsys, url=url, check=True, skip_in_check_mode=True)
    assert not failed and result["status"] == "skipped" and script.requests == 1


@pytest.mark.parametrize("args,match", [
    ({"url": "localhost:4000/health"}, "must start with http"),
    ({"url": "http://x/health", "consecutive": 0}, "consecutive must be greater than 0"),
    ({"url": "http://x/health", "backoff": 0.5}, "backoff must be at least 1"),
])
def test_module_rejects_bad_options(capsys, args, match):
    result, failed = run_module(capsys, **args)
    assert failed and match in result["msg"]


def test_module_timeout_says_what_it_waited_for_and_prints_no_query_string(server, capsys):
    _script, url = server([(503, {"status": "unhealthy"})])
    result, failed = run_module(capsys, url=url + "?token=s3cr3t-health-token", expected_version=SHA, timeout=0.3,
                                initial_interval=0.1, max_interval=0.1)
    assert failed
    assert "timed out waiting for status healthy, postgres, redis connected, version %s on 2 polls in a row; " \
        "last state: HTTP 503" % SHA in result["msg"]
    assert result["msg"].startswith(url + " not healthy after 0.3s")
    # (Ansible's own invocation echo repeats the url option as given)
    assert "s3cr3t-health-token" not in json.dumps(dict(result, invocation=None))
