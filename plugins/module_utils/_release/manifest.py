# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""The release manifest (releases/manifest.json): format, validation, legacy upgrade, and the
pure operations behind ``tachyon.infra.release_manifest`` (create a release, record a deploy
attempt, check promotion).

Every function here is pure (dict in, dict out) except ``load``/``read`` which do file I/O.
Errors are ``ManifestError`` whose message says what is wrong and how to fix it.
The JSON Schema, its patterns and the strict JSON reader live in ``manifest_schema`` (modules
run without the repo's releases/ directory) and are re-exported here;
``releases/manifest.schema.json`` is generated from ``MANIFEST_SCHEMA`` and a unit test keeps
the two identical (regenerate: see releases/README.md, or run this file with ``schema``).
"""
from __future__ import annotations

import copy
import json
import os
import re

# re-exported: callers use manifest.<name> for the schema, patterns and value checks too
from ansible_collections.tachyon.infra.plugins.module_utils._release.manifest_schema import (  # noqa: F401 pylint: disable=unused-import
    DIGEST_BODY, END_OF_STRING, ENVIRONMENTS, HAS_JSONSCHEMA, ID_BODY, ID_PATTERN, ID_RE, IMAGE_BODY,
    JSONSCHEMA_IMPORT_ERROR, LEGACY_SCHEMA, MANIFEST_SCHEMA, MAX_EVENT_TEXT, MAX_EVENTS, OUTCOMES, PERSON_BODY, PERSON_PATTERN,
    PERSON_RE, SCHEMA_VERSION, SEMVER_BODY, SEMVER_PATTERN, SEMVER_RE, SERVICE_NAME_BODY,
    SERVICE_NAME_PATTERN, SERVICE_NAME_RE, SHA_BODY, SHA_PATTERN, SHA_RE, TAG_BODY, TIMESTAMP_BODY,
    TIMESTAMP_PATTERN, TIMESTAMP_RE, ManifestError, check_deployment_id, check_person, check_semver,
    json_path, normalize_sha, schema_errors, strict_json_loads, validate, whole)
from ansible_collections.tachyon.infra.plugins.module_utils._common.escape import one_line
from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_text
from ansible_collections.tachyon.infra.plugins.module_utils._common.times import utcnow

# The list of services and their images is the service catalog's (playbooks/group_vars/all/
# services.yml, tachyon_services): create_release takes both from the caller. This constant is for
# bash-era manifests only: their create-release.sh always pinned ghcr.io/tachyonapp/<name> (every
# one of the 21 upstream manifests in the corpus, shared/corpus/tachyon-infra/release-manifest/,
# says so), but LEGACY_SCHEMA does not require the image field, so a legacy pin without one gets
# the repository that script wrote.
LEGACY_REGISTRY = "ghcr.io/tachyonapp"
# the argument spec of the manifest option every manifest-reading module takes (its doc: the
# tachyon.infra.manifest doc fragment)
MANIFEST_PATH_OPTION = {"manifest_path": dict(type="path", required=True)}

EMPTY_ENVIRONMENT = {
    "version": None,
    "deployed_at": None,
    "deployed_by": None,
    "approved_by": None,
    "deployment_id": None,
    "health_verified_at": None,
    "services": None,
}


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def to_json_text(manifest):
    """The canonical on-disk text: 2-space indent, keys in insertion order, trailing newline."""
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def is_legacy(doc):
    return isinstance(doc, dict) and "schema_version" not in doc


def sha_matches(left, right):
    """True when two SHAs name the same commit: equal, or one is a prefix of the other
    (the manifest may pin a short SHA while a deploy records the full one)."""
    if not left or not right:
        return False
    left, right = left.lower(), right.lower()
    return left.startswith(right) or right.startswith(left)


# ---------------------------------------------------------------------------------------------
# legacy format
# ---------------------------------------------------------------------------------------------
def _blank(value):
    return None if value in (None, "") else value


def upgrade_legacy(doc, source="manifest"):
    """Convert a bash-era manifest into the current format (a new dict; ``doc`` untouched).

    - "" or "latest" SHAs (nothing pinned) become ``sha: null``; a "latest" tag is kept.
    - "" timestamps/people become null; the services a legacy deployment ran were never
      recorded, so ``environments.<env>.services`` is null (promotion refuses such proof).
    - each legacy deployment becomes a history entry with ``source: "legacy"``.
    """
    errors = schema_errors(doc, LEGACY_SCHEMA)
    if errors:
        raise ManifestError("%s is neither a current (schema_version %d) nor a legacy release "
                            "manifest:\n  %s" % (source, SCHEMA_VERSION, "\n  ".join(errors)))
    version = doc["version"]
    if not SEMVER_RE.fullmatch(version):
        raise ManifestError("%s: $.version %r is not a semantic version; fix it by hand "
                            "(MAJOR.MINOR.PATCH) and read it again" % (source, version))
    services = {}
    for name, pin in doc["services"].items():
        raw_sha = (pin.get("sha") or "").lower()
        raw_tag = pin.get("tag") or ""
        if raw_sha in ("", "latest"):
            sha = None
        elif SHA_RE.fullmatch(raw_sha):
            sha = raw_sha
        else:
            raise ManifestError("%s: $.services[%s].sha %r is not a git SHA; fix it by hand "
                                "(7-40 hex, or \"\" when unpinned)" % (source, json.dumps(name), pin.get("sha")))
        services[name] = {
            "sha": sha,
            "image": pin.get("image") or "%s/%s" % (LEGACY_REGISTRY, name),
            "tag": raw_tag or (sha if sha else None),
        }
    created_at = _blank(doc.get("created_at"))
    environments = {}
    history = []
    for env in ENVIRONMENTS:
        legacy_env = (doc.get("environments") or {}).get(env) or {}
        record = dict(EMPTY_ENVIRONMENT)
        deployed_at = _blank(legacy_env.get("deployed_at"))
        if deployed_at:
            record.update({
                "deployed_at": deployed_at,
                "deployed_by": _blank(legacy_env.get("deployed_by")),
                "approved_by": _blank(legacy_env.get("approved_by")),
            })
            history.append({
                "environment": env,
                "outcome": "succeeded",
                "version": None,
                "at": deployed_at,
                "deployment_id": None,
                "services": None,
                "deployed_by": record["deployed_by"],
                "approved_by": record["approved_by"],
                "health_verified_at": None,
                "rolled_back_to": None,
                "message": "imported from a legacy manifest (it recorded neither the version "
                           "nor the SHAs deployed)",
                "source": "legacy",
            })
        environments[env] = record
    history.sort(key=lambda entry: entry["at"])
    current = {
        "schema_version": SCHEMA_VERSION,
        "version": version,
        "created_at": created_at,
        "created_by": None,
        "description": doc.get("description") or "",
        "services": services,
        "environments": environments,
        "history": history,
    }
    return validate(current, source + " (upgraded from the legacy format)")


def normalize(doc, source="manifest"):
    """Return ``(manifest_in_current_format, was_legacy)``; raises ManifestError if invalid."""
    if not isinstance(doc, dict):
        raise ManifestError("%s: the top level must be a JSON object, got %s"
                            % (source, type(doc).__name__))
    if is_legacy(doc):
        return upgrade_legacy(doc, source), True
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise ManifestError("%s: $.schema_version is %r; this collection reads schema_version %d "
                            "(and legacy manifests without it). Upgrade the tachyon.infra "
                            "collection." % (source, doc.get("schema_version"), SCHEMA_VERSION))
    return validate(copy.deepcopy(doc), source), False


def parse(text, source="manifest"):
    return normalize(strict_json_loads(text, source), source)


def load(path):
    """Read and normalize ``path``: ``(manifest, legacy, raw_text)``."""
    try:
        with open(path, "r", encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise ManifestError("%s does not exist; create a release first (playbooks/release.yml "
                            "or release_manifest state=created)" % path)
    except OSError as exc:
        raise ManifestError("%s cannot be read: %s" % (path, exc))
    manifest, legacy = parse(text, path)
    return manifest, legacy, text


def summary(manifest, legacy, path, **extra):
    """What release_manifest returns about a manifest (and the release_manifest lookup)."""
    result = {
        "manifest": manifest,
        "legacy": legacy,
        "version": manifest["version"],
        "services": manifest["services"],
        "environments": manifest["environments"],
        "manifest_path": path,
    }
    result.update(extra)
    return result


def read(path):
    """release_manifest state=read: the manifest at ``path`` validated and normalized to the
    current format, as ``summary()``. Raises ManifestError saying what is wrong."""
    path = os.path.abspath(os.path.expanduser(path))
    manifest, legacy, _text = load(path)
    return summary(manifest, legacy, path)


def new_manifest():
    return {
        "schema_version": SCHEMA_VERSION,
        "version": None,
        "created_at": None,
        "created_by": None,
        "description": "",
        "services": {},
        "environments": {env: dict(EMPTY_ENVIRONMENT) for env in ENVIRONMENTS},
        "history": [],
    }


# ---------------------------------------------------------------------------------------------
# operations
# ---------------------------------------------------------------------------------------------
def create_release(current, version, services, known_services=None, images=None,
                   description=None, created_by=None, partial=False, force=False, now=None,
                   digests=None):
    """Return the manifest with release ``version`` pinning ``services`` (name -> sha).

    ``known_services`` are the service catalog's names (tachyon_services | map(attribute='name'))
    and ``images`` its image repositories (name -> image); a service's image defaults to the one
    the current manifest pins, and a service with neither is refused.

    ``current`` is the existing manifest (current format) or None. Environments and history
    are kept: they record what runs where, and production still runs the previous release
    until it is promoted. Returns ``current`` unchanged (same object) when the same version
    already pins the same SHAs and images. Re-creating an existing version with other SHAs
    needs ``force``.
    """
    check_semver(version)
    if not known_services:
        raise ManifestError("known_services: give the service catalog's names (playbooks/group_vars/all/"
                            "services.yml: tachyon_services | map(attribute='name'), as roles/release passes "
                            "them); the catalog is the only list of services")
    known = list(known_services)
    if not isinstance(services, dict) or not services and not partial:
        raise ManifestError("services: give a SHA for each of %s" % ", ".join(known))
    images = images or {}
    unknown = sorted(set(services) - set(known))
    if unknown:
        raise ManifestError("services: unknown service(s) %s; known services are %s (the "
                            "service catalog tachyon_services)" % (", ".join(unknown), ", ".join(known)))
    unknown_digests = sorted(set(digests or {}) - set(known))
    if unknown_digests:
        raise ManifestError("digests: unknown service(s) %s; known services are %s"
                            % (", ".join(unknown_digests), ", ".join(known)))
    unknown_images = sorted(set(images) - set(known))
    if unknown_images:
        raise ManifestError("images: unknown service(s) %s; known services are %s"
                            % (", ".join(unknown_images), ", ".join(known)))
    pins = {}
    for name in known:
        if name in services and services[name] not in (None, ""):
            sha = normalize_sha(services[name], "services.%s" % name)
        elif partial and current and (current["services"].get(name) or {}).get("sha"):
            sha = current["services"][name]["sha"]
        elif partial and current and name in current["services"]:
            raise ManifestError("services.%s: not given, and the current release pins no SHA for "
                                "it to carry over; give its SHA" % name)
        elif partial and not (current and name in current["services"]):
            continue
        else:
            raise ManifestError("services.%s: missing; every service in the catalog needs a SHA "
                                "(or set partial: true - playbooks/release.yml: -e release_partial=true - "
                                "to carry the others over from the current release)" % name)
        image = images.get(name) or ((current or {}).get("services", {}).get(name) or {}).get("image")
        if not image:
            raise ManifestError("images.%s: no image repository for %s (the current release pins none); "
                                "give the catalog's image (tachyon_services[].image, as roles/release passes "
                                "images)" % (name, name))
        pins[name] = {"sha": sha, "image": image, "tag": sha}
        if (digests or {}).get(name):
            # the registry digest of image:sha at release time (module_utils/_release/registry.py)
            if not isinstance(digests[name], str) or not re.match(r"^sha256:[0-9a-f]{64}\Z", digests[name]):
                raise ManifestError("digests.%s: expected sha256:<64 hex>" % name)
            pins[name]["digest"] = digests[name]
    if not pins:
        raise ManifestError("services: nothing to release; give at least one service SHA")

    if current is not None and current.get("version") == version:
        if current["services"] == pins:
            return current
        if not force:
            diffs = ["%s %s -> %s" % (n, (current["services"].get(n) or {}).get("sha"), pins[n]["sha"])
                     for n in pins if current["services"].get(n) != pins[n]]
            raise ManifestError("release %s already exists with other pins (%s); a version must "
                                "not change meaning: bump the version (e.g. a patch release), or "
                                "set force: true to re-pin it (playbooks/release.yml and scripts/create-release.sh: "
                                "-e release_force=true)" % (version, "; ".join(diffs)))
    result = copy.deepcopy(current) if current is not None else new_manifest()
    result.update({
        "schema_version": SCHEMA_VERSION,
        "version": version,
        "created_at": now or utcnow(),
        "created_by": created_by or None,
        "description": description or "",
        "services": pins,
    })
    # keep key order stable for readable diffs
    ordered = new_manifest()
    ordered.update(result)
    return validate(ordered, "the new release manifest")


def _deployed_services(services, known, what):
    if services is None:
        return None
    if not isinstance(services, dict):
        raise ManifestError("%s: expected a dict of service name -> {sha, tag, digest, image}" % what)
    unknown = sorted(set(services) - set(known))
    if unknown:
        raise ManifestError("%s: unknown service(s) %s; the release has %s"
                            % (what, ", ".join(unknown), ", ".join(known)))
    out = {}
    for name in sorted(services):
        item = services[name]
        if isinstance(item, str):
            item = {"sha": item}
        if not isinstance(item, dict):
            raise ManifestError("%s.%s: expected {sha, tag, digest, image}" % (what, name))
        extra = sorted(set(item) - {"sha", "tag", "digest", "image"})
        if extra:
            raise ManifestError("%s.%s: unknown key(s) %s; allowed: sha, tag, digest, image"
                                % (what, name, ", ".join(extra)))
        out[name] = {
            "sha": normalize_sha(item.get("sha"), "%s.%s.sha" % (what, name)),
            "tag": item.get("tag") or None,
            "digest": item.get("digest") or None,
            "image": item.get("image") or None,
        }
    return out


def _same_attempt(entry, new):
    if entry["environment"] != new["environment"] or entry["outcome"] != new["outcome"]:
        return False
    if new["deployment_id"]:
        return entry["deployment_id"] == new["deployment_id"]
    return entry["deployment_id"] is None and entry["at"] == new["at"]


def latest_attempt(manifest, environment):
    """The last history entry of ``environment`` (None: never attempted)."""
    for entry in reversed(manifest["history"]):
        if entry["environment"] == environment:
            return entry
    return None


def environment_of_deployment(manifest, deployment_id):
    """The environment the manifest records ``deployment_id`` under, or None."""
    for env in ENVIRONMENTS:
        if manifest["environments"][env].get("deployment_id") == deployment_id:
            return env
    for entry in manifest["history"]:
        if deployment_id in (entry.get("deployment_id"), entry.get("rolled_back_to")):
            return entry["environment"]
    return None


def _short_text(value, limit):
    return None if value in (None, "") else one_line(value, limit)


def recorded_events(entries):
    """App Platform's events of a deploy window (``[{at, type, deployment_id, what, ours}]``, oldest
    first: _platform/signals.timeline) as a history entry, the deploy summary and the report keep
    them: outside text on one line, redacted, capped; the newest MAX_EVENTS. Anything that is not
    such an entry is dropped."""
    out = []
    for entry in entries or []:
        if not isinstance(entry, dict):
            continue
        out.append({"at": _short_text(entry.get("at"), 64), "type": one_line(entry.get("type") or "UNKNOWN", 64),
                    "deployment_id": _short_text(entry.get("deployment_id"), 128),
                    "what": one_line(redact_text(str(entry.get("what") or "")), MAX_EVENT_TEXT),
                    "ours": bool(entry.get("ours"))})
    return out[-MAX_EVENTS:]


def record_deployment(current, environment, outcome, version=None, deployment_id=None,
                      services=None, deployed_by=None, approved_by=None,
                      health_verified_at=None, rolled_back_to=None, message=None, at=None,
                      rollback_of_version=None, after_migration=None, events=None):
    """Return the manifest with a deploy attempt recorded (``current`` itself if already there).

    Every attempt appends a history entry. Only ``succeeded`` also updates
    ``environments.<environment>``. An attempt is identified by (environment, outcome,
    deployment_id), or (environment, outcome, at) when there is no deployment id.
    ``rollback_of_version`` (optional) marks a rollback to release ``version`` by redeploying its
    recorded pins: the release the environment ran before. ``events`` (optional): App Platform's
    events in the deploy window (recorded_events), kept as the entry's ``events``.
    """
    if environment not in ENVIRONMENTS:
        raise ManifestError("environment: %r; use one of %s" % (environment, ", ".join(ENVIRONMENTS)))
    if outcome not in OUTCOMES:
        raise ManifestError("outcome: %r; use one of %s" % (outcome, ", ".join(OUTCOMES)))
    version = check_semver(version) if version else current["version"]
    for what, value in (("at", at), ("health_verified_at", health_verified_at)):
        if value and not re.match(TIMESTAMP_PATTERN, value):
            raise ManifestError("%s: %r is not a UTC timestamp; use YYYY-MM-DDTHH:MM:SSZ "
                                "(e.g. %s)" % (what, value, utcnow()))
    known = list(current["services"])
    deployed = _deployed_services(services, known, "services")
    at = at or utcnow()
    for what, dep in (("deployment_id", deployment_id), ("rolled_back_to", rolled_back_to)):
        owner = environment_of_deployment(current, dep) if dep else None
        if owner and owner != environment:
            raise ManifestError(
                "%s %s is recorded as a %s deployment, so the app it belongs to is %s's, not %s's; "
                "nothing was recorded. The app id and token of inventory group %s "
                "(tachyon_do_app_id, tachyon_do_token) must be the %s app's"
                % (what, dep, owner, owner, environment, environment, environment))
    if deployed is None and outcome == "rolled_back" and rolled_back_to:
        # what a rollback put back: the services of the deployment it returned to
        target = [e for e in current["history"] if e["environment"] == environment
                  and e["deployment_id"] == rolled_back_to and e.get("services")]
        if target:
            deployed = copy.deepcopy(target[-1]["services"])
        elif current["environments"][environment].get("deployment_id") == rolled_back_to:
            deployed = copy.deepcopy(current["environments"][environment].get("services"))
    if outcome == "succeeded":
        missing = [what for what, value in (("deployment_id", deployment_id),
                                            ("services", deployed), ("deployed_by", deployed_by))
                   if not value]
        if environment == "production" and not approved_by:
            missing.append("approved_by (production needs an approver)")
        if missing:
            raise ManifestError("recording a successful %s deployment needs %s"
                                % (environment, ", ".join(missing)))
    if outcome == "rolled_back" and not rolled_back_to:
        raise ManifestError("outcome rolled_back needs rolled_back_to: the deployment id the "
                            "app was rolled back to")
    entry = {
        "environment": environment,
        "outcome": outcome,
        "version": version,
        "at": at,
        "deployment_id": deployment_id or None,
        "services": deployed,
        "deployed_by": deployed_by or None,
        "approved_by": approved_by or None,
        "health_verified_at": health_verified_at or None,
        "rolled_back_to": rolled_back_to or None,
        "message": message or "",
    }
    if rollback_of_version:
        entry["rollback_of_version"] = check_semver(rollback_of_version, "rollback_of_version")
    if after_migration:
        entry["after_migration"] = after_migration
    kept = recorded_events(events)
    if kept:
        entry["events"] = kept
    # the same attempt recorded again changes nothing; after another attempt of this environment
    # it is a new entry (a staging deploy re-verified after a failure is current proof again)
    last = latest_attempt(current, environment)
    if last is not None and _same_attempt(last, entry):
        return current
    result = copy.deepcopy(current)
    result["history"].append(entry)
    if outcome == "succeeded":
        result["environments"][environment] = {
            "version": version,
            "deployed_at": at,
            "deployed_by": deployed_by,
            "approved_by": approved_by or None,
            "deployment_id": deployment_id,
            "health_verified_at": health_verified_at or None,
            "services": deployed,
        }
    return validate(result, "the manifest after recording the %s %s attempt" % (environment, outcome))


def check_promotion(manifest, version, approved_by, environment="production"):
    """Return the services production must deploy, or raise ManifestError naming every gap.

    Production needs: the requested version equal to the manifest's; staging's LATEST recorded
    attempt a successful, health-verified deployment of this release (not superseded by a
    failed attempt, a rollback or another deploy since) that deployed every pinned SHA (same
    commit, see ``sha_matches``); a non-empty approver. The services returned are the image
    references staging ran, exactly as recorded: sha, tag, digest and image.
    """
    if environment != "production":
        raise ManifestError("promotion is checked for environment production only (got %r); "
                            "staging takes any release" % environment)
    problems = []
    release = manifest["version"]
    if version != release:
        problems.append("version %s was requested but the manifest's release is %s (create "
                        "release %s first with playbooks/release.yml, or request the manifest's: "
                        "-e tachyon_version=%s)" % (version, release, version, release))
    if not isinstance(approved_by, str) or not approved_by.strip():
        problems.append("no approver: set tachyon_approved_by (on the CLI -e tachyon_approved_by=<name>; "
                        "in AWX the survey's approver; the module option approved_by)")
    staging = manifest["environments"]["staging"]
    unpinned = sorted(n for n, pin in manifest["services"].items() if not pin.get("sha"))
    if unpinned:
        problems.append("the release pins no SHA for %s (legacy manifest): create a release with "
                        "SHAs (scripts/create-release.sh or playbooks/release.yml)" % ", ".join(unpinned))
    redeploy = ("deploy release %s to staging again (playbooks/deploy.yml -l staging, or "
                "-i inventories/staging) and let its health check pass" % release)
    latest = latest_attempt(manifest, "staging")
    proof = None
    if not staging.get("deployed_at"):
        problems.append("staging has no successful deployment: deploy release %s to staging "
                        "first (playbooks/deploy.yml -l staging, or -i inventories/staging)" % release)
    elif latest is None or latest.get("source") == "legacy" or (
            latest["outcome"] == "succeeded" and latest.get("services") is None):
        problems.append("staging's deployment (%s) recorded no SHAs (legacy manifest): %s"
                        % (staging["deployed_at"], redeploy))
    elif latest["outcome"] != "succeeded":
        problems.append("staging's latest attempt (%s, deployment %s) %s%s: its earlier success is "
                        "no longer what staging runs, so it is no proof; %s"
                        % (latest["at"], latest.get("deployment_id") or "-",
                           "was rolled back" if latest["outcome"] == "rolled_back" else "failed",
                           " to %s" % latest["rolled_back_to"] if latest.get("rolled_back_to") else "",
                           redeploy))
    elif latest.get("deployment_id") != staging.get("deployment_id"):
        problems.append("staging's latest history entry (deployment %s) is not the deployment "
                        "environments.staging records (%s): the manifest is inconsistent; %s"
                        % (latest.get("deployment_id"), staging.get("deployment_id"), redeploy))
    else:
        proof = latest
        if latest.get("version") != release:
            problems.append("staging's latest deployment (%s, %s) is release %s, not %s: %s"
                            % (latest["at"], latest.get("deployment_id"), latest.get("version"),
                               release, redeploy))
        for name, pin in sorted(manifest["services"].items()):
            if not pin.get("sha"):
                continue
            got = latest["services"].get(name)
            if got is None:
                problems.append("staging did not deploy %s; the release pins %s"
                                % (name, pin["sha"]))
            elif not sha_matches(got["sha"], pin["sha"]):
                problems.append("staging deployed %s %s but the release pins %s"
                                % (name, got["sha"], pin["sha"]))
        if not latest.get("health_verified_at"):
            problems.append("staging's deployment %s was never health-verified: %s"
                            % (latest.get("deployment_id") or latest["at"], redeploy))
    if problems:
        raise ManifestError("production promotion of %s refused:\n  - %s"
                            % (version, "\n  - ".join(problems)))
    return {
        name: {"sha": ran["sha"], "tag": ran.get("tag"),
               "image": ran.get("image") or manifest["services"][name]["image"],
               "digest": ran.get("digest")}
        for name, ran in proof["services"].items() if name in manifest["services"]
    }
