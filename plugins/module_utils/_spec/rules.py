# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see LICENSE)
"""Cross-field rules of an App Spec that a JSON Schema cannot express.

App Platform refuses these specs although each field on its own is valid. Each rule names
the DigitalOcean text it enforces; RULES is the list ``validate_app_spec`` runs (after the
schema), each finding at the offending field, one per defect, no value quoted.

==================  ==========================================================  =================================
rule id             what is refused                                             DigitalOcean source
==================  ==========================================================  =================================
unique-names        two components (services, static sites, workers, jobs,      OpenAPI app_component_base.yml /
                    functions, databases) with the same name                    godo: "Must be unique across all
                                                                                components within the same app."
one-source          a component with more than one of git, github, gitlab,      App Spec reference (docs): "Only
                    bitbucket, image                                            one of git, github, gitlab, or
                                                                                image must be set."
count-autoscaling   instance_count together with autoscaling                    OpenAPI app_component_instance_
                                                                                base.yml instance_count: "Must not
                                                                                be set if autoscaling is used."
tag-digest          image tag together with image digest                        OpenAPI apps_image_source_spec.yml
                                                                                / godo ImageSourceSpec: tag "Cannot
                                                                                be specified if digest is
                                                                                provided."
alert-scope         an alert rule where it does not apply: component rules     godo AppAlertSpecRule: "Only
                    (CPU_UTILIZATION ...) at app level, app rules               applicable at the component level"
                    (DEPLOYMENT_FAILED ...) on a component, service/job/        / "at the app level" / "to service
                    functions rules on another kind of component                components" ...
==================  ==========================================================  =================================
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.tachyon.infra.plugins.module_utils._common.findings import json_path
from ansible_collections.tachyon.infra.plugins.module_utils._spec.components import COMPONENT_KINDS, IMAGE_KINDS, SINGULAR, components
from ansible_collections.tachyon.infra.plugins.module_utils._spec.schema import schema_findings

NAMED_KINDS = COMPONENT_KINDS + ("databases",)
SOURCES = ("git", "github", "gitlab", "bitbucket", "image")
# godo's AppStaticSiteSpec and AppFunctionsSpec have no image (the schema refuses it there)
GIT_SOURCES = SOURCES[:-1]

# Where each alert rule applies (godo AppAlertSpecRule's comments). "app": the app-level
# `alerts`; a kind: that component list's `alerts`; "scheduled job": jobs of kind SCHEDULED.
# "Only applicable at the component level" is read as any component with `alerts`.
_COMPONENT = ("services", "workers", "jobs", "functions")
ALERT_SCOPE = {
    "CPU_UTILIZATION": _COMPONENT, "MEM_UTILIZATION": _COMPONENT, "RESTART_COUNT": _COMPONENT,
    "DEPLOYMENT_FAILED": ("app",), "DEPLOYMENT_LIVE": ("app",), "DEPLOYMENT_STARTED": ("app",),
    "DEPLOYMENT_CANCELED": ("app",), "DOMAIN_FAILED": ("app",), "DOMAIN_LIVE": ("app",),
    "AUTOSCALE_FAILED": ("app",), "AUTOSCALE_SUCCEEDED": ("app",),
    "JOB_INVOCATION_FAILED": ("scheduled job",),
    "FUNCTIONS_ACTIVATION_COUNT": ("functions",), "FUNCTIONS_AVERAGE_DURATION_MS": ("functions",),
    "FUNCTIONS_ERROR_RATE_PER_MINUTE": ("functions",), "FUNCTIONS_AVERAGE_WAIT_TIME_MS": ("functions",),
    "FUNCTIONS_ERROR_COUNT": ("functions",), "FUNCTIONS_GB_RATE_PER_SECOND": ("functions",),
    "REQUESTS_PER_SECOND": ("services",), "REQUEST_DURATION_P95_MS": ("services",),
}
SCOPE_WORDS = {"app": "the app-level alerts", "services": "services", "workers": "workers",
               "jobs": "jobs", "functions": "functions components",
               "scheduled job": "jobs of kind SCHEDULED"}


def _finding(rule, parts, message, hint):
    return {"path": json_path(parts), "message": message, "hint": hint, "check": "rule:" + rule}


def unique_names(spec):
    seen, out = {}, []
    for kind, index, component in components(spec, NAMED_KINDS):
        name = component.get("name")
        if not isinstance(name, str):
            continue
        if name in seen:
            first = seen[name]
            out.append(_finding("unique-names", [kind, index, "name"],
                                "component name %r is already used by %s" % (name, json_path(first[:2])),
                                "component names must be unique within an app: rename one of them"))
        else:
            seen[name] = [kind, index, "name"]
    return out


def one_source(spec):
    out = []
    for kind, index, component in components(spec):
        kinds_sources = SOURCES if kind in ("services", "workers", "jobs") else GIT_SOURCES
        present = [s for s in kinds_sources if component.get(s) is not None]
        for extra in present[1:]:
            out.append(_finding("one-source", [kind, index, extra],
                                "%s %r has more than one source: %s" % (
                                    SINGULAR[kind], component.get("name"), " and ".join(present)),
                                "keep exactly one of git, github, gitlab, bitbucket or image"))
    return out


def count_autoscaling(spec):
    out = []
    for kind, index, component in components(spec, ("services", "workers")):
        if component.get("autoscaling") is not None and component.get("instance_count") is not None:
            out.append(_finding("count-autoscaling", [kind, index, "instance_count"],
                                "%s %r sets instance_count and autoscaling" % (SINGULAR[kind], component.get("name")),
                                "remove instance_count: autoscaling's min/max_instance_count decide"))
    return out


def tag_digest(spec):
    out = []
    for kind, index, component in components(spec, IMAGE_KINDS):
        image = component.get("image")
        if isinstance(image, dict) and image.get("tag") not in (None, "") and image.get("digest") not in (None, ""):
            out.append(_finding("tag-digest", [kind, index, "image", "digest"],
                                "image of %s %r sets both tag and digest" % (SINGULAR[kind], component.get("name")),
                                "keep one: the digest pins the image, the tag follows it"))
    return out


def _scopes_of(kind, component):
    if kind == "jobs" and component.get("kind") == "SCHEDULED":
        return {"jobs", "scheduled job"}
    return {kind}


def _words(scopes):
    words = [SCOPE_WORDS[s] for s in scopes]
    return words[0] if len(words) == 1 else "%s or %s" % (", ".join(words[:-1]), words[-1])


def alert_scope(spec):
    out = []
    places = [("app", ["alerts"], spec.get("alerts"), {"app"}, "the app")]
    for kind, index, component in components(spec):
        places.append((kind, [kind, index, "alerts"], component.get("alerts"), _scopes_of(kind, component),
                       "%s %r" % (SINGULAR[kind], component.get("name"))))
    for _kind, parts, alerts, scopes, where in places:
        if not isinstance(alerts, list):
            continue
        for index, alert in enumerate(alerts):
            rule = alert.get("rule") if isinstance(alert, dict) else None
            allowed = ALERT_SCOPE.get(rule)
            if allowed is None or scopes & set(allowed):
                continue
            out.append(_finding("alert-scope", parts + [index, "rule"],
                                "alert rule %s does not apply to %s" % (rule, where),
                                "App Platform applies %s only to %s" % (rule, _words(allowed))))
    return out


RULES = [
    ("unique-names", unique_names),
    ("one-source", one_source),
    ("count-autoscaling", count_autoscaling),
    ("tag-digest", tag_digest),
    ("alert-scope", alert_scope),
]


def rule_findings(spec):
    """Findings of every rule in RULES (a spec that is not a mapping has none)."""
    if not isinstance(spec, dict):
        return []
    out = []
    for _rule_id, check in RULES:
        out.extend(check(spec))
    return out


def validate_app_spec(spec):
    """Validate an App Spec: schema, then the cross-field rules (``RULES`` here).

    Returns a list of findings sorted by path, [] when valid. Each finding is
    ``{"path": "$.services[0].image.registry_type", "message": ..., "hint": ...,
    "check": "schema" | "rule:<rule id>"}``: one per defect, at the offending field,
    never quoting an env value or credential.
    """
    findings = [dict(f, check="schema") for f in schema_findings(spec)]
    findings.extend(rule_findings(spec))
    findings.sort(key=lambda f: (f["path"], f["message"]))
    return findings
