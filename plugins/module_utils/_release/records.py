# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Records that survive an unpublishable manifest: when the deploy record cannot be published to
the hub's branch for any reason (the remote's manifest is invalid, its history was force-pushed
to an unrelated line, the push keeps being rejected or fails), our commit is pushed to
``refs/tachyon/records/<env>/<deployment>`` - a ref no manifest state can refuse - and the next
publish of any run folds the history entries it holds into the manifest it publishes, then
deletes the ref.

Pure functions over manifests (what a record holds, what is missing, how it is folded in); the
git calls are the caller's (manifest_publish).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf

PREFIX = "refs/tachyon/records/"
_PART_RE = re.compile(r"[^A-Za-z0-9._-]+")


def _part(text):
    part = _PART_RE.sub("-", str(text or "")).strip("-.")
    return part[:80] or "unknown"


def record_ref(doc):
    """The ref that keeps the record of ``doc``'s latest attempt: ``refs/tachyon/records/<env>/
    <deployment id>``, or ``<env>/attempt-<at>`` for an attempt without a deployment."""
    history = (doc or {}).get("history") or []
    if not history:
        return PREFIX + "unknown/no-attempt"
    last = history[-1]
    ident = last.get("deployment_id") or "attempt-%s" % last.get("at")
    return PREFIX + "%s/%s" % (_part(last.get("environment")), _part(ident))


def _identity(entry):
    return (entry.get("environment"), entry.get("outcome"), entry.get("deployment_id"),
            None if entry.get("deployment_id") else entry.get("at"))


def missing_entries(ours, record):
    """History entries of ``record`` (a manifest kept under a records ref) that ``ours`` lacks."""
    have = {_identity(e) for e in ours.get("history") or []}
    return [e for e in record.get("history") or [] if _identity(e) not in have]


def fold_in(ours, record):
    """``ours`` with the attempts only ``record`` holds appended (in their time order). An
    environment's current state moves only for a succeeded attempt newer than what ``ours``
    says it runs. Returns (manifest, entries folded in)."""
    entries = sorted(missing_entries(ours, record), key=lambda e: e.get("at") or "")
    doc = ours
    for entry in entries:
        env = entry["environment"]
        before = doc["environments"].get(env)
        services = entry.get("services")
        known = set(doc.get("services") or {})
        if services and not set(services) <= known:
            services = {k: v for k, v in services.items() if k in known} or None
        doc = mf.record_deployment(
            doc, env, entry["outcome"], version=entry.get("version"), deployment_id=entry.get("deployment_id"),
            services=services, deployed_by=entry.get("deployed_by"), approved_by=entry.get("approved_by"),
            health_verified_at=entry.get("health_verified_at"), rolled_back_to=entry.get("rolled_back_to"),
            message=(entry.get("message") or "") + " (folded in from a kept record)",
            at=entry.get("at"), rollback_of_version=entry.get("rollback_of_version"),
            after_migration=entry.get("after_migration"), events=entry.get("events"))
        if before and entry["outcome"] == "succeeded" and (before.get("deployed_at") or "") > (entry.get("at") or ""):
            doc["environments"][env] = before  # a newer deploy already replaced it
    return doc, entries


def kept_message(ref, remote, path, commit):
    """Where a record survives and how it comes back (for the failure message)."""
    return ("the record is kept on the remote as %s (commit %s; see it: git fetch %s %s && git show FETCH_HEAD:%s). "
            "The next manifest publish (any deploy, rollback or release of this hub) folds it into the manifest "
            "and deletes the ref" % (ref, commit[:12], remote, ref, path))
