# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""Re-apply our manifest change on top of a concurrent publisher's (used by manifest_publish).

Two runs that record a deploy each append to ``history``: a text merge of the two
``releases/manifest.json`` always conflicts. But each run's change is an *operation* - a created
release, one or more recorded deploy attempts - and an operation can be applied again to the
manifest the other run published, with the same code that applied it the first time
(``manifest.record_deployment``), then validated.

``operations(base, ours)`` finds what turned the common ancestor ``base`` into ``ours``;
``replay(base, ours, theirs)`` applies it to ``theirs``. An operation that cannot be applied
raises ``ReplayConflict`` saying what changed underneath (the release was replaced, the
history was rewritten), so the caller keeps our record elsewhere and reports it.
"""
from __future__ import annotations

import copy
import inspect

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf

RELEASE_KEYS = ("version", "created_at", "created_by", "description", "services")
# every field record_deployment takes, read from its signature: a field added there (events,
# after_migration, rollback_of_version) is re-applied too, never silently dropped by a replay
ENTRY_ARGS = tuple(name for name in inspect.signature(mf.record_deployment).parameters
                   if name not in ("current", "environment", "outcome"))


class ReplayConflict(mf.ManifestError):
    """Our change cannot be applied to the remote's manifest; the message says why."""


def release_of(manifest):
    return {key: manifest.get(key) for key in RELEASE_KEYS}


def describe_release(manifest):
    return "release %s (created %s by %s)" % (manifest.get("version"), manifest.get("created_at") or "?",
                                              manifest.get("created_by") or "?")


def describe_entry(entry):
    return "the %s %s attempt of release %s (deployment %s, %s)" % (
        entry["environment"], entry["outcome"], entry.get("version"), entry.get("deployment_id") or "-",
        entry.get("at"))


def operations(base, ours):
    """What we did to ``base`` to get ``ours``: a list of ("created", release fields) and
    ("recorded", history entry), in order. Raises ReplayConflict for anything else."""
    ops = []
    if release_of(base) != release_of(ours):
        ops.append(("created", release_of(ours)))
    before, after = base["history"], ours["history"]
    if after[:len(before)] != before:
        raise ReplayConflict("our manifest does not extend the history it started from (entries were changed "
                             "or removed, not appended); only appended records can be re-applied")
    ops.extend(("recorded", entry) for entry in after[len(before):])
    rebuilt = apply(base, ops, base)
    if mf.to_json_text(rebuilt) != mf.to_json_text(ours):
        raise ReplayConflict("our manifest changes more than a created release and recorded attempts "
                             "(e.g. environments edited by hand), so it cannot be re-applied automatically")
    return ops


def apply(theirs, ops, base):
    """``theirs`` with ``ops`` applied (validated); ReplayConflict when one cannot be."""
    result = copy.deepcopy(theirs)
    for kind, op in ops:
        if kind == "created":
            if release_of(theirs) != release_of(base):
                raise ReplayConflict(
                    "we created %s, but meanwhile the remote's manifest moved from %s to %s: two releases "
                    "were created at the same time" % (describe_release(op), describe_release(base),
                                                       describe_release(theirs)))
            result.update(copy.deepcopy(op))
            result = mf.validate(result, "the remote's manifest with our release %s" % op["version"])
            continue
        if op.get("version") and op["version"] != result["version"]:
            raise ReplayConflict(
                "%s cannot be recorded: the release was replaced underneath - the remote's manifest is now "
                "%s, our record is of release %s" % (describe_entry(op), describe_release(result), op["version"]))
        if op.get("source") == "legacy":
            raise ReplayConflict("%s was imported from a legacy manifest; upgrade on one runner only" % describe_entry(op))
        result = mf.record_deployment(result, op["environment"], op["outcome"],
                                      **{name: op.get(name) for name in ENTRY_ARGS})
    return result


def replay(base, ours, theirs):
    """``(merged, ops)``: our operations (base -> ours) applied to ``theirs``."""
    ops = operations(base, ours)
    return apply(theirs, ops, base), ops


def summarize(ops):
    parts = []
    for kind, op in ops:
        parts.append("created release %s" % op["version"] if kind == "created" else
                     "recorded %s" % describe_entry(op))
    return "; ".join(parts) or "nothing"
