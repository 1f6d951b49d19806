#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
from __future__ import annotations

DOCUMENTATION = r"""
module: repo_layout
short_description: Check that the sibling service repositories are laid out as expected
version_added: 0.1.0
description:
  - For each repository, reports whether its directory is present, is a git checkout, has
    an C(origin) remote equal to the expected URL, which branch and commit are checked out,
    whether the work tree has uncommitted changes, and whether the required files
    (for example C(package.json)) exist.
  - Fails, naming every repository that is not as expected and what is wrong with it,
    unless O(fail_on_problems=false).
  - Remote URLs are compared by host and path, so C(git@github.com:org/repo.git) and
    C(https://github.com/org/repo) are the same repository.
  - Only reads; never changes anything.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.attributes.read_only
options:
  repos:
    description: The repositories to check.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Repository name, used in the report and in error messages.
        type: str
        required: true
      path:
        description: The checkout's directory.
        type: path
        required: true
      url:
        description: The expected C(origin) URL. Omit to skip the remote check.
        type: str
      branch:
        description:
          - The branch the repository is cloned at. Another checked-out branch is not a
            problem (developers switch branches); it is reported in RV(repos[].on_branch).
        type: str
      required_files:
        description: Files, relative to O(repos[].path), that must exist.
        type: list
        elements: str
        default: [package.json]
  fail_on_problems:
    description: Fail when a repository has a problem. With C(false), only report.
    type: bool
    default: true
requirements:
  - git on the PATH
"""

EXAMPLES = r"""
- name: Validate the sibling checkouts
  tachyon.infra.repo_layout:
    repos:
      - name: tachyon-api
        path: "{{ playbook_dir }}/../../tachyon-api"
        url: https://github.com/tachyonapp/tachyon-api.git
  register: layout

- name: Report
  ansible.builtin.debug:
    msg: "{{ layout.repos | map(attribute='summary') | list }}"
"""

RETURN = r"""
repos:
  description: One entry per repository, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: 'The repository name.'
      type: str
    path:
      description: 'The checkout''s directory.'
      type: str
    present:
      description: 'The directory exists.'
      type: bool
    git:
      description: 'The directory is a git work tree.'
      type: bool
    remote_url:
      description: 'The C(origin) URL, or null.'
      type: str
    remote_matches:
      description: 'C(origin) is the expected URL (true when no URL was given).'
      type: bool
    branch:
      description: 'The checked-out branch (null when detached).'
      type: str
    on_branch:
      description: 'The checked-out branch is O(repos[].branch) (true when none was given).'
      type: bool
    commit:
      description: 'The checked-out commit SHA.'
      type: str
    dirty:
      description: 'The work tree has uncommitted changes.'
      type: bool
    missing_files:
      description: 'Required files that do not exist.'
      type: list
      elements: str
    problems:
      description: 'What is wrong (empty when the layout is right).'
      type: list
      elements: str
    summary:
      description: 'One line for the report.'
      type: str
ok:
  description: Every repository is laid out as expected.
  returned: always
  type: bool
"""

import os
import re
from urllib.parse import urlsplit

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tachyon.infra.plugins.module_utils._git.run import GitError, run_git

SCP_LIKE = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>(?!/).+)$")


def normalize_url(url):
    """host/path of a git URL: the same repository reached by https, ssh, scp syntax or file."""
    url = (url or "").strip()
    match = SCP_LIKE.match(url) if "://" not in url else None
    if match:
        host, path = match.group("host"), match.group("path")
    else:
        parts = urlsplit(url)
        host, path = (parts.hostname or "").lower(), parts.path if parts.scheme else url
    path = path.rstrip("/")
    if path.endswith(".git"):
        path = path[: -len(".git")]
    return "%s/%s" % (host.lower(), path.strip("/")) if host else os.path.normpath(path)


def inspect_repo(repo, git):
    """Describe one checkout. `git(path, *args)` returns (rc, stdout) of a git command."""
    name, path = repo["name"], repo["path"]
    result = {
        "name": name, "path": path, "present": os.path.isdir(path), "git": False,
        "remote_url": None, "remote_matches": False, "branch": None, "commit": None,
        "on_branch": False, "dirty": False, "missing_files": [], "problems": [],
    }
    if not result["present"]:
        result["problems"].append("%s is missing (run playbooks/setup.yml to clone it)" % path)
    else:
        rc, top = git(path, "rev-parse", "--show-toplevel")
        result["git"] = rc == 0 and os.path.realpath(top) == os.path.realpath(path)
        if not result["git"]:
            result["problems"].append("%s is not a git checkout (move it away and run setup again)" % path)
        else:
            rc, remote = git(path, "remote", "get-url", "origin")
            result["remote_url"] = remote if rc == 0 else None
            expected = repo.get("url")
            result["remote_matches"] = not expected or (
                result["remote_url"] is not None and normalize_url(result["remote_url"]) == normalize_url(expected))
            if not result["remote_matches"]:
                result["problems"].append("origin is %s, expected %s" % (result["remote_url"] or "not set", expected))
            rc, branch = git(path, "symbolic-ref", "--quiet", "--short", "HEAD")
            result["branch"] = branch if rc == 0 else None
            result["on_branch"] = not repo.get("branch") or result["branch"] == repo["branch"]
            rc, commit = git(path, "rev-parse", "HEAD")
            result["commit"] = commit if rc == 0 else None
            rc, status = git(path, "status", "--porcelain", "--untracked-files=no")
            result["dirty"] = rc == 0 and bool(status)
        result["missing_files"] = [f for f in repo.get("required_files") or []
                                   if not os.path.exists(os.path.join(path, f))]
        if result["missing_files"]:
            result["problems"].append("missing %s" % ", ".join(result["missing_files"]))
    if result["problems"]:
        result["summary"] = "%s: %s" % (name, "; ".join(result["problems"]))
    else:
        result["summary"] = "%s: ok, %s%s at %s%s (%s)" % (
            name, result["branch"] or "detached HEAD",
            "" if result["on_branch"] else " (not %s)" % repo.get("branch"), (result["commit"] or "")[:12],
            ", uncommitted changes" if result["dirty"] else "", path)
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            repos=dict(type="list", elements="dict", required=True, options=dict(
                name=dict(type="str", required=True),
                path=dict(type="path", required=True),
                url=dict(type="str"),
                branch=dict(type="str"),
                required_files=dict(type="list", elements="str", default=["package.json"]),
            )),
            fail_on_problems=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )

    def git(path, *args):
        proc = run_git(["-C", path] + list(args), what="the repository layout check")
        return proc.returncode, proc.stdout.strip()

    try:
        repos = [inspect_repo(repo, git) for repo in module.params["repos"]]
    except GitError as exc:
        module.fail_json(msg=str(exc))
    ok = not any(r["problems"] for r in repos)
    if not ok and module.params["fail_on_problems"]:
        module.fail_json(msg="service repositories not laid out as expected: "
                         + " | ".join(r["summary"] for r in repos if r["problems"]),
                         repos=repos, ok=ok)
    module.exit_json(changed=False, repos=repos, ok=ok)


if __name__ == "__main__":
    main()
