# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Resolve a branch of several git remotes at once (``git ls-remote``), on the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: git_ls_remote
short_description: The commit SHA a ref points to in each of several git remotes
version_added: "0.1.0"
description:
  - Runs C(git ls-remote --exit-code <url> <ref>) for every remote at the same time (one
    C(git) process each, started together) and returns a dict C(name -> SHA).
  - A remote that cannot be resolved (unreachable, no such repository, no such ref) fails the
    lookup naming it, its URL and git's own message; every failing remote is named, not only
    the first.
  - Runs on the controller, like every lookup. The deploy role uses it because its hosts are
    the controller itself (C(ansible_connection=local), as the modules talk to an HTTP API).
  - With no remotes, no C(git) runs and the result is an empty dict.
options:
  _terms:
    description:
      - Dicts C(name -> remote URL), merged; for example the key C(tachyon-api) with the value
        C(https://github.com/tachyonapp/tachyon-api.git).
    required: true
    type: list
    elements: dict
  ref:
    description: The full ref to resolve; only a ref of exactly this name counts.
    type: str
    default: refs/heads/main
notes:
  - Like the C(ansible.builtin.command) it replaces in the deploy role, no timeout is applied;
    git's own network timeouts and credential helpers apply.
"""

EXAMPLES = r"""
- name: SHAs of the main branches
  ansible.builtin.set_fact:
    heads: >-
      {{ lookup('tachyon.infra.git_ls_remote',
                {'tachyon-api': 'https://github.com/tachyonapp/tachyon-api.git'}, ref='refs/heads/main') }}
"""

RETURN = r"""
_raw:
  description: One dict C(name -> SHA) (lowercase hex, as git prints it).
  type: list
  elements: dict
"""

import subprocess

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase


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


def ls_remote(remotes, ref):
    """{name: sha} for {name: url}; raises AnsibleLookupError naming every remote that failed."""
    procs = {}
    try:
        for name, url in remotes.items():
            # All started before any is waited for: the remotes are queried concurrently.
            # Reading them one after the other cannot deadlock: a process waiting on a full
            # pipe only waits for its own turn, and no process waits on another.
            procs[name] = subprocess.Popen(["git", "ls-remote", "--exit-code", str(url), ref],
                                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE, text=True)
    except OSError as exc:
        for proc in procs.values():
            proc.kill()
            proc.wait()
        raise AnsibleLookupError("cannot run git ls-remote (%s): install git on the controller" % exc)
    shas, errors = {}, []
    for name, proc in procs.items():
        out, err = proc.communicate()
        sha = _sha_of(out, ref) if proc.returncode == 0 else None
        if sha:
            shas[name] = sha
            continue
        if proc.returncode == 2 or (proc.returncode == 0 and not sha):
            why = "the remote has no %s" % ref
        else:
            why = _git_error(err) or "git exited with %d" % proc.returncode
        errors.append("%s (%s): %s" % (name, remotes[name], why))
    if errors:
        raise AnsibleLookupError(
            "git ls-remote could not resolve %s of %s. Give the SHA in tachyon_shas, or fix the URL "
            "(tachyon_repo_base_url / tachyon_repo_urls) or the branch (tachyon_repo_branch)."
            % (ref, "; ".join(errors)))
    return shas


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        remotes = {}
        for term in terms:
            if not isinstance(term, dict):
                raise AnsibleLookupError("git_ls_remote takes dicts name -> remote URL, got %s" % type(term).__name__)
            remotes.update(term)
        return [ls_remote(remotes, self.get_option("ref"))]
