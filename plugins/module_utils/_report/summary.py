# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""The summary of one deploy run where people look: a GitHub job summary ($GITHUB_STEP_SUMMARY,
markdown) and AWX job artifacts (set_stats, the same data). Release, environment, the SHAs and
digests deployed, the release notes, the health result and the link to the app.

Every free text (a failure reason) goes through redaction.redact_text and the app link through
redact_url: no query string, user info or token reaches a summary.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_text, redact_url

OUTCOMES = ("succeeded", "failed", "rolled_back")
TITLES = {"succeeded": "deployed and healthy", "failed": "FAILED", "rolled_back": "FAILED, rolled back"}
ICONS = {"succeeded": ":white_check_mark:", "failed": ":x:", "rolled_back": ":rewind:"}


def _md(text):
    return re.sub(r"([\\`*_\[\]<>|])", r"\\\1", "" if text is None else str(text))


def build(environment, outcome, version=None, services=None, deployment_id=None, live_url=None,
          health=None, failure=None, rolled_back_to=None, rollback_of_version=None,
          deployed_by=None, approved_by=None, run_url=None, release_notes=None):
    """The summary as data (what AWX artifacts carry); ``render`` turns it into markdown."""
    if outcome not in OUTCOMES:
        raise ValueError("outcome: %r; use one of %s" % (outcome, ", ".join(OUTCOMES)))
    health = health or {}
    rows = []
    for name in sorted(services or {}):
        svc = services[name] or {}
        rows.append({"service": name, "sha": svc.get("sha"), "tag": svc.get("tag"),
                     "digest": svc.get("digest"), "image": svc.get("image")})
    return {
        "environment": environment,
        "outcome": outcome,
        "version": version,
        "rollback_of_version": rollback_of_version or None,
        "deployment_id": deployment_id or None,
        "rolled_back_to": rolled_back_to or None,
        "live_url": redact_url(live_url) if live_url else None,
        "services": rows,
        "health": {
            "verified": outcome == "succeeded" and health.get("status") in (None, "healthy"),
            "status": health.get("status"),
            "elapsed": health.get("elapsed"),
            "attempts": health.get("attempts"),
            "version": (health.get("payload") or {}).get("version") if isinstance(health.get("payload"), dict) else None,
        },
        "failure": redact_text(failure) if failure else None,
        "deployed_by": deployed_by or None,
        "approved_by": approved_by or None,
        "run_url": redact_url(run_url) if run_url and "://" in run_url else (run_url or None),
        "release_notes": bool(release_notes),
    }


def _health_line(summary):
    health = summary["health"]
    if summary["outcome"] == "succeeded":
        parts = ["healthy"]
        if health.get("version"):
            parts.append("reports version `%s`" % _md(health["version"]))
        if health.get("elapsed") is not None:
            parts.append("after %ss" % health["elapsed"])
        if health.get("attempts") is not None:
            parts.append("%s polls" % health["attempts"])
        return ", ".join(parts)
    if health.get("status"):
        return "not verified (last status: %s)" % _md(health["status"])
    return "not verified"


def render(summary, release_notes=None):
    """Markdown for a GitHub job summary."""
    title = "release %s" % summary["version"] if summary["version"] else "deploy"
    if summary["rollback_of_version"]:
        title += " (rollback from %s)" % summary["rollback_of_version"]
    out = ["## %s %s: %s %s" % (ICONS[summary["outcome"]], _md(summary["environment"]), _md(title),
                                TITLES[summary["outcome"]]), ""]
    facts = [("Environment", _md(summary["environment"])), ("Release", _md(summary["version"] or "-"))]
    if summary["rollback_of_version"]:
        facts.append(("Rolled back from", _md(summary["rollback_of_version"])))
    facts.append(("Deployment", "`%s`" % _md(summary["deployment_id"]) if summary["deployment_id"] else "-"))
    if summary["rolled_back_to"]:
        facts.append(("Rolled back to", "`%s`" % _md(summary["rolled_back_to"])))
    facts.append(("Health", _health_line(summary)))
    if summary["live_url"]:
        facts.append(("App", "<%s>" % summary["live_url"]))
    for key, label in (("deployed_by", "Deployed by"), ("approved_by", "Approved by")):
        if summary[key]:
            facts.append((label, _md(summary[key])))
    if summary["run_url"]:
        facts.append(("Run", _md(summary["run_url"])))
    out += ["| | |", "| --- | --- |"] + ["| %s | %s |" % fact for fact in facts] + [""]
    if summary["failure"]:
        out += ["**Why it failed:** %s" % _md(summary["failure"]), ""]
    if summary["services"]:
        out += ["| Service | SHA | Digest |", "| --- | --- | --- |"]
        for row in summary["services"]:
            image = "`%s`" % _md(row["digest"]) if row["digest"] else "by tag `%s`" % _md(row["tag"])
            out.append("| %s | `%s` | %s |" % (_md(row["service"]), _md(row["sha"]), image))
        out.append("")
    if release_notes:
        out += [release_notes.rstrip(), ""]
    return "\n".join(out)
