# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""A rolling restart of some or all of an app's components: the app_restart module's logic.

App Platform's ``POST /v2/apps/{id}/restart`` (vendored OpenAPI ``apps_restart.yml``, body
``apps_restart_request.yml``: ``{"components": [names]}``, all when absent) starts a deployment
of the app's current spec, answered as a new deployment (``responses/new_app_deployment.yml``).
So a restart is planned, waited for and verified like a deploy:

- plan (read-only, also ``--check``): which components (names from the service catalog only,
  and only those that run: services and workers; a job runs at deploy time), the deployment it
  restarts and its images, and the decision (restart, or refused with why: no active
  deployment, a rollback pins the app, a deployment in progress);
- apply: one POST (never retried blindly: each accepted call is a new deployment), wait for the
  deployment (a failed step names the component, with its log tail), then verify: every
  component's image unchanged (digest or tag read back), then the checks of the option ``verify``
  a deploy runs too (``verify``): the app's /health healthy, App Platform's own health of the
  restarted components and, when given, the pins and the smoke checks.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time

from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_text
from ansible_collections.tachyon.infra.plugins.module_utils._platform import signals
from ansible_collections.tachyon.infra.plugins.module_utils._platform import standing
from ansible_collections.tachyon.infra.plugins.module_utils._platform import verify as verification
from ansible_collections.tachyon.infra.plugins.module_utils._platform.client import NO_RETRY, DOApiError, call
from ansible_collections.tachyon.infra.plugins.module_utils._platform.deployments import (
    DeploymentFailed, describe_deployment, failure_report, in_progress, wait_for_deployment)

RUNNING_KINDS = {"services": "service", "workers": "worker"}
ALL = "all"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class RestartError(ValueError):
    """Bad input: the message says what is wrong and how to fix it; nothing was changed."""


class RestartFailed(Exception):
    """The restart (once applied) failed: ``msg`` says what happened and what the app runs now,
    ``result`` is the module's result so far (``changed``, ``deployment_id``, ``went_live``...)."""

    def __init__(self, msg, result):
        super(RestartFailed, self).__init__(msg)
        self.msg = msg
        self.result = result


def catalog_components(catalog):
    """The component names of the service catalog (playbooks/group_vars/all/services.yml)."""
    out = []
    for entry in catalog or []:
        name = entry.get("component") if isinstance(entry, dict) else None
        if isinstance(name, str) and name and name not in out:
            out.append(name)
    return out


def requested_components(requested, catalog):
    """``requested`` (a list, or one string ``api,workers``; ``all``) checked against the catalog:
    the names in catalog order, or ``[ALL]``. Raises RestartError."""
    if isinstance(requested, str):
        requested = requested.split(",")
    if not isinstance(requested, (list, tuple)) or not requested:
        raise RestartError("components: give the components to restart, e.g. -e components=api,workers, or all")
    names = []
    for raw in requested:
        if not isinstance(raw, str) or not raw.strip():
            raise RestartError("components: %r is not a component name; use names such as api, workers, or all" % (raw,))
        name = raw.strip()
        if not NAME_RE.match(name):
            raise RestartError("components: %r is not a component name (lower-case letters, digits and -)"
                               % redact_text(name[:80]))
        if name not in names:
            names.append(name)
    if ALL in names:
        if len(names) > 1:
            raise RestartError("components: 'all' restarts every component; give it alone, not with %s"
                               % ", ".join(n for n in names if n != ALL))
        return [ALL]
    known = catalog_components(catalog)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise RestartError("components: %s not in the service catalog (playbooks/group_vars/all/services.yml "
                           "tachyon_services); its components are: %s" % (", ".join(unknown), ", ".join(known)))
    return [n for n in known if n in names]


def running_components(spec):
    """{name: kind} of the components that run replicas (services, workers) in ``spec``."""
    out = {}
    for key, kind in RUNNING_KINDS.items():
        for comp in (spec or {}).get(key) or []:
            if isinstance(comp, dict) and comp.get("name"):
                out[comp["name"]] = kind
    return out


def plan(app, names, catalog):
    """The restart's plan from the app object (GET /v2/apps/{id}) - never changes anything.
    ``{"decision": "restart"|"refused", "why", "components", "deployment_id", "images", "table"}``."""
    state = standing.standing(app)
    active = (app or {}).get("active_deployment") or {}
    running = running_components(active.get("spec") or (app or {}).get("spec"))
    catalog_names = catalog_components(catalog)
    if names == [ALL]:
        components = [n for n in catalog_names if n in running]
    else:
        components = list(names)
    out = {"decision": "restart", "why": None, "components": components, "deployment_id": state["deployment_id"],
           "images": dict((n, state["images"].get(n)) for n in components)}
    not_running = [n for n in components if n not in running]
    in_flight = [d for d in ((app or {}).get("in_progress_deployment"),) if d and d.get("id") and in_progress(d)]
    if not state["deployment_id"]:
        out.update(decision="refused", why="the app has no active deployment to restart; deploy a release first")
    elif not_running:
        out.update(decision="refused", why="%s not running components of the app (a job runs at deploy time, "
                                           "nothing of it runs to restart); running: %s"
                                           % (", ".join(not_running), ", ".join(sorted(running)) or "none"))
    elif not components:
        out.update(decision="refused", why="no component of the service catalog runs in the app (running: %s)"
                                           % (", ".join(sorted(running)) or "none"))
    elif state["pinned"]:
        out.update(decision="refused", why="a rollback pins the app to deployment %s: App Platform deploys nothing "
                                           "else until it is committed or reverted (playbooks/rollback.yml)"
                                           % state["pinned_deployment_id"])
    elif in_flight:
        out.update(decision="refused", why="%s is in progress: a restart now would supersede it; wait for it to "
                                           "finish and run the restart again" % describe_deployment(in_flight[0]))
    out["table"] = table(out)
    return out


def table(p):
    """The plan in lines, printed before the restart (and by --check)."""
    lines = ["restart plan: %s" % ("RESTART" if p["decision"] == "restart" else "REFUSED: %s" % p["why"]),
             "  running deployment: %s" % (p["deployment_id"] or "none")]
    for name in p["components"]:
        ref = p["images"].get(name) or "?"
        lines.append("  %-12s rolling restart, image kept: %s" % (name, ref[:19] if ref.startswith("sha256:") else ref))
    return lines


def diff(p):
    """Before/after for --diff: the deployment and images, which a restart keeps."""
    images = "".join("  %s: %s\n" % (n, p["images"].get(n)) for n in p["components"])
    return {"before": "deployment: %s\n%s" % (p["deployment_id"], images),
            "after": "deployment: <new: rolling restart of %s>\n%s" % (", ".join(p["components"]), images),
            "before_header": "running deployment", "after_header": "after the restart (same images)"}


def image_changes(before, after, names):
    """Components whose image differs after the restart (a restart must keep every image)."""
    return ["%s: %s -> %s" % (n, before.get(n), after.get(n)) for n in sorted(set(before) | set(after))
            if before.get(n) != after.get(n) and (not names or n in names or n in before)]


class Restarter:
    """Apply a restart plan (see module docstring); ``progress(line)`` is the module's. A failure
    raises RestartFailed."""

    def __init__(self, client, app_id, progress, clock=time.monotonic, sleep=time.sleep, environment=None):
        self.client = client
        self.app_id = app_id
        self.progress = progress
        self.clock = clock
        self.sleep = sleep
        self.environment = environment
        self.plan = None

    def fail(self, msg, **result):
        """Raise RestartFailed; once App Platform took the restart, the message also says what the app
        runs now, whether it is pinned, and the commands that continue (standing.describe)."""
        if result.get("changed") and self.plan:
            msg = "%s. %s" % (msg.rstrip(". "), self.standing_now())
        raise RestartFailed(msg, result)

    def standing_now(self):
        """What the app runs now (read again: the restart may have gone live or not) and what continues."""
        env = self.environment or "<environment>"
        nxt = ("restart again (ansible-playbook playbooks/restart.yml -i inventories/%s -e components=%s), or go "
               "back to the deployment from before the restart: %s" % (
                   env, ",".join(self.plan["components"]),
                   standing.rollback_command(self.environment, self.plan["deployment_id"])))
        try:
            app = call("get app", self.client.apps.get, self.app_id, _app_id=self.app_id).get("app") or {}
        except DOApiError as exc:
            return ("What the app runs now could not be read (%s): look at its deployments (before the restart it "
                    "ran deployment %s). Next: %s." % (exc, self.plan["deployment_id"], nxt))
        return standing.describe(standing.standing(app), nxt)

    def run(self, p, result, timeout, poll_interval, verify):
        # the restart window: App Platform's events from here on are the restart's timeline
        started_at = time.time()
        deadline = self.clock() + timeout
        self.plan = p
        body = {"components": p["components"]}
        try:
            answer = call("restart %s" % ", ".join(p["components"]), self.client.apps.restart, self.app_id, body,
                          _app_id=self.app_id, **NO_RETRY)
        except DOApiError as exc:
            result.update(changed=False)
            self.fail("%s. The restart may or may not have been accepted (a failed or dropped answer): look at the "
                      "app's deployments before running it again; the app ran deployment %s."
                      % (exc, p["deployment_id"]), **result)
        dep_id = ((answer or {}).get("deployment") or {}).get("id")
        result.update(changed=True, deployment_id=dep_id)
        self.progress("restart accepted: deployment %s (%s)" % (dep_id, ", ".join(p["components"])))
        try:
            wait_for_deployment(self.client, self.app_id, dep_id, deadline, poll_interval, self.progress,
                                self.clock, self.sleep)
        except DeploymentFailed as exc:
            msg, details = failure_report(self.client, self.app_id, exc.details)
            result.update(failure=details, went_live=False)
            self.fail("the rolling restart failed: %s\nApp Platform keeps deployment %s live (its images are the "
                      "same)." % (msg, p["deployment_id"]), **result)
        except TimeoutError as exc:
            result.update(went_live=False)
            self.fail("the restart's deployment %s did not become ACTIVE within %ss (%s)"
                      % (dep_id, timeout, getattr(exc, "waiting_for", None) or "ACTIVE"), **result)
        except DOApiError as exc:
            self.fail("lost track of the restart's deployment %s: %s" % (dep_id, exc), **result)
        result["went_live"] = True
        self.verify(p, result, verify, started_at)
        return result

    def verify(self, p, result, verify, started_at):
        try:
            app = call("get app", self.client.apps.get, self.app_id, _app_id=self.app_id).get("app") or {}
        except DOApiError as exc:
            self.fail("the restart's deployment %s is ACTIVE but the app could not be read back: %s"
                      % (result["deployment_id"], exc), **result)
        after = standing.standing(app)
        result["images"] = after["images"]
        changed = image_changes(p["images"], dict((n, after["images"].get(n)) for n in p["images"]), p["components"])
        if after["deployment_id"] != result["deployment_id"]:
            self.fail("after the restart App Platform runs deployment %s, not the restart's %s: someone deployed "
                      "meanwhile" % (after["deployment_id"], result["deployment_id"]), **result)
        if changed:
            self.fail("the restart changed images (a restart must keep them): %s" % "; ".join(changed), **result)
        base = (app.get("live_url") or "").rstrip("/")
        if base and verify["health_path"]:
            failed, checked, result["health"] = verification.live_health(base, verify, self.progress)
            if failed:
                self.fail("the app did not become healthy after the restart: %s%s" % (
                    checked["msg"], signals.events_note(self.client, self.app_id, started_at,
                                                        [result["deployment_id"]])), **result)
        found, problem = verification.platform_health(self.client, self.app_id, result["deployment_id"],
                                                      started_at, verify, self.progress, names=p["components"])
        if found is not None:
            result.setdefault("health", {}).update(found)
        if problem:
            self.fail(problem, **result)
        if verify["services"]:
            verified, problem = verification.pinned_images(self.client, self.app_id, result["deployment_id"],
                                                           verify["services"])
            if verified is not None:
                result["verified"] = verified
            if problem:
                self.fail("%s (after the restart, which kept every image)" % problem, **result)
        if verify["smoke_checks"]:
            if not base:
                self.fail("verify.smoke_checks: the app has no live URL to check", **result)
            result["smoke"], problem = verification.smoke_checks(base, verify["smoke_checks"])
            if problem:
                self.fail(problem, **result)
        self.progress("restart verified: %s restarted, images unchanged, healthy" % ", ".join(p["components"]))
