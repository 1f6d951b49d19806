# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""The summary of one deploy run where people look: a GitHub job summary ($GITHUB_STEP_SUMMARY,
markdown) and AWX job artifacts (set_stats, the same data). Release, environment, the SHAs and
digests deployed, the release notes, the health result and the link to the app; App Platform's
own view (each component's state, CPU and memory) and its events in the deploy window (ours and
anything else the platform did, marked "not ours") when the deploy read them.

Every free text (a failure reason) goes through redaction.redact_text and the app link through
redact_url: no query string, user info or token reaches a summary.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tachyon.infra.plugins.module_utils._common.escape import md as _md, md_code, md_url
from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_text, redact_url
from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf

OUTCOMES = ("succeeded", "failed", "rolled_back")
TITLES = {"succeeded": "deployed and healthy", "failed": "FAILED", "rolled_back": "FAILED, rolled back"}
ICONS = {"succeeded": ":white_check_mark:", "failed": ":x:", "rolled_back": ":rewind:"}


def build(environment, outcome, version=None, services=None, deployment_id=None, live_url=None,
          health=None, failure=None, rolled_back_to=None, rollback_of_version=None,
          deployed_by=None, approved_by=None, run_url=None, release_notes=None, warnings=None, restarted=None,
          override=None):
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
        "platform": _platform_rows(health.get("platform")),
        "timeline": _timeline(health.get("timeline")),
        "failure": redact_text(failure) if failure else None,
        "deployed_by": deployed_by or None,
        "approved_by": approved_by or None,
        "run_url": redact_url(run_url) if run_url and "://" in run_url else (run_url or None),
        "release_notes": bool(release_notes),
        # a rolling restart (playbooks/restart.yml): the components restarted; the release is unchanged
        "restarted": list(restarted or []),
        "warnings": [redact_text(w) for w in (warnings or []) if w],
        # the incident override a change window let this deploy through with (outside text: escaped)
        "override": redact_text(override) if override else None,
    }


def _platform_rows(platform):
    """[{component, state, cpu, memory, replicas}] of App Platform's component health."""
    rows = []
    for name, comp in sorted((platform or {}).items()):
        comp = comp if isinstance(comp, dict) else {}
        rows.append({"component": name, "state": comp.get("state"), "cpu": comp.get("cpu"),
                     "memory": comp.get("memory"), "replicas": comp.get("replicas")})
    return rows


def _timeline(entries):
    """[{at, type, deployment_id, what, ours}] of App Platform's events (free text redacted), as the
    manifest's history keeps them."""
    return mf.recorded_events(entries)


def _percent(value):
    return "%.1f %%" % value if isinstance(value, (int, float)) else "-"


def render_signals(summary):
    """Markdown lines of App Platform's component health and the events timeline (may be empty)."""
    out = []
    if summary.get("platform"):
        out += ["**App Platform component health**", "", "| Component | State | CPU | Memory | Replicas |",
                "| --- | --- | --- | --- | --- |"]
        for row in summary["platform"]:
            cells = (_md(row["component"]), _md(row["state"] or "-"), _percent(row["cpu"]), _percent(row["memory"]),
                     _md(row["replicas"] or "-"))
            out.append("| %s | %s | %s | %s | %s |" % cells)
        out.append("")
    if summary.get("timeline"):
        out += ["**Events in the deploy window** (App Platform's own, oldest first)", ""]
        for entry in summary["timeline"]:
            out.append("- %s %s%s" % (md_code(entry["at"] or "?"), _md(entry["what"]),
                                      "" if entry["ours"] else " - **not ours**"))
        out.append("")
    return out


def _health_line(summary):
    health = summary["health"]
    if summary["outcome"] == "succeeded":
        parts = ["healthy"]
        if health.get("version"):
            parts.append("reports version %s" % md_code(health["version"]))
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
    if summary.get("restarted"):
        title = "rolling restart of %s (release %s kept)" % (", ".join(summary["restarted"]), summary["version"] or "?")
    if summary["rollback_of_version"]:
        title += " (rollback from %s)" % summary["rollback_of_version"]
    out = ["## %s %s: %s %s" % (ICONS[summary["outcome"]], _md(summary["environment"]), _md(title),
                                TITLES[summary["outcome"]]), ""]
    facts = [("Environment", _md(summary["environment"])), ("Release", _md(summary["version"] or "-"))]
    if summary["rollback_of_version"]:
        facts.append(("Rolled back from", _md(summary["rollback_of_version"])))
    facts.append(("Deployment", md_code(summary["deployment_id"]) if summary["deployment_id"] else "-"))
    if summary["rolled_back_to"]:
        facts.append(("Rolled back to", md_code(summary["rolled_back_to"])))
    facts.append(("Health", _health_line(summary)))
    if summary["live_url"]:
        facts.append(("App", md_url(summary["live_url"])))
    for key, label in (("deployed_by", "Deployed by"), ("approved_by", "Approved by")):
        if summary[key]:
            facts.append((label, _md(summary[key])))
    if summary["run_url"]:
        facts.append(("Run", _md(summary["run_url"])))
    if summary.get("override"):
        facts.append(("Incident override", _md(summary["override"])))
    out += ["| | |", "| --- | --- |"] + ["| %s | %s |" % fact for fact in facts] + [""]
    if summary["failure"]:
        out += ["**Why it failed:** %s" % _md(summary["failure"]), ""]
    for warning in summary.get("warnings") or []:
        out += [":warning: **Warning:** %s" % _md(warning), ""]
    out += render_signals(summary)
    if summary["services"]:
        out += ["| Service | SHA | Digest |", "| --- | --- | --- |"]
        for row in summary["services"]:
            image = md_code(row["digest"]) if row["digest"] else "by tag %s" % md_code(row["tag"])
            out.append("| %s | %s | %s |" % (_md(row["service"]), md_code(row["sha"]), image))
        out.append("")
    if release_notes:
        out += [release_notes.rstrip(), ""]
    return "\n".join(out)


# GitHub drops a step summary over 1 MiB ("$GITHUB_STEP_SUMMARY ... up to 1MiB",
# https://docs.github.com/en/actions/using-workflows/workflow-commands-for-github-actions#step-isolation-and-limits):
# a summary is cut well under it, at a line, with the cut said and where the whole text is
GITHUB_SUMMARY_LIMIT = 1024 * 1024
SUMMARY_BUDGET = GITHUB_SUMMARY_LIMIT - 64 * 1024


def cap(markdown, already=0, budget=SUMMARY_BUDGET, full_path=None):
    """``(text, cut)``: ``markdown`` as it fits in a step summary that holds ``already`` bytes;
    when it does not, cut at a line (a table keeps whole rows) with a closing line saying how
    much was left out and where the full text is (``full_path``, an artifact). ``cut`` is None
    or ``{"kept_bytes", "total_bytes", "full_path"}``."""
    data = markdown.encode("utf-8")
    room = max(0, budget - int(already or 0))
    if len(data) <= room:
        return markdown, None
    note_room = 600
    head = data[:max(0, room - note_room)]
    head = head[:head.rfind(b"\n") + 1] if b"\n" in head else b""
    kept = head.decode("utf-8", "ignore")
    where = ("the full text is in %s (uploaded as the run's artifact)" % md_code(full_path)) if full_path else \
        "the full text is in the run's log"
    note = ("\n\n> **Summary cut**: %d of %d bytes shown (GitHub shows at most 1 MiB per step summary); %s.\n"
            % (len(head), len(data), where))
    return kept + note, {"kept_bytes": len(head), "total_bytes": len(data), "full_path": full_path}
