"""Hardening class 5 (issue 26) at the seams of App Platform's own signals (issue 30): every
DigitalOcean API call - the component health and the events timeline a verification, a restart
or maintenance mode reads - ends by the run's deadline (or within UNBOUNDED_CALL_SECONDS without
one) even when the API trickles its answer a byte at a time, each byte within the read timeout;
an archived deployment log is read within its own deadline and only its end is kept. The cut is
said, naming the call (never the token or a query string)."""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._common import deadline
from ansible_collections.tachyon.infra.plugins.module_utils._platform import client as do_client
from ansible_collections.tachyon.infra.plugins.module_utils._platform import deployments, signals
from ansible_collections.tachyon.infra.plugins.module_utils._platform.client import DOApiError

# the trickling server of the class's own test: body or status line and headers, a byte at a time
from test_deadlines import TRICKLE_FOR, trickle  # noqa: F401 pylint: disable=unused-import


def _bounded(seconds):
    assert seconds < TRICKLE_FOR / 2, seconds


@pytest.mark.parametrize("read, path", [(signals.read_health, "/body"), (signals.read_events, "/headers")],
                         ids=["health-body", "events-headers"])
def test_a_trickled_platform_answer_ends_at_the_run_s_deadline(trickle, read, path):  # noqa: F811
    client = do_client.make_client("dop_v1_secret", trickle + path, timeout=5, deadline=time.monotonic() + 1)
    started = time.monotonic()
    with pytest.raises(DOApiError) as err:
        read(client, "app-1")
    _bounded(time.monotonic() - started)
    text = str(err.value)
    assert err.value.deadline and "did not finish within its overall deadline" in text and "the run's timeout" in text
    assert "/v2/apps/app-1/" in text and "dop_v1_secret" not in text and "per_page" not in text


def test_without_a_run_deadline_one_call_still_ends(trickle, monkeypatch):  # noqa: F811
    """app_restart and app_maintenance make their client without a run deadline: each call is
    bounded all the same (UNBOUNDED_CALL_SECONDS, shortened here)."""
    monkeypatch.setattr(do_client, "UNBOUNDED_CALL_SECONDS", 1.0)
    client = do_client.make_client("dop_v1_secret", trickle + "/body", timeout=5)
    started = time.monotonic()
    with pytest.raises(DOApiError) as err:
        signals.read_health(client, "app-1")
    _bounded(time.monotonic() - started)
    assert "overall deadline of 1 s" in str(err.value)
    # read through the verification of a restart or a deploy: said as the platform's health unread
    client = do_client.make_client("dop_v1_secret", trickle + "/headers", timeout=5)
    found, message = signals.verify(client, "app-1", "dep-1", since=0, timeout=0)
    assert found == {} and message.startswith("App Platform's component health could not be read: ")
    assert "overall deadline of 1 s" in message


def test_an_archived_log_is_read_within_its_deadline_and_only_its_end_is_kept(trickle):  # noqa: F811
    started = time.monotonic()
    with pytest.raises(deadline.DeadlineExceeded) as err:
        deployments.fetch_log(trickle + "/body/log?X-Amz-Signature=s3cret", seconds=1)
    _bounded(time.monotonic() - started)
    assert "reading the archived log did not finish within its overall deadline of 1 s" in str(err.value)
    assert "s3cret" not in str(err.value)

    # a log of several MiB: read in chunks, its last bytes kept (the caller wants the last lines)
    lines = b"".join(b"line %07d\n" % i for i in range(300000))

    class Big(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(lines)))
            self.end_headers()
            self.wfile.write(lines)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Big)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        text = deployments.fetch_log("http://127.0.0.1:%d/log" % server.server_address[1], seconds=10, keep=4096)
    finally:
        server.shutdown()
    assert len(text) == 4096 and text.endswith("line 0299999\n") and len(lines) > 3 * 1024 * 1024


class _Huge(BaseHTTPRequestHandler):
    """Answers 200 (or 503 on /fail) with a JSON body of HUGE bytes, as fast as it can."""
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802
        body = b'{"status": "healthy", "pad": "' + b"x" * HUGE + b'"}'
        self.send_response(503 if "fail" in self.path else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


HUGE = 6 * 1024 * 1024


def test_a_huge_health_or_smoke_answer_is_not_read_whole(monkeypatch):
    """The verification a deploy and a restart run (their own /health poll, the smoke checks)
    reads at most deadline.MAX_ANSWER_BYTES of an answer: a fast server sending more within the
    deadline is cut off, said, and never held whole in memory."""
    from ansible_collections.tachyon.infra.plugins.module_utils._platform import health, smoke
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Huge)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % server.server_address[1]
    try:
        payload, problem = health.poll_once(base + "/health", {}, True, 10)
        assert payload is None and "the health request answered more than 4194304 bytes (4 MiB)" in problem
        status, body, problem = smoke.request(base + "/smoke", "GET", 10)
        assert status is None and body is None and "the smoke check request answered more than" in problem
        status, body, problem = smoke.request(base + "/fail", "GET", 10)
        assert status == 503 and body is None and problem is None  # the error's body is not read whole either
        # under the bound, the answer is read as before
        monkeypatch.setattr(deadline, "MAX_ANSWER_BYTES", HUGE + 64)
        monkeypatch.setattr(deadline.read_capped, "__defaults__", (HUGE + 64,))
        payload, problem = health.poll_once(base + "/health", {}, True, 10)
        assert problem is None and payload["status"] == "healthy"
    finally:
        server.shutdown()
