# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see LICENSE)
"""The App Spec JSON Schema: DigitalOcean's vendored AppSpec plus a small local overlay.

Shared by the ``app_spec`` module (validation before deploy) and the App Platform
emulator (the server refuses what the real API refuses), so both agree on what a valid
spec is.

Two things are added to the vendored schema, nothing is loosened:

* OVERLAY: app-level ``envs``, ``alerts`` and ``features``. Real App Specs use them and
  App Platform accepts them, but the vendored AppSpec model lacks them.
* Closed objects. App Platform decodes specs strictly (an unknown field is a 400), while
  the OpenAPI models leave ``additionalProperties`` open. Each model that is not itself a
  building block of an ``allOf`` gets ``unevaluatedProperties: false`` so a misspelt key
  (``http_prot``) is a finding, not silently ignored.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

from ansible_collections.tachyon.infra.plugins.module_utils.do_openapi_bundle import DEFS

APP_SPEC_DEF = "resources.apps.models.app_spec.yml"

OVERLAY = {
    "envs": {
        "type": "array",
        "items": {"$ref": "#/$defs/resources.apps.models.app_variable_definition.yml"},
    },
    "alerts": {
        "type": "array",
        "items": {"$ref": "#/$defs/resources.apps.models.app_alert_spec.yml"},
    },
    "features": {"type": "array", "items": {"type": "string"}},
}
# Database fields App Platform accepts (godo's AppDatabaseSpec has them: ``size`` for dev
# databases, ``num_nodes``) that the vendored model lacks.
DATABASE_OVERLAY = {
    "size": {"type": "string"},
    "num_nodes": {"type": "integer", "minimum": 1},
}

# Hints for findings that users hit in practice: the message says what is wrong, the hint
# says what to write instead.
REGION_HINT = ("App Platform takes a region slug (for example 'nyc'), not a Droplet "
               "datacenter slug such as 'nyc3': drop the trailing digit")

_SCHEMA = None


def _allof_parts(node, acc):
    if isinstance(node, dict):
        for part in node.get("allOf", []) or []:
            if isinstance(part, dict) and "$ref" in part:
                acc.add(part["$ref"].split("#/$defs/", 1)[1].split("/", 1)[0])
        for value in node.values():
            _allof_parts(value, acc)
    elif isinstance(node, list):
        for value in node:
            _allof_parts(value, acc)
    return acc


def _close(node, top_level):
    """Close object schemas in place, except allOf building blocks and free-form maps."""
    if isinstance(node, dict):
        is_object = ("properties" in node or "allOf" in node) and node.get("type", "object") == "object"
        if is_object and top_level and "additionalProperties" not in node \
                and "unevaluatedProperties" not in node:
            node["unevaluatedProperties"] = False
        for key, value in node.items():
            if key == "allOf":
                # parts of an allOf are evaluated together by their parent
                for part in value:
                    _close_children(part)
            else:
                _close(value, top_level=key in ("items", "properties") or top_level and key != "allOf")
    elif isinstance(node, list):
        for value in node:
            _close(value, top_level)


def _close_children(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for prop in value.values():
                    _close(prop, True)
            elif key == "items":
                _close(value, True)


def app_spec_schema():
    """Return the JSON Schema (2020-12) of an App Spec: vendored + overlay, objects closed."""
    global _SCHEMA
    if _SCHEMA is None:
        defs = copy.deepcopy(DEFS)
        spec_def = defs[APP_SPEC_DEF]
        for key, value in OVERLAY.items():
            spec_def["properties"].setdefault(key, value)
        for key, value in DATABASE_OVERLAY.items():
            defs["resources.apps.models.app_database_spec.yml"]["properties"].setdefault(key, value)
        blocks = _allof_parts(defs, set())
        for name, schema in defs.items():
            if name.startswith("resources.apps.models."):
                _close(schema, top_level=name not in blocks)
        _SCHEMA = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                   "$defs": defs, "$ref": "#/$defs/" + APP_SPEC_DEF}
    return _SCHEMA


def json_path(parts):
    """['services', 0, 'image'] -> '$.services[0].image'"""
    out = "$"
    for part in parts:
        out += "[%d]" % part if isinstance(part, int) else "." + str(part)
    return out


def _hint(error):
    path = list(error.absolute_path)
    if path == ["region"]:
        return REGION_HINT
    if error.validator == "enum":
        return "use one of: %s" % ", ".join(str(v) for v in error.validator_value)
    if error.validator in ("unevaluatedProperties", "additionalProperties"):
        return "remove the key or fix its spelling; App Platform rejects unknown fields"
    if error.validator == "required":
        return "add the missing key"
    if error.validator == "pattern":
        return "the value must match %s" % error.validator_value
    if error.validator == "type":
        return "the value must be of type %s" % error.validator_value
    return ""


def validate_app_spec(spec):
    """Validate an App Spec. Returns a sorted list of findings, [] when valid.

    Each finding is ``{"path": "$.services[0].image.registry_type", "message": ...,
    "hint": ...}``. Messages come from jsonschema but never echo the instance value of a
    SECRET env (values under ``envs`` are replaced by their path).
    """
    import jsonschema  # imported here so callers can report missing_required_lib()

    validator = jsonschema.Draft202012Validator(app_spec_schema())
    findings = []
    for error in validator.iter_errors(spec):
        leaves = error.context if error.validator in ("anyOf", "oneOf") and error.context else [error]
        for leaf in leaves:
            parts = list(leaf.absolute_path)
            described = _describe(leaf, validator.schema["$defs"])
            if described is None:
                continue
            message, hint = described
            if "envs" in parts and "value" in parts:
                message = "the value does not satisfy '%s'" % leaf.validator
            findings.append({"path": json_path(parts), "message": message, "hint": hint})
    findings.sort(key=lambda f: (f["path"], f["message"]))
    return findings


def _declared(schema, defs, seen=None):
    """Every property name a (possibly allOf-composed, $ref'd) object schema declares."""
    seen = set() if seen is None else seen
    names = set(schema.get("properties", {}))
    ref = schema.get("$ref", "")
    if ref.startswith("#/$defs/") and ref not in seen:
        seen.add(ref)
        names |= _declared(defs[ref[len("#/$defs/"):]], defs, seen)
    for part in schema.get("allOf", []) or []:
        names |= _declared(part, defs, seen)
    return names


def _describe(error, defs):
    """(message, hint) for one jsonschema error, never echoing a value."""
    if error.validator == "unevaluatedProperties" and isinstance(error.instance, dict):
        # jsonschema reports every key of a failing allOf part as "unevaluated" too; name
        # only the keys the schema really does not declare (None: nothing of its own).
        unknown = sorted(set(error.instance) - _declared(error.schema, defs))
        if not unknown:
            return None
        return ("unknown field%s %s" % ("s" if len(unknown) > 1 else "", ", ".join(repr(k) for k in unknown)),
                _hint(error))
    return error.message, _hint(error)
