# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see LICENSE)
"""The one way the collection runs the git CLI: ``run_git``.

Every call gets the same environment (no terminal prompt for credentials, the C locale so
git's messages can be read), no stdin, a timeout, and a clear ``GitError`` when git is not
installed or takes too long. ``runner`` stands in for ``subprocess.run`` in tests. What a caller
does with a failing command (raise, report, ignore) and how it redacts git's stderr stays with
the caller: the lock and the publisher mask URL credentials, the cache redacts remote URLs.
"""
from __future__ import annotations

import os
import subprocess


class GitError(Exception):
    """git could not run (not installed, timed out) or a command failed; the message says which."""


def git_env(extra=None):
    """The environment every git call runs with: ours plus no prompt and the C locale."""
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    env.update(extra or {})
    return env


def run_git(args, cwd=None, env=None, timeout=60, runner=None, text=True, what="git", data=None):
    """``git <args>`` as a ``subprocess.CompletedProcess`` (never raises on a non-zero exit).
    ``env``: extra variables; ``what``: who needs git, for the error when it is missing;
    ``data``: its stdin (str, or bytes with ``text=False``), else none."""
    if data is None:
        data = "" if text else b""
    try:
        return (runner or subprocess.run)(["git"] + [str(a) for a in args], cwd=cwd, env=git_env(env),
                                          capture_output=True, text=text, timeout=timeout,
                                          input=data, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed on the controller; %s needs it" % what)
    except subprocess.TimeoutExpired:
        raise GitError("`git %s` took longer than %ds" % (args[0], timeout))
