# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""The work of release_manifest: arguments, states, check mode, diff, error messages.

The module (plugins/modules/release_manifest.py) is a thin wrapper: argument spec, ``execute``,
the result.
"""
from __future__ import annotations

import os

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.module_utils._release import restarts as rs
from ansible_collections.tachyon.infra.plugins.module_utils._common.atomic_file import (
    FileLock, LockTimeout, atomic_write)
from ansible_collections.tachyon.infra.plugins.module_utils._common.strict_input import string_options_error
from ansible_collections.tachyon.infra.plugins.module_utils._common.times import compact_utcnow

# Every text option is ONE string: type="str" would turn a list approver into the text
# "['alice', 'bob']" and record that, so they are type="raw" and check_params() refuses
# anything but a string (strict_input.string_options_error). The documentation says type: raw.

ARGUMENT_SPEC = dict(
    path=dict(type="path", default="releases/manifest.json"),
    state=dict(type="raw", default="read",
               choices=["created", "read", "recorded", "promotable", "upgraded", "restarted"]),
    version=dict(type="raw"),
    services=dict(type="dict"),
    known_services=dict(type="list", elements="raw"),
    images=dict(type="dict"),
    digests=dict(type="dict"),
    description=dict(type="raw"),
    created_by=dict(type="raw"),
    partial=dict(type="bool", default=False),
    force=dict(type="bool", default=False),
    environment=dict(type="raw", choices=list(mf.ENVIRONMENTS)),
    outcome=dict(type="raw", choices=list(mf.OUTCOMES)),
    deployment_id=dict(type="raw"),
    deployed_by=dict(type="raw"),
    approved_by=dict(type="raw"),
    health_verified_at=dict(type="raw"),
    rolled_back_to=dict(type="raw"),
    rollback_of_version=dict(type="raw"),
    after_migration=dict(type="str", choices=["rollback", "freeze"]),
    note=dict(type="raw"),
    events=dict(type="list", elements="dict"),
    at=dict(type="raw"),
    components=dict(type="list", elements="raw"),
    restart_of=dict(type="raw"),
    lock_timeout=dict(type="float", default=30.0),
)

TEXT_OPTIONS = tuple(name for name, spec in ARGUMENT_SPEC.items()
                     if spec["type"] == "raw")

REQUIRED_IF = [
    ("state", "created", ("version", "services", "known_services")),
    ("state", "recorded", ("environment", "outcome")),
    ("state", "restarted", ("environment", "outcome", "components")),
    ("state", "promotable", ("version", "environment")),
]


def _diff(path, before_text, after_text):
    return {"before": before_text, "after": after_text,
            "before_header": path, "after_header": path}


def _apply(check_mode, diff, path, before_text, after, **extra):
    """Write ``after`` (unless unchanged or check mode); the result so far."""
    after_text = mf.to_json_text(after)
    changed = after_text != before_text
    result = dict(extra)
    result["changed"] = changed
    if changed and diff:
        result["diff"] = _diff(path, before_text or "", after_text)
    if changed and not check_mode:
        atomic_write(path, after_text)
    return result


def run(p, check_mode=False, diff=False):
    """The work of release_manifest for the validated parameters ``p``; raises ManifestError,
    LockTimeout or OSError (see execute())."""
    path = os.path.abspath(p["path"])
    state = p["state"]
    check_params(p)

    if state == "read":
        return dict(changed=False, **mf.read(path))
    if state == "promotable":
        manifest, legacy, _text = mf.load(path)
        services = mf.check_promotion(manifest, p["version"], p["approved_by"], p["environment"])
        result = mf.summary(manifest, legacy, path)
        result.update(changed=False, services=services)
        return result

    if not os.path.isdir(os.path.dirname(path)):
        raise mf.ManifestError("the directory of %s does not exist; create it or fix path" % path)
    with FileLock(path, timeout=p["lock_timeout"], purpose="release_manifest state=%s" % state):
        if state == "created":
            if os.path.exists(path):
                current, legacy, before_text = mf.load(path)
            else:
                current, legacy, before_text = None, False, None
            after = mf.create_release(
                current, p["version"], p["services"] or {}, known_services=p["known_services"],
                images=p["images"], description=p["description"], created_by=p["created_by"],
                partial=p["partial"], force=p["force"], digests=p.get("digests"))
            if after is current and legacy:
                # same release, but the file is legacy: writing would silently upgrade it
                return dict(changed=False, **mf.summary(current, legacy, path))
            result = _apply(check_mode, diff, path, before_text, after)
            result.update(mf.summary(after, legacy, path))
            return result

        current, legacy, before_text = mf.load(path)
        if state == "restarted":
            if legacy:
                raise mf.ManifestError("%s is a legacy manifest; upgrade it first (state: upgraded)" % path)
            after = rs.record(current, p["environment"], p["outcome"], p["components"],
                              deployment_id=p["deployment_id"], restart_of=p["restart_of"],
                              restarted_by=p["deployed_by"], message=p["note"], at=p["at"])
            result = _apply(check_mode, diff, path, before_text, after)
            result.update(mf.summary(after, False, path, restart_entry=rs.restarts(after, p["environment"])[-1]))
            return result
        if state == "recorded":
            if legacy:
                raise mf.ManifestError("%s is a legacy manifest; upgrade it first (state: upgraded) "
                                       "so the recorded history is kept in the current format" % path)
            after = mf.record_deployment(
                current, p["environment"], p["outcome"], version=p["version"],
                deployment_id=p["deployment_id"], services=p["services"],
                deployed_by=p["deployed_by"], approved_by=p["approved_by"],
                health_verified_at=p["health_verified_at"], rolled_back_to=p["rolled_back_to"],
                message=p["note"], at=p["at"], rollback_of_version=p.get("rollback_of_version"),
                after_migration=p["after_migration"], events=p["events"])
            entry = after["history"][-1] if after is not current else _find_entry(current, p)
            result = _apply(check_mode, diff, path, before_text, after)
            result.update(mf.summary(after, False, path, history_entry=entry))
            return result

        # upgraded
        if not legacy:
            return dict(changed=False, **mf.summary(current, False, path))
        backup = "%s.legacy-%s.bak" % (path, compact_utcnow())
        if not check_mode:
            # backup first: a run killed between the two writes leaves the original intact
            atomic_write(backup, before_text)
        result = _apply(check_mode, diff, path, before_text, current)
        result.update(mf.summary(current, True, path, backup_file=backup))
        return result


def check_params(p):
    """Refuse, before anything is read or written, a person or deployment id that the manifest
    schema would refuse when recording (so a production deploy never starts with an approver
    that cannot be recorded), and any text option that is not one string."""
    error = string_options_error(p, TEXT_OPTIONS, ("known_services",))
    if error:
        raise mf.ManifestError(error)
    for name in ("created_by", "deployed_by", "approved_by"):
        mf.check_person(p.get(name), name)
    for name in ("deployment_id", "rolled_back_to", "restart_of"):
        mf.check_deployment_id(p.get(name), name)


def _find_entry(manifest, p):
    for entry in manifest["history"]:
        if entry["environment"] == p["environment"] and entry["outcome"] == p["outcome"] and (
                entry["deployment_id"] == p["deployment_id"] if p["deployment_id"]
                else entry["at"] == p["at"]):
            return entry
    return None


def execute(p, check_mode=False, diff=False):
    """(failed, result) of the task, every error turned into the module's message."""
    if not mf.HAS_JSONSCHEMA:
        return True, dict(changed=False, msg="the Python library jsonschema is required on the host running "
                          "release_manifest: pip install jsonschema (%s)" % mf.JSONSCHEMA_IMPORT_ERROR)
    try:
        return False, run(p, check_mode, diff)
    except mf.ManifestError as exc:
        return True, dict(changed=False, msg=str(exc), manifest_path=os.path.abspath(p["path"]))
    except LockTimeout as exc:
        return True, dict(changed=False, msg="the manifest is locked: %s" % exc, holder=exc.holder)
    except OSError as exc:
        return True, dict(changed=False, msg="writing %s failed: %s; the previous file is intact"
                          % (os.path.abspath(p["path"]), exc))
