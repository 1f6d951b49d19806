"""Hardening class 5 (issue 26): every outbound request has an overall deadline
(module_utils/_common/deadline.py), not only a per-read timeout, and the message names it when
it is hit. A server that trickles its answer - each byte well within the read timeout - is cut
off at the deadline: the issue's example was a webhook; here also the GitHub API, the registry
(its manifest request, and its token service), the health poll and a smoke check, with the
answer trickled in the body and in the headers."""
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.tachyon.infra.plugins.module_utils._common import deadline
from ansible_collections.tachyon.infra.plugins.module_utils._platform import health, smoke
from ansible_collections.tachyon.infra.plugins.module_utils._release import registry
from ansible_collections.tachyon.infra.plugins.modules import github_deployment as github_module
from ansible_collections.tachyon.infra.plugins.modules import notify as notify_module
# imported at collection time as well (the imports inside tests then find them in sys.modules): a
# plugin first imported after a test made ansible install its collection finder fails "collection
# metadata was not loaded" (order-dependent under xdist)
from ansible_collections.tachyon.infra.plugins.modules import deploy_summary, image_digest

TRICKLE_FOR = 60.0  # how long the server would keep answering: far past every deadline below
BYTE_EVERY = 0.2    # one byte this often: well within any per-read timeout


class Trickle(BaseHTTPRequestHandler):
    """Answers every request one byte at a time: in the body (/body...) or already in the status
    line and headers (/headers...)."""
    protocol_version = "HTTP/1.1"

    def _drip(self, data):
        end = time.monotonic() + TRICKLE_FOR
        for byte in data:
            if time.monotonic() > end:
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(BYTE_EVERY)

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = b" " * int(TRICKLE_FOR / BYTE_EVERY) + b"{}"
        head = ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDocker-Content-Digest: sha256:%s\r\n"
                "Content-Length: %d\r\n\r\n" % ("0" * 64, len(body))).encode()
        try:
            if "/auth/" in self.path:
                # a registry asking for a token from a token service that trickles
                realm = "http://127.0.0.1:%d/body/token" % self.server.server_address[1]
                self.wfile.write(("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"%s\",service=x\r\n"
                                  "Content-Length: 0\r\n\r\n" % realm).encode())
                return
            if "headers" in self.path:
                self._drip(head + body)
            else:
                self.wfile.write(head)
                self._drip(body)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass  # the client gave up: what the deadline is for

    do_GET = do_POST = do_HEAD = _answer

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def trickle():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()


def _bounded(seconds):
    """Far below TRICKLE_FOR: the request was cut off, it did not run to the end."""
    assert seconds < TRICKLE_FOR / 2, seconds


@pytest.mark.parametrize("path", ["/body", "/headers"])
def test_a_webhook_that_trickles_is_cut_off_at_the_deadline(trickle, capsys, path):
    started = time.monotonic()
    with patch_module_args(dict(webhooks=[{"url": trickle + path + "?token=s3cret", "format": "json", "name": "ops"}],
                                event="failed", environment="staging", timeout=1)), pytest.raises(SystemExit):
        notify_module.main()
    result = json.loads(capsys.readouterr().out)
    _bounded(time.monotonic() - started)
    assert result["sent"] == [] and len(result["failed"]) == 1
    error = result["failed"][0]["error"]
    assert "overall deadline of 1 s" in error and "timeout option" in error and "s3cret" not in error


@pytest.mark.parametrize("path", ["/body", "/headers"])
def test_a_github_api_that_trickles_fails_naming_the_deadline(trickle, capsys, path):
    started = time.monotonic()
    with patch_module_args(dict(repo="o/r", token="ghs_x", state="in_progress", environment="staging", ref="main",
                                api_url=trickle + path, timeout=1)), pytest.raises(SystemExit):
        github_module.main()
    result = json.loads(capsys.readouterr().out)
    _bounded(time.monotonic() - started)
    assert result.get("failed") and "overall deadline of 1 s" in result["msg"], result


@pytest.mark.parametrize("path", ["/headers", "/auth"])
def test_a_registry_that_trickles_fails_naming_the_deadline(trickle, path):
    resolver = registry.Resolver(endpoints={"ghcr.io": trickle + path}, timeout=1)
    started = time.monotonic()
    with pytest.raises(registry.RegistryError) as err:
        resolver.resolve("ghcr.io/tachyonapp/tachyon-api", "abc1234")
    _bounded(time.monotonic() - started)
    assert "overall deadline of 1 s" in str(err.value)


def test_the_health_poll_and_a_smoke_check_are_cut_off_too(trickle):
    started = time.monotonic()
    payload, problem = health.poll_once(trickle + "/body/health", {}, True, 1)
    assert payload is None and "overall deadline of 1 s" in problem
    status, _body, problem = smoke.request(trickle + "/headers/smoke", "GET", 1)
    assert status is None and "overall deadline of 1 s" in problem
    _bounded(time.monotonic() - started)


def test_the_deadline_passes_results_and_errors_through():
    assert deadline.call(lambda: 42, 1, "x") == 42
    with pytest.raises(KeyError):
        deadline.call(lambda: {}["missing"], 1, "x")
    with pytest.raises(deadline.DeadlineExceeded) as err:
        deadline.call(lambda: time.sleep(5), 0.2, "the thing", "its option")
    assert "the thing did not finish within its overall deadline of 0.2 s (its option)" in str(err.value)


def test_defaults_are_at_most_ten_seconds():
    import inspect
    for module in (notify_module, github_module, image_digest):
        source = inspect.getsource(module.main)
        timeout = [line for line in source.splitlines() if "timeout=dict(" in line]
        assert timeout and float(timeout[0].split("default=")[1].split(")")[0]) <= 10, module.__name__
    assert registry.Resolver().timeout <= 10


# ------------------------------------------------------------------- job summaries under 1 MiB
def _notes_with(commits, subject="feat: a change that is long enough to fill a row of the table"):
    from ansible_collections.tachyon.infra.plugins.module_utils._release import notes as rn
    rows = [{"sha": "%040x" % i, "short_sha": ("%040x" % i)[:7], "author": "dev %d" % i, "date": "2026-01-01T00:00:00Z",
             "subject": "%s %d" % (subject, i), "pull_requests": []} for i in range(commits)]
    svc = {"service": "api", "status": "changed", "from_sha": "b" * 40, "to_sha": "a" * 40, "commits": rows,
           "removed_commits": [], "migration_files": [], "migrations_changed": None, "error": None}
    side = {"label": "release", "version": "1.0.0", "source": "test"}
    return rn.render_markdown({"from": side, "to": dict(side, version="1.1.0"), "services": [svc],
                               "changed_services": ["api"], "commit_count": commits, "migrations_changed": False,
                               "carries_migration": {"carries": False, "reason": ""}, "errors": []})


@pytest.mark.parametrize("commits,already", [(10000, 0), (30000, 0), (6000, 600 * 1024)])
def test_a_job_summary_is_capped_under_github_s_limit_saying_so(tmp_path, capsys, commits, already):
    notes = tmp_path / "notes.md"
    notes.write_text(_notes_with(commits))
    step = tmp_path / "step_summary.md"
    step.write_text("x" * (already - 1) + "\n" if already else "")
    with patch_module_args(dict(environment="production", outcome="succeeded", version="1.1.0",
                                release_notes_path=str(notes), path=str(step))), pytest.raises(SystemExit):
        deploy_summary.main()
    result = json.loads(capsys.readouterr().out)
    size = step.stat().st_size
    assert size < 1024 * 1024, size
    text = step.read_text()[already:]
    assert "Summary cut" in text and str(step) + ".full.md" in text
    assert result["cut"]["total_bytes"] > result["cut"]["kept_bytes"]
    full = (tmp_path / "step_summary.md.full.md").read_text()
    assert full.count("| `") >= commits  # every commit row is in the artifact
    # the cut is at a line: every table row that is shown is whole
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert rows and all(line.endswith(" |") for line in rows)


def test_a_summary_that_fits_is_written_whole(tmp_path, capsys):
    step = tmp_path / "step_summary.md"
    with patch_module_args(dict(environment="staging", outcome="failed", path=str(step))), pytest.raises(SystemExit):
        deploy_summary.main()
    result = json.loads(capsys.readouterr().out)
    assert result["cut"] is None and "Summary cut" not in step.read_text()
