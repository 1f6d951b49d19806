# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""Promotion gates and the deploy plan (the deploy_gates module's logic, pure functions).

Production deploys only when staging still proves the release: staging's live active
deployment is the one the manifest records for this release, staging is healthy now (one
/health of its live URL reporting the release's api version), and it has soaked: at least
``tachyon_soak_minutes`` since it was health-verified (``health_verified_at``). Each failing
gate says exactly what failed (the soak: how long is left).
"""
from __future__ import annotations

import datetime

from ansible_collections.tachyon.infra.plugins.module_utils._platform import health
from ansible_collections.tachyon.infra.plugins.module_utils._platform import live_app


def gate(name, ok, detail):
    return {"name": name, "ok": bool(ok), "detail": detail}


def parse_utc(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def fmt_duration(seconds):
    seconds = max(0, int(round(seconds)))
    minutes, sec = divmod(seconds, 60)
    return "%dm%02ds" % (minutes, sec) if minutes else "%ds" % sec


def soak_gate(verified_at, soak_minutes, now):
    """Staging must have been verified at least ``soak_minutes`` before ``now`` (aware datetime)."""
    if not verified_at:
        return gate("soak", False, "staging has no health_verified_at in the manifest: deploy and verify "
                                   "staging first")
    start = parse_utc(verified_at)
    needed = datetime.timedelta(minutes=float(soak_minutes))
    elapsed = now - start
    if elapsed >= needed:
        return gate("soak", True, "staging verified at %s, %s ago (soak %s)"
                    % (verified_at, fmt_duration(elapsed.total_seconds()), fmt_duration(needed.total_seconds())))
    left = (needed - elapsed).total_seconds()
    return gate("soak", False, "staging was verified at %s, only %s ago; tachyon_soak_minutes is %s: %s left "
                               "(production may deploy from %s)"
                % (verified_at, fmt_duration(elapsed.total_seconds()), soak_minutes, fmt_duration(left),
                   (start + needed).strftime("%Y-%m-%dT%H:%M:%SZ")))


def staging_live_gate(manifest, live, services):
    """Staging's live active deployment (``live``: app_verify's read of the staging app) must be
    the deployment the manifest records for this release, running the recorded images."""
    staging = manifest["environments"]["staging"]
    recorded = staging.get("deployment_id")
    active = (live or {}).get("active_deployment_id")
    if not recorded:
        return gate("staging live deployment", False, "the manifest records no staging deployment")
    if active != recorded:
        return gate("staging live deployment", False,
                    "staging's live active deployment is %s, but the manifest records %s for release %s: staging "
                    "was redeployed (or rolled back) since it verified this release; deploy release %s to staging "
                    "again" % (active or "none", recorded, manifest["version"], manifest["version"]))
    comps = (live or {}).get("components") or {}
    # a service staging recorded by tag only (tachyon_allow_tag_only) cannot be compared with a
    # digest; the deployment id above already proves it is the recorded deployment
    comparable = {name: pin for name, pin in (services or {}).items()
                  if pin.get("digest") or not (comps.get(pin.get("component") or name) or {}).get("digest")}
    problems = live_app.compare_components(comparable, comps)
    if problems:
        return gate("staging live deployment", False, "staging's live deployment %s does not run what it recorded: %s"
                    % (active, "; ".join(problems)))
    return gate("staging live deployment", True, "staging runs deployment %s, the one recorded for release %s"
                % (active, manifest["version"]))


def staging_health_gate(url, status, payload, problem, expected_version, checks):
    """One /health of staging's live URL now."""
    if problem is None and payload is not None:
        problem = health.evaluate(payload, expected_version, checks)
    elif problem is None:
        problem = "HTTP %s without a health payload" % status
    if problem:
        return gate("staging healthy now", False, "staging is not healthy now (%s: %s)" % (url, problem))
    return gate("staging healthy now", True, "staging's /health is healthy with version %s" % expected_version)


def now_and_next(services, live_components):
    """Plan rows per service: what runs now (from the live app) and what would run."""
    rows = []
    for name in sorted(services):
        pin = services[name]
        comp = pin.get("component") or name
        running = (live_components or {}).get(comp)
        rows.append({"service": name, "component": comp, "now": (running or {}).get("ref") or "nothing",
                     "next": live_app.pin_ref(pin),
                     "change": bool(live_app.compare_components({name: pin}, live_components or {}))})
    return rows


def plan_lines(environment, version, rows, migration, gates):
    lines = ["PLAN for %s, release %s (check mode: nothing is changed)" % (environment, version)]
    for row in rows:
        unchanged = "" if row["change"] else " (unchanged)"
        lines.append("  %s (%s): now %s -> %s%s" % (row["service"], row["component"], row["now"], row["next"], unchanged))
    lines.append("  migration: %s" % ("YES, " if migration["carries"] else "no, ") + migration["reason"])
    for item in gates:
        lines.append("  gate %-26s %s: %s" % (item["name"], "PASS" if item["ok"] else "FAIL", item["detail"]))
    failing = [g["name"] for g in gates if not g["ok"]]
    lines.append("  => %s" % ("would be REFUSED (failing gates: %s)" % ", ".join(failing) if failing
                              else "every gate passes: the deploy would go ahead"))
    return lines
