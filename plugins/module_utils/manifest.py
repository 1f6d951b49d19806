# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""The release manifest (releases/manifest.json): format, validation, legacy upgrade, and the
pure operations behind ``tachyon.infra.release_manifest`` (create a release, record a deploy
attempt, check promotion).

Every function here is pure (dict in, dict out) except ``load``/``save`` which do file I/O.
Errors are ``ManifestError`` whose message says what is wrong and how to fix it.
The JSON Schema lives here (modules run without the repo's releases/ directory);
``releases/manifest.schema.json`` is generated from ``MANIFEST_SCHEMA`` and a unit test keeps
the two identical (regenerate: see releases/README.md, or run this file with ``schema``).
"""
from __future__ import annotations

import copy
import datetime
import json
import os
import re
import sys

try:
    import jsonschema
    HAS_JSONSCHEMA = True
    JSONSCHEMA_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - exercised through missing_required_lib
    HAS_JSONSCHEMA = False
    JSONSCHEMA_IMPORT_ERROR = _exc

SCHEMA_VERSION = 1
ENVIRONMENTS = ("staging", "production")
OUTCOMES = ("succeeded", "failed", "rolled_back")
DEFAULT_SERVICES = ("tachyon-api", "tachyon-workers", "tachyon-db-migrate")
DEFAULT_REGISTRY = "ghcr.io/tachyonapp"

# Every pattern here must match a WHOLE string. In Python, ``$`` also matches just before a
# trailing newline ("abc1234\n" matches ``^[0-9a-f]{7,40}$``), and jsonschema applies a schema
# ``pattern`` with ``re.search``. So the code uses ``fullmatch`` on the bare ``*_BODY`` regexes,
# and the JSON Schema patterns are ``whole(body)``: ``^(?:body)$(?!\n)``, which refuses a
# trailing newline under Python's re (jsonschema) and means the same under ECMA-262, JSON
# Schema's regex dialect, whose ``$`` is the end of the input. (``\Z`` is not ECMA-262: there it
# is a literal "Z".)
END_OF_STRING = r"$(?!\n)"


def whole(body):
    """The JSON Schema ``pattern`` matching exactly ``body`` and nothing around it."""
    return "^(?:%s)%s" % (body, END_OF_STRING)


# semver.org's official regex (2.0.0), without a leading "v", with [0-9] for \d (Python's \d
# also matches non-ASCII digits such as "\u0663").
SEMVER_BODY = (
    r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?")
SHA_BODY = r"[0-9a-f]{7,40}"
TIMESTAMP_BODY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z"
SERVICE_NAME_BODY = r"[a-z0-9][a-z0-9-]{0,62}"
TAG_BODY = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
DIGEST_BODY = r"sha256:[0-9a-f]{64}"
IMAGE_BODY = r"[a-z0-9]+([._/-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*"
# a person (deployed_by, approved_by, created_by): one line, no surrounding whitespace
PERSON_BODY = r"[^\s]([^\r\n]*[^\s])?"
# an App Platform deployment id (deployment_id, rolled_back_to): one token
ID_BODY = r"[^\s]+"

# compiled for ``fullmatch`` only (never ``match``/``search``: they are not anchored at the end)
SEMVER_RE = re.compile(SEMVER_BODY)
SHA_RE = re.compile(SHA_BODY)
TIMESTAMP_RE = re.compile(TIMESTAMP_BODY)
SERVICE_NAME_RE = re.compile(SERVICE_NAME_BODY)
PERSON_RE = re.compile(PERSON_BODY)
ID_RE = re.compile(ID_BODY)

SEMVER_PATTERN = whole(SEMVER_BODY)
SHA_PATTERN = whole(SHA_BODY)
TIMESTAMP_PATTERN = whole(TIMESTAMP_BODY)
SERVICE_NAME_PATTERN = whole(SERVICE_NAME_BODY)
PERSON_PATTERN = whole(PERSON_BODY)
ID_PATTERN = whole(ID_BODY)


class ManifestError(Exception):
    """Invalid input or manifest; the message names what is wrong and how to fix it."""


# ---------------------------------------------------------------------------------------------
# JSON Schema of the current format
# ---------------------------------------------------------------------------------------------
def _nullable(schema):
    return {"anyOf": [schema, {"type": "null"}]}


MANIFEST_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://github.com/tachyonapp/tachyon-infra/releases/manifest.schema.json",
    "title": "Tachyon release manifest",
    "description": "The current release (pinned image SHAs per service), what is deployed in "
                   "each environment, and an append-only history of every deploy attempt. "
                   "Generated from plugins/module_utils/manifest.py; see releases/README.md.",
    "type": "object",
    "additionalProperties": False,
    "required": ["schema_version", "version", "created_at", "description", "services",
                 "environments", "history"],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "version": {"$ref": "#/$defs/semver"},
        "created_at": _nullable({"$ref": "#/$defs/timestamp"}),
        "created_by": _nullable({"$ref": "#/$defs/person"}),
        "description": {"type": "string"},
        "services": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": SERVICE_NAME_PATTERN},
            "additionalProperties": {"$ref": "#/$defs/pinned_service"},
        },
        "environments": {
            "type": "object",
            "additionalProperties": False,
            "required": list(ENVIRONMENTS),
            "properties": {env: {"$ref": "#/$defs/environment"} for env in ENVIRONMENTS},
        },
        "history": {"type": "array", "items": {"$ref": "#/$defs/history_entry"}},
    },
    "$defs": {
        "semver": {"type": "string", "pattern": SEMVER_PATTERN},
        "sha": {"type": "string", "pattern": SHA_PATTERN},
        "timestamp": {"type": "string", "pattern": TIMESTAMP_PATTERN},
        "tag": {"type": "string", "pattern": whole(TAG_BODY)},
        "digest": {"type": "string", "pattern": whole(DIGEST_BODY)},
        "image": {"type": "string", "minLength": 1, "pattern": whole(IMAGE_BODY)},
        "person": {"type": "string", "minLength": 1, "pattern": PERSON_PATTERN},
        "deployment_id": {"type": "string", "minLength": 1, "pattern": ID_PATTERN},
        "pinned_service": {
            "description": "A service pinned by the release. sha and tag are null only in a "
                           "manifest upgraded from a legacy one that pinned nothing ('' or "
                           "'latest'): such a release cannot be deployed until re-created.",
            "type": "object",
            "additionalProperties": False,
            "required": ["sha", "image", "tag"],
            "properties": {
                "sha": _nullable({"$ref": "#/$defs/sha"}),
                "image": {"$ref": "#/$defs/image"},
                "tag": _nullable({"$ref": "#/$defs/tag"}),
            },
        },
        "deployed_service": {
            "type": "object",
            "additionalProperties": False,
            "required": ["sha"],
            "properties": {
                "sha": {"$ref": "#/$defs/sha"},
                "tag": _nullable({"$ref": "#/$defs/tag"}),
                "digest": _nullable({"$ref": "#/$defs/digest"}),
                "image": _nullable({"$ref": "#/$defs/image"}),
            },
        },
        "deployed_services": {
            "type": "object",
            "propertyNames": {"pattern": SERVICE_NAME_PATTERN},
            "additionalProperties": {"$ref": "#/$defs/deployed_service"},
        },
        "environment": {
            "description": "The last SUCCESSFUL deployment to this environment (all null: "
                           "never deployed). services is null when the deployment was imported "
                           "from a legacy manifest, which did not record SHAs.",
            "type": "object",
            "additionalProperties": False,
            "required": ["version", "deployed_at", "deployed_by", "approved_by",
                         "deployment_id", "health_verified_at", "services"],
            "properties": {
                "version": _nullable({"$ref": "#/$defs/semver"}),
                "deployed_at": _nullable({"$ref": "#/$defs/timestamp"}),
                "deployed_by": _nullable({"$ref": "#/$defs/person"}),
                "approved_by": _nullable({"$ref": "#/$defs/person"}),
                "deployment_id": _nullable({"$ref": "#/$defs/deployment_id"}),
                "health_verified_at": _nullable({"$ref": "#/$defs/timestamp"}),
                "services": _nullable({"$ref": "#/$defs/deployed_services"}),
            },
        },
        "history_entry": {
            "type": "object",
            "additionalProperties": False,
            "required": ["environment", "outcome", "version", "at", "deployment_id",
                         "services", "deployed_by", "approved_by", "health_verified_at",
                         "rolled_back_to", "message"],
            "properties": {
                "environment": {"enum": list(ENVIRONMENTS)},
                "outcome": {"enum": list(OUTCOMES)},
                "version": _nullable({"$ref": "#/$defs/semver"}),
                "at": {"$ref": "#/$defs/timestamp"},
                "deployment_id": _nullable({"$ref": "#/$defs/deployment_id"}),
                "services": _nullable({"$ref": "#/$defs/deployed_services"}),
                "deployed_by": _nullable({"$ref": "#/$defs/person"}),
                "approved_by": _nullable({"$ref": "#/$defs/person"}),
                "health_verified_at": _nullable({"$ref": "#/$defs/timestamp"}),
                "rolled_back_to": _nullable({"$ref": "#/$defs/deployment_id"}),
                "message": {"type": "string"},
                "source": {"enum": ["legacy"]},
            },
        },
    },
}

# What the bash-era manifests (corpus: release-manifest/*.json) look like. Loose on purpose:
# they held "" and "latest" for SHAs and "" for unset timestamps.
LEGACY_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["version", "services"],
    "properties": {
        "version": {"type": "string", "minLength": 1},
        "created_at": {"type": "string"},
        "description": {"type": "string"},
        "services": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "sha": {"type": "string"},
                    "image": {"type": "string"},
                    "tag": {"type": "string"},
                },
            },
        },
        "environments": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "deployed_at": {"type": "string"},
                    "deployed_by": {"type": "string"},
                    "approved_by": {"type": "string"},
                },
            },
        },
    },
}

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
def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_json_text(manifest):
    """The canonical on-disk text: 2-space indent, keys in insertion order, trailing newline."""
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def json_path(parts):
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += "[%d]" % part
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(part)):
            out += "." + str(part)
        else:
            out += "[%s]" % json.dumps(part)
    return out


def _require_jsonschema():
    if not HAS_JSONSCHEMA:
        raise ManifestError("the Python library jsonschema is required: pip install jsonschema "
                            "(%s)" % JSONSCHEMA_IMPORT_ERROR)


def schema_errors(doc, schema=None):
    """All schema violations as ``["$.path: message", ...]`` (empty list: valid)."""
    _require_jsonschema()
    validator = jsonschema.Draft202012Validator(schema or MANIFEST_SCHEMA)
    found = []
    for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
        if err.validator == "anyOf" and err.context:
            # a nullable value that is not null: say what is wrong with the value, not "is not
            # valid under any of the given schemas"
            useful = [e for e in err.context if not (e.validator == "type" and e.validator_value == "null")]
            if useful:
                err = jsonschema.exceptions.best_match(useful)
        message = err.message
        if err.validator == "pattern" and isinstance(err.instance, str):
            message = "%r does not match %s" % (err.instance, _pattern_name(err.schema.get("pattern")))
        found.append("%s: %s" % (json_path(err.absolute_path), message))
    return found


def _pattern_name(pattern):
    names = {
        SHA_PATTERN: "a git SHA (7-40 lowercase hex characters, nothing else)",
        SEMVER_PATTERN: "a semantic version (MAJOR.MINOR.PATCH, e.g. 1.4.0, nothing else)",
        TIMESTAMP_PATTERN: "a UTC timestamp (YYYY-MM-DDTHH:MM:SSZ, nothing else)",
        SERVICE_NAME_PATTERN: "a service name (lowercase letters, digits and '-', nothing else)",
        PERSON_PATTERN: "a name on one line without surrounding whitespace",
        ID_PATTERN: "a deployment id (one word, no whitespace)",
    }
    return names.get(pattern, "the pattern %s" % pattern)


def validate(doc, source="manifest"):
    """Raise ManifestError naming ``source`` and every JSON path that violates the schema."""
    errors = schema_errors(doc)
    if errors:
        raise ManifestError("%s does not match the release manifest schema (releases/"
                            "manifest.schema.json):\n  %s" % (source, "\n  ".join(errors)))
    return doc


def is_legacy(doc):
    return isinstance(doc, dict) and "schema_version" not in doc


def normalize_sha(value, what):
    """Validate a SHA (7-40 hex, any case, nothing else: no surrounding whitespace or newline)
    and return it lowercase."""
    if not isinstance(value, str) or not SHA_RE.fullmatch(value.lower()):
        raise ManifestError("%s: %r is not a git SHA; give 7 to 40 hexadecimal characters and "
                            "nothing else (e.g. the output of `git rev-parse --short HEAD`)%s"
                            % (what, value, _stray_whitespace(value)))
    return value.lower()


def check_semver(value, what="version"):
    if not isinstance(value, str) or not SEMVER_RE.fullmatch(value):
        raise ManifestError("%s: %r is not a semantic version; use MAJOR.MINOR.PATCH such as "
                            "0.2.0 (optionally -prerelease / +build, no leading 'v')%s"
                            % (what, value, _stray_whitespace(value)))
    return value


def check_person(value, what):
    """``value`` (None or "" for unset) when it is a name on one line without surrounding
    whitespace, else ManifestError; for deployed_by, approved_by, created_by."""
    if value in (None, "") or (isinstance(value, str) and PERSON_RE.fullmatch(value)):
        return value
    raise ManifestError("%s: %r is not a name; give one name on one line (e.g. alice)%s"
                        % (what, value, _stray_whitespace(value)))


def check_deployment_id(value, what):
    """``value`` (None or "" for unset) when it is one word, else ManifestError."""
    if value in (None, "") or (isinstance(value, str) and ID_RE.fullmatch(value)):
        return value
    raise ManifestError("%s: %r is not a deployment id; give the App Platform deployment id "
                        "(one word, no whitespace)%s" % (what, value, _stray_whitespace(value)))


def _stray_whitespace(value):
    if isinstance(value, str) and value != value.strip():
        return "; remove the whitespace around it (a trailing newline counts)"
    if not isinstance(value, str) and value is not None:
        return "; it must be one string, not a %s" % type(value).__name__
    return ""


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
            "image": pin.get("image") or "%s/%s" % (DEFAULT_REGISTRY, name),
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


def strict_json_loads(text, source):
    """``json.loads`` that refuses what Python's json accepts but JSON (RFC 8259) does not
    mean: a key repeated in one object (json keeps the last value and silently drops the
    others: a second ``"history"`` would erase the history) and NaN/Infinity."""
    def pairs_to_dict(pairs):
        obj = {}
        for key, value in pairs:
            if key in obj:
                raise ManifestError(
                    "%s: duplicate key %s in one JSON object (the object with keys %s); only "
                    "one of the values would be kept and the other silently lost. Merge the "
                    "two %s entries by hand so the key appears once, then run again"
                    % (source, json.dumps(key), ", ".join(json.dumps(k) for k, _v in pairs),
                       json.dumps(key)))
            obj[key] = value
        return obj

    def no_constant(name):
        raise ManifestError("%s: %s is not a JSON value; fix the file" % (source, name))

    try:
        return json.loads(text, object_pairs_hook=pairs_to_dict, parse_constant=no_constant)
    except ValueError as exc:
        raise ManifestError("%s is not valid JSON: %s. Fix the file (or restore it from git: "
                            "`git checkout -- %s`)" % (source, exc, source))


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
                   description=None, created_by=None, partial=False, force=False, now=None):
    """Return the manifest with release ``version`` pinning ``services`` (name -> sha).

    ``current`` is the existing manifest (current format) or None. Environments and history
    are kept: they record what runs where, and production still runs the previous release
    until it is promoted. Returns ``current`` unchanged (same object) when the same version
    already pins the same SHAs and images. Re-creating an existing version with other SHAs
    needs ``force``.
    """
    check_semver(version)
    known = list(known_services or DEFAULT_SERVICES)
    if not isinstance(services, dict) or not services and not partial:
        raise ManifestError("services: give a SHA for each of %s" % ", ".join(known))
    images = images or {}
    unknown = sorted(set(services) - set(known))
    if unknown:
        raise ManifestError("services: unknown service(s) %s; known services are %s (the "
                            "service catalog tachyon_services)" % (", ".join(unknown), ", ".join(known)))
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
                                "(or set partial: true to carry the others over from the current "
                                "release)" % name)
        image = images.get(name) or ((current or {}).get("services", {}).get(name) or {}).get("image") \
            or "%s/%s" % (DEFAULT_REGISTRY, name)
        pins[name] = {"sha": sha, "image": image, "tag": sha}
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
                                "set force: true to re-pin it" % (version, "; ".join(diffs)))
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


def record_deployment(current, environment, outcome, version=None, deployment_id=None,
                      services=None, deployed_by=None, approved_by=None,
                      health_verified_at=None, rolled_back_to=None, message=None, at=None):
    """Return the manifest with a deploy attempt recorded (``current`` itself if already there).

    Every attempt appends a history entry. Only ``succeeded`` also updates
    ``environments.<environment>``. An attempt is identified by (environment, outcome,
    deployment_id), or (environment, outcome, at) when there is no deployment id.
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
    for existing in current["history"]:
        if _same_attempt(existing, entry):
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

    Production needs: the requested version equal to the manifest's; every pinned SHA
    deployed to staging (same commit, see ``sha_matches``) by a successful deployment whose
    health was verified; a non-empty approver.
    """
    if environment != "production":
        raise ManifestError("promotion is checked for environment production only (got %r); "
                            "staging takes any release" % environment)
    problems = []
    if version != manifest["version"]:
        problems.append("version %s was requested but the manifest's release is %s (create "
                        "release %s first, or request %s)" % (version, manifest["version"],
                                                               version, manifest["version"]))
    if not (approved_by or "").strip():
        problems.append("no approver: set approved_by (on the CLI -e approved_by=<name>; in AWX "
                        "the approval node does it)")
    staging = manifest["environments"]["staging"]
    unpinned = sorted(n for n, pin in manifest["services"].items() if not pin.get("sha"))
    if unpinned:
        problems.append("the release pins no SHA for %s (legacy manifest): create a release with "
                        "SHAs" % ", ".join(unpinned))
    if not staging.get("deployed_at"):
        problems.append("staging has no successful deployment: deploy release %s to staging "
                        "first" % manifest["version"])
    elif staging.get("services") is None:
        problems.append("staging's deployment (%s) recorded no SHAs (legacy manifest): deploy "
                        "release %s to staging again" % (staging["deployed_at"], manifest["version"]))
    else:
        for name, pin in sorted(manifest["services"].items()):
            if not pin.get("sha"):
                continue
            got = staging["services"].get(name)
            if got is None:
                problems.append("staging did not deploy %s; the release pins %s"
                                % (name, pin["sha"]))
            elif not sha_matches(got["sha"], pin["sha"]):
                problems.append("staging deployed %s %s but the release pins %s"
                                % (name, got["sha"], pin["sha"]))
        if not staging.get("health_verified_at"):
            problems.append("staging's deployment %s was never health-verified: deploy it to "
                            "staging again and let the health check pass"
                            % (staging.get("deployment_id") or staging["deployed_at"]))
    if problems:
        raise ManifestError("production promotion of %s refused:\n  - %s"
                            % (version, "\n  - ".join(problems)))
    return {
        name: {"sha": pin["sha"], "tag": pin["tag"], "image": pin["image"],
               "digest": (staging["services"].get(name) or {}).get("digest")}
        for name, pin in manifest["services"].items()
    }


def main(argv=None):  # pragma: no cover - tiny CLI to regenerate releases/manifest.schema.json
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["schema"]:
        sys.stdout.write(json.dumps(MANIFEST_SCHEMA, indent=2) + "\n")
        return 0
    sys.stderr.write("usage: python -m ...module_utils.manifest schema\n")
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
