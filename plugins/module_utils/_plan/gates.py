# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""Every gate of a deploy, decided here and only here (docs/docsite/rst/adding_a_gate.rst).

A gate is one function of ``facts`` (what the deploy plan read once: the manifest, the
resolved services, the target app, the registry's digests, the lock and freeze, staging's app
and health; see _plan/plan.py ``Facts``) that returns ``gate(name, ok, detail)`` or None when it
does not apply to this deploy. ``GATES`` lists them in the order the plan shows them; adding a
gate is one function here, decorated with ``@register``. Gates read facts, never the network:
the plan reads, the gates decide. A failing gate refuses the deploy unless it is advisory
(``blocking=False``: the deploy lock, which the lock step takes atomically and may wait for).

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
from ansible_collections.tachyon.infra.plugins.module_utils._platform import signals
from ansible_collections.tachyon.infra.plugins.module_utils._git import lock as git_lock
from ansible_collections.tachyon.infra.plugins.module_utils._plan import overrides
from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.module_utils._release import registry
from ansible_collections.tachyon.infra.plugins.module_utils._common.times import parse_utc
from ansible_collections.tachyon.infra.plugins.module_utils._release import restarts


def gate(name, ok, detail, blocking=True):
    return {"name": name, "ok": bool(ok), "detail": detail, "blocking": bool(blocking)}


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
    if start is None:
        return gate("soak", False, "staging's health_verified_at %r is not a UTC timestamp: deploy and verify "
                                   "staging again" % (verified_at,))
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
    if active not in restarts.accepted(manifest, "staging", [recorded]):  # a recorded restart keeps the release
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
    return gate("staging live deployment", True, "staging runs deployment %s, the one recorded for release %s%s"
                % (active, manifest["version"], "" if active == recorded else " (restarted from %s)" % recorded))


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


# --------------------------------------------------------------------------- the gates
GATES = []


def register(func):
    """Add a gate (a function of the plan's facts) to GATES, in the order of definition."""
    GATES.append(func)
    return func


@register
def inputs(facts):
    """What the run was asked to deploy can be resolved at all (the version, the SHAs, the
    pins of the release to roll back to, the smoke check list, the spec)."""
    if not facts.input_problems:
        return None
    return gate("inputs", False, " ".join(facts.input_problems))


@register
def app_identity(facts):
    """The target app is this environment's: its running deployment is not one the manifest
    records for the other environment (a wrong tachyon_do_app_id deploys nothing)."""
    active = facts.target_active_id
    if not active or facts.manifest is None:
        return None
    owner = mf.environment_of_deployment(facts.manifest, active)
    if owner in (None, facts.environment):
        return None
    return gate("app identity", False,
                "the app that tachyon_do_app_id of %s points at runs deployment %s, which %s records as a %s "
                "deployment: it is the %s app, not the %s one. Fix tachyon_do_app_id and tachyon_do_token of "
                "inventory group %s (or the environment variables its group_vars read)"
                % (facts.host, active, facts.manifest_path, owner, owner, facts.environment, facts.environment))


@register
def promotion(facts):
    """Production: the release is the manifest's, staging's latest attempt deployed and verified
    exactly its SHAs, an approver is named (manifest.check_promotion says what is missing)."""
    if facts.environment != "production" or facts.rollback_requested or facts.manifest is None:
        return None
    try:
        mf.check_promotion(facts.manifest, facts.version, facts.approved_by)
    except mf.ManifestError as exc:
        return gate("promotion (manifest)", False, str(exc).replace("\n", " "))
    return gate("promotion (manifest)", True,
                "release %s is the manifest's, staging verified its SHAs, approved by %s"
                % (facts.version, facts.approved_by))


@register
def rollback_approver(facts):
    """A production rollback to a release needs an approver, as every production deploy."""
    if facts.environment != "production" or not facts.rollback_requested:
        return None
    if (facts.approved_by or "").strip():
        return gate("approver", True, "approved by %s" % facts.approved_by)
    return gate("approver", False,
                "a production rollback to release %s needs an approver, as every production deploy: set "
                "tachyon_approved_by (-e tachyon_approved_by=<name>; in AWX the survey's approver)"
                % (facts.rollback or {}).get("version", facts.rollback_version))


@register
def image_digests(facts):
    """Each image deploys by the digest that was verified: the registry's tag still points at
    the release's (staging) or staging's (production) digest; sets ``facts.services``' digests."""
    if not facts.services or facts.manifest_only:
        return None
    try:
        out, notes = registry.compare_digests(facts.environment, facts.services, facts.resolved_digests,
                                              facts.release_pins, facts.allow_tag_only, facts.given_digests)
    except registry.RegistryError as exc:
        return gate("image digests", False, " ".join((facts.registry_problems or []) + [str(exc)]).replace("\n", " "))
    for name, svc in out.items():
        facts.services[name]["digest"] = svc.get("digest")
    facts.notes.extend(notes)
    return gate("image digests", True, "%d images by digest%s" % (
        sum(1 for s in out.values() if s.get("digest")), (", " + "; ".join(notes)) if notes else ""))


@register
def staging_live(facts):
    """Production: staging still runs the deployment it recorded for this release."""
    if not facts.staging_proof:
        return None
    if facts.staging_problem:
        return gate("staging live deployment", False, facts.staging_problem)
    return staging_live_gate(facts.manifest, facts.staging_live, facts.services)


@register
def staging_healthy(facts):
    """Production: staging's /health answers healthy with the release's api version now."""
    if not facts.staging_proof:
        return None
    if facts.staging_problem:
        return gate("staging healthy now", False, "staging's app could not be read (see above)")
    if facts.staging_health_url is None:
        return gate("staging healthy now", False, "staging's app has no live URL")
    payload, problem = facts.staging_health
    return staging_health_gate(facts.staging_health_url, None, payload, problem, facts.expected_version,
                               facts.health_checks)


@register
def staging_platform_healthy(facts):
    """Production: App Platform reports every staging component HEALTHY now (GET /v2/apps/{id}/health)."""
    if not facts.staging_proof or facts.staging_problem:
        return None
    if facts.staging_platform_problem:
        return gate("staging components healthy", False, "App Platform's component health of staging could not be "
                                                         "read: %s" % facts.staging_platform_problem)
    if not facts.staging_platform:
        # an answer of the right shape that names no component proves nothing about the release
        return gate("staging components healthy", False, "App Platform reported no component health for staging "
                                                         "(GET /v2/apps/{id}/health listed no component); the release "
                                                         "is not proven until it reports them healthy: try again")
    problems = signals.problems(facts.staging_platform)
    if problems:
        return gate("staging components healthy", False, "App Platform reports staging's %s; the release is not "
                                                         "proven while a component is not healthy" % "; ".join(problems))
    return gate("staging components healthy", True, "App Platform reports staging's components healthy: %s" % ", ".join(
        signals.describe(c) for c in facts.staging_platform))


@register
def maintenance_mode(facts):
    """Maintenance mode: left on by an earlier run (refused unless tachyon_maintenance_leftover is
    turn_off), or a release carrying a migration where the environment asks and nobody chose."""
    mode = facts.maintenance  # plan.maintenance_of, read with the facts
    if mode is None:
        return None
    if mode["leftover"] and mode["leftover"]["refused"]:
        return gate("maintenance", False, mode["leftover"]["why"])
    if mode["refused"]:
        return gate("maintenance", False, mode["why"])
    if not mode["use"] and not mode["leftover"]:
        return None
    return gate("maintenance", True, mode["leftover"]["why"] if mode["leftover"] else mode["why"])


@register
def soak(facts):
    """Production: staging was health-verified at least tachyon_soak_minutes ago."""
    if not facts.staging_proof:
        return None
    return soak_gate(facts.manifest["environments"]["staging"].get("health_verified_at"), facts.soak_minutes,
                     facts.now)


def override_how(facts):
    """How to get an incident override for this deploy (change_windows.rst, the override flow)."""
    return ("to deploy now anyway, an incident override: ansible-playbook playbooks/override.yml -i "
            "inventories/%s -e override_action=request -e tachyon_version=%s -e override_reason=\"<why>\"%s; "
            "then this deploy again with -e tachyon_override=<its id>"
            % (facts.environment, facts.version, "; another person approves it (-e override_action=approve "
               "-e override_id=<its id>)" if facts.environment == "production" else ""))


@register
def change_window(facts):
    """The environment's change windows (tachyon_change_windows) allow the deploy now (a
    rollback unless its window forbids rollbacks), or an approved incident override of this
    environment and release lets this one deploy through (it is consumed by the deploy)."""
    if facts.window_problems:
        return gate("change window", False, "malformed change windows (make validate names them): %s"
                    % "; ".join(facts.window_problems))
    if facts.window is None and not facts.override_id:
        return None
    verdict = facts.window or {"allowed": True, "reason": "%s has no change windows" % facts.environment}
    if verdict["allowed"]:
        return gate("change window", True, verdict["reason"] + (
            "; override %s is not needed, so it is not used" % facts.override_id if facts.override_id else ""))
    if not facts.override_id:
        return gate("change window", False, "%s; %s" % (verdict["reason"], override_how(facts)))
    why = facts.override_problem or overrides.problem(facts.override, facts.environment, facts.version,
                                                      facts.services, facts.now.timestamp())
    if why:
        return gate("change window", False, "%s; override %s refused: %s" % (verdict["reason"], facts.override_id, why))
    facts.override_used = facts.override
    return gate("change window", True, "%s; PASSED by incident override %s" % (
        verdict["reason"], overrides.describe(facts.override)))


@register
def freeze(facts):
    """The environment is not frozen (or the run breaks the glass, recorded in the history)."""
    info = facts.lock_status
    if info is None:
        return None
    if not info["frozen"]:
        return gate("freeze", True, "%s is not frozen" % facts.environment)
    message = git_lock.freeze_message(facts.environment, info["freeze"], facts.lock_store)
    if facts.break_glass:
        return gate("freeze", True, "FROZEN, passed by break-glass (tachyon_break_glass): %s" % message)
    return gate("freeze", False, message)


@register
def deploy_lock(facts):
    """Nobody else deploys the environment now. Advisory: the lock step takes the lock
    atomically (waiting tachyon_lock_wait, taking over an expired one) and refuses naming the
    holder; the plan only says who holds it."""
    info = facts.lock_status
    if info is None:
        return None
    if not info["locked"]:
        return gate("deploy lock", True, "free%s" % (" (%s)" % facts.lock_note if facts.lock_note else ""),
                    blocking=False)
    return gate("deploy lock", bool(info["expired"]), "held by %s%s" % (
        git_lock.describe(info["lock"]), " (expired: %s; it will be taken over)" % info["expired"]
        if info["expired"] else ""), blocking=False)


def evaluate(facts):
    """Every applicable gate's verdict, in GATES order."""
    results = []
    for func in GATES:
        verdict = func(facts)
        if verdict is not None:
            results.append(verdict)
    return results


def refusals(results):
    """The blocking gates that failed."""
    return [g for g in results if not g["ok"] and g.get("blocking", True)]
