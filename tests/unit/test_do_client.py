"""do_client: bounded pydo retries for reads (429 retry-after, 5xx, dropped connections),
no pipeline retries for writes, error mapping, backoff."""
import http.server
import json
import threading

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils import do_client


class _Handler(http.server.BaseHTTPRequestHandler):
    script = []  # list of (status, headers, body) or "drop"
    seen = []

    def log_message(self, *args):
        pass

    def _answer(self):
        _Handler.seen.append((self.command, self.path, self.headers.get("Authorization")))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        step = _Handler.script.pop(0) if _Handler.script else (200, {}, {"app": {"id": "app-1"}})
        if step == "drop":
            self.close_connection = True
            self.connection.close()
            return
        status, headers, body = step
        data = json.dumps(body).encode()
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = _answer


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    monkeypatch.setattr(do_client, "RETRY_BACKOFF", 0.01)
    monkeypatch.setattr(do_client, "RETRY_BACKOFF_MAX", 0.05)


@pytest.fixture()
def server():
    _Handler.script = []
    _Handler.seen = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % httpd.server_address[1]
    httpd.shutdown()


def client(url):
    return do_client.make_client("dop_v1_" + "0" * 64, url)


def test_get_retries_429_with_retry_after_and_5xx_then_succeeds(server):
    _Handler.script = [
        (429, {"retry-after": "0"}, {"id": "too_many_requests", "message": "slow down"}),
        (503, {}, {"id": "service_unavailable", "message": "x"}),
        "drop",
    ]
    app = do_client.call("get app", client(server).apps.get, "app-1")
    assert app == {"app": {"id": "app-1"}}
    assert [s[0] for s in _Handler.seen] == ["GET"] * 4
    assert _Handler.seen[0][2].startswith("Bearer dop_v1_")


def test_get_retries_are_bounded(server):
    _Handler.script = [(500, {}, {"id": "server_error", "message": "boom"})] * 20
    with pytest.raises(do_client.DOApiError) as err:
        do_client.call("get app", client(server).apps.get, "app-1", _app_id="app-1")
    assert err.value.status == 500 and err.value.retryable and err.value.ambiguous
    assert "get app (app app-1)" in str(err.value) and "boom" in str(err.value)
    assert len(_Handler.seen) == do_client.RETRY_TOTAL + 1


def test_put_without_pipeline_retry_reports_429_with_retry_after(server):
    _Handler.script = [(429, {"retry-after": "3"}, {"id": "too_many_requests", "message": "slow"})]
    with pytest.raises(do_client.DOApiError) as err:
        do_client.call("update app", client(server).apps.update, "app-1", {"spec": {}}, **do_client.NO_RETRY)
    assert err.value.status == 429 and err.value.retry_after == 3.0
    assert len(_Handler.seen) == 1


def test_put_drop_is_ambiguous_and_not_retried(server):
    _Handler.script = ["drop"]
    with pytest.raises(do_client.DOApiError) as err:
        do_client.call("update app", client(server).apps.update, "app-1", {"spec": {}}, **do_client.NO_RETRY)
    assert err.value.ambiguous and err.value.retryable
    assert len(_Handler.seen) == 1


def test_401_and_404_messages_say_what_to_fix(server):
    _Handler.script = [(401, {}, {"id": "unauthorized", "message": "Unable to authenticate you"})]
    with pytest.raises(do_client.DOApiError) as err:
        do_client.call("get app", client(server).apps.get, "app-1")
    assert err.value.status == 401 and "token" in str(err.value)
    _Handler.script = [(404, {}, {"id": "not_found", "message": "app not found"})]
    with pytest.raises(do_client.DOApiError) as err:
        do_client.call("get app", client(server).apps.get, "nope", _app_id="nope")
    assert err.value.status == 404 and "app id" in str(err.value) and "nope" in str(err.value)


def test_unreachable_endpoint_is_a_clear_error():
    with pytest.raises(do_client.DOApiError) as err:
        do_client.call("get app", client("http://127.0.0.1:9").apps.get, "app-1")
    assert "cannot reach" in str(err.value) or "dropped" in str(err.value)


def test_plain_http_only_for_loopback():
    with pytest.raises(do_client.DOApiError) as err:
        do_client.make_client("t", "http://api.example.com")
    assert "https" in str(err.value)
    with pytest.raises(do_client.DOApiError):
        do_client.make_client("t", "ftp://localhost")


def test_no_token_is_refused():
    with pytest.raises(do_client.DOApiError) as err:
        do_client.make_client("", "http://x")
    assert do_client.TOKEN_ENV in str(err.value)


def test_backoff_is_bounded_exponential_and_sleep_until_respects_deadline():
    backoff = do_client.Backoff(first=0.25, cap=2)
    assert [backoff.next() for _ in range(6)] == [0.25, 0.5, 1.0, 2, 2, 2]
    slept = []
    clock = iter([10.0, 10.0]).__next__
    assert do_client.sleep_until(10.5, 3, clock=clock, sleep=slept.append) is True
    assert slept == [0.5]
    assert do_client.sleep_until(9.0, 3, clock=lambda: 10.0, sleep=slept.append) is False
