# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""The commit each service repo's branch points to (``git ls-remote``, every remote at once), and
short SHAs expanded to full ones against their remote. Used by the deploy plan (staging) and the
git_ls_remote lookup."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess

from ansible_collections.tachyon.infra.plugins.module_utils._common.patterns import FULL_SHA_LENGTH, is_sha
from ansible_collections.tachyon.infra.plugins.module_utils._git.run import git_env


class RemoteError(ValueError):
    """A remote that cannot be resolved, or a malformed SHA (the message names every one)."""


def _sha_of(stdout, ref):
    """The SHA of exactly ``ref`` in ls-remote output (its pattern also matches ``*/<ref>``)."""
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] == ref:
            return parts[0]
    return None


def _git_error(stderr):
    """git's own error lines (``fatal: ...``), else all it printed, on one line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return " ".join(errors or lines)


def _run_all(argvs):
    """{name: (returncode, stdout, stderr)} of every git command, all started at once."""
    procs = {}
    try:
        for name, argv in argvs.items():
            # All started before any is waited for: the remotes are queried concurrently.
            # Reading them one after the other cannot deadlock: a process waiting on a full
            # pipe only waits for its own turn, and no process waits on another.
            procs[name] = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE, text=True, env=git_env())
    except OSError as exc:
        for proc in procs.values():
            proc.kill()
            proc.wait()
        raise RemoteError("cannot run git ls-remote (%s): install git on the controller" % exc)
    results = {}
    for name, proc in procs.items():
        out, err = proc.communicate()
        results[name] = (proc.returncode, out, err)
    return results


def ls_remote(remotes, ref, shas=None):
    """{name: full sha} for {name: url}: ``shas[name]`` expanded to its full SHA when given,
    else what ``ref`` points to; raises AnsibleLookupError naming every remote that failed."""
    shas = dict(shas or {})
    malformed = sorted(name for name, sha in shas.items()
                       if not is_sha(sha))
    if malformed:
        raise RemoteError(
            "malformed SHA for %s in tachyon_shas: a git commit SHA is 7 to 40 hexadecimal "
            "characters (e.g. 9f8e7d6, or the full 40 from `git rev-parse HEAD`)." % ", ".join(malformed))
    unknown = sorted(set(shas) - set(remotes))
    if unknown:
        raise RemoteError("no remote URL for %s (given in shas)" % ", ".join(unknown))
    resolved = {name: sha.lower() for name, sha in shas.items() if len(sha) == FULL_SHA_LENGTH}
    short = {name: sha.lower() for name, sha in shas.items() if len(sha) < FULL_SHA_LENGTH}
    argvs = {}
    for name, url in remotes.items():
        if name in short:
            argvs[name] = ["git", "ls-remote", "--exit-code", str(url)]
        elif name not in resolved:
            argvs[name] = ["git", "ls-remote", "--exit-code", str(url), ref]
    errors, expand_errors = [], []
    for name, (code, out, err) in _run_all(argvs).items():
        if name in short:
            prefix = short[name]
            listed = {line.split()[0].lower() for line in out.splitlines() if len(line.split()) == 2}
            matches = sorted(sha for sha in listed if sha.startswith(prefix)) if code == 0 else []
            if len(matches) == 1:
                resolved[name] = matches[0]
                continue
            if code not in (0, 2):
                why = _git_error(err) or "git exited with %d" % code
            elif not matches:
                why = "no branch or tag of the remote points to a commit starting with it"
            else:
                why = "it is ambiguous (%d branch/tag commits start with it)" % len(matches)
            expand_errors.append("%s %s (%s): %s" % (name, prefix, remotes[name], why))
            continue
        sha = _sha_of(out, ref) if code == 0 else None
        if sha:
            resolved[name] = sha.lower()
            continue
        if code == 2 or (code == 0 and not sha):
            why = "the remote has no %s" % ref
        else:
            why = _git_error(err) or "git exited with %d" % code
        errors.append("%s (%s): %s" % (name, remotes[name], why))
    problems = []
    if errors:
        problems.append(
            "git ls-remote could not resolve %s of %s. Give the SHA in tachyon_shas, or fix the URL "
            "(tachyon_repo_base_url / tachyon_repo_urls) or the branch (tachyon_repo_branch)."
            % (ref, "; ".join(errors)))
    if expand_errors:
        problems.append(
            "cannot expand the short SHA of %s. Give all 40 hexadecimal "
            "characters in tachyon_shas (`git rev-parse <sha>` in a checkout of the service); "
            "images are tagged with the full SHA and production deploys exactly what staging ran."
            % "; ".join(expand_errors))
    if problems:
        raise RemoteError(" ".join(problems))
    return resolved
