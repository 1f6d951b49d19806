# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""The service catalog (playbooks/group_vars/all/services.yml, ``tachyon_services``) as the
modules receive it: a list of entries ``{name, component, repo, image, arg, ...}``.

What lives here: finding the one entry a flag of the catalog marks (``migrations: true``: the
service whose image runs the database migrations, _release/migrations.migrate_service;
``health_version: true``: the service whose image tag the app's /health reports as its version,
``health_version_service``) and the entries' ``migration_paths``. What does not: any list of
services or registry (the catalog is data; the modules are given it).
"""
from __future__ import annotations


class CatalogError(ValueError):
    """The catalog does not say clearly which service a flag marks."""


def marked(services, flag, meaning):
    """The catalog entry whose ``flag`` is true (``meaning``: what the flag says, for the message),
    or None when no entry sets it. Raises CatalogError for a value that is not a boolean, or for
    more than one marked entry (a flag marks one service)."""
    found = []
    for entry in services or []:
        value = entry.get(flag, False) if isinstance(entry, dict) else False
        if not isinstance(value, bool):
            raise CatalogError("tachyon_services: %s has %s: %r; use true (%s) or false"
                               % (entry.get("name"), flag, value, meaning))
        if value:
            found.append(entry)
    if len(found) > 1:
        raise CatalogError("tachyon_services: %s all have %s: true; one service may (%s): keep it on that one"
                           % (", ".join(str(entry.get("name")) for entry in found), flag, meaning))
    return found[0] if found else None


def health_version_service(services):
    """The catalog entry marked ``health_version: true``: the service whose image tag the app's
    /health reports as its ``version`` (a deploy is verified against that service's pin). None when
    no entry is marked (/health's version is then not checked). Raises CatalogError as marked()."""
    return marked(services, "health_version", "the app's /health reports its image tag as the version")


def migration_paths(services):
    """``{name: [path, ...]}``: each catalog entry's ``migration_paths`` (the files or directories of
    its repository that hold migrations; the release notes flag a change there). A single path is
    a list of one; anything but a list of non-empty strings raises CatalogError."""
    paths = {}
    for entry in services or []:
        value = entry.get("migration_paths") if isinstance(entry, dict) else None
        if value is None:
            continue
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not value or not all(isinstance(p, str) and p for p in value):
            raise CatalogError("tachyon_services: %s has migration_paths: %r; give a list of paths in its "
                               "repository (e.g. [src/migrations])" % (entry.get("name"), value))
        paths[entry["name"]] = value
    return paths
