# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""The hub's git history of the release manifest: every committed version of
``releases/manifest.json``, each read through the product's reader (``manifest.parse``: strict
JSON, schema validation, legacy upgrade), for what the current file no longer says - when each
earlier release was created (the manifest keeps the current release's ``created_at`` only) and
the deployments a bash-era manifest overwrote (it kept one ``deployed_at`` per environment).

Used by ``release_history`` when asked (``git_history``); the git CLI only.
"""
from __future__ import annotations

import copy
import os

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.module_utils._common.times import format_utc, parse_utc
from ansible_collections.tachyon.infra.plugins.module_utils._git.run import run_git

# The options of every module that can read the manifest's git history (release_history,
# delivery_metrics, release_report); their documentation: doc fragment tachyon.infra.manifest.history.
HISTORY_OPTIONS = dict(
    git_history=dict(type="bool", default=False),
    max_revisions=dict(type="int", default=200),
)


def _git(args, cwd):
    proc = run_git(args, cwd=cwd, what="the release history")
    return proc.returncode, proc.stdout, proc.stderr.strip()


def revisions(path, max_revisions=200):
    """``{"available", "reason", "revisions": [{commit, committed_at, manifest, legacy}] oldest
    first, "skipped": [{commit, reason}]}`` for the last ``max_revisions`` commits that changed
    ``path`` in the git work tree that holds it."""
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    out = {"available": False, "reason": None, "revisions": [], "skipped": []}
    if not os.path.isdir(folder):
        out["reason"] = "%s does not exist" % folder
        return out
    code, top, err = _git(["rev-parse", "--show-toplevel"], folder)
    if code != 0:
        out["reason"] = "%s is not in a git work tree, so its history is unknown" % path
        return out
    top = top.strip()
    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(top))
    code, log, err = _git(["log", "--format=%H %cI", "-n", str(int(max_revisions)), "--", rel], top)
    if code != 0:
        out["reason"] = "git log of %s failed: %s" % (rel, err[-300:])
        return out
    out["available"] = True
    for line in reversed(log.splitlines()):
        commit, _sp, date = line.partition(" ")
        code, text, err = _git(["show", "%s:%s" % (commit, rel)], top)
        if code != 0:  # the commit deleted the file
            continue
        try:
            manifest, legacy = mf.parse(text, "%s at %s" % (rel, commit[:12]))
        except mf.ManifestError as exc:
            out["skipped"].append({"commit": commit, "reason": str(exc).splitlines()[0][:300]})
            continue
        out["revisions"].append({"commit": commit, "committed_at": format_utc(parse_utc(date)), "manifest": manifest,
                                 "legacy": legacy})
    return out


def creations(revs):
    """``{version: {created_at, created_by, commit, source}}``: the first revision naming each
    version; ``source`` "manifest" (its ``created_at``) or "commit" (the manifest said none: the
    commit's date)."""
    out = {}
    for rev in revs:
        doc = rev["manifest"]
        version = doc.get("version")
        if not version or version in out:
            continue
        out[version] = {"created_at": doc.get("created_at") or rev["committed_at"],
                        "created_by": doc.get("created_by"), "commit": rev["commit"],
                        "source": "manifest" if doc.get("created_at") else "commit"}
    return out


def _key(entry):
    return (entry["environment"], entry["at"], entry["outcome"], entry.get("deployment_id"))


def merged(manifest, revs):
    """A copy of ``manifest`` whose history also holds the attempts earlier revisions recorded and
    the current file no longer does (a legacy manifest kept only the last deployment per
    environment), in time order. ``environments`` and the release are the current file's."""
    result = copy.deepcopy(manifest)
    seen = {_key(e) for e in result["history"]}
    extra = []
    for rev in revs:
        for entry in rev["manifest"]["history"]:
            if _key(entry) not in seen:
                seen.add(_key(entry))
                extra.append(copy.deepcopy(entry))
    if extra:
        # stable: entries of the current file keep their order among equal times
        result["history"] = sorted(extra + result["history"], key=lambda e: e["at"])
    return result
