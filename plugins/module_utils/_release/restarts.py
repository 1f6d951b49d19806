# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Rolling restarts in the manifest: the one home of the concept.

A restart (playbooks/restart.yml, App Platform's ``POST /v2/apps/{id}/restart``) makes a new
deployment of the same spec: the images do not change, so it is not a release. It is recorded
in the manifest's ``restarts`` list, apart from ``history`` (the deploy attempts): the release
list and the delivery metrics read ``history`` only, so a restart is never counted as a
deployment. What a restart changes is the app's active deployment id; ``accepted`` lets the
readers that compare it with the manifest (drift, the staging proof of a promotion) take the
deployment a recorded deployment was restarted into as that deployment.
"""
from __future__ import annotations

import copy
import re

from ansible_collections.tachyon.infra.plugins.module_utils._release.manifest_schema import (
    ENVIRONMENTS, SERVICE_NAME_RE, TIMESTAMP_PATTERN, ManifestError, check_deployment_id, check_person, validate)
from ansible_collections.tachyon.infra.plugins.module_utils._common.times import utcnow

OUTCOMES = ("succeeded", "failed")


def restarts(manifest, environment=None):
    """The recorded restarts (of ``environment``), oldest first."""
    return [r for r in (manifest or {}).get("restarts") or []
            if environment is None or r.get("environment") == environment]


def record(current, environment, outcome, components, deployment_id=None, restart_of=None,
           restarted_by=None, message=None, at=None):
    """The manifest with a restart recorded (``current`` itself when this restart is already there)."""
    if environment not in ENVIRONMENTS:
        raise ManifestError("environment: %r; use one of %s" % (environment, ", ".join(ENVIRONMENTS)))
    if outcome not in OUTCOMES:
        raise ManifestError("restart outcome: %r; use one of %s" % (outcome, ", ".join(OUTCOMES)))
    names = list(components or [])
    bad = [n for n in names if not isinstance(n, str) or not SERVICE_NAME_RE.match(n)]
    if not names or bad:
        raise ManifestError("components: %s; a restart names the App Platform components it restarted "
                            "(lower-case names such as api, workers)" % (", ".join(map(repr, bad)) or "none given"))
    for what, value in (("deployment_id", deployment_id), ("restart_of", restart_of)):
        if value:
            check_deployment_id(value, what)
    if restarted_by:
        check_person(restarted_by, "restarted_by")
    if at and not re.match(TIMESTAMP_PATTERN, at):
        raise ManifestError("at: %r is not a UTC timestamp; use YYYY-MM-DDTHH:MM:SSZ (e.g. %s)" % (at, utcnow()))
    if outcome == "succeeded" and not deployment_id:
        raise ManifestError("recording a succeeded restart needs deployment_id (the restart's deployment)")
    entry = {"environment": environment, "outcome": outcome, "at": at or utcnow(),
             "deployment_id": deployment_id or None, "restart_of": restart_of or None,
             "components": names, "restarted_by": restarted_by or None, "message": message or ""}
    same = ("environment", "outcome", "deployment_id", "restart_of", "components")
    if deployment_id and any(all(r.get(k) == entry[k] for k in same) for r in restarts(current, environment)):
        return current
    result = copy.deepcopy(current)
    result.setdefault("restarts", []).append(entry)
    return validate(result, "the manifest after recording the %s restart" % environment)


def accepted(manifest, environment, deployment_ids):
    """``deployment_ids`` and every deployment a succeeded restart of one of them (or of a
    restart of them) made: the same release, restarted."""
    out = [i for i in deployment_ids if i]
    for entry in restarts(manifest, environment):
        if entry["outcome"] == "succeeded" and entry.get("restart_of") in out and entry["deployment_id"] not in out:
            out.append(entry["deployment_id"])
    return out


def lines(manifest, environment=None):
    """``staging  2026-12-07T17:30:00Z  restart api, workers  succeeded  deployment X (of Y) by alice``"""
    out = []
    for r in restarts(manifest, environment):
        text = "%s  %s  restart %s  %s" % (r["environment"], r["at"], ", ".join(r["components"]), r["outcome"])
        if r.get("deployment_id"):
            text += "  deployment %s" % r["deployment_id"]
        if r.get("restart_of"):
            text += " (of %s)" % r["restart_of"]
        if r.get("restarted_by"):
            text += " by %s" % r["restarted_by"]
        if r.get("message"):
            text += ": %s" % r["message"]
        out.append(text)
    return out
