# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Release notes across the service repos: per service, the commits between two pins.

The pins come from the manifest (release_pins.py: ``version_pins``, the current release or a
version the history recorded as deployed; ``environment_pins``, what an environment runs now). The commits come from
each service's git remote, fetched into a bare cache repository per service (``GitCache``), and
never from a checkout. A service pinned to the same commit on both sides says "no change"; the db
repo's migration files changing between the pins sets ``migrations_changed``.
(The git work is plugins/module_utils/_git/cache.py, shared with the delivery metrics.)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.tachyon.infra.plugins.module_utils._common.escape import md as _md, md_code, terminal
from ansible_collections.tachyon.infra.plugins.module_utils._git.cache import (  # noqa: F401 pylint: disable=unused-import
    SHORT, GitCache, GitError, pull_requests)
from ansible_collections.tachyon.infra.plugins.module_utils._release.manifest import sha_matches
from ansible_collections.tachyon.infra.plugins.module_utils._release.migrations import carries_migration
from ansible_collections.tachyon.infra.plugins.module_utils._release.pins import (  # noqa: F401 pylint: disable=unused-import
    PinsError as NotesError, environment_pins, recorded_versions, version_pins)

GITHUB_RE = re.compile(r"^(?:https?://(?:[^@/]+@)?github\.com/|ssh://git@github\.com/|git@github\.com:)"
                       r"([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$")


def web_base(url):
    """https://github.com/<owner>/<repo> for a GitHub remote URL, else None."""
    match = GITHUB_RE.match(url or "")
    return "https://github.com/%s/%s" % match.groups() if match else None


def service_notes(cache, name, url, old, new, migration_paths=None, web=None):
    """Notes of one service between pin ``old`` and pin ``new`` (``{sha, ...}`` or None)."""
    item = {"service": name, "from_sha": (old or {}).get("sha"), "to_sha": (new or {}).get("sha"),
            "from_digest": (old or {}).get("digest"), "to_digest": (new or {}).get("digest"),
            "commits": [], "removed_commits": [], "migration_files": [], "migrations_changed": None,
            "error": None}
    if old is None or new is None:
        item["status"] = "new" if old is None else "removed"
        return item
    if sha_matches(old["sha"], new["sha"]):
        item["status"] = "no change"
        item["migrations_changed"] = False if migration_paths else None
        return item
    if not url:
        item.update(status="error", error="no repository URL for %s (tachyon_services / tachyon_repo_urls)" % name)
        return item
    try:
        git_dir = cache.ensure(name, url, [old["sha"], new["sha"]])
        item["commits"] = cache.commits(git_dir, old["sha"], new["sha"], web)
        item["removed_commits"] = cache.commits(git_dir, new["sha"], old["sha"], web)
        if migration_paths:
            item["migration_files"] = cache.changed_files(git_dir, old["sha"], new["sha"], migration_paths)
            item["migrations_changed"] = bool(item["migration_files"])
    except (NotesError, GitError) as err:
        item.update(status="error", error=str(err))
        return item
    if item["removed_commits"] and not item["commits"]:
        item["status"] = "rolled back"
    elif item["removed_commits"]:
        item["status"] = "diverged"
    else:
        item["status"] = "changed"
    return item


def build_notes(old, new, repos, cache, migration_paths=None, web_urls=None, order=None, migrate_service=None):
    """Release notes between ``old`` and ``new``: each ``{"label", "version", "source",
    "services"}`` (services: name -> pin, or None for "nothing recorded"). ``migrate_service``:
    the name of the service whose image runs the migrations (the catalog's, migrations: true)."""
    migration_paths = migration_paths or {}
    web_urls = web_urls or {}
    old_services = old.get("services") or {}
    new_services = new.get("services") or {}
    names = list(order or [])
    names += [n for n in list(new_services) + list(old_services) if n not in names]
    services = []
    for name in names:
        if name not in new_services and name not in old_services:
            continue
        url = (repos or {}).get(name)
        given = web_urls.get(name)
        web = (web_base(given) or given.rstrip("/")) if given else web_base(url)
        services.append(service_notes(
            cache, name, url, old_services.get(name) if old.get("services") is not None else None,
            new_services.get(name), migration_paths.get(name), web))
    return {
        "from": dict((k, old.get(k)) for k in ("label", "version", "source")),
        "to": dict((k, new.get(k)) for k in ("label", "version", "source")),
        "services": services,
        "changed_services": [s["service"] for s in services if s["status"] not in ("no change",)],
        "commit_count": sum(len(s["commits"]) for s in services),
        "migrations_changed": any(s["migrations_changed"] for s in services),
        # image-based (module_utils/_release/migrations.py, as the deploy plan says it): the db-migrate pin
        # differs from the from side's, so deploying runs the migration job
        # (``migrate_service``: the catalog's service with migrations: true, migrations.migrate_service)
        "carries_migration": carries_migration(
            new_services.get(migrate_service),
            old_services.get(migrate_service) if old.get("services") is not None else None,
            migrate_service, source=_side(old)),
        "errors": [s["error"] for s in services if s["error"]],
    }


def _short(sha):
    return (sha or "-")[:SHORT]


def _count(items, word="commit"):
    return "%d %s%s" % (len(items), word, "" if len(items) == 1 else "s")


def _status_line(svc):
    if svc["status"] == "no change":
        return "no change (%s)" % _short(svc["to_sha"])
    if svc["status"] == "new":
        return "%s, nothing recorded to compare with" % _short(svc["to_sha"])
    if svc["status"] == "removed":
        return "%s, not in the new release" % _short(svc["from_sha"])
    head = "%s -> %s" % (_short(svc["from_sha"]), _short(svc["to_sha"]))
    if svc["status"] == "error":
        return "%s, commits unknown: %s" % (head, svc["error"])
    parts = []
    if svc["commits"]:
        parts.append(_count(svc["commits"]))
    if svc["removed_commits"]:
        parts.append("%s taken out (rolls back)" % _count(svc["removed_commits"]))
    return "%s, %s" % (head, ", ".join(parts))


def _migration_line(svc):
    if svc["migrations_changed"]:
        return "MIGRATIONS CHANGED: %s" % ", ".join(svc["migration_files"])
    if svc["migrations_changed"] is False:
        return "migrations unchanged"
    return None


def _side(side):
    return "%s %s" % (side.get("label") or "release", side.get("version") or "-")


def render_text(notes):
    """The notes as a terminal shows them."""
    lines = ["Release notes: %s -> %s" % (_side(notes["from"]), _side(notes["to"])),
             "  from: %s" % notes["from"]["source"], "  to:   %s" % notes["to"]["source"]]
    if notes["carries_migration"]["carries"]:
        lines.append("MIGRATION: %s" % notes["carries_migration"]["reason"])
    for svc in notes["services"]:
        lines.append("%s: %s" % (svc["service"], _status_line(svc)))
        migration = _migration_line(svc)
        if migration:
            lines.append("  %s" % migration)
        for title, commits in (("", svc["commits"]), ("taken out: ", svc["removed_commits"])):
            for commit in commits:
                links = " ".join(p["url"] for p in commit["pull_requests"] if p["url"])
                lines.append("  %s%s %s %s: %s%s" % (title, commit["short_sha"], commit["date"][:10],
                                                     commit["author"], commit["subject"],
                                                     "  " + links if links else ""))
    lines.append("%s in %s of %d services%s" % (
        _count([c for s in notes["services"] for c in s["commits"]]), len(notes["changed_services"]),
        len(notes["services"]), "; migrations changed" if notes["migrations_changed"] else ""))
    # commit subjects, authors and git errors are outside text: shown, never obeyed by the terminal
    return terminal("\n".join(lines), multiline=True)


def _md_subject(commit):
    subject = _md(commit["subject"])
    for pull in commit["pull_requests"]:
        if pull["url"]:
            subject = subject.replace("#%d" % pull["number"], "[#%d](%s)" % (pull["number"], pull["url"]), 1)
    return subject


def render_markdown(notes, heading="###"):
    """The notes as GitHub markdown (a job summary, an AWX description reads it as text)."""
    out = ["%s Release notes: %s → %s" % (heading, _md(_side(notes["from"])), _md(_side(notes["to"]))), "",
           "From %s; to %s." % (_md(notes["from"]["source"]), _md(notes["to"]["source"])), ""]
    if notes["carries_migration"]["carries"]:
        out += ["**Carries a migration**: %s." % _md(notes["carries_migration"]["reason"]), ""]
    if notes["migrations_changed"]:
        out += ["**Migrations changed** in this release.", ""]
    for svc in notes["services"]:
        migration = _migration_line(svc)
        out.append("**%s**: %s%s" % (_md(svc["service"]), _md(_status_line(svc)),
                                     " — **%s**" % _md(migration) if svc["migrations_changed"] else ""))
        out.append("")
        rows = [(c, "") for c in svc["commits"]] + [(c, " (taken out)") for c in svc["removed_commits"]]
        if rows:
            out += ["| Commit | Date | Author | Subject |", "| --- | --- | --- | --- |"]
            out += ["| %s | %s | %s | %s%s |" % (md_code(c["short_sha"]), _md(c["date"][:10]), _md(c["author"]),
                                                 _md_subject(c), note) for c, note in rows]
            out.append("")
    return "\n".join(out).rstrip() + "\n"
