"""do_client: bounded pydo retries for reads (429 retry-after, 5xx, dropped connections),
no pipeline retries for writes, error mapping, backoff."""
import http.server
import time
import json
import threading

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._platform import client as do_client


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
    assert [backoff.next() for _attempt in range(6)] == [0.25, 0.5, 1.0, 2, 2, 2]
    slept = []
    clock = iter([10.0, 10.0]).__next__
    assert do_client.sleep_until(10.5, 3, clock=clock, sleep=slept.append) is True
    assert slept == [0.5]
    assert do_client.sleep_until(9.0, 3, clock=lambda: 10.0, sleep=slept.append) is False


# --------------------------------------------------------------------------- rate limits and the deadline
def _deadline_client(url, seconds):
    c = client(url)
    do_client.set_deadline(c, time.monotonic() + seconds)
    return c


def test_429_without_retry_after_waits_until_ratelimit_reset(server):
    """DigitalOcean's hourly limit sends no Retry-After, only ratelimit-reset (epoch seconds)."""
    reset = int(time.time()) + 2
    _Handler.script = [(429, {"ratelimit-limit": "5000", "ratelimit-remaining": "0", "ratelimit-reset": str(reset)},
                        {"id": "too_many_requests", "message": "API rate limit exceeded."})]
    started = time.monotonic()
    app = do_client.call("get app", _deadline_client(server, 30).apps.get, "app-1")
    assert app == {"app": {"id": "app-1"}} and len(_Handler.seen) == 2
    assert time.time() >= reset - 0.05 and time.monotonic() - started < 4


def test_429s_are_retried_beyond_the_retry_count_while_the_deadline_allows(server):
    _Handler.script = [(429, {"retry-after": "0"}, {"id": "too_many_requests", "message": "slow"})] * 12
    app = do_client.call("get app", _deadline_client(server, 30).apps.get, "app-1")
    assert app == {"app": {"id": "app-1"}} and len(_Handler.seen) == 13 > do_client.RETRY_TOTAL + 1


def test_a_wait_past_the_deadline_is_not_slept(server):
    _Handler.script = [(429, {"retry-after": "60"}, {"id": "too_many_requests", "message": "API rate limit exceeded."})] * 3
    started = time.monotonic()
    with pytest.raises(do_client.DOApiError) as err:
        do_client.call("get app", _deadline_client(server, 5).apps.get, "app-1")
    assert time.monotonic() - started < 1 and len(_Handler.seen) == 1
    assert err.value.status == 429 and err.value.retry_after == 60
    assert err.value.waiting_for == "the API's rate limit (429 with retry-after 60s)"


def test_hourly_429_beyond_the_deadline_names_the_reset_time(server):
    reset = int(time.time()) + 1800
    _Handler.script = [(429, {"ratelimit-remaining": "0", "ratelimit-reset": str(reset)},
                        {"id": "too_many_requests", "message": "API rate limit exceeded."})]
    with pytest.raises(do_client.DOApiError) as err:
        do_client.call("get app", _deadline_client(server, 5).apps.get, "app-1")
    assert "hourly rate limit (429 without retry-after; ratelimit-reset at %s UTC" % \
        time.strftime("%H:%M:%S", time.gmtime(reset)) in str(err.value)
    assert 1795 <= err.value.retry_after <= 1800


def test_no_request_starts_after_the_deadline(server):
    with pytest.raises(do_client.DOApiError) as err:
        do_client.call("get app", _deadline_client(server, -1).apps.get, "app-1")
    assert err.value.deadline and "timeout was reached before GET" in str(err.value)
    assert _Handler.seen == []


def test_cleanup_window_lets_one_request_through_after_the_deadline(server):
    c = _deadline_client(server, -1)
    with do_client.cleanup_window(c, seconds=5):
        assert do_client.call("cancel", c.apps.get, "app-1") == {"app": {"id": "app-1"}}
    with pytest.raises(do_client.DOApiError):
        do_client.call("get app", c.apps.get, "app-1")


def test_retry_after_as_http_date_and_missing_headers():
    now = 1_700_000_000.0
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now + 30))
    assert do_client.rate_limit_wait({"retry-after": date}, now)[0] == pytest.approx(30)
    assert do_client.rate_limit_wait({"Retry-After": "7"}, now)[0] == 7
    assert do_client.rate_limit_wait({"ratelimit-reset": str(int(now) + 90)}, now)[0] == 90
    assert do_client.rate_limit_wait({}, now)[0] is None


def test_error_messages_carry_no_query_string_or_token(server):
    _Handler.script = [(400, {}, {"id": "bad_request",
                                  "message": "bad log URL https://logs.example/x?X-Amz-Signature=abc123&token=t0k " +
                                             "for dop_v1_" + "a" * 64})]
    with pytest.raises(do_client.DOApiError) as err:
        do_client.call("get logs", client(server).apps.get, "app-1")
    text = str(err.value)
    assert "https://logs.example/x" in text and "abc123" not in text and "t0k" not in text and "a" * 64 not in text
