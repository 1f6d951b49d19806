"""HTTP front of the App Platform emulator.

Why the standard library (``http.server.ThreadingHTTPServer``) and not a web framework:
the emulator serves a couple of dozen fixed routes, needs to do unusual things on the
socket (close it without any response to emulate a dropped connection), must start in
milliseconds inside a pytest process, and adds no dependency to the project's pinned
environment. A framework would bring routing we replace with one regex table, and make
the dropped-connection fault harder to express.

Paths:
  /v2/apps...          DigitalOcean's App Platform API (bearer token, rate limited)
  /_live/<app_id>/...  the app's live URL; ``/health`` answers like the Tachyon API
  /_logs/...           archived log files (the ``historic_urls`` of the logs endpoints),
                       signed like presigned URLs, no token needed
  /_registry/...       the sandbox's container registry (ghcr.io stand-in, emulator/registry.py)
  /_emulator/...       admin: ``POST image-version`` ({digest, version}), ``GET state``, ``POST/DELETE faults``, ``POST config``,
                       ``POST secret-check``, ``POST maintenance`` ({"app_id": ...}: App
                       Platform redeploys the app for maintenance), ``POST autoscale`` ({"app_id", "component", "to",
                       "triggering_metric"}: App Platform autoscales a component, an AUTOSCALING
                       event), ``GET requests`` (the request
                       log: every /v2 request in order, {method, path, status, at}; ``DELETE
                       requests`` empties it) (kept apart from the DigitalOcean paths)
"""
import json
import re
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from emulator import registry
from emulator.common import LOG_TYPES, ApiError, components, not_found, spec_findings
from emulator.faults import FaultError, PHASES_TIMED

APP = r"(?P<app_id>[^/]+)"
DEP = r"(?P<dep_id>[^/]+)"
COMP = r"(?P<component>[^/]+)"
EVENT = r"(?P<event_id>[^/]+)"
ROUTES = [
    ("GET", r"/v2/apps", "list_apps"),
    ("POST", r"/v2/apps", "create_app"),
    ("POST", r"/v2/apps/propose", "propose"),
    ("GET", r"/v2/apps/" + APP, "get_app"),
    ("PUT", r"/v2/apps/" + APP, "update_app"),
    ("DELETE", r"/v2/apps/" + APP, "delete_app"),
    ("GET", r"/v2/apps/%s/deployments" % APP, "list_deployments"),
    ("POST", r"/v2/apps/%s/deployments" % APP, "create_deployment"),
    ("GET", r"/v2/apps/%s/deployments/%s" % (APP, DEP), "get_deployment"),
    ("POST", r"/v2/apps/%s/deployments/%s/cancel" % (APP, DEP), "cancel_deployment"),
    ("GET", r"/v2/apps/%s/deployments/%s/components/%s/logs" % (APP, DEP, COMP), "logs"),
    ("GET", r"/v2/apps/%s/deployments/%s/logs" % (APP, DEP), "logs"),
    ("GET", r"/v2/apps/%s/components/%s/logs" % (APP, COMP), "logs"),
    ("GET", r"/v2/apps/%s/logs" % APP, "logs"),
    ("GET", r"/v2/apps/%s/health" % APP, "app_health"),
    ("GET", r"/v2/apps/%s/events" % APP, "list_events"),
    ("GET", r"/v2/apps/%s/events/%s" % (APP, EVENT), "get_event"),
    ("GET", r"/v2/apps/%s/events/%s/logs" % (APP, EVENT), "event_logs"),
    ("POST", r"/v2/apps/%s/restart" % APP, "restart"),
    ("POST", r"/v2/apps/%s/rollback" % APP, "rollback"),
    ("POST", r"/v2/apps/%s/rollback/validate" % APP, "validate_rollback"),
    ("POST", r"/v2/apps/%s/rollback/commit" % APP, "commit_rollback"),
    ("POST", r"/v2/apps/%s/rollback/revert" % APP, "revert_rollback"),
]
ROUTES = [(m, re.compile("^" + p + "/?$"), h) for m, p, h in ROUTES]
LIVE = re.compile(r"^/_live/(?P<app_id>[^/]+)(?P<rest>/.*)?$")
LOGS = re.compile(r"^/_logs/(?P<app_id>[^/]+)/(?P<dep_id>[^/]+)/(?P<component>[^/]+)/(?P<type>[A-Z_]+)$")


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, store, faults, limiter, quiet=True):
        # the request log (GET /_emulator/requests): what a client asked the API, in order, so a
        # test can say "the app was read once before the deployment was created" or "no write"
        self.requests = []
        self.requests_lock = threading.Lock()
        self.store = store
        self.faults = faults
        self.limiter = limiter
        self.quiet = quiet
        super().__init__(address, Handler)
        host, port = self.server_address[:2]
        store.base_url = "http://%s:%d" % (host, port)

    @property
    def url(self):
        return self.store.base_url


def _int_param(query, name, default, low, high):
    raw = query.get(name, [None])[0]
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "invalid_argument", "query parameter %s must be an integer" % name)
    if not low <= value <= high:
        raise ApiError(400, "invalid_argument", "query parameter %s must be between %d and %d" % (name, low, high))
    return value


def _log_type(query, default):
    """The ``type`` query parameter of a logs call, one of LOG_TYPES (else the 400)."""
    log_type = (query.get("type") or [default])[0]
    if log_type not in LOG_TYPES:
        raise ApiError(400, "invalid_argument", "log type %r is not supported here; use one of %s"
                       % (log_type, ", ".join(LOG_TYPES)))
    return log_type


class Handler(BaseHTTPRequestHandler):
    server_version = "tachyon-do-emulator"
    protocol_version = "HTTP/1.1"

    # ----------------------------------------------------------------- plumbing
    def setup(self):
        super().setup()
        # headers and body go out in separate writes: without TCP_NODELAY every response
        # waits ~40 ms for the client's delayed ACK (Nagle)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):  # noqa: A003 - BaseHTTPRequestHandler API
        if not self.server.quiet:
            super().log_message(fmt, *args)

    def do_GET(self):  # noqa: N802
        self._dispatch("GET")

    def do_POST(self):  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self):  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self):  # noqa: N802
        self._dispatch("DELETE")

    def do_HEAD(self):  # noqa: N802 - the registry's HEAD of a manifest (emulator/registry.py)
        self._dispatch("HEAD")

    def _send(self, status, body=None, headers=None, content_type="application/json; charset=utf-8"):
        if urlsplit(self.path).path.startswith("/v2/"):
            with self.server.requests_lock:
                self.server.requests.append({"method": self.command, "path": urlsplit(self.path).path,
                                             "status": status, "at": time.time()})
        if isinstance(body, (dict, list)):
            payload = json.dumps(body).encode()
        elif isinstance(body, str):
            payload = body.encode()
        else:
            payload = body or b""
        self.send_response(status)
        if payload:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-request-id", self.request_id)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _error(self, status, error_id, message, headers=None):
        self._send(status, {"id": error_id, "message": message, "request_id": self.request_id}, headers)

    def _drop(self):
        """Close the socket without a response (the dropped-connection fault)."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _read_body(self):
        """Read the request body first, whatever the answer: an unread body would be taken
        for the next request on a kept-alive connection."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        self._raw_body = self.rfile.read(length) if length > 0 else b""

    def _body(self):
        raw = self._raw_body
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            raise ApiError(400, "bad_request", "error parsing request body: not valid JSON")
        if not isinstance(data, dict):
            raise ApiError(400, "bad_request", "error parsing request body: expected a JSON object")
        return data

    def _dispatch(self, method):
        self.request_id = str(uuid.uuid4())
        self._read_body()
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        try:
            if path.startswith("/_emulator/"):
                return self._admin(method, path)
            if path.startswith("/_registry/"):
                return registry.handle(self, method, path, query)
            fault = self.server.faults.take_request_fault(method, path)
            rate_headers = {}
            if fault and path.startswith("/v2/"):
                # a failed call still counts against the token's quota, as on DigitalOcean
                rate_headers = self.server.limiter.check(self._token() or "anonymous")[0]
            if fault and fault["kind"] == "drop_connection":
                return self._drop()
            if fault and fault["kind"] == "http_error":
                status = fault["status"]
                error_id = {500: "server_error", 502: "bad_gateway", 503: "service_unavailable",
                            504: "gateway_timeout"}.get(status, "server_error" if status >= 500 else "bad_request")
                return self._error(status, error_id, "injected fault: %s" % (
                    "Unexpected server-side error" if status >= 500 else "request refused"), rate_headers)
            if fault and fault["kind"] == "rate_limit":
                if fault["scope"] == "hourly":
                    headers = dict(rate_headers, **{"ratelimit-remaining": "0",
                                                    "ratelimit-reset": str(int(time.time() + fault["reset_in"]))})
                else:
                    headers = dict(rate_headers, **{"retry-after": str(int(fault["retry_after"]))})
                return self._error(429, "too_many_requests", "API rate limit exceeded.", headers)
            live = LIVE.match(path)
            if live:
                return self._live(live.group("app_id"), live.group("rest") or "/")
            logs = LOGS.match(path)
            if logs:
                return self._archived_log(logs.groupdict(), query)
            if path.startswith("/v2/"):
                return self._api(method, path, query)
            raise not_found()
        except ApiError as err:
            headers = self.server.limiter.peek(self._token() or "anonymous") if path.startswith("/v2/") else {}
            self._error(err.status, err.error_id, err.message, headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _token(self):
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        return None

    # ----------------------------------------------------------------- /v2
    def _api(self, method, path, query):
        store = self.server.store
        token = self._token()
        account = store.account_for_token(token)
        headers, retry_after, refused = self.server.limiter.check(token or "anonymous")
        if account is None:
            return self._error(401, "unauthorized", "Unable to authenticate you.", headers)
        if refused == "burst":
            headers = dict(headers, **{"retry-after": str(retry_after)})
        if refused:
            return self._error(429, "too_many_requests", "API rate limit exceeded.", headers)
        allowed = set()
        for route_method, pattern, handler in ROUTES:
            match = pattern.match(path)
            if not match:
                continue
            if route_method != method:
                allowed.add(route_method)
                continue
            try:
                status, body = getattr(self, "api_" + handler)(account, query, **match.groupdict())
            except ApiError as err:
                return self._error(err.status, err.error_id, err.message, headers)
            return self._send(status, body, headers)
        if allowed:
            return self._error(405, "method_not_allowed", "%s is not allowed here; use %s"
                               % (method, ", ".join(sorted(allowed))), headers)
        return self._error(404, "not_found", "The resource you requested could not be found.", headers)

    def _page(self, query, items, key, path):
        page = _int_param(query, "page", 1, 1, 1000000)
        per_page = _int_param(query, "per_page", 20, 1, 200)
        total = len(items)
        last = max(1, (total + per_page - 1) // per_page)
        # links.pages is there even when empty, as in the OpenAPI deployments example
        body = {key: items[(page - 1) * per_page: page * per_page], "links": {"pages": {}}, "meta": {"total": total}}
        url = self.server.store.base_url + path + "?"
        pages = {}
        if page > 1:
            pages["first"] = url + urlencode({"page": 1, "per_page": per_page})
            pages["prev"] = url + urlencode({"page": page - 1, "per_page": per_page})
        if page < last:
            pages["next"] = url + urlencode({"page": page + 1, "per_page": per_page})
            pages["last"] = url + urlencode({"page": last, "per_page": per_page})
        body["links"]["pages"] = pages
        return body

    def api_list_apps(self, account, query):
        store = self.server.store
        with store.lock:
            now = time.time()
            apps = sorted((a for a in store.apps.values() if a["account"] == account["name"]),
                          key=lambda a: a["created_at"], reverse=True)
            return 200, self._page(query, [store.render_app(a, now) for a in apps], "apps", "/v2/apps")

    def api_create_app(self, account, query):
        body = self._body()
        store = self.server.store
        with store.lock:
            app, dep = store.create_app(account, body.get("spec"))
            return 200, {"app": store.render_app(app, pending=dep)}

    def api_propose(self, account, query):
        body = self._body()
        store = self.server.store
        spec = body.get("spec")
        findings = spec_findings(spec)
        if findings:
            store._refuse_spec(findings)
        with store.lock:
            app_id = body.get("app_id")
            if app_id:
                store.app_for(account, app_id)
            taken = any(a["account"] == account["name"] and a["id"] != app_id
                        and a["spec"].get("name") == spec.get("name") for a in store.apps.values())
        comps = components(spec)
        body = {"spec": spec, "app_name_available": not taken,
                "app_is_static": bool(comps) and all(kind == "static site" for kind, _name, _comp in comps),
                "existing_static_apps": "0", "app_cost": 5 * len(comps)}
        if taken:
            body["app_name_suggestion"] = "%s-2" % spec.get("name")
        return 200, body

    def api_get_app(self, account, query, app_id):
        store = self.server.store
        with store.lock:
            return 200, {"app": store.render_app(store.app_for(account, app_id))}

    def api_update_app(self, account, query, app_id):
        body = self._body()
        if "spec" not in body:
            raise ApiError(400, "invalid_argument", "spec is required: send {\"spec\": {...}, "
                                                    "\"update_all_source_versions\": true}")
        store = self.server.store
        with store.lock:
            app, dep = store.update_app(account, app_id, body["spec"],
                                        bool(body.get("update_all_source_versions")))
            return 200, {"app": store.render_app(app, pending=dep)}

    def api_delete_app(self, account, query, app_id):
        return 200, {"id": self.server.store.delete_app(account, app_id)}

    def api_list_deployments(self, account, query, app_id):
        store = self.server.store
        with store.lock:
            app = store.app_for(account, app_id)
            now = time.time()
            store._advance(app, now)
            deps = [store.render_deployment(store.deployments[d], now) for d in app["deployments"]]
            return 200, self._page(query, deps, "deployments", "/v2/apps/%s/deployments" % app_id)

    def api_create_deployment(self, account, query, app_id):
        body = self._body()
        store = self.server.store
        with store.lock:
            dep = store.create_deployment(account, app_id, bool(body.get("force_build")))
            return 200, {"deployment": store.render_deployment(dep)}

    def api_get_deployment(self, account, query, app_id, dep_id):
        store = self.server.store
        with store.lock:
            app = store.app_for(account, app_id)
            store._advance(app, time.time())
            return 200, {"deployment": store.render_deployment(store.deployment_for(app, dep_id))}

    def api_cancel_deployment(self, account, query, app_id, dep_id):
        store = self.server.store
        with store.lock:
            return 200, {"deployment": store.render_deployment(store.cancel_deployment(account, app_id, dep_id))}

    def api_logs(self, account, query, app_id, dep_id=None, component=None):
        store = self.server.store
        log_type = _log_type(query, "UNSPECIFIED")
        with store.lock:
            app = store.app_for(account, app_id)
            store._advance(app, time.time())
            if dep_id is None:
                dep_id = app.get("active") or app.get("in_progress")
                if not dep_id:
                    raise not_found()
            dep = store.deployment_for(app, dep_id)
            if component is not None and component not in [n for _kind, n, _comp in components(dep["spec"])]:
                raise ApiError(404, "not_found", "component %r is not part of deployment %s" % (component, dep_id))
            return 200, store.logs_answer(app, dep, component, log_type)

    def _rollback_request(self):
        body = self._body()
        if not body.get("deployment_id"):
            raise ApiError(400, "invalid_argument", "deployment_id is required")
        return body

    def api_validate_rollback(self, account, query, app_id):
        body = self._rollback_request()
        return 200, self.server.store.validate_rollback(account, app_id, body["deployment_id"])

    def api_rollback(self, account, query, app_id):
        body = self._rollback_request()
        store = self.server.store
        with store.lock:
            dep = store.rollback(account, app_id, body["deployment_id"], bool(body.get("skip_pin")))
            return 200, {"deployment": store.render_deployment(dep)}

    def api_commit_rollback(self, account, query, app_id):
        self.server.store.commit_rollback(account, app_id)
        return 200, None

    def api_revert_rollback(self, account, query, app_id):
        store = self.server.store
        with store.lock:
            return 200, {"deployment": store.render_deployment(store.revert_rollback(account, app_id))}

    # App Platform's own signals (emulator/signals.py says where each answer comes from)
    def api_app_health(self, account, query, app_id):
        return 200, self.server.store.app_health(account, app_id)

    def api_list_events(self, account, query, app_id):
        # event_types is an array query parameter (apps_list_events.yml): repeated or comma-separated
        wanted = [t for raw in query.get("event_types") or [] for t in raw.split(",") if t]
        unknown = sorted(set(wanted) - {"UNKNOWN", "DEPLOYMENT", "AUTOSCALING"})
        if unknown:
            raise ApiError(400, "invalid_argument", "event_types %s unknown; use DEPLOYMENT, AUTOSCALING or UNKNOWN"
                           % ", ".join(unknown))
        events = self.server.store.list_events(account, app_id, wanted)
        body = self._page(query, events, "events", "/v2/apps/%s/events" % app_id)
        del body["meta"]  # models/app_events.yml: events + pagination links, no meta
        return 200, body

    def api_get_event(self, account, query, app_id, event_id):
        return 200, {"event": self.server.store.event_for(account, app_id, event_id)[1]}

    def api_event_logs(self, account, query, app_id, event_id):
        store = self.server.store
        log_type = _log_type(query, "DEPLOY")
        with store.lock:
            app, event = store.event_for(account, app_id, event_id)
            dep = store.deployment_for(app, event["deployment_id"])
            return 200, store.logs_answer(app, dep, None, log_type)

    def api_restart(self, account, query, app_id):
        body = self._body()
        names = body.get("components")
        if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) and n for n in names)):
            raise ApiError(400, "invalid_argument", "components must be a list of component names")
        store = self.server.store
        with store.lock:
            dep = store.restart(account, app_id, names or None)
            return 200, {"deployment": store.render_deployment(dep)}

    # ----------------------------------------------------------------- live URL and logs
    def _live(self, app_id, rest):
        offline = self.server.store.offline_page(app_id)
        if offline is not None:
            # maintenance mode: App Platform answers every path with the offline page (emulator/signals.py)
            return self._send(503, offline, content_type="text/html; charset=utf-8")
        if rest.rstrip("/") != "/health":
            status, _body = self.server.store.health(app_id)
            if status == 404:
                raise not_found()
            return self._send(404, "Cannot GET %s\n" % rest, content_type="text/plain")
        status, payload = self.server.store.health(app_id)
        if status == 404:
            raise not_found()
        if payload is None:
            return self._send(503, "no healthy upstream\n", content_type="text/plain")
        return self._send(status, payload)

    def _archived_log(self, match, query):
        store = self.server.store
        sig = (query.get("sig") or [""])[0]
        expected = store.log_signature(match["app_id"], match["dep_id"], match["component"], match["type"])
        if sig != expected:
            return self._send(403, "<Error><Code>AccessDenied</Code></Error>\n", content_type="application/xml")
        with store.lock:
            dep = store.deployments.get(match["dep_id"])
            if dep is None or dep["app_id"] != match["app_id"]:
                raise not_found()
            text = store.log_text(dep, match["component"], match["type"])
        return self._send(200, text, content_type="text/plain; charset=utf-8")

    # ----------------------------------------------------------------- admin
    def _admin(self, method, path):
        store, faults = self.server.store, self.server.faults
        try:
            if path == "/_emulator/state" and method == "GET":
                state = store.snapshot()
                state["rate_limit"] = self.server.limiter.settings()
                return self._send(200, state)
            if path == "/_emulator/requests" and method == "GET":
                with self.server.requests_lock:
                    return self._send(200, {"requests": list(self.server.requests)})
            if path == "/_emulator/requests" and method == "DELETE":
                with self.server.requests_lock:
                    del self.server.requests[:]
                return self._send(200, {"requests": []})
            if path == "/_emulator/faults" and method == "POST":
                return self._send(200, {"faults": faults.add(self._admin_body())})
            if path == "/_emulator/faults" and method == "DELETE":
                faults.clear()
                return self._send(200, {"faults": []})
            if path == "/_emulator/config" and method == "POST":
                return self._send(200, configure(self.server, self._admin_body()))
            if path == "/_emulator/maintenance" and method == "POST":
                body = self._admin_body() or {}
                with store.lock:
                    dep = store.maintenance_deployment(body.get("app_id"))
                    return self._send(200, {"deployment": store.render_deployment(dep)})
            if path == "/_emulator/autoscale" and method == "POST":
                # {"app_id", "component", "to", "triggering_metric"}: App Platform scales on its own
                body = self._admin_body() or {}
                return self._send(200, {"autoscaling": store.autoscale(
                    body.get("app_id"), body.get("component"), body.get("to"), body.get("triggering_metric") or "cpu")})
            if path == "/_emulator/image-version" and method == "POST":
                # {"digest": ..., "version": ...}: the image with this digest (built outside the
                # emulator, e.g. in the local registry) reports this version on /health
                body = self._admin_body() or {}
                if not registry.DIGEST.match(str(body.get("digest"))) or not body.get("version"):
                    raise ValueError("image-version: expected {digest: sha256:<64 hex>, version}")
                store.registry.set_version(body["digest"], str(body["version"]))
                return self._send(200, body)
            if path == "/_emulator/secret-check" and method == "POST":
                body = self._admin_body()
                match = store.secret_matches(body.get("app_id"), body.get("key"), str(body.get("value")),
                                             body.get("component"))
                return self._send(200, {"match": match})
        except (FaultError, ValueError) as err:
            return self._error(400, "bad_request", str(err))
        raise not_found()

    def _admin_body(self):
        try:
            return json.loads(self._raw_body or b"null")
        except ValueError:
            raise FaultError("request body is not valid JSON")


def parse_phase_seconds(value):
    """0.2 | '0.2' | 'BUILDING=1,DEPLOYING=2' | {'BUILDING': 1} -> {phase: seconds}"""
    if value is None:
        return {}
    if isinstance(value, (int, float)):
        return dict.fromkeys(PHASES_TIMED, float(value))
    if isinstance(value, dict):
        items = value.items()
    else:
        text = str(value).strip()
        if "=" not in text:
            return dict.fromkeys(PHASES_TIMED, float(text))
        items = [part.split("=", 1) for part in text.split(",") if part.strip()]
    out = {}
    for phase, seconds in items:
        phase = phase.strip().upper()
        if phase not in PHASES_TIMED:
            raise ValueError("phase %r is not a timed phase; use %s" % (phase, ", ".join(PHASES_TIMED)))
        out[phase] = float(seconds)
        if out[phase] < 0:
            raise ValueError("phase seconds must be >= 0")
    return out


def configure(server, body):
    """POST /_emulator/config: {phase_seconds, rate_limit: {limit, burst, burst_window}, health_component,
    quotas: {databases}} (quotas: emulator/quotas.py)"""
    if not isinstance(body, dict):
        raise ValueError("config must be a mapping")
    unknown = set(body) - {"phase_seconds", "rate_limit", "health_component", "quotas"}
    if unknown:
        raise ValueError("unknown config keys: %s" % ", ".join(sorted(unknown)))
    store = server.store
    if "phase_seconds" in body:
        with store.lock:
            store.phase_seconds.update(parse_phase_seconds(body["phase_seconds"]))
    if "rate_limit" in body:
        server.limiter.configure(**body["rate_limit"])
    if "health_component" in body:
        store.health_component = str(body["health_component"])
    if "quotas" in body:
        store.set_quotas(body["quotas"])
    return {"phase_seconds": dict(store.phase_seconds), "rate_limit": server.limiter.settings(),
            "health_component": store.health_component, "quotas": dict(store.quotas)}
