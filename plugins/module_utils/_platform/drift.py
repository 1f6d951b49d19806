# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Drift: the live App Platform app against the repo's rendered spec and the manifest's record.

Three kinds of finding, each reported once:

* ``spec``: a field of the live spec added, removed or changed against the repo's spec rendered
  with the recorded pins. Image tags/digests are left to the ``image`` kind (not reported twice).
* ``image``: a component running an image other than the manifest's pin for the environment.
* ``deployment``: an active deployment other than the one the manifest records (a deploy from
  doctl, the control panel or another client), naming its cause.

What does not count as drift (App Platform's normalisations and defaults):

* SECRET values. App Platform returns them as ``EV[...]`` ciphertext, so they are compared
  redacted (an env appearing, disappearing or changing type is drift; a value is never shown).
  Values are compared by fingerprint instead: the deploy stores ``TACHYON_SECRETS_FINGERPRINT``
  (spec_diff.fingerprint, keyed HMAC); with the run's secret values the report recomputes it and
  says whether it matches. Without them it says the values were not compared.
* A field the live spec carries that the repo's does not set, when its value is the default the
  OpenAPI documents for that field (``OPENAPI_DEFAULTS``; a spec the server filled in reads the
  same as one that never set it) or an empty value (godo's structs omit empty fields with
  ``omitempty``, so the recorded doctl bodies leave them out: tests/recorded/fixtures/README.md,
  app_get_without_pending_deployment.json), and the fields App Platform fills in itself
  (``SERVER_FILLED``).
* The reverse: the repo sets a field to its documented default and the live spec omits it.
* The order of named lists (components, envs, domains...): matched by name/key/domain.

Pure functions on dicts (the module does the API call); nothing here prints a secret value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

try:
    from shlex import quote as shell_quote
except ImportError:  # pragma: no cover - Python 2 controllers are not supported
    from pipes import quote as shell_quote

from ansible_collections.tachyon.infra.plugins.module_utils._platform import signals
from ansible_collections.tachyon.infra.plugins.module_utils._release import restarts
from ansible_collections.tachyon.infra.plugins.module_utils._spec import diff as spec_diff
from ansible_collections.tachyon.infra.plugins.module_utils._spec.components import by_name, components, expected_ref, pin_image
from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_data, redact_text
from ansible_collections.tachyon.infra.plugins.module_utils._common.escape import terminal

# Defaults the vendored OpenAPI documents (specification/resources/apps/models/<file>), by the
# context a field lives in. A live value equal to the default of a field the repo does not set
# is not drift.
OPENAPI_DEFAULTS = {
    # app_spec.yml
    "app": {"disable_edge_cache": False, "disable_email_obfuscation": False,
            "enhanced_threat_control_enabled": False},
    # app_component_instance_base.yml (services, workers, jobs)
    "component": {"instance_count": 1, "instance_size_slug": "apps-s-1vcpu-0.5gb"},
    # app_static_site_spec.yml
    "static_site": {"index_document": "index.html", "error_document": "404.html"},
    # app_job_spec.yml
    "job": {"kind": "UNSPECIFIED"},
    # app_variable_definition.yml
    "env": {"scope": "RUN_AND_BUILD_TIME", "type": "GENERAL"},
    # apps_image_source_spec.yml ("Defaults to latest if not provided and no digest is provided")
    "image": {"tag": "latest"},
    # app_database_spec.yml
    "database": {"engine": "UNSET"},
    # app_domain_spec.yml
    "domain": {"type": "UNSPECIFIED"},
    # app_egress_type_spec.yml
    "egress": {"type": "AUTOASSIGN"},
}
# Fields App Platform fills in on its own when the submitted spec leaves them out: the
# buildpack it detected (environment_slug, present on every git-sourced component of the real
# doctl output in app_get_without_pending_deployment.json although such specs rarely set it) and
# the VPC's egress addresses (vpc.egress_ips in the OpenAPI #/app example, output only).
SERVER_FILLED = {"component": ("environment_slug",), "static_site": ("environment_slug",),
                 "vpc": ("egress_ips",)}
_CONTEXT_OF_KEY = {"envs": "env", "image": "image", "databases": "database", "domains": "domain",
                   "egress": "egress", "vpc": "vpc", "services": "component", "workers": "component",
                   "jobs": "job", "static_sites": "static_site", "functions": "component"}
SECRET_NOTE = ("SECRET values: App Platform returns them encrypted (EV[...]), so they are never "
               "shown and compared only by fingerprint")


def _empty(value):
    return value in (None, "", False, 0, [], {})


def _ignorable_extra(context, key, value):
    """A key only one side has that is App Platform's default, empty or server-filled."""
    if _empty(value):
        return True
    if key in SERVER_FILLED.get(context, ()):
        return True
    defaults = dict(OPENAPI_DEFAULTS.get(context, {}))
    if context == "job":
        defaults.update(OPENAPI_DEFAULTS["component"])
    return key in defaults and defaults[key] == value


def _item_id(item):
    return spec_diff._item_id(item)  # pylint: disable=protected-access


def _label(item):
    ident = _item_id(item)
    return "[%s=%s]" % ident if ident else ""


def _show(value):
    """A value as the report prints it (URL query strings and tokens masked)."""
    if isinstance(value, (dict, list)):
        return redact_text(json.dumps(value, sort_keys=True))
    return redact_text(json.dumps(value))


def _diff(live, repo, path, context, out, skip):
    if isinstance(live, dict) and isinstance(repo, dict):
        for key in sorted(set(live) | set(repo)):
            sub = "%s.%s" % (path, key) if path else key
            if sub in skip:
                continue
            child = _CONTEXT_OF_KEY.get(key, key)
            if key not in repo:
                if not _ignorable_extra(context, key, live[key]):
                    out.append({"kind": "spec", "change": "added", "path": sub, "live": live[key]})
            elif key not in live:
                if not _ignorable_extra(context, key, repo[key]):
                    out.append({"kind": "spec", "change": "removed", "path": sub, "repo": repo[key]})
            else:
                _diff(live[key], repo[key], sub, child, out, skip)
        return
    if isinstance(live, list) and isinstance(repo, list):
        lid = [_item_id(v) for v in live]
        rid = [_item_id(v) for v in repo]
        if (live or repo) and all(lid) and all(rid) and len(set(lid)) == len(lid) and len(set(rid)) == len(rid):
            by_live = dict(zip(lid, live))
            by_repo = dict(zip(rid, repo))
            for ident in sorted(set(lid) | set(rid)):
                sub = "%s[%s=%s]" % (path, ident[0], ident[1])
                if ident not in by_repo:
                    out.append({"kind": "spec", "change": "added", "path": sub, "live": by_live[ident]})
                elif ident not in by_live:
                    out.append({"kind": "spec", "change": "removed", "path": sub, "repo": by_repo[ident]})
                else:
                    _diff(by_live[ident], by_repo[ident], sub, context, out, skip)
            return
    if live != repo:
        out.append({"kind": "spec", "change": "changed", "path": path, "live": live, "repo": repo})


def _image_paths(spec):
    """Paths of every component's image tag/digest (reported by the image check instead)."""
    paths = set()
    for kind, _index, comp in components(spec):
        if comp.get("name"):
            for field in ("tag", "digest"):
                paths.add("%s[name=%s].image.%s" % (kind, comp["name"], field))
    return paths


def spec_findings(repo_spec, live_spec, fingerprint=None):
    """Spec drift of ``live_spec`` against ``repo_spec`` (both as dicts; SECRET values redacted
    here). ``fingerprint``: the fingerprint env value the run's secrets give, or None when the
    run has none (then the live fingerprint env is left out of the comparison)."""
    repo = spec_diff.redact(repo_spec)
    live = spec_diff.redact(live_spec)
    key = spec_diff.FINGERPRINT_KEY
    for spec in (repo, live):
        spec["envs"] = [e for e in spec.get("envs") or [] if not (isinstance(e, dict) and e.get("key") == key)]
        if not spec["envs"]:
            del spec["envs"]
    out = []
    _diff(live, repo, "", "app", out, _image_paths(repo) | _image_paths(live))
    return out


def live_fingerprint(live_spec):
    for env in (live_spec or {}).get("envs") or []:
        if isinstance(env, dict) and env.get("key") == spec_diff.FINGERPRINT_KEY:
            return env.get("value")
    return None


def secrets_status(repo_spec, live_spec, secrets, token):
    """(finding or None, note): SECRET values compared by fingerprint, never shown."""
    have = live_fingerprint(live_spec)
    keys = sorted({k for _c, k, has in spec_diff.secret_envs(repo_spec) if not has})
    missing = [k for k in keys if not (secrets or {}).get(k)]
    if not keys:
        return None, "no SECRET env without a value in the repo's spec"
    if missing:
        return None, ("%s; this run has no value for %d of them (%s), so they were not compared. "
                      "Give the run its secrets (tachyon_secrets or TACHYON_SECRET_<KEY>) to compare them."
                      % (SECRET_NOTE, len(missing), ", ".join(missing)))
    want = spec_diff.fingerprint(spec_diff.inject_secrets(repo_spec, secrets), token)
    if have is None:
        return ({"kind": "secrets", "change": "unknown",
                 "message": "the live app has no %s env: its SECRET values were not set by a tachyon deploy"
                            % spec_diff.FINGERPRINT_KEY},
                SECRET_NOTE + "; the live app carries no fingerprint")
    if have != want:
        return ({"kind": "secrets", "change": "changed",
                 "message": "the SECRET values of the last tachyon deploy differ from this run's (by fingerprint)"},
                SECRET_NOTE + "; fingerprint differs")
    return None, SECRET_NOTE + "; fingerprint matches"


def recorded_state(manifest, environment):
    """What the manifest says the environment runs (``_recorded_state``), its ``accept`` list
    extended with the deployments a recorded rolling restart made of them (same release)."""
    record = _recorded_state(manifest, environment)
    if record is not None:
        record["accept"] = restarts.accepted(manifest, environment, record["accept"])
    return record


def _recorded_state(manifest, environment):
    """What the manifest says the environment runs: (record dict or None).

    The last history entry of the environment that left the app on a known deployment: a
    success (its deployment), or a rollback (the deployment it went back to, whose rollback
    creates a new deployment ``cloned_from`` it). A failed attempt without rollback left the app
    on its last good deployment, so it is skipped.
    """
    for entry in reversed(manifest.get("history") or []):
        if entry.get("environment") != environment:
            continue
        if entry.get("outcome") == "succeeded" and entry.get("deployment_id") and entry.get("services"):
            return {"version": entry.get("version"), "deployment_id": entry["deployment_id"],
                    "accept": [entry["deployment_id"]], "services": entry["services"],
                    "deployed_by": entry.get("deployed_by"), "approved_by": entry.get("approved_by"),
                    "at": entry.get("at"), "outcome": "succeeded"}
        if entry.get("outcome") == "rolled_back" and entry.get("rolled_back_to") and entry.get("services"):
            accept = [entry["rolled_back_to"]]
            return {"version": entry.get("version"), "deployment_id": entry["rolled_back_to"],
                    "accept": accept, "services": entry["services"], "deployed_by": entry.get("deployed_by"),
                    "approved_by": entry.get("approved_by"), "at": entry.get("at"), "outcome": "rolled_back",
                    "rollback_deployment_id": entry.get("deployment_id")}
    env = (manifest.get("environments") or {}).get(environment) or {}
    if env.get("deployment_id") and env.get("services"):
        return {"version": env.get("version"), "deployment_id": env["deployment_id"],
                "accept": [env["deployment_id"]], "services": env["services"],
                "deployed_by": env.get("deployed_by"), "approved_by": env.get("approved_by"),
                "at": env.get("deployed_at"), "outcome": "succeeded"}
    return None


def images_for(record, catalog):
    """Component -> {tag|digest} for the recorded services (the renderer's ``images``)."""
    images = {}
    for svc in catalog or []:
        pin = (record.get("services") or {}).get(svc["name"])
        if not pin:
            continue
        images[svc["component"]] = pin_image(pin) or {"tag": None}
    return images


def _ref(image):
    if not image:
        return "no image"
    if image.get("digest"):
        return "digest %s" % image["digest"]
    return "tag %s" % (image.get("tag") or "latest")


def image_findings(record, catalog, live_spec):
    out = []
    live = by_name(live_spec)
    for svc in catalog or []:
        pin = (record.get("services") or {}).get(svc["name"])
        if not pin:
            continue
        comp = live.get(svc["component"])
        running = (comp or {}).get("image") or {}
        kind, value = expected_ref(pin)
        if kind == "digest":
            same = running.get("digest") == value
        else:
            same = not running.get("digest") and (running.get("tag") or "latest") == value
        want = "%s %s" % (kind, value)
        if comp is None:
            out.append({"kind": "image", "component": svc["component"], "service": svc["name"],
                        "recorded": want, "running": "no such component"})
        elif not same:
            out.append({"kind": "image", "component": svc["component"], "service": svc["name"],
                        "recorded": want, "running": _ref(running)})
    return out


def _cause(dep):
    cause = dep.get("cause") or "unknown cause"
    details = dep.get("cause_details") or {}
    who = ((details.get("digitalocean_user_action") or {}).get("user") or {})
    if who.get("email") or who.get("full_name"):
        cause += " by %s" % (who.get("full_name") or who.get("email"))
    return cause


def deployment_findings(record, app):
    active = app.get("active_deployment") or {}
    if not active.get("id"):
        return [{"kind": "deployment", "recorded": record["deployment_id"], "active": None,
                 "message": "the app has no active deployment"}]
    if active["id"] in record["accept"] or (
            record["outcome"] == "rolled_back" and active.get("cloned_from") in record["accept"]):
        return []
    return [{"kind": "deployment", "recorded": record["deployment_id"], "active": active["id"],
             "cause": _cause(active)}]


def recorded_ids(manifest, environment, record):
    """Every deployment id the manifest records for ``environment`` (attempts, rollback targets,
    restarts) and those ``record`` accepts."""
    known = set((record or {}).get("accept") or ())
    for entry in (manifest or {}).get("history") or []:
        if entry.get("environment") == environment:
            known.update(i for i in (entry.get("deployment_id"), entry.get("rolled_back_to")) if i)
    known.update(r["deployment_id"] for r in restarts.restarts(manifest, environment) if r.get("deployment_id"))
    return known


def event_report(events, manifest, environment, record, active_id=None):
    """``(findings, entries)`` of App Platform's events (``signals.read_events``, newest first)
    since the recorded deployment: ``entries`` the timeline of what the manifest does not record
    (another client's deployment, a maintenance redeploy, an autoscaling), ``findings`` one
    ``event`` finding per unrecorded deployment that is not the active one (the active one is the
    ``deployment`` finding already). A rollback cloned from a recorded deployment (the deploy's
    own rescue) counts as recorded."""
    known = recorded_ids(manifest, environment, record)
    anchor = [e["epoch"] for e in events if e["type"] == "DEPLOYMENT" and e.get("deployment_id") == (record or {}).get(
        "deployment_id") and e["epoch"] is not None]
    since = max(anchor) if anchor else None
    window = [e for e in events if since is None or (e["epoch"] is not None and e["epoch"] >= since)]
    ours = [e["deployment_id"] for e in window if e["type"] == "DEPLOYMENT" and (
        e.get("deployment_id") in known
        or (e.get("cause_type") == "MANUAL_ROLLBACK" and e.get("cloned_from") in known))]
    entries = signals.foreign(signals.timeline(window, list(known) + ours))
    findings = [{"kind": "event", "deployment_id": e["deployment_id"], "at": e["at"], "what": e["what"]}
                for e in entries if e["type"] == "DEPLOYMENT" and e["deployment_id"] != active_id]
    return findings, entries


def compare(app, repo_spec, record, catalog, secrets=None, token=None, environment=None, events=None, manifest=None):
    """The drift report of ``app`` (the GET /v2/apps/{id} app object); ``events``: the app's
    events (``signals.read_events``) when read, with the ``manifest`` they are checked against."""
    active = app.get("active_deployment") or {}
    live_spec = active.get("spec") or app.get("spec") or {}
    findings = []
    notes = []
    if record is None:
        findings.append({"kind": "deployment", "recorded": None, "active": active.get("id"),
                         "message": "the manifest records no deployment of %s" % environment})
    else:
        findings.extend(deployment_findings(record, app))
        findings.extend(image_findings(record, catalog, live_spec))
    findings.extend(spec_findings(repo_spec, live_spec))
    secret_finding, note = secrets_status(repo_spec, live_spec, secrets, token)
    if secret_finding:
        findings.append(secret_finding)
    notes.append(note)
    if app.get("in_progress_deployment"):
        notes.append("deployment %s is in progress; the report compares the active one"
                     % app["in_progress_deployment"].get("id"))
    unrecorded = []
    if events is not None:
        event_findings, unrecorded = event_report(events, manifest, environment, record, active.get("id"))
        findings.extend(event_findings)
    # values stay values (JSON output); URL query strings and tokens masked in them
    findings = redact_data(findings)
    return {
        "environment": environment,
        "app_id": app.get("id"),
        "status": "drifted" if findings else "in_sync",
        "findings": findings,
        "notes": notes,
        "recorded": None if record is None else {
            k: record.get(k) for k in ("version", "deployment_id", "deployed_by", "approved_by", "at", "outcome")},
        "live": {"deployment_id": active.get("id"), "cause": _cause(active) if active else None,
                 "live_url": redact_text(app.get("live_url"))},
        # App Platform's events since the recorded deployment that the manifest does not record
        "events": redact_data(unrecorded),
    }


def describe(finding):
    kind = finding["kind"]
    if kind == "spec":
        if finding["change"] == "added":
            return "spec: %s added in the live app: %s" % (finding["path"], _show(finding["live"]))
        if finding["change"] == "removed":
            return "spec: %s missing from the live app (repo: %s)" % (finding["path"], _show(finding["repo"]))
        return "spec: %s changed: live %s, repo %s" % (finding["path"], _show(finding["live"]), _show(finding["repo"]))
    if kind == "image":
        return "image: %s (%s) runs %s, the manifest pins %s" % (
            finding["component"], finding["service"], finding["running"], finding["recorded"])
    if kind == "event":
        return "event: %s at %s, not recorded in the manifest" % (finding["what"], finding["at"])
    if kind == "deployment":
        if finding.get("message"):
            return "deployment: %s" % finding["message"]
        return "deployment: the app runs %s (%s), the manifest records %s" % (
            finding["active"], finding["cause"], finding["recorded"])
    return "secrets: %s" % finding["message"]


def text_report(report):
    rec = report.get("recorded") or {}
    live = report.get("live") or {}
    lines = ["%s (app %s): %s" % (report["environment"], report["app_id"],
                                  "IN SYNC" if report["status"] == "in_sync"
                                  else "DRIFTED, %d finding(s)" % len(report["findings"]))]
    if rec:
        lines.append("  recorded: release %s, deployment %s (%s %s by %s)" % (
            rec.get("version"), rec.get("deployment_id"), rec.get("outcome"), rec.get("at"), rec.get("deployed_by")))
    lines.append("  live:     deployment %s (%s)" % (live.get("deployment_id"), live.get("cause")))
    lines.extend("  - " + describe(f) for f in report["findings"])
    if report.get("events"):
        lines.append("  App Platform events since the recorded deployment, not in the manifest:")
        lines.extend("    %s  %s" % (e["at"], e["what"]) for e in report["events"])
    lines.extend("  note: " + n for n in report["notes"])
    if report.get("fix_command"):
        lines.append("  to bring it back in line: " + report["fix_command"])
    return terminal("\n".join(lines), multiline=True)  # names, notes, reasons: outside text


def fix_command(environment, record, inventory, limit=None, manifest_version=None):
    """The deploy (or, where a deploy would not restore the record, the rollback) that brings
    the app back to what the manifest records."""
    base = ["ansible-playbook"]
    target = ["-i", inventory] + (["-l", limit] if limit else [])
    if record is None:
        return None
    if environment == "staging":
        shas = dict((name, pin.get("sha")) for name, pin in sorted(record["services"].items()) if pin.get("sha"))
        cmd = base + ["playbooks/deploy.yml"] + target + ["-e", json.dumps({"tachyon_shas": shas}, sort_keys=True)]
    elif manifest_version and record.get("version") == manifest_version:
        cmd = base + ["playbooks/deploy.yml"] + target + [
            "-e", "tachyon_version=%s" % record["version"], "-e", "tachyon_approved_by=<approver>"]
    else:
        # the manifest moved on to another release: a production deploy would promote it, so
        # the recorded deployment is restored with App Platform's rollback instead
        cmd = base + ["playbooks/rollback.yml"] + target + [
            "-e", "tachyon_rollback_to=%s" % record["deployment_id"], "-e",
            "tachyon_rollback_reason=drift"]
    return " ".join(shell_quote(part) for part in cmd)
