# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""Does a release carry a database migration for an environment?

A release carries a migration when its db-migrate pin (the PRE_DEPLOY job's image) differs from
what the environment runs now: the job's image in the live deployment's spec when the app was
read, else what the manifest records the environment ran. This is an image-based flag; the
release notes add a file-based one (migration files changed between the pins).

Used by the deploy gates and plan (plugins/modules/deploy_gates.py), the failed-deploy path and
the release notes.
"""
from __future__ import annotations

MIGRATE_SERVICE = "tachyon-db-migrate"


def _refs(pin):
    """The comparable references of a pin or a running image: digest, tag/sha."""
    if not pin:
        return None, None
    return pin.get("digest") or None, (pin.get("tag") or pin.get("sha") or None)


def _show(pin):
    if not pin:
        return "nothing"
    digest, tag = _refs(pin)
    if digest and tag:
        return "%s (%s)" % (tag, digest)
    return digest or tag or "nothing"


def same_image(left, right):
    """True when two pins name the same image: equal digests when both have one, else equal
    tags (a SHA prefix of at least 7 characters matches its full SHA)."""
    left_digest, left_tag = _refs(left)
    right_digest, right_tag = _refs(right)
    if left_digest and right_digest:
        return left_digest == right_digest
    if not (left_tag and right_tag):
        return False
    a, b = left_tag.lower(), right_tag.lower()
    if len(a) >= 7 and len(b) >= 7 and all(c in "0123456789abcdef" for c in a + b):
        return a.startswith(b) or b.startswith(a)
    return a == b


def carries_migration(pinned, running, service=MIGRATE_SERVICE, source="the live app"):
    """{carries, service, pinned, running, reason}: whether deploying the release's pin
    ``pinned`` ({sha, tag, digest}) of ``service`` onto an environment running ``running``
    (the same shape, or None when it runs nothing known) runs a migration."""
    if not pinned:
        return {"carries": False, "service": service, "pinned": None, "running": _show(running),
                "reason": "the release does not pin %s" % service}
    if running is None:
        return {"carries": True, "service": service, "pinned": _show(pinned), "running": None,
                "reason": "%s runs no known %s yet: the first deploy runs every migration"
                          % (source, service)}
    carries = not same_image(pinned, running)
    return {"carries": carries, "service": service, "pinned": _show(pinned), "running": _show(running),
            "reason": ("%s pin %s differs from %s (%s): the release carries a migration"
                       % (service, _show(pinned), _show(running), source)) if carries else
                      ("%s pin %s is what %s runs: no migration" % (service, _show(pinned), source))}


def release_carries_migration(manifest, environment, live_pin=None):
    """carries_migration() for the manifest's release onto ``environment``: against the live
    pin when given (read from the app), else the manifest's record of the environment."""
    pinned = (manifest.get("services") or {}).get(MIGRATE_SERVICE)
    if live_pin is not None:
        return carries_migration(pinned, live_pin, source="%s's live app" % environment)
    recorded = (((manifest.get("environments") or {}).get(environment) or {}).get("services") or {})
    return carries_migration(pinned, recorded.get(MIGRATE_SERVICE),
                             source="the manifest's record of %s" % environment)
