# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""The deploy plan (tachyon.infra.deploy_plan): read everything a deploy decides on, once, and
return one plan.

``read_facts`` does every read (the manifest, the services' SHAs or the pins of a release to
roll back to, the registry's digests, the target app with its active and pending deployments,
staging's app and /health for a promotion, the lock and the freeze); ``gates.evaluate`` decides;
``build`` puts it together: per component from -> to (commit, digest), the migration, every
gate with its verdict, the rendered App Spec the deploy applies, the decision (deploy / nothing
to do / refused) with why and what unblocks it, and a short table a person reads.
Nothing here writes anything.
"""
from __future__ import annotations

import datetime
import os
import time

from ansible_collections.tachyon.infra.plugins.module_utils._common.input_types import branch_problem
from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_url
from ansible_collections.tachyon.infra.plugins.module_utils._git import cache as git_cache
from ansible_collections.tachyon.infra.plugins.module_utils._git import lock as git_lock
from ansible_collections.tachyon.infra.plugins.module_utils._git import remote as git_remote
from ansible_collections.tachyon.infra.plugins.module_utils._plan import gates
from ansible_collections.tachyon.infra.plugins.module_utils._plan import overrides
from ansible_collections.tachyon.infra.plugins.module_utils._plan import windows
from ansible_collections.tachyon.infra.plugins.module_utils._platform import client as do_client
from ansible_collections.tachyon.infra.plugins.module_utils._platform import health
from ansible_collections.tachyon.infra.plugins.module_utils._platform import live_app
from ansible_collections.tachyon.infra.plugins.module_utils._platform import maintenance
from ansible_collections.tachyon.infra.plugins.module_utils._platform import signals
from ansible_collections.tachyon.infra.plugins.module_utils._platform import smoke
from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.module_utils._release import migrations
from ansible_collections.tachyon.infra.plugins.module_utils._release import pins as pins_mod
from ansible_collections.tachyon.infra.plugins.module_utils._release import registry
from ansible_collections.tachyon.infra.plugins.module_utils._release.catalog import CatalogError, health_version_service
from ansible_collections.tachyon.infra.plugins.module_utils._spec import app_spec

READ_SECONDS = 15


class PlanError(Exception):
    """The plan cannot be made at all (an unreadable manifest, a bad option): nothing was read
    that a deploy could act on."""


class Facts(object):
    """What the gates decide on; every attribute is read once by read_facts."""

    def __init__(self, p):
        self.environment = p["environment"]
        self.host = p.get("host") or self.environment
        self.manifest_path = p["manifest_path"]
        self.approved_by = p.get("approved_by") or ""
        self.allow_tag_only = p.get("allow_tag_only")
        self.given_digests = p.get("digests") or {}
        self.break_glass = p.get("break_glass") or ""
        self.soak_minutes = p.get("soak_minutes") or 0
        # maintenance mode (_platform/maintenance.py): the environment's mode, the run's choice, what to
        # do with maintenance left on by an earlier run, the offline page; the marker read below
        self.maintenance_mode = p.get("maintenance_mode") or "off"
        self.maintenance_choice = p.get("maintenance") or ""
        self.maintenance_leftover_policy = p.get("maintenance_leftover") or "refuse"
        self.offline_page_url = p.get("offline_page_url") or None
        self.maintenance_marker = None
        self.maintenance = None
        self.health_checks = p.get("health_checks") or []
        self.rollback = None
        # a rollback to a release was asked for (facts.rollback: its pins, once resolved)
        self.rollback_requested = bool(p.get("rollback_version"))
        self.rollback_version = p.get("rollback_version")
        self.manifest = None
        self.version = None
        self.services = None
        # the catalog entries whose image runs the migrations (migrations: true) and whose tag
        # /health reports (health_version: true), read_facts
        self.migrate_service = None
        self.version_service = None
        self.release_pins = {}
        self.resolved_digests = {}
        self.registry_problems = []
        self.input_problems = []
        self.notes = []
        self.target_app = None
        self.target_deployment = None
        self.target_active_id = None
        self.target_problem = None
        self.staging_proof = False
        self.staging_problem = None
        self.staging_live = None
        self.staging_health_url = None
        self.staging_health = (None, None)
        # App Platform's own component health of staging ([{name, state, ...}]) or why it was not read
        self.staging_platform = None
        self.staging_platform_problem = None
        self.expected_version = None
        self.lock_status = None
        self.lock_store = None
        self.lock_note = None
        self.manifest_only = False
        # the change windows (tachyon_change_windows) and an incident override (tachyon_override)
        self.change_windows = p.get("change_windows") or []
        self.override_id = p.get("override") or None
        self.window_problems = []
        self.window = None
        self.override = None
        self.override_problem = None
        self.override_used = None
        # the plan's clock: the only time the gates (the soak, the change windows) decide on;
        # no option or variable sets it (tests inject theirs in unit tests)
        self.now = datetime.datetime.now(datetime.timezone.utc)


def _catalog(p):
    return {svc["name"]: svc for svc in p["services"]}


def _resolve_staging(p, facts):
    """Staging: every service's full SHA (given, or its branch's head, one ls-remote each, all at once)."""
    catalog = _catalog(p)
    given = {k: v for k, v in (p.get("shas") or {}).items() if v}
    unknown = sorted(set(given) - set(catalog))
    if p.get("version") and p["version"] != facts.manifest["version"]:
        facts.input_problems.append(
            "tachyon_version %s is not the release in %s (%s); create that release first (playbooks/release.yml)."
            % (p["version"], facts.manifest_path, facts.manifest["version"]))
    if unknown:
        facts.input_problems.append("tachyon_shas names unknown service(s) %s; known services: %s."
                                    % (", ".join(unknown), ", ".join(catalog)))
        return None
    repos = {name: (p.get("repo_urls") or {}).get(name) or "%s/%s.git" % (p["repo_base_url"], svc["repo"])
             for name, svc in catalog.items()}
    problem = branch_problem(p["repo_branch"])
    if problem:
        # it becomes an argument of git ls-remote: checked by git's own rules first
        facts.input_problems.append("tachyon_repo_branch %r is not a branch name git accepts (`git "
                                    "check-ref-format --branch`): %s" % (p["repo_branch"], problem))
        return None
    try:
        shas = git_remote.ls_remote(repos, "refs/heads/" + p["repo_branch"], given)
    except git_remote.RemoteError as exc:
        facts.input_problems.append(str(exc))
        return None
    return {name: {"sha": shas[name].lower(), "tag": shas[name].lower(), "image": svc["image"], "digest": None,
                   "component": svc["component"]} for name, svc in catalog.items()}


def _resolve_production(p, facts):
    """Production: the SHAs, tags and digests staging ran (or the release's pins while it is refused)."""
    catalog = _catalog(p)
    if not p.get("version"):
        facts.input_problems.append(
            "production deploys only a release named on purpose: set tachyon_version to the release in %s "
            "(-e tachyon_version=%s; in AWX the survey's Release version; in GitHub Actions the workflow's "
            "version input)." % (facts.manifest_path, facts.manifest["version"]))
    try:
        ran = mf.check_promotion(facts.manifest, p.get("version") or facts.manifest["version"], "-")
    except mf.ManifestError:
        ran = facts.manifest["services"]
    out = {}
    for name, svc in catalog.items():
        pin = dict(ran.get(name) or facts.manifest["services"].get(name) or {})
        pin["component"] = svc["component"]
        out[name] = pin
    return out


def _resolve_rollback(p, facts):
    """A rollback to a release: the pins its newest health-verified deployment recorded."""
    catalog = _catalog(p)
    try:
        mf.check_semver(p["rollback_version"], "tachyon_rollback_version")
    except mf.ManifestError as exc:
        facts.input_problems.append(str(exc))
        return None
    try:
        pins, source, running = pins_mod.rollback_pins(facts.manifest, p["rollback_version"], facts.environment,
                                                       list(catalog))
    except pins_mod.PinsError as exc:
        facts.input_problems.append(str(exc))
        return None
    facts.rollback = {"version": p["rollback_version"], "source": source, "running_version": running}
    facts.release_pins = pins
    return {name: {"sha": pins[name]["sha"], "tag": pins[name].get("tag") or pins[name]["sha"],
                   "image": pins[name].get("image") or svc["image"], "digest": pins[name].get("digest"),
                   "component": svc["component"]} for name, svc in catalog.items()}


def _read_digests(p, facts):
    """The registry's digest of each image:tag, all read now (compared by the image digests gate)."""
    for name, item in facts.services.items():
        if not item.get("image") or not item.get("tag"):
            facts.input_problems.append("%s: no image or tag to deploy" % name)
            return
    creds = {"username": p.get("registry_username"), "password": p.get("registry_password")}
    resolver = registry.Resolver(endpoints=p.get("registry_endpoints") or {}, credentials=creds, timeout=30)
    started = time.monotonic()
    for name in sorted(facts.services):
        try:
            facts.resolved_digests[name] = resolver.resolve(facts.services[name]["image"], facts.services[name]["tag"])
        except registry.RegistryError as exc:
            if not facts.allow_tag_only:
                facts.registry_problems.append("%s: %s." % (name, exc))
            else:
                facts.notes.append("%s: not resolved (%s)" % (name, exc))
    facts.digest_reads = {"elapsed": round(time.monotonic() - started, 3), "requests": resolver.requests_made}


def _read_subjects(p, facts):
    """Each commit's subject, from the release notes' bare cache of the service repos when it
    already holds the commit (no fetch: the plan stays fast; without it the plan shows the SHA)."""
    cache = git_cache.GitCache(p["repo_cache"], timeout=10)
    for name, pin in facts.services.items():
        git_dir = cache.path(name)
        if not pin.get("sha") or not os.path.isdir(git_dir):
            continue
        try:
            code, out, _err = cache.git(git_dir, "log", "-1", "--format=%s", pin["sha"], "--")
        except git_cache.GitError:
            continue
        if code == 0 and out.strip():
            pin["subject"] = out.strip().splitlines()[0]


def _read_target(p, facts):
    """The target app, once: its spec, live URL, active deployment (with its images) and the
    deployments in flight. apply hands this read to app_deploy instead of reading again."""
    try:
        client = do_client.make_client(p["token"], p["api_endpoint"], timeout=READ_SECONDS,
                                       deadline=time.monotonic() + READ_SECONDS)
        facts.target_app, facts.target_deployment = live_app.read(client, p["app_id"])
    except do_client.DOApiError as exc:
        facts.target_problem = "reading the %s app failed: %s" % (facts.environment, exc)
        return
    facts.target_active_id = (facts.target_app.get("active_deployment") or {}).get("id")


def _read_staging(p, facts):
    """Production promotion: staging's app and one /health of its live URL, now."""
    facts.staging_proof = True
    if not p.get("staging_app_id") or not p.get("staging_token"):
        facts.staging_problem = ("this inventory does not know staging's app: set tachyon_staging_do_app_id and "
                                 "tachyon_staging_do_token (production reads DO_APP_ID and "
                                 "DIGITALOCEAN_ACCESS_TOKEN, staging's names)")
        return
    try:
        client = do_client.make_client(p["staging_token"], p["api_endpoint"], timeout=READ_SECONDS,
                                       deadline=time.monotonic() + READ_SECONDS)
        app, dep = live_app.read(client, p["staging_app_id"])
    except do_client.DOApiError as exc:
        facts.staging_problem = "reading staging's app failed: %s" % exc
        return
    facts.staging_live = {"active_deployment_id": (app.get("active_deployment") or {}).get("id"),
                          "components": live_app.components(dep) if dep else {}}
    try:
        facts.staging_platform = signals.read_health(client, p["staging_app_id"])
    except do_client.DOApiError as exc:
        facts.staging_platform_problem = str(exc)
    if app.get("live_url"):
        url = app["live_url"].rstrip("/") + p["health_path"]
        facts.staging_health = health.poll_once(url, {}, True, 10)
        facts.staging_health_url = redact_url(url)


def _read_lock(p, facts):
    try:
        store, note = git_lock.open_store(facts.environment, p.get("lock_remote"), p.get("lock_repo_dir"),
                                          p.get("lock_path"))
        facts.lock_note = note
        facts.lock_status = git_lock.status(store, facts.environment)
        facts.lock_store = store
    except git_lock.LockError as exc:
        facts.notes.append("the lock and the freeze could not be read: %s" % exc)


def _read_windows(p, facts):
    """The change windows, parsed and decided at the plan's clock (a rollback: as a rollback)."""
    if not facts.change_windows:
        return
    try:
        parsed = windows.parse(facts.change_windows, facts.now)
    except windows.WindowError as exc:
        facts.window_problems = exc.problems
        return
    facts.window = windows.evaluate(parsed, facts.now, rollback=facts.rollback_requested)


def _read_override(p, facts):
    """The incident override named by tachyon_override, from where the lock is kept."""
    if not facts.override_id:
        return
    try:
        store = facts.lock_store or git_lock.open_store(facts.environment, p.get("lock_remote"),
                                                        p.get("lock_repo_dir"), p.get("lock_path"))[0]
        facts.override = overrides.read(store, facts.override_id)[1]
    except (git_lock.LockError, overrides.OverrideError) as exc:
        facts.override_problem = "it could not be read: %s" % exc


def read_facts(p):
    """Every read of the plan, each done once. Raises PlanError when the manifest cannot be read."""
    facts = Facts(p)
    try:
        facts.manifest = mf.read(p["manifest_path"])["manifest"]
    except mf.ManifestError as exc:
        raise PlanError(str(exc))
    facts.version = facts.manifest["version"]
    facts.release_pins = facts.manifest["services"]
    if p.get("rollback_version"):
        facts.services = _resolve_rollback(p, facts)
        if facts.rollback:
            # the release rolled back to (a refused one is recorded against the manifest's release)
            facts.version = p["rollback_version"]
    elif facts.environment == "staging":
        facts.services = _resolve_staging(p, facts)
    else:
        facts.services = _resolve_production(p, facts)
        facts.version = p.get("version") or facts.manifest["version"]
    try:
        smoke.validate(p.get("smoke_checks") or [])
    except smoke.SmokeCheckError as exc:
        facts.input_problems.append(str(exc))
    try:
        facts.migrate_service = migrations.migrate_service(p.get("services"))
        facts.version_service = health_version_service(p.get("services"))
    except CatalogError as exc:
        facts.input_problems.append(str(exc))
    facts.manifest_only = not p.get("read_apps", True)
    if facts.services:
        reporting = facts.services.get(facts.version_service["name"]) if facts.version_service else None
        facts.expected_version = (reporting or {}).get("tag") or (reporting or {}).get("sha")
        if not facts.manifest_only:
            _read_digests(p, facts)
        if p.get("repo_cache"):
            _read_subjects(p, facts)
    if p.get("read_apps", True):
        _read_target(p, facts)
        if facts.environment == "production" and not facts.rollback and p.get("staging_proof", True):
            _read_staging(p, facts)
    if p.get("read_lock", True):
        _read_lock(p, facts)
    _read_windows(p, facts)
    _read_override(p, facts)
    facts.maintenance_marker = maintenance.read_marker(maintenance.marker_path(p["manifest_path"], facts.environment))
    if facts.manifest is not None:
        facts.maintenance = maintenance_of(facts)
    return facts


# --------------------------------------------------------------------------- the plan
def _short(sha):
    """A commit SHA's first 7 characters (anything else, e.g. a tag, as it is)."""
    sha = sha or ""
    if len(sha) > 7 and all(c in "0123456789abcdefABCDEF" for c in sha):
        return sha[:7]
    return sha or "-"


def _digest_short(digest):
    return (digest or "")[:19] or "by tag"


def component_rows(facts):
    """Per service: from (what the live app runs) -> to (what the plan deploys)."""
    live = live_app.components(facts.target_deployment) if facts.target_deployment else {}
    recorded = ((facts.manifest or {}).get("environments", {}).get(facts.environment) or {}).get("services") or {}
    rows = []
    for name in sorted(facts.services or {}):
        pin = facts.services[name]
        comp = pin.get("component") or name
        running = live.get(comp) or {}
        before = recorded.get(name) or {}
        # the commit the environment runs: the manifest's record when it still matches the live image
        same = before and migrations.same_image(before, {"digest": running.get("digest"), "tag": running.get("tag")})
        rows.append({
            "service": name, "component": comp,
            "from": {"sha": before.get("sha") if same else (running.get("tag") or None),
                     "digest": running.get("digest"), "ref": running.get("ref") or "nothing"},
            "to": {"sha": pin.get("sha"), "digest": pin.get("digest"), "ref": live_app.pin_ref(pin),
                   "subject": pin.get("subject")},
            "change": bool(live_app.compare_components({name: pin}, live)) if facts.target_deployment else True,
        })
    return rows


def migration_of(facts):
    services = facts.services or {}
    if facts.migrate_service is None:
        return migrations.no_migration_service()
    name, comp = facts.migrate_service["name"], facts.migrate_service["component"]
    if facts.target_deployment is not None:
        running = live_app.components(facts.target_deployment).get(comp)
        live_pin = {"tag": running.get("tag"), "digest": running.get("digest")} if running else None
        return migrations.carries_migration(services.get(name), live_pin, name,
                                            source="%s's live app" % facts.environment)
    return migrations.release_carries_migration(facts.manifest, facts.environment, name)


def unblock_hint(refused):
    names = {g["name"] for g in refused}
    hints = []
    if "soak" in names:
        hints.append("wait for the soak, then run again")
    if names & {"staging live deployment", "staging healthy now", "promotion (manifest)"}:
        hints.append("deploy the release to staging again: ansible-playbook playbooks/deploy.yml -i inventories/staging")
    if "freeze" in names:
        hints.append("release the freeze: ansible-playbook playbooks/lock.yml -e lock_action=release "
                     "(or -e tachyon_break_glass=\"why\")")
    if "change window" in names:
        hints.append("deploy when the change window allows it, or with an approved incident override "
                     "(docs/docsite/rst/change_windows.rst)")
    if "image digests" in names:
        hints.append("push the verified images back, or make a new release")
    return "; ".join(hints)


def _from(row):
    frm = row["from"]
    if frm.get("sha"):
        return _short(frm["sha"])
    ref = frm.get("ref") or "nothing"
    return ref.rsplit(":", 1)[-1] if ":" in ref and "@" not in ref else ("nothing" if ref == "nothing" else "?")


def table(environment, version, rows, migration, results, decision, check_mode, rollback=None):
    """The plan in a few lines: what is decided (and the gates) in the header, then one line per
    component - from -> to commit (subject when known) and the digest that goes live - then the
    reason of each failing gate."""
    verdicts = ", ".join("%s %s" % (g["name"], "ok" if g["ok"] else ("FAIL" if g.get("blocking", True) else "wait"))
                         for g in results)
    what = {"refused": "REFUSED", "nothing": "nothing to do (the app runs these images)", "deploy": "deploy"}[decision]
    if rollback:
        # a rollback to a release: where it goes back from, and whose recorded pins it redeploys
        subject = "%s goes from release %s back to %s" % (environment, rollback.get("running_version") or "-",
                                                          rollback.get("source") or "release %s" % version)
    else:
        subject = "%s release %s" % (environment, version)
    lines = ["PLAN %s: %s; gates: %s%s" % (subject, what, verdicts or "none",
                                           " [check mode: nothing is changed]" if check_mode else "")]
    width = max([len(r["service"]) for r in rows] + [0])
    for row in rows:
        to = row["to"]
        subject = (' "%s"' % to["subject"][:48]) if to.get("subject") else ""
        marks = []
        if not row["change"]:
            marks.append("unchanged")
        if migration.get("carries") and row["service"] == migration.get("service"):
            marks.append("MIGRATION")
        lines.append("  %-*s %s -> %s%s  %s%s" % (
            width, row["service"], _from(row), _short(to.get("sha")), subject,
            to.get("digest") or "BY TAG (tachyon_allow_tag_only)", (" (%s)" % ", ".join(marks)) if marks else ""))
    for item in results:
        if not item["ok"]:
            lines.append("  gate '%s' failed: %s" % (item["name"], item["detail"]))
    return lines


def window_lines(verdict, override=None):
    """The change windows in the plan: the ones in force now, the next one to open, and the
    incident override the deploy goes through them with."""
    if not verdict:
        return []
    now = "; ".join("'%s' (%s) until %s (%s)" % (windows.shown(w["name"]), w["kind"], w["end_local"], w["end_utc"])
                    for w in verdict["current"]) or "none"
    nxt = verdict["next"]
    after = ("'%s' (%s) from %s (%s)" % (windows.shown(nxt["name"]), nxt["kind"], nxt["start_local"], nxt["start_utc"])
             if nxt else "none within %d days" % windows.HORIZON.days)
    lines = ["  change windows: in force: %s; next: %s" % (now, after)]
    if override:
        lines.append("  INCIDENT OVERRIDE (used by this deploy): %s" % overrides.describe(override))
    return lines


def override_summary(record):
    """The incident override this deploy uses (consumed by it), for the role and the record."""
    if not record:
        return None
    return {"id": record.get("lock_id"), "requested_by": record.get("holder"), "approved_by": record.get("approved_by"),
            "reason": record.get("reason"), "expires_at": record.get("expires_at"),
            "text": overrides.describe(record)}


def build(p, check_mode=False):
    """The plan: a dict (see the deploy_plan module's RETURN)."""
    facts = read_facts(p)
    results = gates.evaluate(facts)
    refused = gates.refusals(results)
    rows = component_rows(facts) if facts.services else []
    migration = migration_of(facts) if facts.services else {"carries": False, "reason": "unknown"}
    if refused:
        decision = "refused"
    elif facts.target_deployment is not None and rows and not any(r["change"] for r in rows):
        decision = "nothing"
    else:
        decision = "deploy"
    spec = None
    if facts.services and decision != "refused":
        images = {}
        for svc in facts.services.values():
            images[svc["component"]] = {"digest": svc["digest"]} if svc.get("digest") else {"tag": svc.get("tag") or svc.get("sha")}
        try:
            spec = app_spec.render_file(p["spec_path"], images)
        except ValueError as exc:
            results.append(gates.gate("inputs", False, "the App Spec %s cannot be rendered: %s" % (p["spec_path"], exc)))
            refused = gates.refusals(results)
            decision = "refused"
    lines = table(facts.environment, facts.version, rows, migration, results, decision, check_mode, facts.rollback)
    mode = facts.maintenance or maintenance_of(facts, migration)
    if mode["use"] or mode["leftover"]:
        lines.append("  maintenance: %s" % (mode["leftover"]["why"] if mode["leftover"] else mode["why"]))
    # what the plan wants a person to know (a service deployed by tag, a lock it could not read)
    lines += ["  note: %s" % note for note in facts.notes]
    lines += window_lines(facts.window, facts.override_used)
    app = facts.target_app or {}
    plan = {
        "decision": decision,
        "environment": facts.environment,
        "version": facts.version,
        "services": facts.services or {},
        "components": rows,
        "migration": migration,
        "gates": results,
        "refusals": ["gate '%s' failed: %s" % (g["name"], g["detail"]) for g in refused],
        "unblock": unblock_hint(refused),
        "spec": spec,
        "rollback_of_version": (facts.rollback or {}).get("running_version"),
        "rollback_source": (facts.rollback or {}).get("source"),
        "expected_version": facts.expected_version,
        "notes": facts.notes,
        "target": {"app_id": p["app_id"], "active_deployment_id": facts.target_active_id,
                   "live_url": app.get("live_url"), "problem": facts.target_problem,
                   # what app_deploy needs instead of reading the app again
                   "app": {key: app.get(key) for key in ("id", "spec", "live_url", "active_deployment",
                                                         "pending_deployment", "in_progress_deployment")
                           if app.get(key) is not None} if facts.target_app else None},
        "windows": facts.window,
        "override": override_summary(facts.override_used),
        "lock": {"locked": (facts.lock_status or {}).get("locked"), "frozen": (facts.lock_status or {}).get("frozen")},
        # maintenance mode: use (offline page during the migration), turn_off_first (left on earlier), why
        "maintenance": {"use": mode["use"] and decision == "deploy", "why": mode["why"],
                        "offline_page_url": facts.offline_page_url,
                        "turn_off_first": bool(mode["leftover"]) and not mode["leftover"]["refused"],
                        "left_on": mode["leftover"]},
        "table": lines,
    }
    return plan


def maintenance_of(facts, migration=None):
    """``{use, why, refused, leftover}``: maintenance mode for this deploy (_platform/maintenance.py)."""
    if migration is None:
        migration = migration_of(facts) if facts.services else {"carries": False}
    mode = maintenance.decide(facts.environment, facts.maintenance_mode, facts.maintenance_choice,
                              migration.get("carries"), facts.offline_page_url)
    live_spec = ((facts.target_app or {}).get("active_deployment") or {}).get("spec")
    mode["leftover"] = maintenance.leftover(facts.maintenance_marker, live_spec, facts.maintenance_leftover_policy,
                                            facts.environment)
    return mode
