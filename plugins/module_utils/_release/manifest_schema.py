# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""The release manifest's format and strict reading: the JSON Schema (``MANIFEST_SCHEMA``, and
the loose ``LEGACY_SCHEMA`` of bash-era files), the whole-string patterns behind it, the value
checks (SHA, version, person, deployment id) and the strict JSON reader (duplicate keys,
NaN/Infinity refused).

Split from ``manifest`` (which re-exports every public name here, so ``manifest.SHA_RE`` and
``manifest.validate`` keep working); ``manifest`` holds the legacy upgrade, the file I/O and the
operations. Errors are ``ManifestError`` whose message says what is wrong and how to fix it.
"""
from __future__ import annotations

import json

from ansible_collections.tachyon.infra.plugins.module_utils._common.findings import json_path
from ansible_collections.tachyon.infra.plugins.module_utils._common.patterns import (  # noqa: F401 pylint: disable=unused-import
    DIGEST_BODY, END_OF_STRING, ID_BODY, ID_PATTERN, ID_RE, IMAGE_BODY, PERSON_BODY, PERSON_PATTERN, PERSON_RE,
    SEMVER_BODY, SEMVER_PATTERN, SEMVER_RE, SERVICE_NAME_BODY, SERVICE_NAME_PATTERN, SERVICE_NAME_RE, SHA_BODY,
    SHA_PATTERN, SHA_RE, TAG_BODY, TIMESTAMP_BODY, TIMESTAMP_PATTERN, TIMESTAMP_RE, person_problem,
    stray_whitespace, whole)

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
# App Platform's events a history entry keeps (the newest of the deploy window) and each one's text
MAX_EVENTS = 50
MAX_EVENT_TEXT = 300


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
                   "Generated from plugins/module_utils/_release/manifest.py; see releases/README.md.",
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
        # rolling restarts (playbooks/restart.yml), kept apart from the deploy history: a restart
        # changes no release, so release lists and delivery metrics never see one (_release/restarts.py)
        "restarts": {"type": "array", "items": {"$ref": "#/$defs/restart_entry"}},
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
                # the registry digest of image:tag when the release was made (absent or null in a
                # tag-only or legacy release)
                "digest": _nullable({"$ref": "#/$defs/digest"}),
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
        "restart_entry": {
            "type": "object",
            "additionalProperties": False,
            "required": ["environment", "outcome", "at", "deployment_id", "restart_of", "components",
                         "restarted_by", "message"],
            "properties": {
                "environment": {"enum": list(ENVIRONMENTS)},
                "outcome": {"enum": ["succeeded", "failed"]},
                "at": {"$ref": "#/$defs/timestamp"},
                # the restart's deployment (null: App Platform refused the restart)
                "deployment_id": _nullable({"$ref": "#/$defs/deployment_id"}),
                # the deployment that ran before it: a restart keeps its images
                "restart_of": _nullable({"$ref": "#/$defs/deployment_id"}),
                "components": {"type": "array", "minItems": 1,
                               "items": {"type": "string", "pattern": SERVICE_NAME_PATTERN}},
                "restarted_by": _nullable({"$ref": "#/$defs/person"}),
                "message": {"type": "string"},
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
                # optional: a redeploy of an earlier release's recorded pins (rollback.yml -e
                # tachyon_rollback_version), naming the release the environment ran before
                "rollback_of_version": _nullable({"$ref": "#/$defs/semver"}),
                # a failed deploy after its migration job ran: rolled back (the schema stays
                # migrated) or frozen without rollback (tachyon_rollback_after_migration)
                "after_migration": {"enum": ["rollback", "freeze"]},
                # optional: App Platform's events in the deploy window (GET /v2/apps/{id}/events, oldest
                # first; _platform/signals.timeline), as manifest.recorded_events keeps them
                "events": {"type": "array", "maxItems": MAX_EVENTS, "items": {"$ref": "#/$defs/platform_event"}},
            },
        },
        "platform_event": {
            "type": "object",
            "additionalProperties": False,
            "required": ["at", "type", "deployment_id", "what", "ours"],
            "properties": {
                "at": _nullable({"type": "string", "maxLength": 64}),
                "type": {"type": "string", "maxLength": 64},
                "deployment_id": _nullable({"type": "string", "maxLength": 128}),
                # outside text (App Platform's cause, component names): one line, redacted, capped
                "what": {"type": "string", "maxLength": MAX_EVENT_TEXT},
                # a deployment this run made; false: the platform's or someone else's
                "ours": {"type": "boolean"},
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


def normalize_sha(value, what):
    """Validate a SHA (7-40 hex, any case, nothing else: no surrounding whitespace or newline)
    and return it lowercase."""
    if not isinstance(value, str) or not SHA_RE.fullmatch(value.lower()):
        raise ManifestError("%s: %r is not a git SHA; give 7 to 40 hexadecimal characters and "
                            "nothing else (e.g. the output of `git rev-parse --short HEAD`)%s"
                            % (what, value, stray_whitespace(value)))
    return value.lower()


def check_semver(value, what="version"):
    if not isinstance(value, str) or not SEMVER_RE.fullmatch(value):
        raise ManifestError("%s: %r is not a semantic version; use MAJOR.MINOR.PATCH such as "
                            "0.2.0 (optionally -prerelease / +build, no leading 'v')%s"
                            % (what, value, stray_whitespace(value)))
    return value


def check_person(value, what):
    """``value`` (None or "" for unset) when it is a name on one line without surrounding
    whitespace, else ManifestError; for deployed_by, approved_by, created_by."""
    problem = person_problem(value, what)
    if problem:
        raise ManifestError(problem)
    return value


def check_deployment_id(value, what):
    """``value`` (None or "" for unset) when it is one word, else ManifestError."""
    if value in (None, "") or (isinstance(value, str) and ID_RE.fullmatch(value)):
        return value
    raise ManifestError("%s: %r is not a deployment id; give the App Platform deployment id "
                        "(one word, no whitespace)%s" % (what, value, stray_whitespace(value)))


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
