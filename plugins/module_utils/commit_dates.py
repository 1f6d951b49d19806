# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""Commit dates from the service repos' remotes, for the lead-time measure of
``delivery_metrics``: a bare mirror per service in a cache folder (``git fetch`` of every branch
and tag from the remote URL: https, ssh or ``file://``), then ``git log`` on it.

Small and self-contained on purpose (the git CLI, nothing else). Errors never print the remote
URL (it may carry a token): only the service name and git's message with URLs redacted.
"""
from __future__ import annotations

import datetime
import os
import re
import subprocess

from ansible_collections.tachyon.infra.plugins.module_utils.redaction import redact_text

_SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")


class GitError(Exception):
    pass


def parse_git_date(text):
    """git's ``%cI`` (strict ISO 8601 with offset) as an aware UTC datetime."""
    return datetime.datetime.fromisoformat(text.strip()).astimezone(datetime.timezone.utc)


class CommitCache:
    """``cache_dir/<service>.git``: bare mirrors of the service remotes, fetched at most once
    per instance (``sync``), read with ``commits`` / ``commit_date``."""

    def __init__(self, cache_dir, git="git", timeout=120):
        self.cache_dir = os.path.abspath(os.path.expanduser(cache_dir))
        self.git = git
        self.timeout = timeout
        self._synced = {}

    def _run(self, args, service, check=True, hide=()):
        env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
        try:
            proc = subprocess.run([self.git] + list(args), capture_output=True, text=True, env=env,
                                  timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired:
            raise GitError("git for %s: no answer within %d s" % (service, self.timeout))
        except OSError as exc:  # git missing: the message names the program, not the arguments
            raise GitError("git for %s cannot run: %s" % (service, exc.strerror or exc))
        if check and proc.returncode != 0:
            stderr = proc.stderr
            for text in sorted((h for h in hide if h), key=len, reverse=True):
                stderr = stderr.replace(text, "<remote of %s>" % service)
            verb = next(a for a in args if a in ("init", "fetch", "log", "cat-file"))
            raise GitError("git %s for %s failed: %s"
                           % (verb, service, redact_text(stderr.strip()[-500:]) or "exit %d" % proc.returncode))
        return proc

    def path(self, service):
        if not _SAFE_NAME.match(service):
            raise GitError("service name %r cannot name a cache folder" % service)
        return os.path.join(self.cache_dir, service + ".git")

    def sync(self, service, url):
        """Fetch ``url`` into the service's bare mirror (created on first use)."""
        if service in self._synced:
            return self._synced[service]
        repo = self.path(service)
        if not os.path.isdir(os.path.join(repo, "objects")):
            os.makedirs(repo, exist_ok=True)
            self._run(["init", "--quiet", "--bare", repo], service)
        # git's messages quote the remote (a URL that may carry a token, or a local path): hidden
        hide = (url, url[len("file://"):] if url.startswith("file://") else "")
        self._run(["--git-dir", repo, "fetch", "--quiet", "--prune", "--no-tags", url,
                   "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"], service, hide=hide)
        self._synced[service] = repo
        return repo

    def has(self, service, sha):
        repo = self._synced.get(service)
        if not repo:
            return False
        proc = self._run(["--git-dir", repo, "cat-file", "-e", "%s^{commit}" % sha], service, check=False)
        return proc.returncode == 0

    def commits(self, service, new, old=None):
        """Commits reachable from ``new`` and not from ``old``, newest first, as
        ``[(full_sha, committed_at_utc)]``. ``old`` None: ``new`` alone. ``old`` that is not an
        ancestor (a force push): everything reachable from new and not from old, as git says."""
        repo = self._synced.get(service)
        if not repo:
            raise GitError("%s: the remote was not fetched" % service)
        if old is None:
            spec = ["-1", new]
        else:
            spec = ["%s..%s" % (old, new)]
        proc = self._run(["--git-dir", repo, "log", "--format=%H %cI"] + spec + ["--"], service)
        out = []
        for line in proc.stdout.splitlines():
            sha, _sp, date = line.partition(" ")
            if _FULL_SHA.match(sha):
                out.append((sha, parse_git_date(date)))
        return out
