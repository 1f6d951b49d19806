# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""Atomic file replacement and an inter-process lock for files the collection writes.

``atomic_write`` writes a temporary file in the target's own directory (same filesystem, so the
rename is atomic), fsyncs it, renames it over the target and fsyncs the directory: a reader sees
either the old or the new content, never a torn file, and a run killed at any point leaves the
old file intact (at worst a stray ``.<name>.*.tmp`` file that the next write ignores).
A ``path`` that is a symbolic link (or lies under one) is resolved first: the link's final
target is replaced atomically, in the target's directory, and the link itself stays a link.
(Renaming over the link instead would turn it into a regular file and leave the real target
stale.)

``FileLock`` is an exclusive ``fcntl.flock`` on ``.<name>.lock`` next to the file (next to the
final target when ``path`` is a symbolic link, so every link to one file shares its lock). We use fcntl
directly rather than the ``filelock`` package because the lock file must carry the holder's
identity (pid, host, user, since, purpose) so that a contender can say who holds it; the kernel
drops an flock when its holder dies, so a killed run never leaves a stale lock behind.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import getpass
import json
import os
import socket
import stat
import tempfile
import time
from ansible_collections.tachyon.infra.plugins.module_utils._common.times import utcnow


class LockTimeout(Exception):
    """Raised when a lock could not be acquired in time; the message names the holder."""

    def __init__(self, message, holder=None):
        super().__init__(message)
        self.holder = holder


def lock_path_for(path):
    """The lock file used for ``path``: ``<dir>/.<name>.lock`` of its final target
    (``os.path.realpath``: symbolic links resolved)."""
    directory, name = os.path.split(os.path.realpath(path))
    return os.path.join(directory, "." + name + ".lock")


def _fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:  # some filesystems refuse fsync on directories
        if exc.errno not in (errno.EINVAL, errno.EBADF, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


def atomic_write(path, data, mode=None):
    """Replace ``path`` with ``data`` (str or bytes) atomically and durably.

    When ``path`` is a symbolic link, its final target is replaced (the link is kept). The new
    file keeps the old file's permission bits, or gets ``mode`` (default 0o644) when the file
    is new. Raises OSError on failure; the old file is untouched in that case.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    path = os.path.realpath(path)
    directory, name = os.path.split(path)
    if mode is None:
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            mode = 0o644
    fd, tmp = tempfile.mkstemp(prefix="." + name + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def _read_holder(fd):
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        raw = os.read(fd, 4096)
        return json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (OSError, ValueError):
        return None


def describe_holder(holder):
    """Human-readable holder description for error messages."""
    if not holder:
        return "an unknown process"
    return "pid {pid} on {host} (user {user}, since {since}{purpose})".format(
        pid=holder.get("pid", "?"),
        host=holder.get("host", "?"),
        user=holder.get("user", "?"),
        since=holder.get("since", "?"),
        purpose=", " + holder["purpose"] if holder.get("purpose") else "",
    )


class FileLock(object):
    """Exclusive advisory lock for ``path`` (a context manager).

    ``timeout`` seconds to wait (0: try once). On timeout raises ``LockTimeout`` whose message
    names the lock file and the holder recorded in it.
    """

    def __init__(self, path, timeout=30.0, purpose=None, poll_interval=0.05):
        self.path = os.path.abspath(path)
        self.lock_path = lock_path_for(path)
        self.timeout = float(timeout)
        self.purpose = purpose
        self.poll_interval = poll_interval
        self._fd = None

    def acquire(self):
        # O_TRUNC is deliberately absent: truncating would erase the holder's identity.
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
                if time.monotonic() >= deadline:
                    holder = _read_holder(fd)
                    os.close(fd)
                    raise LockTimeout(
                        "{lock} is held by {holder}; waited {t:g}s. Wait for that run to finish "
                        "(or stop it) and retry.".format(
                            lock=self.lock_path, holder=describe_holder(holder), t=self.timeout),
                        holder=holder)
                time.sleep(self.poll_interval)
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "user": _user(),
            "since": utcnow(),
        }
        if self.purpose:
            holder["purpose"] = self.purpose
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(holder).encode("utf-8"))
        self._fd = fd
        return self

    def release(self):
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
        return False


def _user():
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return str(os.getuid())
