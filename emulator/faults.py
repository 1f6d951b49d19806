"""Fault injection and rate limiting for the App Platform emulator.

Faults are kept apart from the DigitalOcean paths: they are set from the seed file
(``faults:``), the command line (``--faults FILE``) or the admin endpoint
``POST /_emulator/faults`` (a list, or ``{"faults": [...]}``), cleared with
``DELETE /_emulator/faults`` and listed (with their hit counts) by ``GET /_emulator/state``.

Every fault is a dict with a ``kind`` and optional ``count`` (how many times it fires;
absent or null = unlimited) and ``app_id`` (only that app; deployment and health kinds).
The state lists each fault with ``id``, ``hits`` and ``remaining`` (a used-up fault stays
listed until the faults are cleared):

=================  ==========================================================================
kind               fields
=================  ==========================================================================
``http_error``     ``method`` (default ``*``), ``path`` (fnmatch glob on the URL path, default
                   ``/v2/*``), ``status`` (default 500). Answers with DigitalOcean's error body.
``rate_limit``     ``method``, ``path``, ``scope``: ``burst`` (default) answers 429 with
                   ``retry-after`` (``retry_after`` seconds, default 1), as DigitalOcean does for
                   its per-minute burst limit; ``hourly`` answers 429 with only
                   ``ratelimit-limit``/``ratelimit-remaining: 0``/``ratelimit-reset`` (epoch
                   seconds, ``reset_in`` seconds from now, default 60) and no Retry-After, as for
                   the hourly limit (tests/recorded/fixtures/rate_limit_429_*.json).
``drop_connection`` ``method``, ``path``: the socket is closed without any response.
``deploy_fail``    ``stage`` (``build`` or ``deploy``), ``component`` (default: the first
                   component): the next deployment(s) end in ERROR at that stage, with an
                   ERROR progress step and matching build/deploy log lines.
``auto_rollback``  the next deployment(s) that fail at the deploy stage make App Platform
                   roll back on its own: a new deployment cloned from the last ACTIVE one,
                   cause ``automated rollback after failed deployment of "<id>"``,
                   cause_details type AUTO_ROLLBACK (deployment_automated_rollback.json).
``slow_phase``     ``phase`` (``PENDING_BUILD``, ``BUILDING``, ``PENDING_DEPLOY``,
                   ``DEPLOYING``), ``seconds``: that phase of the next deployment(s) lasts
                   ``seconds``.
``stale_image``    ``component`` (required): the next deployment(s) keep, in their spec, the
                   image the app's active deployment runs for that component (a component
                   left on its old image; the app's spec is what was sent). The deployment
                   goes ACTIVE as usual: only reading its spec back shows it.
``component_health`` ``component`` (required), ``state`` (``UNHEALTHY``, default, or
                   ``UNKNOWN``): the next deployment(s) run that component so: App Platform's
                   ``GET /v2/apps/{id}/health`` reports it with 0 replicas ready while that
                   deployment is active (emulator/signals.py); the live /health is unaffected.
``autoscale``      ``component`` (required), ``to`` (replicas, default 2), ``triggering_metric``
                   (default ``cpu``): when the next deployment(s) start, App Platform autoscales
                   that component of the running deployment on its own (an AUTOSCALING event in
                   ``GET /v2/apps/{id}/events`` inside the deploy's window; emulator/signals.py).
``health``         ``mode``: ``unhealthy`` (503, ``status: unhealthy``), ``stale_version``
                   (reports the previously active version), ``slow_start`` (503 without
                   a health payload, like an edge with no upstream yet); ``seconds``: for how
                   long after the deployment became ACTIVE (absent/null = forever).
=================  ==========================================================================

Deployment faults may carry ``skip`` (default 0): the fault lets that many new deployments of
the app pass before it applies (e.g. skip 1: not the maintenance-mode deployment a deploy makes
first, but the release's). Deployment faults (``deploy_fail``, ``slow_phase``, ``auto_rollback``,
``stale_image``, ``component_health``, ``autoscale``) are consumed when a deployment is created;
``health`` faults are not counted (they are time-bound by ``seconds``).
"""
import collections
import fnmatch
import itertools
import threading
import time

PHASES_TIMED = ("PENDING_BUILD", "BUILDING", "PENDING_DEPLOY", "DEPLOYING")
REQUEST_KINDS = ("http_error", "rate_limit", "drop_connection")
DEPLOYMENT_KINDS = ("deploy_fail", "slow_phase", "auto_rollback", "stale_image", "component_health", "autoscale")
KINDS = REQUEST_KINDS + DEPLOYMENT_KINDS + ("health",)
HEALTH_MODES = ("unhealthy", "stale_version", "slow_start")


class FaultError(ValueError):
    """A fault definition is malformed (the admin endpoint answers 400 with the message)."""


def normalize_fault(raw):
    """Check one fault definition and return it with defaults filled in."""
    if not isinstance(raw, dict):
        raise FaultError("a fault must be a mapping, got %r" % (raw,))
    fault = dict(raw)
    kind = fault.get("kind")
    if kind not in KINDS:
        raise FaultError("fault kind %r is unknown; use one of: %s" % (kind, ", ".join(KINDS)))
    count = fault.get("count")
    if count is not None and (not isinstance(count, int) or count < 1):
        raise FaultError("fault %s: count must be a positive integer or null (unlimited)" % kind)
    if kind in REQUEST_KINDS:
        fault.setdefault("method", "*")
        fault.setdefault("path", "/v2/*")
        fault["method"] = str(fault["method"]).upper()
    if kind == "http_error":
        status = fault.setdefault("status", 500)
        if not isinstance(status, int) or not 400 <= status <= 599:
            raise FaultError("fault http_error: status must be an HTTP error code (400-599)")
    if kind == "rate_limit":
        scope = fault.setdefault("scope", "burst")
        if scope not in ("burst", "hourly"):
            raise FaultError("fault rate_limit: scope must be 'burst' (Retry-After) or 'hourly' (ratelimit-reset only)")
        for name, default in (("retry_after", 1), ("reset_in", 60)):
            value = fault.setdefault(name, default)
            if not isinstance(value, (int, float)) or value < 0:
                raise FaultError("fault rate_limit: %s must be a number of seconds >= 0" % name)
    if kind == "deploy_fail" and fault.get("stage") not in ("build", "deploy"):
        raise FaultError("fault deploy_fail: stage must be 'build' or 'deploy'")
    if kind == "stale_image" and (not isinstance(fault.get("component"), str) or not fault["component"]):
        raise FaultError("fault stale_image: component must name the component left on its old image")
    if kind == "component_health":
        if not isinstance(fault.get("component"), str) or not fault["component"]:
            raise FaultError("fault component_health: component must name the component App Platform reports")
        if fault.setdefault("state", "UNHEALTHY") not in ("UNHEALTHY", "UNKNOWN"):
            raise FaultError("fault component_health: state must be UNHEALTHY or UNKNOWN")
    if kind == "autoscale":
        if not isinstance(fault.get("component"), str) or not fault["component"]:
            raise FaultError("fault autoscale: component must name the service or worker App Platform scales")
        if not isinstance(fault.setdefault("to", 2), int) or fault["to"] < 0:
            raise FaultError("fault autoscale: to must be a replica count >= 0")
        fault.setdefault("triggering_metric", "cpu")
    if kind == "slow_phase":
        if fault.get("phase") not in PHASES_TIMED:
            raise FaultError("fault slow_phase: phase must be one of %s" % ", ".join(PHASES_TIMED))
        if not isinstance(fault.get("seconds"), (int, float)) or fault["seconds"] < 0:
            raise FaultError("fault slow_phase: seconds must be a number >= 0")
    if kind == "health":
        if fault.get("mode") not in HEALTH_MODES:
            raise FaultError("fault health: mode must be one of %s" % ", ".join(HEALTH_MODES))
        seconds = fault.get("seconds")
        if seconds is not None and (not isinstance(seconds, (int, float)) or seconds < 0):
            raise FaultError("fault health: seconds must be a number >= 0 or null (forever)")
    if kind in DEPLOYMENT_KINDS:
        skip = fault.setdefault("skip", 0)
        if not isinstance(skip, int) or skip < 0:
            raise FaultError("fault %s: skip must be a number of deployments >= 0" % kind)
    fault.setdefault("count", None)
    fault["remaining"] = fault["count"]
    fault["hits"] = 0
    return fault


class Faults:
    """The active fault list (thread-safe). Each fault gets an ``id`` and a ``hits`` counter."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults = []
        self._ids = itertools.count(1)

    def add(self, raw_list):
        """Validate all, then add all (nothing is added when one is malformed)."""
        if isinstance(raw_list, dict) and "faults" in raw_list:
            raw_list = raw_list["faults"]
        if not isinstance(raw_list, list):
            raise FaultError("faults must be a list of mappings (or {faults: [...]})")
        normalized = [normalize_fault(raw) for raw in raw_list]
        with self._lock:
            for fault in normalized:
                fault["id"] = next(self._ids)
                self._faults.append(fault)
        return [dict(f) for f in normalized]

    def clear(self):
        with self._lock:
            self._faults = []

    def listing(self):
        with self._lock:
            return [dict(f) for f in self._faults]

    @staticmethod
    def _live(fault):
        return fault["remaining"] is None or fault["remaining"] > 0

    @staticmethod
    def _consume(fault):
        """Count a firing; a fault whose count is used up stays listed (with its hits)."""
        fault["hits"] += 1
        if fault["remaining"] is not None:
            fault["remaining"] -= 1

    def take_request_fault(self, method, path):
        """The first request fault matching method and path, consumed; or None."""
        with self._lock:
            for fault in self._faults:
                if fault["kind"] not in REQUEST_KINDS or not self._live(fault):
                    continue
                if fault["method"] not in ("*", method.upper()):
                    continue
                if not fnmatch.fnmatchcase(path, fault["path"]):
                    continue
                result = dict(fault)
                self._consume(fault)
                return result
        return None

    def take_deployment_faults(self, app_id):
        """deploy_fail / slow_phase / auto_rollback / stale_image faults that apply to a new deployment of
        app_id (consumed)."""
        taken = []
        with self._lock:
            for fault in self._faults:
                if fault["kind"] not in DEPLOYMENT_KINDS or not self._live(fault):
                    continue
                if fault.get("app_id") not in (None, app_id):
                    continue
                if fault.get("skip"):
                    fault["skip"] -= 1  # this deployment passes
                    continue
                taken.append(dict(fault))
                self._consume(fault)
        return taken

    def health_faults(self, app_id):
        with self._lock:
            found = [dict(f) for f in self._faults
                     if f["kind"] == "health" and f.get("app_id") in (None, app_id)]
            for fault in self._faults:
                if fault["kind"] == "health" and fault.get("app_id") in (None, app_id):
                    fault["hits"] += 1
        return found


class RateLimiter:
    """DigitalOcean's rate limit: ``limit`` requests per hour per token, plus a burst limit
    of ``burst`` requests per ``burst_window`` seconds (DigitalOcean: 250 per minute).

    ``check(key)`` records a request and returns ``(headers, retry_after, refused)``:
    ``refused`` is None when the request is allowed, ``"burst"`` when the burst window is
    full (``retry_after`` = seconds until it frees up, sent as Retry-After) or ``"hourly"``
    when the hourly quota is used up (no Retry-After: DigitalOcean sends it for the burst
    limit only; ``ratelimit-reset`` tells when the oldest request expires).
    """

    def __init__(self, limit=5000, burst=250, burst_window=60.0):
        self.limit = limit
        self.burst = burst
        self.burst_window = burst_window
        self._lock = threading.Lock()
        self._seen = collections.defaultdict(collections.deque)

    def configure(self, limit=None, burst=None, burst_window=None):
        with self._lock:
            if limit is not None:
                self.limit = int(limit)
            if burst is not None:
                self.burst = int(burst)
            if burst_window is not None:
                self.burst_window = float(burst_window)
            self._seen.clear()

    def settings(self):
        return {"limit": self.limit, "burst": self.burst, "burst_window": self.burst_window}

    def peek(self, key, now=None):
        """The rate-limit headers of ``key`` without recording a request."""
        now = time.time() if now is None else now
        with self._lock:
            seen = [t for t in self._seen.get(key, ()) if t > now - 3600]
            return {"ratelimit-limit": str(self.limit),
                    "ratelimit-remaining": str(max(0, self.limit - len(seen))),
                    "ratelimit-reset": str(int(seen[0] + 3600) if seen else int(now + 3600))}

    def check(self, key, now=None):
        now = time.time() if now is None else now
        with self._lock:
            seen = self._seen[key]
            while seen and seen[0] <= now - 3600:
                seen.popleft()
            recent = [t for t in seen if t > now - self.burst_window]
            retry_after, refused = None, None
            if len(seen) >= self.limit:
                refused = "hourly"
            elif len(recent) >= self.burst:
                refused = "burst"
                retry_after = max(1, int(recent[0] + self.burst_window - now + 0.999))
            else:
                seen.append(now)
            reset = int(seen[0] + 3600) if seen else int(now + 3600)
            headers = {
                "ratelimit-limit": str(self.limit),
                "ratelimit-remaining": str(max(0, self.limit - len(seen))),
                "ratelimit-reset": str(reset),
            }
        return headers, retry_after, refused
