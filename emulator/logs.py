"""Logs: what the logs endpoints answer, signed log URLs, and the log text at a given time.

As on App Platform (tests/recorded/fixtures/logs_*.json):

- a stage the deployment never reached, or skipped (every build reused or a pre-built
  image), answers 400 (DigitalOcean's app_action: "a 400 ... means the respective state was
  never reached or skipped"); RUN logs of a deployment that never became ACTIVE too;
- while the stage runs (RUN: while the deployment is the app's ACTIVE one) the answer is
  ``{"live_url": ...}`` (godo TestApps_GetLogs);
- afterwards ``{"historic_urls": [...]}`` (app_action reads historic_urls once the
  deployment is terminal).

Both URLs are signed like presigned URLs (``sig`` query parameter): a read credential that
must never be printed.
"""
import hashlib
import hmac
import json
import time

from emulator.common import ApiError, components, image_ref, iso


class LogsMixin:
    """The logs endpoints' URLs and the archived log text; mixed into ``Store``."""

    def log_signature(self, app_id, dep_id, component, log_type):
        msg = "%s/%s/%s/%s" % (app_id, dep_id, component, log_type)
        return hmac.new(self.key.encode(), msg.encode(), hashlib.sha256).hexdigest()[:32]

    def log_url(self, app_id, dep_id, component, log_type):
        return "%s/_logs/%s/%s/%s/%s?sig=%s" % (self.base_url, app_id, dep_id, component, log_type,
                                                self.log_signature(app_id, dep_id, component, log_type))

    def logs_answer(self, app, dep, component, log_type, now=None):
        """The body of GET .../logs?type=<log_type> for ``dep`` at ``now`` (raises the 400)."""
        now = time.time() if now is None else now
        final = dep.get("final") or {}
        horizon = min(now, final["at"]) if final.get("at") is not None and final["at"] <= now else now
        terminal = final.get("at") is not None and final["at"] <= now
        names = [n for _, n, _ in components(dep["spec"]) if component in (None, n)]
        if log_type == "RUN":
            reached = bool(dep.get("active_at")) and horizon >= dep["active_at"]
            running = reached and app.get("active") == dep["id"]
        else:
            window = self.stage_windows(dep).get("build" if log_type == "BUILD" else "deploy")
            reached = window is not None and horizon >= window[0]
            if reached and log_type == "BUILD":
                failing = (dep.get("fail") or {}).get("component")
                skipped = set(dep.get("reused") or ()) | set(
                    n for _, n, c in components(dep["spec"]) if c.get("image") and n != failing)
                reached = not all(n in skipped for n in names)
            running = reached and not terminal and now < window[1]
        if not reached:
            raise ApiError(400, "bad_request",
                           "deployment %s has no %s logs%s: that stage was never reached or was skipped"
                           % (dep["id"], log_type, " for component %s" % component if component else ""))
        url = self.log_url(app["id"], dep["id"], component or "_all", log_type)
        return {"live_url": url} if running else {"historic_urls": [url]}

    def log_text(self, dep, component, log_type, now=None):
        """The log lines of one component ('_all' for every component) at time ``now``."""
        now = time.time() if now is None else now
        schedule = {p: (s, e) for p, s, e in self._schedule(dep)}
        fail = dep.get("fail") or {}
        final = dep.get("final") or {}
        cut = final.get("at") if final.get("phase") in ("CANCELED", "SUPERSEDED") else None
        horizon = min(now, cut) if cut is not None else now
        lines = []
        for kind, name, comp in components(dep["spec"]):
            if component not in ("_all", name):
                continue
            ref = image_ref(comp) or "source %s" % json.dumps(comp.get("github") or comp.get("git") or {})
            if log_type == "BUILD" and "BUILDING" in schedule:
                start, end = schedule["BUILDING"]
                if horizon >= start:
                    lines.append((start, name, "Pulling %s" % ref if comp.get("image") else "Building from %s" % ref))
                if horizon >= end:
                    if fail.get("stage") == "build" and fail.get("component") == name:
                        lines.append((end, name, "ERROR failed to pull image %s: manifest unknown" % ref))
                        lines.append((end, name, "ERROR build failed"))
                    else:
                        lines.append((end, name, "Image %s ready" % ref))
                        lines.append((end, name, "build complete"))
            if log_type == "DEPLOY" and "DEPLOYING" in schedule:
                start, end = schedule["DEPLOYING"]
                if horizon >= start:
                    verb = "Running pre-deploy job" if comp.get("kind") == "PRE_DEPLOY" else "Starting %s" % kind
                    lines.append((start, name, "%s from %s" % (verb, ref)))
                if horizon >= end:
                    if fail.get("stage") == "deploy" and fail.get("component") == name:
                        lines.append((end, name, "ERROR container exited with code 1"))
                        lines.append((end, name, "ERROR deploy failed: component %s failed its health checks"
                                      % name))
                    else:
                        lines.append((end, name, "%s is ready" % name))
            if log_type == "RUN" and dep.get("active_at") and horizon >= dep["active_at"]:
                if kind == "service":
                    lines.append((dep["active_at"], name, "listening on port %s" % comp.get("http_port", 8080)))
                    lines.append((dep["active_at"], name, "GET /health 200"))
                elif kind == "worker":
                    lines.append((dep["active_at"], name, "worker started"))
        if cut is not None and now >= cut:
            lines.append((cut, "-", "deployment %s" % final["phase"].lower()))
        lines.sort(key=lambda item: item[0])
        return "".join("%s %s %s\n" % (name, iso(ts), text) for ts, name, text in lines)
