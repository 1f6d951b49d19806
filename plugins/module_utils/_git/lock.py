# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""The deploy lock and the freeze of an environment, kept where every runner sees them.

Two stores share one protocol (read, create-if-absent, replace-if-unchanged, delete-if-unchanged):

- ``GitRefStore``: a ref in the hub's git remote (the remote the manifest is published to),
  ``refs/tachyon/locks/<env>`` for the deploy lock, ``refs/tachyon/freezes/<env>`` for a
  freeze. The ref points at a commit (empty tree) whose message trailers record the holder:
  who, host, pid, purpose, run URL, started, expires-at, lock id. Every change is a
  compare-and-swap push: ``git push --force-with-lease=<ref>:<expected>`` (an empty expected
  value: the ref must not exist), so of two runners racing for one ref exactly one wins. A
  laptop, a GitHub runner and an AWX job pod all reach that remote, so they all see the lock.
- ``FileStore``: a file on the controller created with ``os.link`` (fails if it exists), the
  fallback when no remote is configured; it protects only runs on this controller.

``acquire`` fails at once naming the holder unless ``wait`` seconds are given (then polls with
jitter, printing a progress line, until the lock is free or the wait ends). An expired lock
(past its expires-at; for a file lock also: its process on this host is gone) is taken over,
and the takeover is returned so the caller can warn naming the old holder. A freeze never
expires and is never waited for: it ends when someone releases it.
"""
from __future__ import annotations

import json
import os
import random
import re
import socket
import tempfile
import time
import uuid

from ansible_collections.tachyon.infra.plugins.module_utils._common.escape import git_ident, git_line, git_message, terminal
from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import mask_url_credentials
from ansible_collections.tachyon.infra.plugins.module_utils._common.retry import backoff, jitter
from ansible_collections.tachyon.infra.plugins.module_utils._common.times import epoch, format_utc
from ansible_collections.tachyon.infra.plugins.module_utils._git.run import GitError, run_git

# Seconds after which a lock counts as stale (expired) unless the taker says otherwise.
DEFAULT_STALE_AFTER = 7200

# Where an environment's lock lives: the argument spec of deploy_lock's store options (documented
# there), which app_deploy's ``lock`` option passes on (with the lock_id) and its action plugin
# validates with this same spec.
STORE_OPTIONS = dict(
    remote=dict(type="str"),
    repo_dir=dict(type="path"),
    environment=dict(type="str"),
    path=dict(type="path"),
    stale_after=dict(type="int", default=DEFAULT_STALE_AFTER),
)

LOCK_PREFIX = "refs/tachyon/locks/"
FREEZE_PREFIX = "refs/tachyon/freezes/"
OVERRIDE_PREFIX = "refs/tachyon/overrides/"
NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}\Z")
TRAILERS = (("lock_id", "Tachyon-Lock-Id"), ("kind", "Tachyon-Kind"), ("holder", "Tachyon-Holder"),
            ("host", "Tachyon-Host"), ("pid", "Tachyon-Pid"), ("purpose", "Tachyon-Purpose"),
            ("run_url", "Tachyon-Run-Url"), ("started", "Tachyon-Started"),
            ("expires_at", "Tachyon-Expires-At"), ("reason", "Tachyon-Reason"),
            ("break_glass", "Tachyon-Break-Glass"),
            # an incident override of a change window (_plan/overrides.py)
            ("environment", "Tachyon-Environment"), ("release", "Tachyon-Release"), ("pins", "Tachyon-Pins"),
            ("approved_by", "Tachyon-Approved-By"), ("approved_at", "Tachyon-Approved-At"),
            ("consumed_by", "Tachyon-Consumed-By"), ("consumed_at", "Tachyon-Consumed-At"),
            ("consumed_run", "Tachyon-Consumed-Run"))
REJECTED_RE = re.compile(r"\[rejected\]|\[remote rejected\]|stale info|non-fast-forward|fetch first|"
                         r"cannot lock ref|already exists", re.I)


class LockError(Exception):
    """The lock could not be read or changed; the message says why and what to do."""


class LockHeld(LockError):
    """Someone else holds the lock (or a freeze is in place)."""

    def __init__(self, message, holder):
        super().__init__(message)
        self.holder = holder


def one_line(value, limit=300):
    """A value fit for one trailer line (escape.git_line: controls become spaces, bounded)."""
    return git_line(value, limit)


def shown(holder):
    """A record read from the store (written by any tool, any person) with every value made
    safe for the terminal its messages reach (escape.terminal: ESC sequences, CR, bidi
    overrides shown, not obeyed)."""
    return {key: terminal(value) if isinstance(value, str) else value for key, value in holder.items()}


def run_url_from_env(environ=None):
    """Where this run can be seen: the GitHub Actions run (GITHUB_SERVER_URL, GITHUB_REPOSITORY,
    GITHUB_RUN_ID), or None."""
    environ = os.environ if environ is None else environ
    if environ.get("GITHUB_RUN_ID") and environ.get("GITHUB_REPOSITORY"):
        return "%s/%s/actions/runs/%s" % ((environ.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/"),
                                          environ["GITHUB_REPOSITORY"], environ["GITHUB_RUN_ID"])
    return None


def new_holder(kind, holder, purpose, ttl, run_url=None, pid=None, now=None, reason=None):
    """The record of a new lock (``kind`` lock) or freeze (``kind`` freeze: no expiry)."""
    now = time.time() if now is None else now
    return {
        "lock_id": uuid.uuid4().hex,
        "kind": kind,
        "holder": one_line(holder) or "unknown",
        "host": socket.gethostname(),
        # a freeze outlives the process that took it: no pid
        "pid": "" if kind == "freeze" else str(pid if pid is not None else os.getpid()),
        "purpose": one_line(purpose) or kind,
        "run_url": one_line(mask_url_credentials(run_url)) if run_url else "",
        "started": format_utc(now),
        "expires_at": "never" if kind == "freeze" else format_utc(now + ttl),
        "reason": one_line(reason) if reason else "",
    }


def describe(holder):
    """``alice on host-1 (deploy of staging, https://.../runs/1) since 2026-...Z``"""
    if holder is None:
        return "nobody"
    if holder.get("unreadable"):
        return "an unknown holder (unreadable lock record)"
    where = holder.get("host") or "?"
    if holder.get("pid"):
        where += " pid %s" % holder["pid"]
    extra = [holder.get("purpose") or "?"]
    if holder.get("run_url"):
        extra.append(holder["run_url"])
    text = "%s on %s (%s) since %s" % (holder.get("holder") or "?", where, ", ".join(extra),
                                       holder.get("started") or "?")
    if holder.get("expires_at") and holder["expires_at"] != "never":
        text += ", expires %s" % holder["expires_at"]
    return text


def expired_reason(holder, now=None):
    """Why ``holder`` no longer holds its lock, or None."""
    now = time.time() if now is None else now
    if holder.get("unreadable"):
        return "its record is unreadable"
    if holder.get("expires_at") == "never":
        return None
    expires = epoch(holder.get("expires_at"))
    if expires is None:
        return "its expires-at %r is not a time" % holder.get("expires_at")
    if now >= expires:
        return "it expired at %s" % holder["expires_at"]
    return None


# ---------------------------------------------------------------------------------------------
# stores
# ---------------------------------------------------------------------------------------------
class GitRefStore(object):
    """Lock records as refs of a git remote, changed by compare-and-swap pushes."""

    description = "git remote"

    def __init__(self, repo_dir, remote, runner=None, timeout=60):
        self.repo_dir = repo_dir
        self.remote = remote
        self.timeout = timeout
        self.runner = runner
        self.where = "remote %s" % mask_url_credentials(remote)

    def git(self, *args, check=True, env=None):
        try:
            proc = run_git(args, cwd=self.repo_dir, env=env, timeout=self.timeout, runner=self.runner,
                           what="the lock in %s" % self.where)
        except GitError as exc:
            raise LockError(str(exc))
        if check and proc.returncode != 0:
            raise LockError("`git %s` against %s failed (rc=%d): %s" % (
                args[0], self.where, proc.returncode, mask_url_credentials((proc.stderr or proc.stdout).strip())))
        return proc

    def read(self, ref):
        """``(token, holder)`` of ``ref`` on the remote: token is the commit, None when absent."""
        line = self.git("ls-remote", "--", self.remote, ref).stdout.strip()
        sha = None
        for row in line.splitlines():
            parts = row.split()
            if len(parts) == 2 and parts[1] == ref:
                sha = parts[0]
        if sha is None:
            return None, None
        if self.git("cat-file", "-e", sha + "^{commit}", check=False).returncode != 0:
            self.git("fetch", "-q", "--no-tags", "--", self.remote, "+%s:%s" % (ref, self._local(ref)))
        body = self.git("cat-file", "commit", sha).stdout
        return sha, parse_record(body)

    @staticmethod
    def _local(ref):
        return "refs/tachyon/seen/" + ref[len("refs/tachyon/"):]

    def _commit(self, holder, title):
        empty_tree = self.git("mktree").stdout.strip()
        lines = [title, ""] + ["%s: %s" % (trailer, holder[key]) for key, trailer in TRAILERS if holder.get(key)]
        name = git_ident(holder["holder"])  # the holder as given is the Tachyon-Holder trailer
        ident = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": "tachyon-lock@%s" % holder["host"],
                 "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": "tachyon-lock@%s" % holder["host"]}
        message = git_message(title, "\n".join(lines[2:]))
        return self.git("commit-tree", empty_tree, "-m", message, env=ident).stdout.strip()

    def _push(self, ref, new, expected):
        """True when the remote took the change, False when the lease failed (someone else)."""
        src = new or ""
        proc = self.git("push", "--porcelain", "--no-verify", "--force-with-lease=%s:%s" % (ref, expected or ""),
                        "--", self.remote, "%s:%s" % (src, ref), check=False)
        if proc.returncode == 0:
            return True
        text = proc.stdout + proc.stderr
        if REJECTED_RE.search(text):
            return False
        raise LockError("`git push` of %s to %s failed (rc=%d): %s" % (
            ref, self.where, proc.returncode, mask_url_credentials(text.strip())))

    def create(self, ref, holder, expected=None, title="lock"):
        """Point ``ref`` at a new record if it still is ``expected`` (None: absent): new token or None."""
        sha = self._commit(holder, title)
        return sha if self._push(ref, sha, expected) else None

    def delete(self, ref, expected):
        return self._push(ref, None, expected)


class FileStore(object):
    """Lock records as files on the controller (the fallback when no remote is configured)."""

    description = "local file"

    def __init__(self, lock_path, stale_after=DEFAULT_STALE_AFTER):
        self.lock_path = os.path.abspath(lock_path)
        self.directory = os.path.dirname(self.lock_path)
        self.stale_after = stale_after
        self.where = "this controller (%s)" % self.directory

    def path(self, ref):
        """The lock file itself, or beside it the freeze file (``.lock`` -> ``.freeze``), or an
        override's file (``.override-<id>.json``)."""
        if ref.startswith(OVERRIDE_PREFIX):
            return os.path.join(self.directory, ".override-%s.json" % ref[len(OVERRIDE_PREFIX):])
        if ref.startswith(FREEZE_PREFIX):
            base = self.lock_path[:-len(".lock")] if self.lock_path.endswith(".lock") else self.lock_path
            return base + ".freeze"
        return self.lock_path

    def read(self, ref):
        path = self.path(ref)
        try:
            with open(path) as handle:
                text = handle.read()
        except FileNotFoundError:
            return None, None
        try:
            holder = json.loads(text)
            if not isinstance(holder, dict):
                raise ValueError
        except ValueError:
            holder = {"unreadable": True}
        # lock files of earlier versions: owner, since, since_epoch (no expires-at)
        if "owner" in holder and "holder" not in holder:
            holder["holder"] = holder.pop("owner")
        if "since" in holder and "started" not in holder:
            holder["started"] = holder.pop("since")
        if "expires_at" not in holder and "since_epoch" in holder:
            try:
                holder["expires_at"] = format_utc(float(holder["since_epoch"]) + self.stale_after)
            except (TypeError, ValueError):
                holder["unreadable"] = True
        # the token: the record's revision (an override changes in place), its lock id (or, for a
        # record without one, its text)
        return holder.get("revision") or holder.get("lock_id") or text, shown(holder)

    def create(self, ref, holder, expected=None, title="lock"):
        path = self.path(ref)
        os.makedirs(self.directory, exist_ok=True)
        text = json.dumps(holder, sort_keys=True)
        handle, tmp = tempfile.mkstemp(dir=self.directory, prefix=".deploy-lock-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            if expected is not None:
                if self.read(ref)[0] != expected:
                    return None
                try:
                    os.unlink(path)
                except FileNotFoundError:  # another run took it over first: the link below fails
                    pass
            try:
                os.link(tmp, path)
            except FileExistsError:
                return None
            return holder.get("revision") or holder["lock_id"]
        finally:
            os.unlink(tmp)

    def delete(self, ref, expected):
        if self.read(ref)[0] != expected:
            return False
        try:
            os.unlink(self.path(ref))
        except FileNotFoundError:
            return False
        return True


FALLBACK_NOTE = ("no lock remote is configured (tachyon_lock_remote): using the local lock file %s, "
                 "which protects only runs on this controller, not GitHub runners or AWX jobs")


def open_store(environment, remote=None, repo_dir=None, path=None, stale_after=DEFAULT_STALE_AFTER):
    """``(store, note)``: the hub remote's refs when ``remote`` is set, else the local lock file
    ``path`` (``note`` then says that it protects this controller only)."""
    if remote:
        repo_dir = repo_dir or os.getcwd()
        if not os.path.isdir(repo_dir):
            raise LockError("repo_dir %s is not a directory (the hub checkout whose git knows remote %s)"
                            % (repo_dir, mask_url_credentials(remote)))
        return GitRefStore(repo_dir, remote), None
    if not path:
        raise LockError("set remote (the hub's git remote) or path (a local lock file)")
    store = FileStore(path, stale_after)
    return store, FALLBACK_NOTE % store.path(lock_ref(environment))


def parse_record(commit_text):
    """The holder recorded in a lock commit's trailers."""
    message = commit_text.split("\n\n", 1)[1] if "\n\n" in commit_text else ""
    holder = {}
    names = {trailer.lower(): key for key, trailer in TRAILERS}
    for line in message.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key.lower() in names:
            holder[names[key.lower()]] = value.strip()
    if not holder.get("lock_id"):
        return {"unreadable": True}
    return shown(holder)


def pid_gone_on_this_host(holder):
    """For file locks: the holder ran here and its process is gone."""
    if holder.get("host") != socket.gethostname():
        return False
    try:
        os.kill(int(holder.get("pid")), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, TypeError, ValueError):
        return False
    return False


# ---------------------------------------------------------------------------------------------
# operations
# ---------------------------------------------------------------------------------------------
def check_name(environment):
    if not isinstance(environment, str) or not NAME_RE.match(environment):
        raise LockError("environment %r cannot name a lock: use lower-case letters, digits, '-' or '_'"
                        % (environment,))
    return environment


def lock_ref(environment):
    return LOCK_PREFIX + check_name(environment)


def freeze_ref(environment):
    return FREEZE_PREFIX + check_name(environment)


def _stale(store, holder, now):
    reason = expired_reason(holder, now)
    if reason is None and isinstance(store, FileStore) and holder.get("kind") != "freeze" and pid_gone_on_this_host(holder):
        reason = "its process %s on %s is gone" % (holder.get("pid"), holder.get("host"))
    return reason


def freeze_message(environment, freeze, store):
    return ("%s is FROZEN by %s: %s. Nothing deploys or rolls back until the freeze is released: "
            "ansible-playbook playbooks/lock.yml -i inventories/%s -e lock_action=release "
            "(or, in an emergency, set tachyon_break_glass=\"<why>\" on this run: it is recorded in the "
            "manifest history). The freeze is kept in %s."
            % (environment, describe(freeze), freeze.get("reason") or freeze.get("purpose") or "no reason given",
               environment, store.where))


def acquire(store, environment, holder, wait=0.0, poll=2.0, break_glass=None, progress=None,
            clock=time.monotonic, sleep=time.sleep, now=time.time, rng=random.random):
    """Take the deploy lock of ``environment``; returns a dict: token, holder, taken_over,
    break_glass (the freeze overridden), waited (seconds), contended (another run held it
    meanwhile). Raises LockHeld or LockError."""
    ref = lock_ref(environment)
    started = clock()
    deadline = started + max(0.0, float(wait or 0))
    taken_over = None
    attempt = 0
    while True:
        attempt += 1
        frozen = check_freeze(store, environment, break_glass)
        token, current = store.read(ref)
        if current is not None:
            reason = _stale(store, current, now())
            if reason is None:
                left = deadline - clock()
                if left <= 0:
                    hint = ("wait for it to finish, or let this run wait: -e tachyon_lock_wait=<seconds>"
                            if not wait else "waited %.0fs (tachyon_lock_wait) and it is still held" % (clock() - started))
                    raise LockHeld("another %s is running: the %s lock in %s is held by %s. Nothing was "
                                   "deployed; %s." % (current.get("purpose") or "run", environment, store.where,
                                                      describe(current), hint), current)
                pause = min(left, jitter(poll, rng))
                if progress:
                    progress("waiting for the %s lock held by %s (%.0fs of %.0fs waited, next look in %.1fs)"
                             % (environment, describe(current), clock() - started, float(wait), pause))
                sleep(pause)
                continue
        new = store.create(ref, holder, expected=token, title="tachyon lock: %s (%s)" % (environment, holder["purpose"]))
        if new is None:
            # someone changed the ref between our read and our push: look again
            if attempt > 50:
                raise LockError("the %s lock in %s keeps changing under us; try again" % (environment, store.where))
            sleep(backoff(attempt, first=0.05, cap=0.5, rng=rng))
            continue
        if current is not None:
            taken_over = "took over a stale lock of %s (the %s lock in %s): %s" % (
                describe(current), environment, store.where, _stale(store, current, now()))
        # a freeze taken while we took the lock: it wins (we release and refuse)
        try:
            frozen = check_freeze(store, environment, break_glass) or frozen
        except LockHeld:
            store.delete(ref, new)
            raise
        # contended: another run held the lock meanwhile (we waited, or took over its stale lock),
        # so what was read before taking it (the deploy plan's read of the app) may be out of date
        return {"token": new, "holder": holder, "taken_over": taken_over, "break_glass": frozen,
                "waited": round(clock() - started, 3), "contended": attempt > 1 or current is not None,
                "store": store.description, "where": store.where}


def check_freeze(store, environment, break_glass=None):
    """Raise LockHeld when ``environment`` is frozen (unless ``break_glass`` gives a reason: then
    return the freeze being overridden). None when not frozen."""
    _token, freeze = store.read(freeze_ref(environment))
    if freeze is None:
        return None
    if break_glass:
        return freeze
    raise LockHeld(freeze_message(environment, freeze, store), freeze)


def takeover(store, environment, token):
    """None while ``token`` (from acquire) still holds the lock of ``environment``; otherwise what
    happened to it, as a warning to show, put in the summary and record: someone took it over
    (naming the holder) or removed it."""
    current_token, current = store.read(lock_ref(environment))
    if current_token == token:
        return None
    if current_token is None:
        return ("our %s lock in %s was REMOVED during this run (someone released or deleted it): another "
                "run could have deployed meanwhile" % (environment, store.where))
    return ("our %s lock in %s was TAKEN OVER during this run by %s: another run may be deploying %s now"
            % (environment, store.where, describe(current), environment))


def warn_takeover(display, store, environment, token):
    """``takeover``, warned with ``display`` when it happened (a takeover during a run is never
    silent: this warning, the summary and the record say it); returns it (None: still ours)."""
    lost = takeover(store, environment, token)
    if lost:
        display.warning(lost)
    return lost


def release(store, environment, token):
    """Release our lock (``token`` from acquire). Returns a message; a lock someone else took over
    is left alone (``takeover`` says what happened, for the warning and the record)."""
    ref = lock_ref(environment)
    current_token, current = store.read(ref)
    if current_token is None:
        return "not locked (someone removed our lock)"
    if current_token != token:
        return "the %s lock is now held by %s, not by us: left in place" % (environment, describe(current))
    if store.delete(ref, token):
        return "released"
    return "the %s lock changed while we released it: left in place" % environment


def freeze(store, environment, holder):
    """Freeze ``environment``; returns (changed, record). An existing freeze is kept (and returned)."""
    ref = freeze_ref(environment)
    token, current = store.read(ref)
    if current is not None:
        return False, current
    new = store.create(ref, holder, expected=None, title="tachyon freeze: %s (%s)" % (environment, holder["purpose"]))
    if new is None:
        return False, store.read(ref)[1]
    return True, holder


def unfreeze(store, environment):
    """Release the freeze of ``environment``; returns (changed, the freeze released)."""
    ref = freeze_ref(environment)
    for _attempt in range(5):
        token, current = store.read(ref)
        if token is None:
            return False, None
        if store.delete(ref, token):
            return True, current
    raise LockError("the %s freeze in %s keeps changing; try again" % (environment, store.where))


def status(store, environment):
    """``{locked, lock, frozen, freeze, expired}`` of ``environment``."""
    _t, lock = store.read(lock_ref(environment))
    _f, frz = store.read(freeze_ref(environment))
    return {"locked": lock is not None, "lock": lock, "frozen": frz is not None, "freeze": frz,
            "expired": _stale(store, lock, time.time()) if lock else None, "where": store.where}
