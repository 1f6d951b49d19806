# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""Incident overrides of a change window (docs/docsite/rst/change_windows.rst).

An override lets ONE deploy of ONE release (its pins: each service's SHA and digest) to ONE
environment through the change windows, for a few hours (default 2, at most 24). A person
requests it with a reason; for production another person approves it (never the requester);
the deploy it permits consumes it (a second deploy is refused).

It is kept where the deploy lock and the freeze are, so every runner sees the same one: a ref
of the hub's git remote, ``refs/tachyon/overrides/<id>``, changed only by compare-and-swap pushes
(``_git/lock.GitRefStore``): of two runs consuming it, exactly one wins. Without a lock remote
(the sandbox) it is a file beside the local lock file (``.override-<id>.json``), like the lock.
The consumed record stays on the hub (who requested, approved and consumed it, when, why); the
deploy's history entry names it too.

Every value a person gives (the reason) is data: one line in the commit trailers
(escape.git_line), made visible on the terminal (lock.shown) when read back.
"""
from __future__ import annotations

import re
import socket
import time
import uuid

from ansible_collections.tachyon.infra.plugins.module_utils._common.escape import terminal
from ansible_collections.tachyon.infra.plugins.module_utils._common.times import epoch, format_utc
from ansible_collections.tachyon.infra.plugins.module_utils._git import lock as git_lock
from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.module_utils._release import pins as pins_mod

DEFAULT_HOURS = 2.0
MAX_HOURS = 24.0
REASON_LIMIT = 300
ID_PREFIX = "ov-"


class OverrideError(Exception):
    """The override cannot be requested, approved or used; the message says why and what to do."""


def ref(override_id):
    """The override's ref (checked: ``ov-`` and 12 lower-case hex digits)."""
    text = override_id if isinstance(override_id, str) else ""
    body = text[len(ID_PREFIX):]
    if not text.startswith(ID_PREFIX) or len(body) != 12 or any(c not in "0123456789abcdef" for c in body):
        raise OverrideError("%r is not an override id (ov- and 12 hex digits, as the request printed it)"
                            % terminal(git_lock.one_line(str(override_id), 40)))
    return git_lock.OVERRIDE_PREFIX + text


def pins_text(services):
    """``name=sha@digest,...`` of the services a release deploys (sorted; no digest: the SHA)."""
    parts = []
    for name in sorted(services or {}):
        pin = services[name] or {}
        parts.append("%s=%s%s" % (name, pin.get("sha") or "-", ("@" + pin["digest"]) if pin.get("digest") else ""))
    return ",".join(parts)


def _pins(text):
    out = {}
    for part in (text or "").split(","):
        name, _sep, rest = part.partition("=")
        if name:
            sha, _at, digest = rest.partition("@")
            out[name] = {"sha": sha, "digest": digest or None}
    return out


def pins_differ(recorded, services):
    """What differs between the pins an override was requested for and a deploy's services."""
    want = _pins(recorded)
    have = _pins(pins_text(services))
    problems = []
    for name in sorted(set(want) | set(have)):
        a, b = want.get(name), have.get(name)
        if a is None or b is None:
            problems.append("%s %s" % (name, "is not in the override" if a is None else "is not deployed"))
        elif a["sha"] != b["sha"]:
            problems.append("%s commit %s, the override's %s" % (name, b["sha"][:12], a["sha"][:12]))
        elif a["digest"] and b["digest"] and a["digest"] != b["digest"]:
            problems.append("%s digest %s, the override's %s" % (name, b["digest"][:19], a["digest"][:19]))
    return problems


def describe(record):
    """``ov-... (production release 0.2.0; requested by alice: "why"; approved by bob; expires ...)``"""
    parts = ["%s release %s" % (record.get("environment") or "?", record.get("release") or "?"),
             "requested by %s: \"%s\"" % (record.get("holder") or "?", record.get("reason") or "")]
    if record.get("approved_by"):
        parts.append("approved by %s" % record["approved_by"])
    if record.get("consumed_by"):
        parts.append("consumed by %s at %s" % (record["consumed_by"], record.get("consumed_at") or "?"))
    parts.append("expires %s" % (record.get("expires_at") or "?"))
    return "%s (%s)" % (record.get("lock_id") or "?", "; ".join(parts))


def _same_person(a, b):
    return (a or "").strip().lower() == (b or "").strip().lower()


def problem(record, environment, version, services, now=None, need_approval=None):
    """Why ``record`` cannot let this deploy (environment, release version, services) through,
    or None."""
    now = time.time() if now is None else now
    if record is None:
        return "no such override (it was never requested, or its id is mistyped)"
    if record.get("unreadable") or record.get("kind") != "override":
        return "its record is unreadable: request a new one"
    need_approval = (environment == "production") if need_approval is None else need_approval
    if record.get("environment") != environment:
        return "it is for %s, not %s: request one for %s" % (record.get("environment"), environment, environment)
    if record.get("release") != version:
        return "it is for release %s, not %s: request one for release %s" % (record.get("release"), version, version)
    differ = pins_differ(record.get("pins"), services)
    if differ:
        return ("it is for other images of release %s (%s): request one for what this deploy runs"
                % (version, "; ".join(differ)))
    if record.get("consumed_by"):
        return ("it was already used by the deploy of %s at %s: an override lets one deploy through; request "
                "a new one" % (record["consumed_by"], record.get("consumed_at") or "?"))
    expires = epoch(record.get("expires_at"))
    if expires is None or now >= expires:
        return "it expired at %s: request a new one" % record.get("expires_at")
    if need_approval:
        if not record.get("approved_by"):
            return ("it is not approved yet: someone other than %s approves it (playbooks/override.yml "
                    "-e override_action=approve -e override_id=%s)" % (record.get("holder"), record.get("lock_id")))
        if _same_person(record["approved_by"], record.get("holder")):
            return ("it was approved by its own requester %s: another person must approve it"
                    % record["approved_by"])
    return None


def read(store, override_id):
    """``(token, record)`` of the override (record None when absent)."""
    return store.read(ref(override_id))


def release_pins(manifest, environment, version):
    """What a deploy of release ``version`` to ``environment`` runs, to pin an override to:
    production - the images staging verified for it (the promotion's), staging - the release's
    commits (their digests are resolved at deploy time); an earlier release - the pins a rollback
    to it redeploys (rollback.yml -e tachyon_rollback_version=...)."""
    if version != manifest["version"]:
        try:
            return pins_mod.rollback_pins(manifest, version, environment, list(manifest["services"]))[0]
        except pins_mod.PinsError as exc:
            raise OverrideError("release %s is neither the manifest's (%s) nor one a rollback of %s can go back to: %s"
                                % (version, manifest["version"], environment, str(exc).replace(" Nothing was deployed.",
                                                                                               "")))
    if environment == "production":
        try:
            return mf.check_promotion(manifest, version, "-")
        except mf.ManifestError:
            pass
    return manifest["services"]


HOURS_RE = re.compile(r"[0-9]{1,2}(\.[0-9]{1,4})?")


def _hours(value):
    """``value`` (override_hours) as a float: a plain decimal number of hours, at least one minute
    and at most MAX_HOURS. Python's own float() would also read '2_0' (20), '1e-9' or 'inf'; each
    is refused as what it is not."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        text = None
    else:
        text = value.strip() if isinstance(value, str) else repr(value)
    if text is None or not HOURS_RE.fullmatch(text):
        raise OverrideError("override_hours must be a number of hours written as digits (e.g. 2 or 0.5; "
                            "0 < hours <= %d), got %r" % (MAX_HOURS, value))
    hours = float(text)
    if not 1.0 / 60 <= hours <= MAX_HOURS:
        raise OverrideError("override_hours must be more than 0 (at least one minute, %.4f) and at most %d (an "
                            "override is for an incident, not a season), got %s" % (1.0 / 60, MAX_HOURS, text))
    return hours


def request(store, environment, version, services, requester, reason, hours=DEFAULT_HOURS, run_url=None, now=None):
    """A new override; returns its record."""
    now = time.time() if now is None else now
    git_lock.check_name(environment)
    reason = git_lock.one_line(reason or "", REASON_LIMIT)
    if not reason:
        raise OverrideError("an override needs a reason (-e override_reason=\"incident 123: payments down\"): it "
                            "is shown to everyone and kept in the history")
    if not (requester or "").strip():
        raise OverrideError("an override needs its requester (tachyon_deployed_by)")
    hours = _hours(hours)
    if not services:
        raise OverrideError("release %s has no services to pin the override to" % version)
    override_id = ID_PREFIX + uuid.uuid4().hex[:12]
    record = {"lock_id": override_id, "revision": uuid.uuid4().hex, "kind": "override",
              "holder": git_lock.one_line(requester), "host": socket.gethostname(),
              "purpose": "override of %s release %s" % (environment, version),
              "run_url": git_lock.one_line(run_url) if run_url else "",
              "started": format_utc(now), "expires_at": format_utc(now + hours * 3600), "reason": reason,
              "environment": environment, "release": git_lock.one_line(version), "pins": pins_text(services)}
    if store.create(ref(override_id), record, expected=None, title="tachyon override: %s" % override_id) is None:
        raise OverrideError("override %s exists already; run the request again" % override_id)
    return git_lock.shown(record)


def _change(store, override_id, change, title):
    """Apply ``change(record) -> new record`` with a compare-and-swap; returns the new record."""
    token, record = read(store, override_id)
    if record is None:
        raise OverrideError("override %s: no such override in %s (it was never requested, or its id is mistyped)"
                            % (override_id, store.where))
    new = dict(change(record), revision=uuid.uuid4().hex)
    if store.create(ref(override_id), new, expected=token, title=title) is None:
        raise OverrideError("override %s changed in %s while this run changed it (another run used or approved it): "
                            "look again with -e override_action=status" % (override_id, store.where))
    return git_lock.shown(new)


def approve(store, override_id, environment, approver, now=None):
    """The approval of another person; returns the approved record."""
    now = time.time() if now is None else now

    def change(record):
        if record.get("environment") != environment:
            raise OverrideError("override %s is for %s, not %s" % (override_id, record.get("environment"), environment))
        if _same_person(approver, record.get("holder")):
            raise OverrideError("override %s was requested by %s, who cannot approve it: another person approves "
                                "(a second pair of eyes is the point)" % (override_id, record.get("holder")))
        if record.get("approved_by"):
            raise OverrideError("override %s is already approved by %s" % (override_id, record["approved_by"]))
        why = problem(record, environment, record.get("release"), _pins(record.get("pins")), now, need_approval=False)
        if why:
            raise OverrideError("override %s cannot be approved: %s" % (override_id, why))
        return dict(record, approved_by=git_lock.one_line(approver), approved_at=format_utc(now))
    if not (approver or "").strip():
        raise OverrideError("the approver is unknown (tachyon_deployed_by)")
    return _change(store, override_id, change, "tachyon override: %s approved" % override_id)


def consume(store, override_id, environment, version, services, consumer, run_url=None, now=None):
    """Use the override for this deploy (once); returns the consumed record."""
    now = time.time() if now is None else now

    def change(record):
        why = problem(record, environment, version, services, now)
        if why:
            raise OverrideError("override %s cannot be used: %s" % (override_id, why))
        return dict(record, consumed_by=git_lock.one_line(consumer) or "unknown", consumed_at=format_utc(now),
                    consumed_run=git_lock.one_line(run_url) if run_url else "")
    return _change(store, override_id, change, "tachyon override: %s consumed" % override_id)
