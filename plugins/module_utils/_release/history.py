# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""Where every release is: the release list of ``tachyon.infra.release_history`` (and of the
HTML report), computed from a release manifest read through ``manifest.load`` (so a legacy,
bash-era manifest is upgraded in memory first, exactly as every playbook reads it).

The manifest keeps one current release (``version``, ``created_at``, ``services``), what each
environment last deployed successfully (``environments``) and an append-only ``history`` of
every deploy attempt. A release here is every version that appears in the history, plus the
current one. Its ``created_at`` is known for the current release only (the manifest does not
keep earlier releases' creation times), so older releases have ``created_at: null``.

Pure functions (dict in, dict out); ``text()`` renders the terminal view.
"""
from __future__ import annotations

import functools

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.module_utils._release import restarts as rs
from ansible_collections.tachyon.infra.plugins.module_utils._release import revisions as mr
from ansible_collections.tachyon.infra.plugins.module_utils._common.escape import terminal


def _semver_cmp(left, right):
    """Semantic-version precedence (semver.org item 11): -1, 0 or 1."""
    a, b = mf.SEMVER_RE.fullmatch(left), mf.SEMVER_RE.fullmatch(right)
    if not a or not b:
        return (left > right) - (left < right)
    core_a, core_b = [int(x) for x in a.groups()[:3]], [int(x) for x in b.groups()[:3]]
    if core_a != core_b:
        return (core_a > core_b) - (core_a < core_b)
    pre_a, pre_b = a.group(4), b.group(4)
    if pre_a == pre_b:
        return 0
    if pre_a is None or pre_b is None:  # a release outranks its pre-releases
        return 1 if pre_a is None else -1
    for x, y in zip(pre_a.split("."), pre_b.split(".")):
        if x == y:
            continue
        if x.isdigit() and y.isdigit():
            return (int(x) > int(y)) - (int(x) < int(y))
        if x.isdigit() or y.isdigit():  # numeric identifiers have lower precedence
            return -1 if x.isdigit() else 1
        return (x > y) - (x < y)
    return (len(pre_a.split(".")) > len(pre_b.split("."))) - (len(pre_a.split(".")) < len(pre_b.split(".")))


def _newest_first(left, right):
    """Release order: higher versions first; records without a version (legacy) last."""
    if left["version"] is None or right["version"] is None:
        return (left["version"] is None) - (right["version"] is None)
    return -_semver_cmp(left["version"], right["version"])


def _attempt(entry):
    return {
        "outcome": entry["outcome"],
        "at": entry["at"],
        "deployed_by": entry.get("deployed_by"),
        "approved_by": entry.get("approved_by"),
        "deployment_id": entry.get("deployment_id"),
        "rolled_back_to": entry.get("rolled_back_to"),
        "health_verified_at": entry.get("health_verified_at"),
        "legacy": entry.get("source") == "legacy",
        # optional history fields: a redeploy of this release's pins replacing a later one
        # (rollback.yml -e tachyon_rollback_version), and the migration guard's decision
        "rollback_of_version": entry.get("rollback_of_version"),
        "after_migration": entry.get("after_migration"),
    }


def _entry_of_deployment(history, environment, deployment_id):
    for entry in reversed(history):
        if entry["environment"] == environment and entry.get("deployment_id") == deployment_id:
            return entry
    return None


def running_now(manifest):
    """What each environment runs now, per environment: version, since, deployment id, who.

    ``environments.<env>`` records the last SUCCESSFUL deployment. When the environment's latest
    attempt is a rollback, the app runs the deployment it was rolled back to (its version is
    looked up in the history); when it is a failure, the app still runs the last success
    (App Platform keeps the active deployment when a new one fails), and ``latest_attempt``
    says what failed.
    """
    history = manifest["history"]
    out = {}
    for env in mf.ENVIRONMENTS:
        record = manifest["environments"][env]
        latest = mf.latest_attempt(manifest, env)
        now = {
            "version": record.get("version"),
            "since": record.get("deployed_at"),
            "deployment_id": record.get("deployment_id"),
            "deployed_by": record.get("deployed_by"),
            "approved_by": record.get("approved_by"),
            "health_verified_at": record.get("health_verified_at"),
            "services": record.get("services"),
            "via": "deploy" if record.get("deployed_at") else None,
            "latest_attempt": _attempt(latest) if latest else None,
        }
        if latest and latest["outcome"] == "rolled_back":
            target = _entry_of_deployment(history, env, latest.get("rolled_back_to"))
            now.update({
                "version": target.get("version") if target else (
                    record.get("version") if record.get("deployment_id") == latest.get("rolled_back_to") else None),
                "since": latest["at"],
                "deployment_id": latest.get("rolled_back_to"),
                "deployed_by": latest.get("deployed_by"),
                "approved_by": latest.get("approved_by"),
                "health_verified_at": None,
                "services": latest.get("services"),
                "via": "rollback",
            })
        if latest and latest["outcome"] == "succeeded" and latest.get("rollback_of_version") \
                and latest.get("deployment_id") == record.get("deployment_id"):
            now["via"] = "rollback to version"
        out[env] = now
    return out


def releases(manifest):
    """The release list, newest version first.

    Each release: ``version`` (None for legacy records that named no version), ``current`` (the
    manifest's release), ``created_at``/``created_by`` (current release only), ``services`` (the
    current release's pins; for an older one the services its latest recorded attempt deployed),
    ``environments.<env>``: ``last`` (the last attempt of this version there: outcome, at,
    deployed_by, approved_by, deployment_id, rolled_back_to), ``attempts`` (count) and
    ``succeeded`` (count), or null when never attempted there; ``running_in``: the
    environments that run it now.
    """
    by_version = {}
    order = []

    def release_of(version):
        if version not in by_version:
            by_version[version] = {
                "version": version,
                "current": version == manifest["version"],
                "created_at": None,
                "created_by": None,
                "services": None,
                "environments": {env: None for env in mf.ENVIRONMENTS},
                "running_in": [],
            }
            order.append(version)
        return by_version[version]

    for entry in manifest["history"]:
        rel = release_of(entry.get("version"))
        slot = rel["environments"][entry["environment"]]
        if slot is None:
            slot = rel["environments"][entry["environment"]] = {"last": None, "attempts": 0, "succeeded": 0}
        slot["attempts"] += 1
        slot["succeeded"] += entry["outcome"] == "succeeded"
        slot["last"] = _attempt(entry)
        if entry.get("services") and entry["outcome"] != "rolled_back":
            rel["services"] = entry["services"]
    if manifest.get("version"):
        current = release_of(manifest["version"])
        current.update({
            "created_at": manifest.get("created_at"),
            "created_by": manifest.get("created_by"),
            "services": manifest["services"],
        })
    for env, now in running_now(manifest).items():
        if now["since"] and (now["version"] in by_version):
            by_version[now["version"]]["running_in"].append(env)
    return sorted((by_version[v] for v in order), key=functools.cmp_to_key(_newest_first))


def history_view(manifest, path=None, legacy=False, revisions=None):
    """The whole view: releases, what runs where, counts; JSON-serialisable.

    ``revisions``: ``manifest_revisions.revisions()`` of the file (the hub's git history); it
    gives earlier releases their creation time and adds the attempts earlier revisions recorded
    that the file no longer holds (see ``manifest_revisions.merged``)."""
    git = None
    if revisions is not None:
        manifest = mr.merged(manifest, revisions["revisions"])
        git = {"available": revisions["available"], "reason": revisions["reason"],
               "revisions": len(revisions["revisions"]), "skipped": revisions["skipped"]}
    rels = releases(manifest)
    if revisions is not None:
        created = mr.creations(revisions["revisions"])
        for rel in rels:
            found = created.get(rel["version"])
            if rel["created_at"] is None and found:
                rel.update(created_at=found["created_at"], created_by=rel["created_by"] or found["created_by"],
                           created_commit=found["commit"], created_source=found["source"])
    return {
        "manifest_path": path,
        "legacy_manifest": legacy,
        "current_release": manifest.get("version"),
        "releases": rels,
        "running": running_now(manifest),
        "attempts": len(manifest["history"]),
        # rolling restarts: not releases, not deploy attempts (_release/restarts.py)
        "restarts": rs.restarts(manifest),
        "git_history": git,
    }


# How an attempt's people and references read in the terminal view, in this order.
_WHO = (
    ("deployed_by", "by %s"),
    ("approved_by", "approved by %s"),
    ("deployment_id", "deployment %s"),
    ("rolled_back_to", "rolled back to %s"),
    ("rollback_of_version", "rollback from %s"),
    ("after_migration", "after its migration: %s"),
)


def _who(attempt):
    parts = [form % attempt[key] for key, form in _WHO if attempt.get(key)]
    if attempt.get("legacy"):
        parts.append("(legacy record)")
    return "  ".join(parts)


def version_label(version):
    return version if version else "(no version: legacy record)"


def text(view):
    """The terminal view: one block per release (newest first), then what runs where."""
    lines = []
    rels = view["releases"]
    lines.append("Releases in %s: %d (%d deploy attempts recorded)%s"
                 % (view.get("manifest_path") or "the manifest", len(rels), view["attempts"],
                    ", read from a legacy manifest (upgraded in memory)" if view.get("legacy_manifest") else ""))
    width = max(len(env) for env in mf.ENVIRONMENTS)
    for rel in rels:
        head = version_label(rel["version"])
        if rel["current"]:
            created = rel["created_at"] or "unknown"
            head += "  current release, created %s%s" % (
                created, " by %s" % rel["created_by"] if rel.get("created_by") else "")
        elif rel["created_at"]:
            head += "  created %s%s (%s)" % (
                rel["created_at"], " by %s" % rel["created_by"] if rel.get("created_by") else "",
                "from the manifest's git history" if rel.get("created_source") == "manifest"
                else "date of the commit that pinned it")
        else:
            head += "  created: not recorded (the manifest keeps the current release's only%s)" % (
                "" if view.get("git_history") else "; -e git_history=true reads its git history")
        if rel["running_in"]:
            head += "  [runs in %s]" % ", ".join(rel["running_in"])
        lines.append("")
        lines.append(head)
        for env in mf.ENVIRONMENTS:
            slot = rel["environments"][env]
            if slot is None:
                lines.append("  %s  never deployed" % env.ljust(width))
                continue
            last = slot["last"]
            lines.append("  %s  %-11s %s  %s  (%d attempt%s, %d succeeded)"
                         % (env.ljust(width), last["outcome"], last["at"], _who(last), slot["attempts"],
                            "" if slot["attempts"] == 1 else "s", slot["succeeded"]))
    if view.get("restarts"):
        lines.append("")
        lines.append("Restarts (rolling restarts of the running release: not releases, not counted as deployments):")
        lines.extend("  " + line for line in rs.lines({"restarts": view["restarts"]}))
    git = view.get("git_history")
    if git is not None:
        lines.append("")
        if git["available"]:
            lines.append("git history of the manifest: %d revision(s) read%s" % (
                git["revisions"], ", %d unreadable skipped" % len(git["skipped"]) if git["skipped"] else ""))
            for item in git["skipped"]:
                lines.append("  skipped %s: %s" % (item["commit"][:12], item["reason"]))
        else:
            lines.append("git history of the manifest: not read (%s)" % git["reason"])
    lines.append("")
    lines.append("Running now:")
    for env, now in view["running"].items():
        if not now["since"]:
            lines.append("  %s  nothing deployed" % env.ljust(width))
            continue
        line = "  %s  %s since %s" % (env.ljust(width), version_label(now["version"]), now["since"])
        if now["via"] == "rollback":
            line += " (rolled back to deployment %s%s)" % (
                now["deployment_id"], " by %s" % now["deployed_by"] if now.get("deployed_by") else "")
        else:
            line += "  %s" % _who({k: now.get(k) for k in ("deployed_by", "approved_by", "deployment_id")})
            if now["via"] == "rollback to version":
                line += "  (rollback from %s)" % now["latest_attempt"]["rollback_of_version"]
            if now.get("health_verified_at"):
                line += "  health verified %s" % now["health_verified_at"]
        latest = now.get("latest_attempt")
        if latest and latest["outcome"] == "failed":
            line += "; latest attempt FAILED at %s%s" % (
                latest["at"], " (deployment %s)" % latest["deployment_id"] if latest.get("deployment_id") else "")
        lines.append(line)
        for name, svc in sorted((now.get("services") or {}).items()):
            ref = svc.get("digest") or svc.get("tag") or svc.get("sha")
            lines.append("  %s    %-19s %s" % ("".ljust(width), name, ref))
    return terminal("\n".join(lines), multiline=True)  # names, notes, reasons: outside text


def read(path, git_history=False, max_revisions=200):
    """``history_view`` of the manifest at ``path`` (read and upgraded as every playbook reads it),
    with the hub's git history of the file when ``git_history``."""
    manifest, legacy, _text = mf.load(path)
    revs = mr.revisions(path, max_revisions) if git_history else None
    return history_view(manifest, path, legacy, revs)
