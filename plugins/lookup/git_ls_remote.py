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
  shas:
    description:
      - Given SHAs, name to SHA (7-40 hexadecimal characters). A remote named here is not
        resolved to O(ref); its SHA is returned in full (40 lowercase hex characters). A full
        SHA is returned as given (lowercased), with no C(git) run. A shorter one is expanded
        against the remote - C(git ls-remote <url>) lists the commits its branches and tags point
        to - and must match exactly one of them; otherwise the lookup fails, naming the service
        and asking for the full SHA (an image tag is the full SHA, and production must deploy
        exactly the commit staging ran).
      - A value that is not 7-40 hex characters (the whole string) fails the lookup naming the
        service.
    type: dict
    default: {}
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
  description: One dict C(name -> SHA), every SHA in full (40 lowercase hex characters).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.tachyon.infra.plugins.module_utils._common.input_types import branch_problem
from ansible_collections.tachyon.infra.plugins.module_utils._git import remote


def ls_remote(remotes, ref, shas=None):
    """module_utils/_git/remote.ls_remote, its errors as lookup errors."""
    try:
        return remote.ls_remote(remotes, ref, shas)
    except remote.RemoteError as exc:
        raise AnsibleLookupError(str(exc))


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        remotes = {}
        for term in terms:
            if not isinstance(term, dict):
                raise AnsibleLookupError("git_ls_remote takes dicts name -> remote URL, got %s" % type(term).__name__)
            remotes.update(term)
        ref = self.get_option("ref")
        # a branch is checked by git's own rules (it becomes an argument of git ls-remote)
        if not isinstance(ref, str) or not ref.startswith("refs/") or \
                (ref.startswith("refs/heads/") and branch_problem(ref[len("refs/heads/"):])):
            raise AnsibleLookupError("ref %r is not a ref name git accepts: give refs/heads/<branch> with a branch "
                                     "name `git check-ref-format --branch` accepts (tachyon_repo_branch)" % (ref,))
        return [ls_remote(remotes, ref, self.get_option("shas"))]
