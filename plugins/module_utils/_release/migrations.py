# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""Does a release carry a database migration for an environment?

A release carries a migration when its db-migrate pin (the PRE_DEPLOY job's image) differs from
what the environment runs now: the job's image in the live deployment's spec when the app was
read, else what the manifest records the environment ran. This is an image-based flag; the
release notes add a file-based one (migration files changed between the pins).

Which service's image runs the migrations is the service catalog's to say: its entry has
``migrations: true`` (playbooks/group_vars/all/services.yml); ``migrate_service()`` finds it in the
catalog the modules are given (deploy_plan's and release_notes' ``services``).

Used by the deploy plan (plugins/module_utils/_plan/plan.py), the failed-deploy path and
the release notes.
"""
from __future__ import annotations

from ansible_collections.tachyon.infra.plugins.module_utils._release.catalog import marked


def migrate_service(services):
    """The catalog entry (``{name, component, ...}``) marked ``migrations: true``: the service whose
    image runs the database migrations (the App Spec's PRE_DEPLOY job). None when no entry is
    marked (no release then carries a migration). ``services``: tachyon_services, a list of
    entries. Raises catalog.CatalogError for a non-boolean ``migrations`` or more than one marked entry."""
    return marked(services, "migrations", "its image runs the database migrations")


def no_migration_service():
    """The carries_migration() answer when the catalog marks no service ``migrations: true``."""
    return {"carries": False, "service": None, "pinned": None, "running": None,
            "reason": "no service in the catalog runs migrations (migrations: true in "
                      "playbooks/group_vars/all/services.yml)"}


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


def carries_migration(pinned, running, service, source="the live app"):
    """{carries, service, pinned, running, reason}: whether deploying the release's pin
    ``pinned`` ({sha, tag, digest}) of ``service`` (the catalog's migrate_service() name; None:
    the catalog has none) onto an environment running ``running`` (the same shape, or None when it
    runs nothing known) runs a migration."""
    if service is None:
        return no_migration_service()
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


def release_carries_migration(manifest, environment, service, live_pin=None):
    """carries_migration() of ``service`` for the manifest's release onto ``environment``: against
    the live pin when given (read from the app), else the manifest's record of the environment."""
    pinned = (manifest.get("services") or {}).get(service)
    if live_pin is not None:
        return carries_migration(pinned, live_pin, service, source="%s's live app" % environment)
    recorded = (((manifest.get("environments") or {}).get(environment) or {}).get("services") or {})
    return carries_migration(pinned, recorded.get(service), service,
                             source="the manifest's record of %s" % environment)
