# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Release notes across the service repos: per service, the commits between two pins.

The pins come from the manifest (release_pins.py: ``version_pins``, the current release or a
version the history recorded as deployed; ``environment_pins``, what an environment runs now). The commits come from
each service's git remote, fetched into a bare cache repository per service (``GitCache``), and
never from a checkout. A service pinned to the same commit on both sides says "no change"; the db
repo's migration files changing between the pins sets ``migrations_changed``.

git runs as a subprocess: the hub already needs the git CLI (git ls-remote, the lock refs, the
manifest publisher), it speaks every transport the remotes use (https with the runner's
credential helper, ssh, file://) and needs no extra dependency. GitPython shells out to the same
CLI; dulwich and pygit2 would add a dependency (pygit2 a C library) and credential handling of
their own for three commands (fetch, rev-list/log, diff --name-only).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import subprocess

from ansible_collections.tachyon.infra.plugins.module_utils.manifest import sha_matches
from ansible_collections.tachyon.infra.plugins.module_utils.release_pins import (  # noqa: F401 pylint: disable=unused-import
    PinsError as NotesError, environment_pins, recorded_versions, version_pins)
from ansible_collections.tachyon.infra.plugins.module_utils.redaction import redact_text, redact_url

# "(#123)" as GitHub's squash merges end a subject, "Merge pull request #123 from ..." as its
# merge commits start one
PULL_RE = re.compile(r"\(#(\d+)\)|^Merge pull request #(\d+)\b")
GITHUB_RE = re.compile(r"^(?:https?://(?:[^@/]+@)?github\.com/|ssh://git@github\.com/|git@github\.com:)"
                       r"([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$")
FULL_SHA_RE = re.compile(r"^[0-9a-f]{40}\Z")
SHORT = 7
FIELD, RECORD = "\x1f", "\x1e"


def web_base(url):
    """https://github.com/<owner>/<repo> for a GitHub remote URL, else None."""
    match = GITHUB_RE.match(url or "")
    return "https://github.com/%s/%s" % match.groups() if match else None


def pull_requests(subject, web=None):
    """The pull requests a commit subject names: ``[{number, url}]`` (url None without a web base)."""
    out = []
    for match in PULL_RE.finditer(subject or ""):
        number = int(match.group(1) or match.group(2))
        if number not in [p["number"] for p in out]:
            out.append({"number": number, "url": "%s/pull/%d" % (web.rstrip("/"), number) if web else None})
    return out


class GitCache(object):
    """A bare repository per service under ``root``, fetched from the service's remote on demand."""

    def __init__(self, root, timeout=120, runner=None):
        self.root = os.path.abspath(os.path.expanduser(root))
        self.timeout = timeout
        self.runner = runner or subprocess.run
        self.fetches = 0

    def git(self, git_dir, *args):
        env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C", GIT_DIR=git_dir)
        try:
            proc = self.runner(["git"] + list(args), env=env, capture_output=True, text=True,
                               timeout=self.timeout, input="", check=False)
        except FileNotFoundError:
            raise NotesError("git is not installed on the controller; the release notes need it")
        except subprocess.TimeoutExpired:
            raise NotesError("`git %s` took longer than %ds" % (args[0], self.timeout))
        return proc.returncode, proc.stdout, redact_text(proc.stderr.strip())

    def path(self, name):
        return os.path.join(self.root, re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".git")

    def _has(self, git_dir, sha):
        return self.git(git_dir, "cat-file", "-e", "%s^{commit}" % sha)[0] == 0

    def ensure(self, name, url, shas):
        """The cache repo of ``name`` holding every commit of ``shas``; fetches only when one is
        missing (every branch and tag, then a missing full SHA by itself, as GitHub allows)."""
        git_dir = self.path(name)
        if not os.path.isdir(git_dir):
            os.makedirs(self.root, exist_ok=True)
            rc, _out, err = self.git(git_dir, "init", "--quiet", "--bare", git_dir)
            if rc:
                raise NotesError("cannot create the cache repository %s: %s" % (git_dir, err))
        missing = [s for s in shas if not self._has(git_dir, s)]
        if missing:
            self.fetches += 1
            rc, _out, err = self.git(git_dir, "fetch", "--quiet", "--prune", "--force", url,
                                     "+refs/heads/*:refs/remotes/source/heads/*",
                                     "+refs/tags/*:refs/remotes/source/tags/*")
            if rc:
                raise NotesError("fetching %s from %s failed: %s" % (name, redact_url(url), err))
            missing = [s for s in missing if not self._has(git_dir, s)]
        for sha in [s for s in missing if FULL_SHA_RE.match(s)]:
            self.fetches += 1
            self.git(git_dir, "fetch", "--quiet", url, sha)
        missing = [s for s in missing if not self._has(git_dir, s)]
        if missing:
            raise NotesError("%s: commit(s) %s are not in %s (neither on a branch or tag nor fetchable "
                             "by SHA)" % (name, ", ".join(missing), redact_url(url)))
        return git_dir

    def commits(self, git_dir, base, tip, web=None):
        """Commits reachable from ``tip`` and not from ``base``, newest first."""
        rc, out, err = self.git(git_dir, "log", "--topo-order",
                                "--format=%H" + FIELD + "%an" + FIELD + "%aI" + FIELD + "%s" + RECORD,
                                "%s..%s" % (base, tip))
        if rc:
            raise NotesError("git log %s..%s failed: %s" % (base, tip, err))
        out_list = []
        for record in out.split(RECORD):
            record = record.strip("\n")
            if not record:
                continue
            sha, author, date, subject = record.split(FIELD, 3)
            out_list.append({"sha": sha, "short_sha": sha[:SHORT], "author": author, "date": date,
                             "subject": subject, "pull_requests": pull_requests(subject, web)})
        return out_list

    def changed_files(self, git_dir, base, tip, paths):
        """Files under ``paths`` that differ between ``base`` and ``tip``."""
        if not paths:
            return []
        rc, out, err = self.git(git_dir, "diff", "--name-only", base, tip, "--", *paths)
        if rc:
            raise NotesError("git diff %s %s failed: %s" % (base, tip, err))
        return [line for line in out.splitlines() if line]


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
    except NotesError as err:
        item.update(status="error", error=str(err))
        return item
    if item["removed_commits"] and not item["commits"]:
        item["status"] = "rolled back"
    elif item["removed_commits"]:
        item["status"] = "diverged"
    else:
        item["status"] = "changed"
    return item


def build_notes(old, new, repos, cache, migration_paths=None, web_urls=None, order=None):
    """Release notes between ``old`` and ``new``: each ``{"label", "version", "source",
    "services"}`` (services: name -> pin, or None for "nothing recorded")."""
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
    return "\n".join(lines)


def _md(text):
    return re.sub(r"([\\`*_\[\]<>|])", r"\\\1", text or "")


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
            out += ["| `%s` | %s | %s | %s%s |" % (c["short_sha"], c["date"][:10], _md(c["author"]),
                                                   _md_subject(c), note) for c, note in rows]
            out.append("")
    return "\n".join(out).rstrip() + "\n"
