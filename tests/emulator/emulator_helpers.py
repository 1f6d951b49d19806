"""Helpers of the emulator conformance suite: validation of response bodies against the
vendored OpenAPI response schemas, and deployment polling."""
import copy
import functools
import time

import jsonschema

from ansible_collections.tachyon.infra.plugins.module_utils._spec.schema import app_spec_schema

# Fields the emulator returns that the vendored App model lacks but the real API sends
# (godo's App has them); everything else must be declared by the OpenAPI models.
UNDECLARED_APP_FIELDS = ("last_deployment_active_at",)
# The same for the Deployment model: cause_details (godo's DeploymentCauseDetails).
UNDECLARED_DEPLOYMENT_FIELDS = ("cause_details",)
SHARED_ERRORS = {401: "unauthorized", 404: "not_found", 429: "too_many_requests", 500: "server_error"}


def _strip_undeclared(node):
    if isinstance(node, dict):
        if "owner_uuid" in node and "spec" in node:  # an App object
            for key in UNDECLARED_APP_FIELDS:
                node.pop(key, None)
        if "progress" in node and "phase" in node:  # a Deployment object
            for key in UNDECLARED_DEPLOYMENT_FIELDS:
                node.pop(key, None)
        for value in node.values():
            _strip_undeclared(value)
    elif isinstance(node, list):
        for value in node:
            _strip_undeclared(value)
    return node


@functools.lru_cache(maxsize=None)
def _validator(response):
    defs = app_spec_schema()["$defs"]
    key = ("shared.responses.%s.yml" % response.split(".", 1)[1]) if response.startswith("shared.") \
        else "resources.apps.responses.%s.yml" % response
    assert key in defs, key
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": defs,
              "$ref": "#/$defs/%s/content/application~1json/schema" % key}
    return jsonschema.Draft202012Validator(schema)


def conforms(body, response):
    """Validate ``body`` against ``response`` ('update_app', 'list_deployment', or a shared
    one such as 'shared.not_found'). Models are closed (unknown keys fail), as in
    do_app_spec_schema; returns the body."""
    errors = sorted(_validator(response).iter_errors(_strip_undeclared(copy.deepcopy(body))), key=lambda e: list(e.path))
    assert not errors, "\n".join("%s: %s" % (list(e.absolute_path), e.message) for e in errors[:5])
    return body


def conforms_error(response, status):
    """An HTTP error response: status, DigitalOcean's error body, rate-limit headers."""
    assert response.status_code == status, response.text
    body = response.json()
    conforms(body, "shared.%s" % {401: "unauthorized", 404: "not_found", 429: "too_many_requests",
                                  500: "server_error"}.get(status, "bad_request"))
    assert body["request_id"]
    if status in SHARED_ERRORS:
        assert body["id"] == SHARED_ERRORS[status]
    return body


def wait_phase(client, app_id, dep_id, phases=("ACTIVE", "ERROR", "CANCELED", "SUPERSEDED"), timeout=20):
    """Poll a deployment (validating every body) until its phase is one of ``phases``;
    returns (deployment, phases seen in order)."""
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        dep = conforms(client.apps.get_deployment(app_id, dep_id), "list_deployment")["deployment"]
        if not seen or seen[-1] != dep["phase"]:
            seen.append(dep["phase"])
        if dep["phase"] in phases:
            return dep, seen
        assert time.monotonic() < deadline, "deployment %s stuck in %s" % (dep_id, seen)
        time.sleep(0.01)


def with_tag(spec, tag, component="api"):
    spec = copy.deepcopy(spec)
    for key in ("services", "workers", "jobs"):
        for comp in spec.get(key) or []:
            if comp["name"] == component:
                comp["image"]["tag"] = tag
    return spec
