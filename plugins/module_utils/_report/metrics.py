# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""The four DORA delivery measures, per environment, from the release manifest's history (every
deploy attempt: environment, outcome, at, services) and the service commits' dates.

Window: the attempts whose ``at`` lies in ``[since, until]`` (both inclusive; ``until`` is the
time of the run). Definitions (the module docs of ``tachyon.infra.delivery_metrics`` repeat them):

deployment frequency
    ``deployments`` = the environment's ``succeeded`` attempts in the window, except rollbacks to
    a version (an attempt with the optional ``rollback_of_version``: it redeployed an earlier
    release), counted apart in ``rollbacks_to_version``;
    ``per_day`` = deployments / window length in days, ``per_week`` = per_day * 7.
lead time for changes
    For each ``succeeded`` attempt in the window and each service it deployed, the commits it
    brought to the environment: those reachable from the deployed SHA and not from the SHA the
    environment ran before (``git log old..new``; the deployed commit alone when the environment
    had run nothing known of that service). The environment's state is replayed over the WHOLE
    history: a succeeded attempt sets what it runs, a ``rolled_back`` attempt or a rollback to a
    version sets the services it went back to (and delivers nothing), a failed one changes nothing. A commit counts once per environment, at its
    first delivery (a redeploy after a rollback does not count it again). Lead time of a commit =
    attempt ``at`` - the commit's committer date. Figures: ``median_seconds`` (DORA's measure),
    ``mean_seconds``, ``min_seconds``, ``max_seconds`` over ``commits``; ``deployments`` = the
    succeeded attempts that delivered at least one commit. Needs the service remotes; a SHA the
    remote does not have is counted in ``missing_commits`` and left out.
refusals
    An attempt recorded ``failed`` with no deployment (``is_refusal``: a gate, freeze, lock or
    in-flight guard refused it) deployed nothing: it is left out of every measure below and
    counted in ``deployment_frequency.refusals``.
under an incident override
    ``deployment_frequency.under_override``: the deployments in the window that went through a
    change window with an incident override (their history message names it, ``OVERRIDE: ov-...``;
    docs/docsite/rst/change_windows.rst).
change failure rate
    ``failures`` / ``attempts``: the environment's ``failed`` or ``rolled_back`` attempts and its
    rollbacks to a version in the window over all its attempts in the window (a manual rollback
    is recorded as a ``rolled_back`` attempt, so it counts as a failure: it undid a change).
    null without attempts.
time to restore
    An incident starts at a ``failed`` or ``rolled_back`` attempt that follows a success (or
    starts the history) and ends at the environment's next ``succeeded`` attempt (a rollback to a
    version included; it opens none itself: when the bad release went wrong is not recorded);
    further failures in between belong to the same incident. Time to restore = end ``at`` - start ``at``.
    Incidents that START in the window count: ``restored`` (ended by ``until``) give
    ``median_seconds``/``mean_seconds``; ``open`` ones are not restored yet.
"""
from __future__ import annotations

import datetime
import os
import re
import statistics

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.module_utils._release import revisions as mr
from ansible_collections.tachyon.infra.plugins.module_utils._git.cache import GitCache, GitError
from ansible_collections.tachyon.infra.plugins.module_utils._common.escape import terminal
from ansible_collections.tachyon.infra.plugins.module_utils._common.times import UTC, format_utc, parse_utc

# the deploy record's note of an incident override (roles/deploy: "; OVERRIDE: ov-<id> (...)")
OVERRIDE_RE = re.compile(r"(?:^|; )OVERRIDE: ov-[0-9a-f]{12} \(")

FAILURES = ("failed", "rolled_back")
_SINCE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class MetricsError(Exception):
    pass


def parse_since(since, until, history=()):
    """The window's start: ``30d``, ``12h``, ``2w``, ``90m`` before ``until``; a date
    ``YYYY-MM-DD`` or a UTC timestamp; ``all`` = the first recorded attempt (or ``until``)."""
    if isinstance(since, datetime.datetime):
        return since
    text = str(since or "").strip()
    match = _SINCE_RE.match(text)
    if match:
        return until - datetime.timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    if text == "all":
        ats = [parse_utc(e["at"]) for e in history]
        return min(ats) if ats else until
    if re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        return datetime.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    if mf.TIMESTAMP_RE.fullmatch(text):
        return parse_utc(text)
    raise MetricsError("since: %r is not a window; give a duration before now (30d, 12h, 2w, 90m), "
                       "a date (2026-05-01), a UTC timestamp (2026-05-01T00:00:00Z) or all" % text)


def is_version_rollback(entry):
    """A succeeded attempt that redeployed an earlier release's pins (``rollback.yml -e
    tachyon_rollback_version=...``: the optional ``rollback_of_version`` names the release it
    replaced)."""
    return entry["outcome"] == "succeeded" and bool(entry.get("rollback_of_version"))


def is_refusal(entry):
    """An attempt that never reached the platform: recorded ``failed`` with no deployment (a gate,
    a freeze, the lock or the in-flight guard refused it, or App Platform took no deployment).
    Nothing was deployed, so it is a refusal, not a deployment: no measure counts it as an
    attempt, a failure or an incident; ``refusals`` counts it apart."""
    return entry["outcome"] == "failed" and not entry.get("deployment_id") and not entry.get("rolled_back_to")


def is_under_override(entry):
    """A succeeded attempt a change window let through with an incident override (the deploy
    record's message: ``...; OVERRIDE: ov-<12 hex> (...)``)."""
    return entry["outcome"] == "succeeded" and bool(OVERRIDE_RE.search(entry.get("message") or ""))


def is_failure(entry):
    """failed, rolled_back, or a rollback to a version (it undid the change it replaced)."""
    return entry["outcome"] in FAILURES or is_version_rollback(entry)


def _stats(values):
    if not values:
        return {"median_seconds": None, "mean_seconds": None, "min_seconds": None, "max_seconds": None}
    return {
        "median_seconds": float(statistics.median(values)),
        "mean_seconds": float(statistics.fmean(values)),
        "min_seconds": float(min(values)),
        "max_seconds": float(max(values)),
    }


def _entries(manifest, env):
    # history is append-only in time order; a stable sort by time guards hand-edited files
    indexed = [(parse_utc(e["at"]), i, e) for i, e in enumerate(manifest["history"])
               if e["environment"] == env]
    indexed.sort(key=lambda item: (item[0], item[1]))
    return [(at, e) for at, _i, e in indexed]


def _lead_time(entries, since, until, commits):
    """``commits(service, new_sha, old_sha_or_None)`` -> [(sha, committed_at)] or raises GitError
    / returns None when the SHA is unknown to the remote."""
    running = {}
    delivered = set()
    samples = []
    deployments = 0
    missing = 0
    problems = []
    for at, entry in entries:
        services = entry.get("services")
        if entry["outcome"] == "rolled_back":
            if services:
                running = {n: s["sha"] for n, s in services.items()}
            continue
        if entry["outcome"] != "succeeded":
            continue
        if is_version_rollback(entry) and services:
            running = {n: s["sha"] for n, s in services.items()}
            continue
        if services is None:  # a legacy record: what ran is unknown from here on
            running = {}
            continue
        in_window = since <= at <= until
        brought = 0
        for name in sorted(services):
            new = services[name]["sha"]
            old = running.get(name)
            if old and mf.sha_matches(old, new):
                continue
            try:
                found = commits(name, new, old)
            except GitError as exc:
                problems.append(str(exc))
                found = None
            if found is None:
                missing += 1
            else:
                for sha, committed in found:
                    if (name, sha) in delivered:
                        continue
                    delivered.add((name, sha))
                    if in_window:
                        samples.append((at - committed).total_seconds())
                        brought += 1
        running = {n: s["sha"] for n, s in services.items()}
        deployments += in_window and brought > 0
    result = {"available": True, "commits": len(samples), "deployments": deployments,
              "missing_commits": missing}
    result.update(_stats(samples))
    if problems:
        result["problems"] = sorted(set(problems))
    return result


def environment_metrics(manifest, env, since, until, commits=None):
    every = _entries(manifest, env)
    refusals = sum(1 for at, e in every if since <= at <= until and is_refusal(e))
    # refused attempts deployed nothing: they are no deployment, failure or incident
    entries = [(at, e) for at, e in every if not is_refusal(e)]
    window = [(at, e) for at, e in entries if since <= at <= until]
    days = max((until - since).total_seconds() / 86400.0, 0.0)
    rollbacks = sum(1 for _at, e in window if is_version_rollback(e))
    succeeded = sum(1 for _at, e in window if e["outcome"] == "succeeded") - rollbacks
    failures = sum(1 for _at, e in window if is_failure(e))
    under_override = sum(1 for _at, e in window if is_under_override(e) and not is_version_rollback(e))

    incidents = []  # [start, end or None]
    for at, entry in entries:
        if entry["outcome"] in FAILURES:  # a rollback to a version restores: it opens none
            if not incidents or incidents[-1][1] is not None:
                incidents.append([at, None])
        elif entry["outcome"] == "succeeded" and incidents and incidents[-1][1] is None:
            incidents[-1][1] = at
    counted = [(s, e) for s, e in incidents if since <= s <= until]
    restored = [(e - s).total_seconds() for s, e in counted if e is not None and e <= until]
    restore = {"incidents": len(counted), "restored": len(restored), "open": len(counted) - len(restored)}
    restore.update({k: v for k, v in _stats(restored).items() if k in ("median_seconds", "mean_seconds")})

    if commits is None:
        lead = {"available": False, "commits": 0, "deployments": 0, "missing_commits": 0,
                "reason": "no service remotes given (repos), so no commit dates"}
        lead.update(_stats([]))
    else:
        lead = _lead_time(entries, since, until, commits)
    return {
        "deployment_frequency": {
            "deployments": succeeded,
            "rollbacks_to_version": rollbacks,
            "refusals": refusals,
            "under_override": under_override,
            "days": round(days, 4),
            "per_day": round(succeeded / days, 4) if days else None,
            "per_week": round(succeeded * 7 / days, 4) if days else None,
        },
        "lead_time": lead,
        "change_failure_rate": {
            "attempts": len(window),
            "failures": failures,
            "rate": round(failures / len(window), 4) if window else None,
        },
        "time_to_restore": restore,
    }


def cache_commits(cache, urls):
    """A ``commits`` callable over a ``git_cache.GitCache`` and ``{service: remote url}``:
    syncs each remote once; None for a SHA the remote does not have. Answers are memoised
    (rollbacks make the same range come back)."""
    memo = {}

    def commits(service, new, old):
        key = (service, new, old)
        if key not in memo:
            memo[key] = _read(service, new, old)
        return memo[key]

    def _read(service, new, old):
        url = urls.get(service)
        if not url:
            raise GitError("%s: no remote URL given for it (repos)" % service)
        git_dir = cache.sync(service, url)
        if not cache.has(git_dir, new):
            return None
        if old is not None and not cache.has(git_dir, old):
            old = None
        return cache.commit_dates(git_dir, old, new)
    return commits


def metrics(manifest, since="30d", until=None, environments=None, commits=None):
    until = until or datetime.datetime.now(UTC)
    start = parse_since(since, until, manifest["history"])
    if start > until:
        raise MetricsError("since: the window starts (%s) after it ends (%s)"
                           % (format_utc(start), format_utc(until)))
    envs = list(environments or mf.ENVIRONMENTS)
    unknown = [e for e in envs if e not in mf.ENVIRONMENTS]
    if unknown:
        raise MetricsError("environments: unknown %s; use %s" % (", ".join(unknown), ", ".join(mf.ENVIRONMENTS)))
    return {
        "window": {"since": format_utc(start), "until": format_utc(until),
                   "days": round((until - start).total_seconds() / 86400.0, 4), "given": str(since)},
        "environments": {env: environment_metrics(manifest, env, start, until, commits) for env in envs},
    }


def duration(seconds):
    """``3d 4h``, ``2h 5m``, ``4m 10s``, ``12s``."""
    if seconds is None:
        return "-"
    sign = "-" if seconds < 0 else ""
    left = int(round(abs(seconds)))
    days, left = divmod(left, 86400)
    hours, left = divmod(left, 3600)
    minutes, secs = divmod(left, 60)
    if days:
        return "%s%dd %dh" % (sign, days, hours)
    if hours:
        return "%s%dh %dm" % (sign, hours, minutes)
    if minutes:
        return "%s%dm %ds" % (sign, minutes, secs)
    return "%s%ds" % (sign, secs)


def figure_lines(figures):
    """The four lines of one environment: (measure, value, what it was computed from)."""
    freq, lead = figures["deployment_frequency"], figures["lead_time"]
    cfr, ttr = figures["change_failure_rate"], figures["time_to_restore"]
    days = ("%.1f" % freq["days"]).rstrip("0").rstrip(".")
    plural = "" if freq["deployments"] == 1 else "s"
    rows = [("deployment frequency",
             "-" if freq["per_day"] is None else "%.2f/day (%.2f/week)" % (freq["per_day"], freq["per_week"]),
             "from %d successful deployment%s in %s days%s" % (
                 freq["deployments"], plural, days, " (%d under an incident override)" % freq["under_override"]
                 if freq.get("under_override") else ""))]
    if not lead["available"]:
        rows.append(("lead time for changes", "-", lead["reason"]))
    else:
        extra = ", %d deployed SHA(s) not in the remotes" % lead["missing_commits"] if lead["missing_commits"] else ""
        rows.append(("lead time for changes",
                     "-" if lead["median_seconds"] is None else "median %s, mean %s"
                     % (duration(lead["median_seconds"]), duration(lead["mean_seconds"])),
                     "from %d commit%s in %d deployment%s%s" % (
                         lead["commits"], "" if lead["commits"] == 1 else "s",
                         lead["deployments"], "" if lead["deployments"] == 1 else "s", extra)))
    rows.append(("change failure rate",
                 "-" if cfr["rate"] is None else "%.1f%%" % (cfr["rate"] * 100),
                 "from %d failed or rolled back of %d attempt%s (%d refused, nothing deployed: not counted)"
                 % (cfr["failures"], cfr["attempts"], "" if cfr["attempts"] == 1 else "s",
                    figures["deployment_frequency"].get("refusals", 0))))
    rows.append(("time to restore",
                 "-" if ttr["median_seconds"] is None else "median %s, mean %s"
                 % (duration(ttr["median_seconds"]), duration(ttr["mean_seconds"])),
                 "from %d restored incident%s (%d still open)" % (ttr["restored"], "" if ttr["restored"] == 1 else "s",
                                                                  ttr["open"])))
    return rows


def text(result):
    window = result["window"]
    lines = ["Delivery metrics, %s .. %s (%s days, since=%s)"
             % (window["since"], window["until"], ("%.1f" % window["days"]).rstrip("0").rstrip("."), window["given"])]
    for env, figures in result["environments"].items():
        lines.append(env)
        for measure, value, basis in figure_lines(figures):
            lines.append("  %-22s %-32s %s" % (measure, value, basis))
        for problem in figures["lead_time"].get("problems", []):
            lines.append("  note: %s" % problem)
    return terminal("\n".join(lines), multiline=True)  # names, notes, reasons: outside text


# The options of delivery_metrics, which release_report takes too (its own are added to them).
ARGUMENT_SPEC = dict(
    **mf.MANIFEST_PATH_OPTION,
    since=dict(type="str", default="30d"),
    window_end=dict(type="str"),
    environments=dict(type="list", elements="str", choices=["staging", "production"],
                      default=["staging", "production"]),
    repos=dict(type="dict", default={}, no_log=True),
    cache_dir=dict(type="path", default="~/.cache/tachyon-infra/repos"),
    **mr.HISTORY_OPTIONS,
)


def from_params(params):
    """The modules' common path (delivery_metrics, release_report): ``params`` with manifest_path,
    since, window_end, environments, repos, cache_dir, git_history, max_revisions. Returns (manifest,
    legacy, path, until, result, revisions): ``manifest`` as the file holds it, ``revisions`` the
    hub's git history of the file (``manifest_revisions.revisions``) when ``git_history``, else
    None; the metrics are computed on the file's history merged with the revisions' attempts.
    Raises MetricsError or manifest.ManifestError saying what is wrong."""
    path = os.path.abspath(params["manifest_path"])
    manifest, legacy, _text = mf.load(path)
    if params.get("window_end"):
        if not mf.TIMESTAMP_RE.fullmatch(params["window_end"]):
            raise MetricsError("window_end: %r is not a UTC timestamp; use YYYY-MM-DDTHH:MM:SSZ" % params["window_end"])
        until = parse_utc(params["window_end"])
    else:
        until = datetime.datetime.now(UTC)
    commits = None
    repos = params.get("repos") or {}
    if repos:
        bad = sorted(n for n, u in repos.items() if not isinstance(u, str) or not u.strip())
        if bad:
            raise MetricsError("repos: no URL given for %s; give service name: remote URL" % ", ".join(bad))
        commits = cache_commits(GitCache(params["cache_dir"]), repos)
    revs = None
    if params.get("git_history"):
        if int(params.get("max_revisions") or 0) < 1:
            raise MetricsError("max_revisions must be at least 1")
        revs = mr.revisions(path, params["max_revisions"])
    measured = mr.merged(manifest, revs["revisions"]) if revs else manifest
    result = metrics(measured, params.get("since") or "30d", until, params.get("environments"), commits)
    return manifest, legacy, path, until, result, revs
