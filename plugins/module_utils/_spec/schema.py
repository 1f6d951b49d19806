# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see LICENSE)
"""The App Spec JSON Schema: DigitalOcean's vendored AppSpec plus a small local overlay.

Shared by the ``app_spec`` module (validation before deploy) and the App Platform
emulator (the server refuses what the real API refuses), so both agree on what a valid
spec is.

How the schema is built from the vendored OpenAPI models (``do_openapi_bundle``):

* OVERLAY: the fields and enum values App Platform accepts that the vendored OpenAPI
  excerpt lacks. Each entry names its DigitalOcean source; the reference is godo's
  ``apps.gen.go`` (generated from App Platform's own model; commit in GODO_COMMIT), and
  ``tests/specs/test_godo_fields.py`` fails when godo and this schema disagree on a field.
* Flattened: the App Spec models compose objects with ``allOf`` (a service is
  component_base + instance_base + its own fields; service autoscaling is the worker one
  plus request metrics). Each such object is merged into one object, nested objects
  merged too, so ``autoscaling.metrics`` declares ``cpu`` and the request metrics alike.
* Closed objects. App Platform decodes specs strictly (an unknown field is a 400), while
  the OpenAPI models leave ``additionalProperties`` open. Every App Spec object gets
  ``additionalProperties: false`` (every other apps model, used for response bodies,
  ``unevaluatedProperties: false``), so a misspelt key is a finding.

Cross-field rules the schema cannot express live in ``_spec.rules``, whose validate_app_spec
runs both (this module does not import it: no cycle). Messages never quote a value under ``envs`` (or any credential field) and point
at the offending field itself: ``$.services[0].http_prot`` for an unknown key,
``$.services[0].name`` for a missing one.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import difflib
import re

from ansible_collections.tachyon.infra.plugins.module_utils._common.findings import json_path
from ansible_collections.tachyon.infra.plugins.module_utils._spec.openapi_bundle import DEFS

M = "resources.apps.models."
APP_SPEC_DEF = M + "app_spec.yml"
GODO_COMMIT = "3fce660c40164d739042422abd984198ea680c63"
GODO = "godo apps.gen.go@" + GODO_COMMIT[:12]

_ALERTS = {"type": "array", "items": {"$ref": "#/$defs/" + M + "app_alert_spec.yml"}}
_STRING_MATCH = {"type": "object", "properties": {
    "prefix": {"type": ["string", "null"], "maxLength": 256},
    "exact": {"type": ["string", "null"], "maxLength": 256}}}

# (model, property path inside the flattened model, schema, DigitalOcean source).
# A schema replaces the vendored property; ("enum+", [values]) adds enum values;
# ("required", [names]) replaces the model's required list.
OVERLAY = [
    ("app_spec", "envs", {"type": "array", "items": {"$ref": "#/$defs/" + M + "app_variable_definition.yml"}},
     GODO + " AppSpec.Envs"),
    ("app_spec", "alerts", _ALERTS, GODO + " AppSpec.Alerts"),
    ("app_spec", "features", {"type": "array", "items": {"type": "string"}}, GODO + " AppSpec.Features"),
    ("app_database_spec", "size", {"type": "string"}, GODO + " AppDatabaseSpec.Size"),
    ("app_database_spec", "num_nodes", {"type": "integer", "minimum": 1}, GODO + " AppDatabaseSpec.NumNodes"),
    ("app_service_spec", "alerts", _ALERTS, GODO + " AppServiceSpec.Alerts"),
    ("app_worker_spec", "alerts", _ALERTS, GODO + " AppWorkerSpec.Alerts"),
    ("app_job_spec", "alerts", _ALERTS, GODO + " AppJobSpec.Alerts"),
    ("app_service_spec", "inactivity_sleep", {"type": "object", "properties": {
        "after_seconds": {"type": "integer", "minimum": 600, "maximum": 86400},
        "loading_page": {"type": "object", "properties": {
            "enabled": {"type": "boolean"}, "custom_url": {"type": "string"}}}}},
     GODO + " AppServiceSpecInactivitySleep (after_seconds: 'Minimum 600, Maximum 86400')"),
    ("app_service_spec_health_check", "path", {"type": "string"},
     GODO + " AppServiceSpecHealthCheck.Path ('Deprecated. Use http_path instead.')"),
    ("app_job_spec", "kind", ("enum+", ["SCHEDULED"]), GODO + " AppJobSpecKind_Scheduled"),
    ("app_job_spec", "schedule", {"type": "object", "properties": {
        "cron": {"type": "string"}, "time_zone": {"type": "string"}}}, GODO + " AppJobSpecSchedule"),
    ("app_job_spec", "timeout", {"type": "string"}, GODO + " AppJobSpec.Timeout"),
    ("app_log_destination_definition", "endpoint", {"type": "string"}, GODO + " AppLogDestinationSpec.Endpoint"),
    ("app_log_destination_definition", "tls_insecure", {"type": "boolean"},
     GODO + " AppLogDestinationSpec.TLSInsecure"),
    ("app_log_destination_definition", "headers", {"type": "array", "items": {
        "type": "object", "required": ["key"],
        "properties": {"key": {"type": "string"}, "value": {"type": "string"}}}},
     GODO + " AppLogDestinationSpecHeader"),
    # The vendored logtail model requires `endpoint`, a field it does not declare (copied
    # from papertrail); godo's AppLogDestinationSpecLogtail has `token` without omitempty.
    ("app_log_destination_logtail_spec", "", ("required", ["token"]),
     GODO + " AppLogDestinationSpecLogtail.Token (json:\"token\")"),
    ("app_domain_spec", "certificate", {"type": "string"}, GODO + " AppDomainSpec.Certificate"),
    ("app_alert_spec_rule", "", ("enum+", ["DEPLOYMENT_STARTED", "DEPLOYMENT_CANCELED", "JOB_INVOCATION_FAILED"]),
     GODO + " AppAlertSpecRule"),
    ("apps_image_source_spec", "registry_type", ("enum+", ["UNSPECIFIED"]),
     GODO + " ImageSourceSpecRegistryType_Unspecified"),
    ("app_ingress_spec", "load_balancer", {"type": "string", "enum": ["UNKNOWN", "DIGITALOCEAN"]},
     GODO + " AppIngressSpecLoadBalancer"),
    ("app_ingress_spec", "load_balancer_size", {"type": "integer"}, GODO + " AppIngressSpec.LoadBalancerSize"),
    ("app_ingress_spec", "secure_header", {"type": "object", "properties": {
        "key": {"type": "string"}, "value": {"type": "string"}, "remove_header": {"type": "boolean"}}},
     GODO + " AppSecureHeaderSpec"),
    # The vendored model types it as a string; godo's bool and DO's docs (`true`) are right.
    ("app_ingress_spec_rule_routing_component", "preserve_path_prefix", {"type": "boolean"},
     GODO + " AppIngressSpecRuleRoutingComponent.PreservePathPrefix (bool)"),
    # godo's AppIngressSpecRuleStringMatch has prefix and exact for path and authority alike.
    ("app_ingress_spec_rule_match", "path", _STRING_MATCH, GODO + " AppIngressSpecRuleStringMatch"),
    ("app_ingress_spec_rule_match", "authority", _STRING_MATCH, GODO + " AppIngressSpecRuleStringMatch"),
]
# Fields the vendored component base gives static sites that godo's AppStaticSiteSpec (and
# so App Platform) does not have: a static site is built from git, never run from an image.
REMOVED = [
    ("app_static_site_spec", "image", GODO + " AppStaticSiteSpec has no Image"),
    ("app_static_site_spec", "run_command", GODO + " AppStaticSiteSpec has no RunCommand"),
    ("app_static_site_spec", "log_destinations", GODO + " AppStaticSiteSpec has no LogDestinations"),
]

# Paths whose values are credentials or env values: never quoted in a message.
SENSITIVE = {"envs", "value", "headers", "api_key", "token", "registry_credentials", "basic_auth",
             "password", "secure_header"}
REGION_HINT = ("App Platform takes a region slug (for example 'nyc'), not a Droplet "
               "datacenter slug such as 'nyc3': drop the trailing digit")
ENV_SHAPE_HINT = "write each variable as {key: NAME, value: ..., type: GENERAL|SECRET, scope: ...}"
# When one field fails several constraints, the finding reports the first of these.
PRIORITY = ["type", "additionalProperties", "required", "not", "enum", "oneOf", "anyOf", "pattern",
            "minLength", "maxLength", "minimum", "maximum", "format"]
JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer",
              float: "number", type(None): "null"}

_SCHEMA = None


def _name(ref):
    return ref.split("#/$defs/", 1)[1]


def _reachable(defs, root):
    seen, todo = set(), [root]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        stack = [defs[name]]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if isinstance(node.get("$ref"), str):
                    todo.append(_name(node["$ref"]).split("/", 1)[0])
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    return seen


def _merge_into(target, part):
    """Merge object schema ``part`` into ``target`` (properties merged recursively)."""
    for key, value in part.items():
        if key == "properties":
            props = target.setdefault("properties", {})
            for prop, sub in value.items():
                if prop in props and _is_object(props[prop]) and _is_object(sub):
                    merged = copy.deepcopy(props[prop])
                    _merge_into(merged, sub)
                    props[prop] = merged
                else:
                    props[prop] = copy.deepcopy(sub)
        elif key == "required":
            target["required"] = sorted(set(target.get("required", [])) | set(value))
        elif key != "allOf":
            target.setdefault(key, copy.deepcopy(value))


def _is_object(node):
    return isinstance(node, dict) and "$ref" not in node and (
        "properties" in node or node.get("type") == "object")


def _flatten(node, defs):
    """Replace every object ``allOf`` by one merged object, in place (refs resolved)."""
    if isinstance(node, list):
        for value in node:
            _flatten(value, defs)
        return node
    if not isinstance(node, dict):
        return node
    for value in node.values():
        _flatten(value, defs)
    parts = node.get("allOf")
    if parts:
        resolved = []
        for part in parts:
            if isinstance(part, dict) and "$ref" in part:
                part = _flatten(copy.deepcopy(defs[_name(part["$ref"])]), defs)
            resolved.append(part)
        if all(not p or _is_object(p) or set(p) <= {"deprecated"} for p in resolved) \
                and any(_is_object(p) for p in resolved):
            del node["allOf"]
            for part in resolved:
                _merge_into(node, part)
            node.setdefault("type", "object")
    return node


def _lookup(schema, dotted):
    node = schema
    for part in [p for p in dotted.split(".") if p][:-1]:
        node = node["properties"][part]
    return node


def _apply_overlay(defs):
    for model, dotted, value, _source in OVERLAY:
        target = defs[M + model + ".yml"]
        if isinstance(value, tuple) and value[0] == "required":
            target["required"] = list(value[1])
            continue
        if not dotted:
            target["enum"] = target["enum"] + [v for v in value[1] if v not in target["enum"]]
            continue
        parent = _lookup(target, dotted)
        key = dotted.rsplit(".", 1)[-1]
        if isinstance(value, tuple):
            prop = parent["properties"][key]
            prop["enum"] = prop["enum"] + [v for v in value[1] if v not in prop["enum"]]
        else:
            parent.setdefault("properties", {})[key] = copy.deepcopy(value)
    for model, key, source in REMOVED:
        # not `false`: jsonschema reports a false subschema without the property in its path
        defs[M + model + ".yml"]["properties"][key] = {"not": {}, "x-removed": source}


def _close_spec(node):
    """additionalProperties: false on every (flattened) App Spec object."""
    if isinstance(node, dict):
        if "properties" in node and node.get("type", "object") == "object" \
                and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _close_spec(value)
    elif isinstance(node, list):
        for value in node:
            _close_spec(value)


def _allof_parts(node, acc):
    if isinstance(node, dict):
        for part in node.get("allOf", []) or []:
            if isinstance(part, dict) and "$ref" in part:
                acc.add(_name(part["$ref"]).split("/", 1)[0])
        for value in node.values():
            _allof_parts(value, acc)
    elif isinstance(node, list):
        for value in node:
            _allof_parts(value, acc)
    return acc


def _close(node, top_level):
    """Close response models in place, except allOf building blocks and free-form maps."""
    if isinstance(node, dict):
        is_object = ("properties" in node or "allOf" in node) and node.get("type", "object") == "object"
        if is_object and top_level and "additionalProperties" not in node \
                and "unevaluatedProperties" not in node:
            node["unevaluatedProperties"] = False
        for key, value in node.items():
            if key == "allOf":
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
    """Return the JSON Schema (2020-12) of an App Spec: vendored + overlay, flattened, closed.

    ``$defs`` also holds every other App Platform model (responses), closed as well, for
    the emulator's conformance tests."""
    global _SCHEMA
    if _SCHEMA is None:
        defs = copy.deepcopy(DEFS)
        spec_models = _reachable(defs, APP_SPEC_DEF)
        for name in spec_models:
            _flatten(defs[name], defs)
        _apply_overlay(defs)
        spec_models = _reachable(defs, APP_SPEC_DEF)
        for name in spec_models:
            _close_spec(defs[name])
        blocks = _allof_parts(defs, set())
        for name, schema in defs.items():
            if name.startswith(M) and name not in spec_models:
                _close(schema, top_level=name not in blocks)
        _SCHEMA = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                   "$defs": defs, "$ref": "#/$defs/" + APP_SPEC_DEF}
    return _SCHEMA


def is_sensitive(parts):
    """True when a value at this path may be an env value or a credential."""
    return any(isinstance(p, str) and p in SENSITIVE for p in parts)


def _type_name(instance):
    return JSON_TYPES.get(type(instance), type(instance).__name__)


def _show(instance, parts):
    """A value fit for a message: short scalars outside sensitive paths, else nothing."""
    if is_sensitive(parts) or isinstance(instance, (dict, list)):
        return None
    text = repr(instance)
    return text if len(text) <= 80 else None


def _finding(parts, message, hint=""):
    return {"path": json_path(parts), "message": message, "hint": hint}


def _enum_finding(parts, instance, allowed):
    shown = _show(instance, parts)
    message = "%s is not one of the allowed values" % shown if shown else "the value is not one of the allowed values"
    if list(parts) == ["region"] and isinstance(instance, str) and re.match(r"^[a-z]{3}[0-9]$", instance) \
            and instance[:3] in allowed:
        return _finding(parts, message, REGION_HINT)
    if isinstance(instance, str) and instance.upper() in allowed and instance.upper() != instance:
        return _finding(parts, message, "values are case-sensitive: write %r" % instance.upper())
    return _finding(parts, message, "use one of: %s" % ", ".join(str(v) for v in allowed))


def _env_shape(error, parts):
    """Findings for envs written as a mapping or as KEY=VALUE strings (values never quoted)."""
    if error.validator != "type":
        return None
    if parts and parts[-1] == "envs" and isinstance(error.instance, dict):
        return _finding(parts, "envs must be a list of variables, not a mapping", ENV_SHAPE_HINT)
    if len(parts) >= 2 and parts[-2] == "envs" and isinstance(parts[-1], int) \
            and isinstance(error.instance, str):
        form = "a KEY=VALUE string" if "=" in error.instance else "a string"
        return _finding(parts, "an env must be an object, not %s" % form, ENV_SHAPE_HINT)
    return None


def _describe(error):
    """Findings for one jsonschema error (a list: one per unknown key), never echoing secrets."""
    parts = list(error.absolute_path)
    validator, value, instance = error.validator, error.validator_value, error.instance
    shaped = _env_shape(error, parts)
    if shaped:
        return [shaped]
    if validator == "additionalProperties" and isinstance(instance, dict):
        declared = set(error.schema.get("properties", {}))
        out = []
        for key in sorted(set(instance) - declared, key=str):
            close = difflib.get_close_matches(str(key), sorted(declared), n=1)
            hint = "did you mean %r? " % close[0] if close else ""
            out.append(_finding(parts + [key], "unknown field %r" % key,
                                hint + "App Platform rejects unknown fields: remove it or fix its spelling"))
        return out
    if validator == "required":
        missing = [k for k in value if isinstance(instance, dict) and k not in instance]
        return [_finding(parts + [k], "required field %r is missing" % k) for k in missing]
    if isinstance(error.schema, dict) and "x-removed" in error.schema:
        return [_finding(parts, "field %r is not allowed here" % parts[-1],
                         "App Platform does not accept it on this component: remove it")]
    if validator == "enum":
        return [_enum_finding(parts, instance, value)]
    if validator in ("oneOf", "anyOf"):
        leaves = list(error.context or [])
        if leaves and all(leaf.validator == "enum" for leaf in leaves):
            allowed = [v for leaf in leaves for v in leaf.validator_value]
            return [_enum_finding(parts, instance, allowed)]
        if leaves:
            import jsonschema
            return _describe(jsonschema.exceptions.best_match(leaves))
    if validator == "type":
        wanted = value if isinstance(value, str) else " or ".join(value)
        return [_finding(parts, "expected %s, got %s" % (wanted, _type_name(instance)))]
    shown = _show(instance, parts)
    subject = shown or "the value"
    if validator == "pattern":
        return [_finding(parts, "%s does not match %s" % (subject, value))]
    if validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        word = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than",
                "exclusiveMaximum": "less than"}[validator]
        return [_finding(parts, "%s must be %s %s" % (subject, word, value))]
    if validator in ("minLength", "maxLength", "minItems", "maxItems"):
        word = "at least" if validator.startswith("min") else "at most"
        unit = "characters" if validator.endswith("Length") else "items"
        return [_finding(parts, "must have %s %s %s" % (word, value, unit))]
    if validator == "format":
        return [_finding(parts, "%s is not a valid %s" % (subject, value))]
    return [_finding(parts, "the value does not satisfy %r" % validator)]


def schema_findings(spec):
    """Schema findings of a spec, sorted by path: ``{"path", "message", "hint"}``."""
    import jsonschema  # imported here so callers can report missing_required_lib()

    validator = jsonschema.Draft202012Validator(app_spec_schema())
    best = {}
    for error in validator.iter_errors(spec):
        rank = PRIORITY.index(error.validator) if error.validator in PRIORITY else len(PRIORITY)
        for finding in _describe(error):
            # one finding per field: a name that is too short and off-pattern is one defect
            if finding["path"] not in best or rank < best[finding["path"]][0]:
                best[finding["path"]] = (rank, finding)
    return [finding for _rank, finding in best.values()]
