# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Bare cache repositories of the service remotes, for the release notes (commits, authors,
changed files between two pins) and the delivery metrics (commit dates for the lead time).

A bare repository per service under a cache folder, fetched from the service's remote (every
branch and tag) only when a commit is missing (``ensure``) or once per run (``sync``); never a
checkout. Error messages carry no credentials: remote URLs are reduced to scheme://host/path and
git's stderr is redacted.

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

from ansible_collections.tachyon.infra.plugins.module_utils._common.patterns import is_sha
from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_text, redact_url
from ansible_collections.tachyon.infra.plugins.module_utils._git.run import GitError, run_git
from ansible_collections.tachyon.infra.plugins.module_utils._common.times import parse_utc

SHORT = 7
# "(#123)" as GitHub's squash merges end a subject, "Merge pull request #123 from ..." as its
# merge commits start one
PULL_RE = re.compile(r"\(#(\d+)\)|^Merge pull request #(\d+)\b")


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
        self.runner = runner
        self.fetches = 0
        self.synced = {}

    def git(self, git_dir, *args):
        """(returncode, stdout, stderr) of git in ``git_dir``; stderr redacted (tokens, query
        strings, and any remote URL among ``args`` reduced to scheme://host/path)."""
        # bytes, decoded here: text=True would turn a CR in a subject into a line break
        proc = run_git(args, env={"GIT_DIR": git_dir}, timeout=self.timeout, runner=self.runner,
                       what="the release notes", text=False)
        stdout = proc.stdout.decode("utf-8", "replace") if isinstance(proc.stdout, bytes) else proc.stdout
        stderr = (proc.stderr.decode("utf-8", "replace") if isinstance(proc.stderr, bytes) else proc.stderr).strip()
        for arg in sorted((a for a in args if "://" in a), key=len, reverse=True):
            stderr = stderr.replace(arg, redact_url(arg))
        return proc.returncode, stdout, redact_text(stderr)

    def path(self, name):
        return os.path.join(self.root, re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".git")

    def has(self, git_dir, sha):
        """Whether the cache repo ``git_dir`` holds commit ``sha``."""
        return self.git(git_dir, "cat-file", "-e", "%s^{commit}" % sha)[0] == 0

    def _init(self, name):
        git_dir = self.path(name)
        if not os.path.isdir(git_dir):
            os.makedirs(self.root, exist_ok=True)
            rc, _out, err = self.git(git_dir, "init", "--quiet", "--bare", git_dir)
            if rc:
                raise GitError("cannot create the cache repository %s: %s" % (git_dir, err))
        return git_dir

    def _fetch(self, name, url, git_dir):
        self.fetches += 1
        rc, _out, err = self.git(git_dir, "fetch", "--quiet", "--prune", "--force", url,
                                 "+refs/heads/*:refs/remotes/source/heads/*",
                                 "+refs/tags/*:refs/remotes/source/tags/*")
        if rc:
            raise GitError("fetching %s from %s failed: %s" % (name, redact_url(url), err))

    def sync(self, name, url):
        """The cache repo of ``name`` with every branch and tag of ``url``, fetched once per
        instance (later calls reuse it)."""
        if name not in self.synced:
            git_dir = self._init(name)
            self._fetch(name, url, git_dir)
            self.synced[name] = git_dir
        return self.synced[name]

    def ensure(self, name, url, shas):
        """The cache repo of ``name`` holding every commit of ``shas``; fetches only when one is
        missing (every branch and tag, then a missing full SHA by itself, as GitHub allows)."""
        git_dir = self._init(name)
        missing = [s for s in shas if not self.has(git_dir, s)]
        if missing:
            self._fetch(name, url, git_dir)
            missing = [s for s in missing if not self.has(git_dir, s)]
        for sha in [s for s in missing if is_sha(s, full=True)]:
            self.fetches += 1
            self.git(git_dir, "fetch", "--quiet", url, sha)
        missing = [s for s in missing if not self.has(git_dir, s)]
        if missing:
            raise GitError("%s: commit(s) %s are not in %s (neither on a branch or tag nor fetchable "
                           "by SHA)" % (name, ", ".join(missing), redact_url(url)))
        return git_dir

    def commits(self, git_dir, base, tip, web=None):
        """Commits reachable from ``tip`` and not from ``base``, newest first."""
        # NUL-separated (-z between commits, %x00 between fields): no byte a subject or an author
        # can carry (git keeps CR, \x1e, \x1f, ESC in them) splits a record
        rc, out, err = self.git(git_dir, "log", "-z", "--topo-order", "--format=%H%x00%an%x00%aI%x00%s",
                                "%s..%s" % (base, tip))
        if rc:
            raise GitError("git log %s..%s failed: %s" % (base, tip, err))
        fields = out.split("\0")
        if fields and fields[-1] in ("", "\n"):
            fields.pop()
        if len(fields) % 4:
            raise GitError("git log %s..%s: unexpected output (%d NUL-separated fields)" % (base, tip, len(fields)))
        out_list = []
        for index in range(0, len(fields), 4):
            sha, author, date, subject = fields[index:index + 4]
            out_list.append({"sha": sha, "short_sha": sha[:SHORT], "author": author, "date": date,
                             "subject": subject, "pull_requests": pull_requests(subject, web)})
        return out_list

    def changed_files(self, git_dir, base, tip, paths):
        """Files under ``paths`` that differ between ``base`` and ``tip``."""
        if not paths:
            return []
        rc, out, err = self.git(git_dir, "diff", "--name-only", base, tip, "--", *paths)
        if rc:
            raise GitError("git diff %s %s failed: %s" % (base, tip, err))
        return [line for line in out.splitlines() if line]

    def commit_dates(self, git_dir, base, tip):
        """``[(full sha, committer date as aware UTC datetime)]`` of the commits reachable from
        ``tip`` and not from ``base``, newest first; ``base`` None: ``tip`` alone."""
        spec = ["-1", tip] if base is None else ["%s..%s" % (base, tip)]
        rc, out, err = self.git(git_dir, "log", "--format=%H %cI", *(spec + ["--"]))
        if rc:
            raise GitError("git log %s failed: %s" % (" ".join(spec), err))
        dates = []
        for line in out.splitlines():
            sha, _sp, date = line.partition(" ")
            if is_sha(sha, full=True):
                dates.append((sha, parse_utc(date)))
        return dates
