#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: manifest_publish
short_description: Commit the release manifest and push it to the hub's git remote
version_added: 0.1.0
description:
  - Where a run's checkout is ephemeral (CI, AWX), the manifest a deploy recorded must not be
    lost. This module commits O(path) in O(repo_dir) when it changed and pushes the branch.
  - Only O(path) is committed (C(git commit --only)); other changes in the checkout are left
    alone.
  - When the push is rejected because someone pushed meanwhile, it fetches the remote branch.
    If the other push changed the manifest too (two runs recording deploys always do, both
    append to C(history)), our operation - the release we created, the attempts we recorded -
    is read from our commits (what turned the common ancestor into ours) and re-applied to the
    remote's manifest with the same code that recorded it (module_utils/_release/replay.py),
    validated, committed on top of the remote branch and pushed; otherwise it rebases
    (C(git pull --rebase)). Each retry waits a jittered, growing pause; at most O(retries) times.
  - A change that cannot be re-applied (the release was replaced underneath, two releases
    created at once, history rewritten) fails saying what changed, and our commit is kept on
    the remote as C(refs/tachyon/records/<branch>-<time>-<commit>) (it outlives a throwaway CI
    or AWX checkout); the message says how to fetch it. A rebase conflict on other files is
    aborted, so the checkout is never left mid-rebase; the local commit is kept.
  - O(path) must not be a symbolic link (git would commit the link, not the manifest); O(path),
    O(remote) and O(branch) must be one line each; every text option must be one string.
  - Credentials embedded in remote URLs (C(https://user:token@host/...)) are masked in every
    message and output.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.attributes
options:
  repo_dir:
    description: The hub checkout (a git work tree).
    type: path
    required: true
  path:
    description: The manifest path, relative to O(repo_dir).
    type: raw
    default: releases/manifest.json
  note:
    description:
      - Commit message.
      - Formerly C(message), a name ansible-core reserves (not accepted as an alias either).
    type: raw
    default: "release: update releases/manifest.json"
  remote:
    description: Remote to push to.
    type: raw
    default: origin
  branch:
    description: Branch to push; default the current branch (fails on a detached HEAD).
    type: raw
  author_name:
    description: Commit author and committer name; default git's configuration.
    type: raw
  author_email:
    description: Commit author and committer e-mail; default git's configuration.
    type: raw
  retries:
    description: How many times to re-apply (or rebase) and push again after a rejected push.
    type: int
    default: 5
  push:
    description: Push after committing. C(false) only commits.
    type: bool
    default: true
notes:
  - Runs C(git) with C(GIT_TERMINAL_PROMPT=0); authentication must come from the remote URL,
    a credential helper or SSH agent.
attributes:
  check_mode:
    support: full
    details: Reports whether it would commit and push; commits and pushes nothing
      (it may query the remote with C(git ls-remote)).
  diff_mode:
    support: partial
    details: The uncommitted change of O(path) (C(git diff)) as C(prepared).
requirements:
  - git
"""

EXAMPLES = r"""
- name: Publish the recorded deployment
  tachyon.infra.manifest_publish:
    repo_dir: "{{ playbook_dir }}/.."
    path: releases/manifest.json
    note: "deploy: staging {{ release.version }} ({{ deployment_id }})"
    author_name: tachyon-infra CI
    author_email: ci@tachyonapp.dev
"""

RETURN = r"""
committed:
  description: Whether a commit was made.
  returned: always
  type: bool
pushed:
  description: Whether the branch was pushed.
  returned: always
  type: bool
commit:
  description: HEAD after the run.
  returned: always
  type: str
rebased:
  description: Whether a concurrent push had to be rebased onto.
  returned: always
  type: bool
push_attempts:
  description: Number of push attempts.
  returned: always
  type: int
branch:
  description: The branch pushed.
  returned: always
  type: str
replayed:
  description: Whether our operation was re-applied to a manifest another run had pushed meanwhile.
  returned: always
  type: bool
operations:
  description: What was re-applied (created release, recorded attempts), when RV(replayed).
  returned: when replayed
  type: str
kept_ref:
  description: The remote ref that keeps our commit when it could not be published.
  returned: on failure, when a record could not be applied
  type: str
"""

import os
import re
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tachyon.infra.plugins.module_utils._common.escape import git_message
from ansible_collections.tachyon.infra.plugins.module_utils._common.strict_input import string_options_error
from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.module_utils._release import replay as manifest_replay
from ansible_collections.tachyon.infra.plugins.module_utils._release import records
from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import mask_url_credentials
from ansible_collections.tachyon.infra.plugins.module_utils._common.retry import backoff
from ansible_collections.tachyon.infra.plugins.module_utils._git.run import GitError as GitRunError, run_git

REJECTED_RE = re.compile(r"\[rejected\]|\[remote rejected\]|non-fast-forward|fetch first|"
                         r"failed to push some refs|cannot lock ref|stale info", re.I)


class GitError(Exception):
    def __init__(self, message, **extra):
        super(GitError, self).__init__(message)
        self.extra = extra


class Git(object):
    def __init__(self, module, repo_dir, env):
        self.module = module
        self.repo_dir = repo_dir
        self.env = env

    def _run(self, args, env, data=None):
        try:
            proc = run_git(args, cwd=self.repo_dir, env=env, timeout=300, what="publishing the manifest",
                           data=data)
        except GitRunError as exc:
            raise GitError(str(exc))
        return proc.returncode, proc.stdout, proc.stderr

    def run(self, *args, check=True):
        rc, out, err = self._run(list(args), self.env)
        if check and rc != 0:
            raise GitError("`git %s` failed (rc=%d): %s" % (mask_url_credentials(" ".join(args)), rc,
                                                            mask_url_credentials((err or out).strip())))
        return rc, mask_url_credentials(out), mask_url_credentials(err)

    def out(self, *args):
        return self.run(*args)[1].strip()

    def run_env(self, args, env, data=None):
        environ = dict(self.env)
        environ.update(env)
        rc, out, err = self._run(list(args), environ, data=data.decode("utf-8") if data is not None else None)
        if rc != 0:
            raise GitError("`git %s` failed (rc=%d): %s" % (args[0], rc, mask_url_credentials((err or out).strip())))
        return out.strip()


def keep_record(git, p, branch, commit):
    """Push ``commit`` to refs/tachyon/records/<env>/<deployment> on the remote (a ref no manifest
    state can refuse: records.record_ref); the ref, or None if that failed too."""
    try:
        doc = mf.parse(git.run("show", "%s:%s" % (commit, p["path"]))[1], "our commit")[0]
    except (GitError, mf.ManifestError):
        doc = None
    ref = records.record_ref(doc)
    rc, _out, _err = git.run("push", "-q", "--no-verify", "--force", p["remote"], "%s:%s" % (commit, ref), check=False)
    return ref if rc == 0 else None


def kept_text(git, p, kept, commit):
    if kept:
        return records.kept_message(kept, p["remote"], p["path"], commit) + "; it is also in this checkout"
    return ("keeping it on the remote failed too: our commit %s is only in this checkout (%s); run the publish "
            "again from it (tachyon.infra.manifest_publish) once the remote answers" % (commit[:12], p["repo_dir"]))


def fold_pending(git, p):
    """Fold the records other runs could not publish (refs/tachyon/records/*) into the working
    manifest; returns the refs folded in (deleted once the publish succeeds)."""
    rc, out, _err = git.run("ls-remote", p["remote"], records.PREFIX + "*", check=False)
    if rc != 0 or not out.strip():
        return []
    path = os.path.join(p["repo_dir"], p["path"])
    with open(path) as handle:
        ours = mf.parse(handle.read(), p["path"])[0]
    folded = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) != 2:
            continue
        sha, ref = parts
        if git.run("fetch", "-q", "--no-tags", p["remote"], ref, check=False)[0] != 0:
            continue
        try:
            kept = mf.parse(git.run("show", "FETCH_HEAD:%s" % p["path"])[1], ref)[0]
            ours, entries = records.fold_in(ours, kept)
        except (GitError, mf.ManifestError):
            continue  # a record that cannot be read or applied stays where it is
        folded.append((ref, sha, len(entries)))
    if any(n for _ref, _sha, n in folded):
        write_manifest(path, mf.to_json_text(ours))
    return folded


def write_manifest(path, text):
    handle, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".manifest-publish-", suffix=".tmp")
    with os.fdopen(handle, "w") as out:
        out.write(text)
    os.replace(tmp, path)


def replayed_commit(git, p, branch, remote_sha):
    """Our manifest operation re-applied on top of ``remote_sha``: (commit, ops summary), or None
    when the plain rebase applies (the remote did not change the manifest, or our commits touch
    other files too). Raises ReplayConflict or ManifestError when it cannot be applied."""
    path = p["path"]
    rc, base, _err = git.run("merge-base", "HEAD", remote_sha, check=False)
    base = base.strip()
    if rc != 0 or not base:
        return None
    if git.run("diff", "--quiet", base, remote_sha, "--", path, check=False)[0] == 0:
        return None
    ours_files = set(git.out("diff", "--name-only", base, "HEAD").splitlines())
    if ours_files != {path}:
        return None

    def manifest_at(rev, what):
        return mf.parse(git.run("show", "%s:%s" % (rev, path))[1], "%s (%s)" % (path, what))[0]

    try:
        base_doc = manifest_at(base, "the common ancestor %s" % base[:12])
        ours_doc = manifest_at("HEAD", "our commit")
        theirs_doc = manifest_at(remote_sha, "the remote's %s" % remote_sha[:12])
    except mf.ManifestError:
        # not three release manifests (e.g. another JSON file): only a text merge can help
        return None
    merged, ops = manifest_replay.replay(base_doc, ours_doc, theirs_doc)
    text = mf.to_json_text(merged)
    blob = git.run_env(["hash-object", "-w", "--stdin", "--path", path], {}, data=text.encode("utf-8"))
    handle, index = tempfile.mkstemp(prefix=".manifest-publish-", suffix=".index")
    os.close(handle)
    try:
        env = {"GIT_INDEX_FILE": index}
        git.run_env(["read-tree", remote_sha], env)
        git.run_env(["update-index", "--add", "--cacheinfo", "100644,%s,%s" % (blob, path)], env)
        tree = git.run_env(["write-tree"], env)
    finally:
        os.unlink(index)
    message = git.out("log", "-1", "--format=%B", "HEAD")
    summary = manifest_replay.summarize(ops)
    subject, _sep, body = message.strip().partition("\n")
    message = git_message(subject, "%s\n\nRe-applied on top of %s (a concurrent publish): %s" % (
        body.strip(), remote_sha[:12], summary))
    commit = git.run_env(["commit-tree", tree, "-p", remote_sha, "-F", "-"], {}, data=message.encode("utf-8"))
    return commit, summary


def publish(module, git, p):
    """publish_once, and whatever stops the record from reaching the branch once we committed it,
    the record is kept on the remote (refs/tachyon/records/<env>/<deployment>) and the message says
    where and how it comes back."""
    folded = [] if module.check_mode or not p["push"] else fold_pending(git, p)
    p = dict(p)
    if folded:
        p.update(note="%s\n\nFolds in kept record(s): %s" % (p["note"], ", ".join(r for r, _s, _n in folded)))
    try:
        result = publish_once(module, git, p)
    except GitError as exc:
        head = p.get("_head")
        if "kept_ref" in exc.extra or not head or module.check_mode:
            raise  # kept already, or it failed before there was a record to publish
        kept = keep_record(git, p, p["branch"] or "", head)
        raise GitError("%s. The deploy record is not on the branch: %s" % (str(exc).rstrip("."),
                                                                           kept_text(git, p, kept, head)), kept_ref=kept)
    if folded and result.get("pushed"):
        for ref, sha, _n in folded:
            # delete-if-unchanged: a record pushed again meanwhile stays
            git.run("push", "-q", "--no-verify", "--force-with-lease=%s:%s" % (ref, sha), p["remote"], ":" + ref,
                    check=False)
        result["folded_records"] = [ref for ref, _s, _n in folded]
    return result


def publish_once(module, git, p):
    path = p["path"]
    toplevel = git.out("rev-parse", "--show-toplevel")
    if os.path.realpath(toplevel) != os.path.realpath(p["repo_dir"]):
        raise GitError("%s is not the top of a git work tree (that is %s); set repo_dir to it"
                       % (p["repo_dir"], toplevel))
    if git.run("rev-parse", "-q", "--verify", "REBASE_HEAD", check=False)[0] == 0 or \
            os.path.isdir(os.path.join(toplevel, ".git", "rebase-merge")) or \
            os.path.isdir(os.path.join(toplevel, ".git", "rebase-apply")):
        raise GitError("%s is in the middle of a rebase; finish or abort it (`git rebase --abort`) "
                       "first" % toplevel)
    branch = p["branch"]
    if not branch:
        rc, out, _err = git.run("symbolic-ref", "--short", "-q", "HEAD", check=False)
        if rc != 0 or not out.strip():
            raise GitError("HEAD is detached in %s; set branch to the branch to push" % toplevel)
        branch = out.strip()
    if not os.path.exists(os.path.join(toplevel, path)):
        raise GitError("%s does not exist in %s" % (path, toplevel))

    result = dict(changed=False, committed=False, pushed=False, rebased=False, replayed=False,
                  push_attempts=0, branch=branch)
    status = git.out("status", "--porcelain", "--", path)
    if status:
        if module._diff:
            result["diff"] = {"prepared": git.out("diff", "HEAD", "--", path) or status}
        result["changed"] = True
        result["committed"] = True
        if not module.check_mode:
            git.run("add", "--", path)
            subject, _sep, body = p["note"].partition("\n")
            rc, out, err = git.run("commit", "-q", "-m", git_message(subject, body), "--only", "--", path,
                                   check=False)
            if rc != 0:
                raise GitError("`git commit` of %s failed: %s%s" % (
                    path, (err or out).strip(),
                    "; set author_name and author_email" if "identity" in (err + out) else ""))
    if not p["push"]:
        result["commit"] = git.out("rev-parse", "HEAD")
        return result

    head = git.out("rev-parse", "HEAD")
    if result["committed"]:
        p["_head"] = head  # our record: kept on the remote if it cannot reach the branch
    remote_line = git.out("ls-remote", p["remote"], "refs/heads/%s" % branch)
    remote_sha = remote_line.split()[0] if remote_line else None
    if remote_sha == head and not result["committed"]:
        result["commit"] = head
        return result
    if remote_sha and not result["committed"]:
        # anything of ours the remote lacks? (fetch when we do not know its commit yet)
        if git.run("cat-file", "-e", remote_sha + "^{commit}", check=False)[0] != 0:
            if module.check_mode:
                result.update(changed=True, pushed=True, commit=head)
                return result
            git.run("fetch", "-q", p["remote"], branch)
        ahead = int(git.out("rev-list", "--count", "%s..HEAD" % remote_sha))
        if ahead == 0:
            result["commit"] = head
            return result
    result.update(changed=True, pushed=True)
    if module.check_mode:
        result["commit"] = head
        return result

    to_push = head
    for attempt in range(p["retries"] + 1):
        result["push_attempts"] = attempt + 1
        rc, out, err = git.run("push", "--porcelain", p["remote"], "%s:refs/heads/%s" % (to_push, branch),
                               check=False)
        if rc == 0:
            if to_push != head:
                # the replayed commit is what the remote has: move the checkout onto it
                git.run("reset", "-q", "--keep", to_push)
            result["commit"] = git.out("rev-parse", "HEAD")
            return result
        if not REJECTED_RE.search(out + err):
            raise GitError("`git push %s HEAD:%s` failed: %s" % (p["remote"], branch,
                                                                 (err or out).strip()))
        if attempt == p["retries"]:
            break
        time.sleep(backoff(attempt + 1, first=0.2))  # 0.1-0.3 s, then twice as long
        git.run("fetch", "-q", p["remote"], branch)
        remote_sha = git.out("rev-parse", "FETCH_HEAD")
        try:
            replayed = replayed_commit(git, p, branch, remote_sha)
        except mf.ManifestError as exc:
            kept = keep_record(git, p, branch, head)
            raise GitError(
                "the deploy record could not be published: %s. Nothing of ours was pushed to %s/%s; %s" % (
                    exc, p["remote"], branch, kept_text(git, p, kept, head)), kept_ref=kept)
        if replayed:
            to_push, result["operations"] = replayed
            result["replayed"] = True
            continue
        to_push = head
        rc, out, err = git.run("pull", "--rebase", "-q", p["remote"], branch, check=False)
        if rc != 0:
            git.run("rebase", "--abort", check=False)
            raise GitError(
                "a concurrent push to %s/%s conflicts with our change of %s, so the rebase was "
                "aborted (the checkout is back on our commit %s, nothing was pushed). Merge the two "
                "manifests by hand: `git pull --rebase %s %s`, resolve %s (keep both history "
                "entries), `git rebase --continue`, `git push`. git said: %s"
                % (p["remote"], branch, path, git.out("rev-parse", "--short", "HEAD"), p["remote"],
                   branch, path, (err or out).strip()))
        head = to_push = git.out("rev-parse", "HEAD")
        result["rebased"] = True
    kept = keep_record(git, p, branch, to_push)
    raise GitError("push to %s/%s still rejected after %d attempts (others keep pushing); %s"
                   % (p["remote"], branch, result["push_attempts"], kept_text(git, p, kept, to_push)), kept_ref=kept)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            repo_dir=dict(type="path", required=True),
            path=dict(type="raw", default="releases/manifest.json"),
            note=dict(type="raw", default="release: update releases/manifest.json"),
            remote=dict(type="raw", default="origin"),
            branch=dict(type="raw"),
            author_name=dict(type="raw"),
            author_email=dict(type="raw"),
            retries=dict(type="int", default=5),
            push=dict(type="bool", default=True),
        ),
        required_together=[("author_name", "author_email")],
        supports_check_mode=True,
    )
    p = module.params
    # text options are type raw so a list is not silently turned into its text: one string each
    error = string_options_error(p, ("path", "note", "remote", "branch", "author_name", "author_email"))
    if error:
        module.fail_json(msg=error)
    if os.path.isabs(p["path"]) or ".." in p["path"].split("/"):
        module.fail_json(msg="path %r must be relative to repo_dir and inside it" % p["path"])
    for name in ("path", "remote", "branch"):
        value = p[name]
        if value is not None and (not value or value != value.strip() or any(ord(c) < 32 for c in value)):
            module.fail_json(msg="%s %r must be one non-empty line without surrounding whitespace"
                             % (name, value))
    if os.path.islink(os.path.join(p["repo_dir"], p["path"])):
        module.fail_json(msg="%s in %s is a symbolic link: git would commit the link, not the "
                         "manifest it points to. Publish the checkout that holds the real file "
                         "(%s), or replace the link by the file" % (
                             p["path"], p["repo_dir"],
                             os.path.realpath(os.path.join(p["repo_dir"], p["path"]))))
    if p["retries"] < 0:
        module.fail_json(msg="retries must be 0 or more (got %d)" % p["retries"])
    if not os.path.isdir(p["repo_dir"]):
        module.fail_json(msg="repo_dir %s is not a directory" % p["repo_dir"])
    env = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    if p["author_name"]:
        env.update(GIT_AUTHOR_NAME=p["author_name"], GIT_AUTHOR_EMAIL=p["author_email"],
                   GIT_COMMITTER_NAME=p["author_name"], GIT_COMMITTER_EMAIL=p["author_email"])
    git = Git(module, p["repo_dir"], env)
    try:
        result = publish(module, git, p)
    except GitError as exc:
        module.fail_json(msg=str(exc), **exc.extra)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
