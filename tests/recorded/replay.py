"""A local replay server for the recorded DigitalOcean App Platform responses.

It answers the product's own pydo calls (the modules and module_utils, unchanged) with the
bodies DigitalOcean published (tests/recorded/fixtures/, owned by the recording helper; cases
they lack live in tests/recorded/replay_fixtures/, each with its source). It is not the
emulator: it has no behaviour of its own, it only plays the answers a test lines up:

    with ReplayServer() as api:
        api.route("GET", "/v2/apps/{id}", case("app_get_after_failed_deployment"))
        api.route("PUT", "/v2/apps/{id}", case("app_update_put_response"))
        api.route("GET", "/v2/apps/{app_id}/deployments/{deployment_id}",
                  case("deployment_pending_build"), case("deployment_active_image"))
        result = run_module(app_deploy, app_id=..., api_endpoint=api.url, ...)
        assert api.calls("PUT") ...

Answers of a route are played in order; the last one repeats. An answer is a fixture case
(``case(name)``) or a dict ``{status, headers, body}``; ``headers`` values may be callables
(evaluated per request, e.g. a ``ratelimit-reset`` relative to now). Unrouted requests get
DigitalOcean's 404 body (fixtures/error_not_found.json). Every request is recorded
(method, path, query, JSON body, Authorization header).
"""
import copy
import json
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
REPLAY_FIXTURES = os.path.join(HERE, "replay_fixtures")
TOKEN = "dop_v1_" + "5" * 64


def load_case(name):
    """The fixture file ``name`` (without .json): fixtures/ first, then replay_fixtures/."""
    for folder in (FIXTURES, REPLAY_FIXTURES):
        path = os.path.join(folder, name + ".json")
        if os.path.exists(path):
            with open(path) as handle:
                data = json.load(handle)
            assert data.get("_source"), "%s has no _source" % path
            return data
    raise FileNotFoundError("no recorded case %s in %s or %s" % (name, FIXTURES, REPLAY_FIXTURES))


def case(name, **changes):
    """An answer from a recorded case: its status, headers and body (deep copies).

    ``changes``: ``status=``, ``headers=`` (merged over the recorded ones) or ``body=`` (a
    function body -> body, for a test that must place ids; what it changes is the test's own).
    """
    data = load_case(name)
    answer = {"status": data.get("status", 200), "headers": dict(data.get("headers") or {}),
              "body": copy.deepcopy(data.get("body")), "case": name}
    if "status" in changes:
        answer["status"] = changes["status"]
    answer["headers"].update(changes.get("headers") or {})
    if changes.get("body"):
        answer["body"] = changes["body"](answer["body"])
    return answer


def body_of(name):
    """The recorded body of a case (a deep copy)."""
    return copy.deepcopy(load_case(name)["body"])


def _pattern(template):
    regex = re.sub(r"\\{[a-z_]+\\}", "[^/]+", re.escape(template))
    return re.compile("^%s$" % regex)


class ReplayServer(object):
    def __init__(self):
        self.routes = []
        self.requests = []
        self.lock = threading.Lock()
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                with replay.lock:
                    replay.requests.append({"method": self.command, "path": parts.path,
                                            "query": parse_qs(parts.query), "body": body,
                                            "authorization": self.headers.get("Authorization")})
                    answer = replay._next(self.command, parts.path)
                headers = dict((k, v() if callable(v) else v) for k, v in (answer.get("headers") or {}).items())
                payload = answer.get("body")
                if isinstance(payload, (dict, list)) or payload is None:
                    data = json.dumps(payload).encode() if payload is not None else b""
                    content_type = "application/json; charset=utf-8"
                else:
                    data = payload.encode() if isinstance(payload, str) else payload
                    content_type = answer.get("content_type", "text/plain; charset=utf-8")
                self.send_response(answer.get("status", 200))
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, str(value))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]

    # ------------------------------------------------------------------ set-up
    def route(self, method, template, *answers):
        """Answer ``method template`` (``{name}`` = one path segment) with ``answers`` in order,
        the last one repeating. The most specific route (fewest ``{name}``) answers; among equally
        specific ones, the latest."""
        assert answers, "a route needs at least one answer"
        self.routes.append({"method": method, "pattern": _pattern(template), "answers": list(answers),
                            "template": template, "wild": template.count("{"), "seq": len(self.routes)})
        return self

    def _next(self, method, path):
        matching = [r for r in self.routes if r["method"] == method and r["pattern"].match(path)]
        if not matching:
            return case("error_not_found", status=404)
        route = min(matching, key=lambda r: (r["wild"], -r["seq"]))
        answers = route["answers"]
        return answers.pop(0) if len(answers) > 1 else answers[0]

    # ------------------------------------------------------------------ inspection
    def calls(self, method=None, template=None):
        pattern = _pattern(template) if template else None
        with self.lock:
            return [r for r in self.requests if (method is None or r["method"] == method)
                    and (pattern is None or pattern.match(r["path"]))]

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        return False
