# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""App Platform's own signals, read through pydo: each component's health with CPU and memory,
and the app's events (our deployments and whatever else the platform did), as one timeline.

Where the facts come from (the vendored OpenAPI, specification/resources/apps/):

- ``GET /v2/apps/{id}/health`` (``apps_get_health.yml``; pydo ``apps.get_health``):
  ``app_health.components[]`` with ``name``, ``state`` (UNKNOWN / HEALTHY / UNHEALTHY,
  ``models/app_component_health.yml``), ``replicas_desired``/``replicas_ready`` and
  ``cpu_usage_percent``/``memory_usage_percent``.
- ``GET /v2/apps/{id}/events`` (``apps_list_events.yml``; pydo ``apps.list_events``): newest
  first, ``type`` DEPLOYMENT (``deployment_id``, ``deployment`` with its ``cause``,
  ``cause_details.type`` e.g. MAINTENANCE / AUTO_ROLLBACK / MANUAL, and ``phase``) or
  AUTOSCALING (``autoscaling.components``: ``{name: {from, to, triggering_metric}}``).

A component the platform reports UNHEALTHY fails a verification, named with its state and
what the platform says of it (replicas ready of desired). UNKNOWN (the platform has no reading
yet) is waited out for a bounded time and then said, never taken for healthy.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.tachyon.infra.plugins.module_utils._common import times
from ansible_collections.tachyon.infra.plugins.module_utils._common.escape import one_line
from ansible_collections.tachyon.infra.plugins.module_utils._platform.client import DOApiError, call

STATES = ("UNKNOWN", "HEALTHY", "UNHEALTHY")
EVENT_PAGE = 50
EMPTY_READING = "App Platform reports no component's health (an empty answer)"


# ------------------------------------------------------------------------------- health
def read_health(client, app_id):
    """The app's components as App Platform reports them: ``[{name, state, cpu, memory,
    replicas_ready, replicas_desired}]`` (numbers as given, None when absent)."""
    body = call("read the app's component health", client.apps.get_health, app_id, _app_id=app_id) or {}
    components = _listed(body, "app_health", "components", "read the app's component health")
    out = []
    for comp in components:
        if not isinstance(comp, dict) or not comp.get("name") or not isinstance(comp["name"], str):
            continue
        state = comp.get("state") if comp.get("state") in STATES else "UNKNOWN"
        out.append({"name": str(comp["name"]), "state": state,
                    "cpu": comp.get("cpu_usage_percent"), "memory": comp.get("memory_usage_percent"),
                    "replicas_ready": comp.get("replicas_ready"), "replicas_desired": comp.get("replicas_desired")})
    return out


def _listed(body, outer, key, action):
    """``body[outer][key]`` (``outer`` None: ``body[key]``) as a list; an answer of another shape
    (App Platform or a proxy before it answering garbage) is a DOApiError naming the call, never
    a crash and never read as "nothing to report"."""
    holder = body.get(outer) if isinstance(body, dict) and outer else body
    items = holder.get(key) if isinstance(holder, dict) else None
    if isinstance(holder, dict) and items is None:
        items = []
    if not isinstance(items, list):
        raise DOApiError("%s: the answer is not %s (got %s): App Platform's answer cannot be read"
                         % (action, "{%s: {%s: [...]}}" % (outer, key) if outer else "{%s: [...]}" % key,
                            one_line(repr(body), 80)))
    return items


def _replicas(comp):
    if comp.get("replicas_desired") is None:
        return "replicas not reported"
    return "%s of %s replicas ready" % (comp.get("replicas_ready") or 0, comp["replicas_desired"])


def describe(comp):
    """``api: UNHEALTHY, 0 of 1 replicas ready (cpu 6.6%, memory 54.8%)``"""
    usage = usage_text(comp)
    return "%s: %s, %s%s" % (comp["name"], comp["state"], _replicas(comp), " (%s)" % usage if usage else "")


def usage_text(comp):
    parts = []
    for key in ("cpu", "memory"):
        if isinstance(comp.get(key), (int, float)):
            parts.append("%s %.1f%%" % (key, comp[key]))
    return ", ".join(parts)


def problems(components, names=None):
    """What is wrong with ``components`` (of ``names`` when given, else all): one phrase per
    component not HEALTHY, and one per name the platform does not report."""
    wanted = set(names) if names else None
    out = []
    for comp in components:
        if wanted is not None and comp["name"] not in wanted:
            continue
        if comp["state"] != "HEALTHY":
            out.append(describe(comp))
    if wanted:
        for name in sorted(wanted - set(c["name"] for c in components)):
            out.append("%s: not reported by App Platform" % name)
    return out


def usage(components):
    """``{name: {state, cpu, memory, replicas}}`` for summaries and reports."""
    return dict((c["name"], {"state": c["state"], "cpu": c["cpu"], "memory": c["memory"],
                             "replicas": _replicas(c)}) for c in components)


def wait_healthy(client, app_id, names=None, timeout=30.0, interval=1.0, clock=time.monotonic, sleep=time.sleep):
    """Read the platform's health until every component (of ``names``) is HEALTHY, one is
    UNHEALTHY (at once: the platform says so) or ``timeout`` passed (UNKNOWN stays a problem).
    Returns ``(components, problems)``."""
    deadline = clock() + max(0.0, timeout)
    while True:
        found = read_health(client, app_id)
        # no reading at all is not "every component healthy": like UNKNOWN, waited out, then said
        wrong = problems(found, names) or ([] if found else [EMPTY_READING])
        unhealthy = [c for c in found if c["state"] == "UNHEALTHY" and (not names or c["name"] in names)]
        if not wrong or unhealthy or clock() + interval > deadline:
            return found, wrong
        sleep(interval)


# ------------------------------------------------------------------------------- events
def read_events(client, app_id, since=None, limit=200):
    """The app's events newest first, those at or after ``since`` (epoch seconds) only, at most
    ``limit``: ``[{id, type, at, deployment_id, cause, cause_type, phase, autoscaling}]``."""
    out = []
    page = 1
    while len(out) < limit:
        body = call("list the app's events", client.apps.list_events, app_id, page=page, per_page=EVENT_PAGE,
                    _app_id=app_id) or {}
        events = _listed(body, None, "events", "list the app's events")
        older = False
        for event in events:
            if not isinstance(event, dict):
                continue
            entry = _event(event)
            if since is not None and entry["epoch"] is not None and entry["epoch"] < int(since):
                older = True
                continue
            out.append(entry)
        if older or len(events) < EVENT_PAGE or not _dict(_dict(body.get("links")).get("pages")).get("next"):
            break
        page += 1
    return out[:limit]


def _dict(value):
    return value if isinstance(value, dict) else {}


def _text(value):
    """A text field of an event: a string as given, anything else (a number, an object) as None."""
    return value if isinstance(value, str) else None


def _event(event):
    dep = _dict(event.get("deployment"))
    scaled = _dict(event.get("autoscaling"))
    at = _text(event.get("created_at"))
    return {"id": event.get("id"), "type": _text(event.get("type")) or "UNKNOWN", "at": at,
            "epoch": times.epoch(at) if at else None,
            "deployment_id": _text(event.get("deployment_id")) or _text(dep.get("id")),
            "cloned_from": _text(dep.get("cloned_from")),
            "cause": _text(dep.get("cause")), "cause_type": _text(_dict(dep.get("cause_details")).get("type")),
            "phase": _text(dep.get("phase")),
            "autoscaling": dict((str(name), {"from": c.get("from"), "to": c.get("to"),
                                             "metric": _text(c.get("triggering_metric"))})
                                for name, c in _dict(scaled.get("components")).items() if isinstance(c, dict))}


def what(entry):
    """One line of what an event was, in words."""
    if entry["type"] == "AUTOSCALING":
        changes = ", ".join("%s %s -> %s replicas (%s)" % (name, c["from"], c["to"], c["metric"] or "?")
                            for name, c in sorted(entry["autoscaling"].items()))
        return "App Platform autoscaled %s" % (changes or "the app")
    kind = {"MAINTENANCE": "App Platform maintenance redeploy", "AUTO_ROLLBACK": "App Platform automated rollback",
            "MANUAL_ROLLBACK": "rollback"}.get(entry.get("cause_type"), "deployment")
    return "%s %s%s%s" % (kind, entry.get("deployment_id") or "?", " (%s)" % one_line(entry["cause"], 120)
                          if entry.get("cause") else "", ": %s" % entry["phase"] if entry.get("phase") else "")


def timeline(events, ours=()):
    """The events oldest first as ``[{at, type, deployment_id, what, ours}]``: ``ours`` are the
    deployment ids this run (or the manifest) knows; anything else the platform or someone else did."""
    ours = set(i for i in ours if i)
    out = []
    for entry in sorted(events, key=lambda e: (e["epoch"] or 0)):
        mine = entry["type"] == "DEPLOYMENT" and entry.get("deployment_id") in ours
        out.append({"at": entry["at"], "type": entry["type"], "deployment_id": entry.get("deployment_id"),
                    "what": what(entry), "ours": mine})
    return out


def foreign(entries):
    """Timeline entries nobody here made: a deployment not ours, any autoscaling."""
    return [e for e in entries if not e["ours"]]


def timeline_lines(entries):
    """``2026-12-07T17:19:42Z  deployment ... : ACTIVE`` (``[not ours]`` marks the others)."""
    return ["%s  %s%s" % (e["at"] or "?", e["what"], "" if e["ours"] else "  [not ours]") for e in entries]


def read_signals(client, app_id, since, ours=(), names=None, timeout=30.0, clock=time.monotonic, sleep=time.sleep):
    """After a deploy or a restart: ``{"components": usage, "problems": [...], "timeline": [...],
    "foreign": [...]}``; the timeline holds the events from ``since`` (epoch seconds) on. An API
    failure reading the events is said in ``events_error`` (the timeline is then empty), never fatal;
    one reading health raises (verification cannot pass without it)."""
    found, wrong = wait_healthy(client, app_id, names, timeout=timeout, clock=clock, sleep=sleep)
    out = {"components": usage(found), "problems": wrong, "timeline": [], "foreign": []}
    try:
        out["timeline"] = timeline(read_events(client, app_id, since=since), ours)
    except DOApiError as exc:  # the timeline is optional
        out["events_error"] = str(exc)
    out["foreign"] = foreign(out["timeline"])
    return out


def verify(client, app_id, deployment_id, since, timeout=30.0, progress=None, names=None, clock=time.monotonic,
           sleep=time.sleep):
    """The platform's side of a verification (after our own /health passed): ``(signals, message)``,
    ``message`` None when every component (of ``names``) is HEALTHY, else the failure naming each component,
    its state and the platform's figures, with the timeline of the window. ``since``: when the
    deploy (or restart) started, epoch seconds."""
    try:
        found = read_signals(client, app_id, since, ours=[deployment_id], names=names, timeout=timeout, clock=clock,
                             sleep=sleep)
    except DOApiError as exc:
        return {}, "App Platform's component health could not be read: %s" % exc
    for line in timeline_lines(found["timeline"]):
        if progress:
            progress("  event: %s" % line)
    if found["problems"]:
        return found, ("App Platform reports component(s) not healthy after deployment %s went live: %s. "
                       "Its events in the deploy window: %s" % (
                           deployment_id, "; ".join(found["problems"]),
                           " | ".join(timeline_lines(found["timeline"])) or "none"))
    if progress:
        progress("  App Platform: %s" % ", ".join("%s %s (%s)" % (name, c["state"], usage_text(dict(c, name=name)))
                                                  for name, c in sorted(found["components"].items())))
    return found, None


def events_note(client, app_id, since, ours=()):
    """`` Events in the deploy window: ...`` for a failure message, or an empty string."""
    try:
        entries = timeline(read_events(client, app_id, since=since), ours)
    except DOApiError:
        return ""
    return " App Platform's events in the deploy window: %s." % " | ".join(timeline_lines(entries)) if entries else ""
