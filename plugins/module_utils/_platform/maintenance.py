# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Maintenance mode for a release that carries a migration: the app answers an offline page
while the migration runs. The one home of the concept (the app_maintenance module, the deploy
plan's ``maintenance`` gate).

App Platform's App Spec ``maintenance`` block (vendored OpenAPI ``models/app_maintenance_spec.yml``:
``enabled``, ``archive``, ``offline_page_url`` - "a custom offline page to display when
maintenance mode is enabled") is set by an update of the app's spec, which App Platform rolls
out as a deployment. The flow:

1. ``on``: a marker beside the manifest (``.maintenance-<env>.json``, written atomically BEFORE
   the spec changes, so a run killed at any point after leaves it), then the running spec with
   ``maintenance.enabled`` (and the inventory's ``offline_page_url``), waited until ACTIVE: the
   app answers the offline page.
2. the release's deployment (its spec has no maintenance block): App Platform runs the
   PRE_DEPLOY migration job while the offline page is served, then makes the release ACTIVE and
   the app answers its own health again; the deploy verifies it as usual.
3. ``off`` (the deploy's ``always``, whatever failed): when the live spec still has maintenance
   on (a failed deploy, a rollback to the maintenance deployment), the spec without it, waited
   until ACTIVE; then the marker is removed. Off on an app without maintenance changes nothing.

A run killed while maintenance is on leaves the marker (and the spec): the next plan of that
environment shows it and, per ``tachyon_maintenance_leftover``, turns it off first
(``turn_off``) or refuses until someone decides (``refuse``, the default), saying how.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import time

from ansible_collections.tachyon.infra.plugins.module_utils._common.atomic_file import atomic_write
from ansible_collections.tachyon.infra.plugins.module_utils._common.times import utcnow
from ansible_collections.tachyon.infra.plugins.module_utils._platform.client import NO_RETRY, DOApiError, call
from ansible_collections.tachyon.infra.plugins.module_utils._platform.deployments import wait_for_deployment

MODES = ("off", "on", "ask")
CHOICES = ("", "yes", "no")
LEFTOVER = ("refuse", "turn_off")


def marker_path(manifest_path, environment):
    """The marker of maintenance left on, beside the manifest (like the deploy lock file)."""
    return os.path.join(os.path.dirname(os.path.abspath(manifest_path)), ".maintenance-%s.json" % environment)


def read_marker(path):
    """The marker's data, or None (no marker). An unreadable marker still says maintenance may be on."""
    if not os.path.exists(path):
        return None
    try:
        with open(path) as handle:
            data = json.load(handle)
        return data if isinstance(data, dict) else {"problem": "the marker is not a JSON object"}
    except (OSError, ValueError) as exc:
        return {"problem": "the marker cannot be read (%s)" % exc}


def write_marker(path, environment, release=None, run=None, by=None):
    data = {"environment": environment, "since": utcnow(), "release": release, "run": run, "by": by}
    atomic_write(path, json.dumps(data, indent=1, sort_keys=True) + "\n")
    return data


def remove_marker(path):
    if os.path.exists(path):
        os.unlink(path)


def enabled(spec):
    """Is maintenance on in ``spec`` (``enabled`` or ``archive``, which implies it)?"""
    block = (spec or {}).get("maintenance") or {}
    return bool(block.get("enabled") or block.get("archive"))


def with_maintenance(spec, on, offline_page_url=None):
    """``spec`` (a copy) with maintenance on (and the offline page) or without the block."""
    out = copy.deepcopy(spec or {})
    if on:
        block = {"enabled": True}
        if offline_page_url:
            block["offline_page_url"] = offline_page_url
        out["maintenance"] = block
    else:
        out.pop("maintenance", None)
    return out


def decide(environment, mode, choice, carries_migration, offline_page_url=None):
    """``{use, why, refused}`` for a release: maintenance is used when the release carries a
    migration and the environment's mode is ``on``, or ``ask`` with the choice ``yes``. ``ask``
    without a choice refuses a release that carries a migration (meant for production)."""
    if mode not in MODES:
        return {"use": False, "refused": True, "why": "tachyon_maintenance_mode %r: use off, on or ask" % (mode,)}
    if choice not in CHOICES:
        return {"use": False, "refused": True, "why": "tachyon_maintenance %r: use yes or no" % (choice,)}
    page = " (offline page %s)" % offline_page_url if offline_page_url else " (App Platform's offline page)"
    if not carries_migration:
        return {"use": False, "refused": False, "why": "the release carries no migration"}
    if choice == "no" or mode == "off" and choice != "yes":
        return {"use": False, "refused": False, "why": "the release carries a migration; maintenance mode not used (%s)"
                % ("-e tachyon_maintenance=no" if choice == "no" else "tachyon_maintenance_mode off for %s" % environment)}
    if choice == "yes" or mode == "on":
        return {"use": True, "refused": False, "why": "the release carries a migration: the app answers an offline "
                                                      "page while it runs%s" % page}
    return {"use": False, "refused": True,
            "why": "the release carries a migration and %s asks whether to run it in maintenance mode "
                   "(tachyon_maintenance_mode ask): deploy again with -e tachyon_maintenance=yes (the app answers an "
                   "offline page while the migration runs) or -e tachyon_maintenance=no (GitHub deploy-prod: the "
                   "maintenance input; AWX: the survey's 'Maintenance mode for a migration'); a run never waits "
                   "for the answer" % environment}


def leftover(marker, live_spec, policy, environment, inventory_hint=None):
    """``None`` when maintenance is off and no marker is left, else ``{on, marker, refused, why}``:
    what the next plan says about maintenance left on by an earlier run."""
    live_on = enabled(live_spec)
    if marker is None and not live_on:
        return None
    where = []
    if live_on:
        where.append("the live app's spec has maintenance enabled (it answers the offline page)")
    if marker is not None:
        where.append("a run left %s (%s)" % (
            "its marker" if not marker.get("problem") else "a marker: %s" % marker["problem"],
            ", ".join("%s %s" % (k, marker[k]) for k in ("since", "release", "by", "run") if marker.get(k))
            or "no details"))
    target = inventory_hint or "inventories/%s" % environment
    off = ("ansible-playbook playbooks/maintenance.yml -i %s -e maintenance=off" % target)
    if policy == "turn_off":
        return {"on": live_on, "marker": marker, "refused": False,
                "why": "maintenance was left on: %s; this deploy turns it off first (tachyon_maintenance_leftover "
                       "turn_off)" % "; ".join(where)}
    return {"on": live_on, "marker": marker, "refused": True,
            "why": "maintenance was left on: %s. Decide: turn it off (%s), or let the deploy turn it off first "
                   "(-e tachyon_maintenance_leftover=turn_off)" % ("; ".join(where), off)}


def switch(client, app_id, on, marker, offline_page_url=None, timeout=600, poll_interval=1.0, progress=None,
           check_mode=False, environment=None, release=None, run=None, by=None):
    """Turn maintenance ``on`` or off on the app's running spec (see the module docstring).
    Returns the result dict (``changed``, ``before``/``after`` maintenance blocks, ``deployment_id``);
    raises DOApiError, DeploymentFailed or TimeoutError (the caller says what runs then)."""
    answer = call("get app", client.apps.get, app_id, _app_id=app_id)
    app = answer.get("app") if isinstance(answer, dict) else None
    active = app.get("active_deployment") if isinstance(app, dict) else None
    live = ((active.get("spec") if isinstance(active, dict) else None)
            or (app.get("spec") if isinstance(app, dict) else None))
    if not isinstance(live, dict) or not live:
        # fail closed: an answer that does not show the running spec says nothing about maintenance;
        # the marker (the record that it may be on) stays, nothing is changed
        raise DOApiError("get app %s: the answer holds no app spec, so whether maintenance is on cannot be told "
                         "(nothing was changed)" % app_id)
    was = enabled(live)
    had_marker = os.path.exists(marker)
    result = {"changed": was != on or (not on and had_marker) or (on and not had_marker),
              "before": {"enabled": was, "marker": had_marker, "maintenance": live.get("maintenance")},
              "deployment_id": None}
    wanted = with_maintenance(live, on, offline_page_url)
    result["after"] = {"enabled": on, "marker": on, "maintenance": wanted.get("maintenance")}
    if check_mode:
        return result
    if on and not had_marker:
        write_marker(marker, environment, release, run, by)  # before the spec: a kill after it leaves the marker
    if was != on:
        answer = call("turn maintenance %s" % ("on" if on else "off"), client.apps.update, app_id, {"spec": wanted},
                      _app_id=app_id, **NO_RETRY)
        dep_id = ((answer or {}).get("app") or {}).get("pending_deployment", {}).get("id")
        result["deployment_id"] = dep_id
        if progress:
            progress("maintenance %s: deployment %s" % ("on" if on else "off", dep_id))
        wait_for_deployment(client, app_id, dep_id, time.monotonic() + timeout, poll_interval, progress)
    if not on:
        remove_marker(marker)
    return result
