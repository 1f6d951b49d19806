"""do_app_spec_schema: the fields godo defines are accepted; findings point at the offending
field, give a hint only where one applies, one per defect, and never quote an env value."""
import copy
import json

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._spec.schema import (
    OVERLAY, REGION_HINT, app_spec_schema)
from ansible_collections.tachyon.infra.plugins.module_utils._spec.rules import validate_app_spec

SECRET = "hunter2-" + "x9Q4"  # pragma: allowlist secret
BASE = {
    "name": "sample",
    "region": "nyc",
    "services": [{"name": "web", "github": {"repo": "digitalocean/sample-golang", "branch": "main"},
                  "http_port": 8080}],
}


def spec(**changes):
    out = copy.deepcopy(BASE)
    out.update(changes)
    return out


def service(**fields):
    out = copy.deepcopy(BASE["services"][0])
    out.update(fields)
    return spec(services=[out])


def paths(findings):
    return [f["path"] for f in findings]


# Fields and values godo's apps.gen.go defines that the vendored OpenAPI excerpt lacked (the
# issue's list); no public spec in tests/specs uses some of them, so each is checked here.
@pytest.mark.parametrize("case", [
    service(autoscaling={"min_instance_count": 2, "max_instance_count": 4, "metrics": {"cpu": {"percent": 70}}}),
    service(autoscaling={"min_instance_count": 1, "max_instance_count": 3,
                         "metrics": {"requests_per_second": {"per_instance": 50}, "request_duration": {"p95_milliseconds": 300}}}),
    service(alerts=[{"rule": "CPU_UTILIZATION", "operator": "GREATER_THAN", "value": 75.5, "window": "FIVE_MINUTES"},
                    {"rule": "REQUESTS_PER_SECOND", "operator": "GREATER_THAN", "value": 100, "window": "ONE_HOUR"}]),
    service(inactivity_sleep={"after_seconds": 600, "loading_page": {"enabled": True, "custom_url": "https://example.com/wait"}}),
    service(health_check={"path": "/healthz", "port": 8080}),
    spec(workers=[{"name": "worker", "github": {"repo": "o/r"}, "alerts": [{"rule": "RESTART_COUNT", "value": 3}]}]),
    spec(jobs=[{"name": "nightly", "github": {"repo": "o/r"}, "kind": "SCHEDULED", "timeout": "300s",
                "schedule": {"cron": "0 3 * * *", "time_zone": "Europe/Berlin"},
                "alerts": [{"rule": "JOB_INVOCATION_FAILED"}]}]),
    spec(alerts=[{"rule": "DEPLOYMENT_STARTED"}, {"rule": "DEPLOYMENT_CANCELED"}, {"rule": "DEPLOYMENT_LIVE"}]),
    spec(domains=[{"domain": "app.example.com", "type": "PRIMARY", "certificate": "3b8c1e4f-cert-id"}]),
    service(log_destinations=[{"name": "otel", "endpoint": "https://logs.example.com:4318", "tls_insecure": True,
                               "headers": [{"key": "X-Scope", "value": "tachyon"}, {"key": "X-Empty"}]}]),
    service(log_destinations=[{"name": "lt", "logtail": {"token": "tok-placeholder"}}]),  # pragma: allowlist secret
    spec(ingress={"load_balancer": "DIGITALOCEAN", "load_balancer_size": 2,
                  "secure_header": {"key": "X-Frame-Options", "value": "DENY"},
                  "rules": [{"match": {"path": {"prefix": "/api"}}, "component": {"name": "web", "preserve_path_prefix": True}},
                            {"match": {"path": {"exact": "/health"}, "authority": {"prefix": "app."}},
                             "component": {"name": "web"}}]}),
    service(image={"registry_type": "UNSPECIFIED", "repository": "x", "tag": "1"}, github=None),
])
def test_godo_fields_are_accepted(case):
    case = json.loads(json.dumps(case))
    for component in case.get("services", []):
        if component.get("github") is None:
            component.pop("github", None)
    assert validate_app_spec(case) == []


def test_every_overlay_entry_names_its_source():
    assert all(source.startswith(("godo apps.gen.go@",)) for _m, _p, _v, source in OVERLAY)
    assert app_spec_schema()["$defs"]["resources.apps.models.app_job_spec.yml"]["properties"]["kind"]["enum"][-1] == "SCHEDULED"


@pytest.mark.parametrize("case, path, message, hint", [
    (service(http_prot=80), "$.services[0].http_prot", "unknown field 'http_prot'", "did you mean 'http_port'?"),
    (service(autoscaling={"min_instance_count": 1, "metrics": {"cpu": {"percnt": 50}}}),
     "$.services[0].autoscaling.metrics.cpu.percnt", "unknown field 'percnt'", "did you mean 'percent'?"),
    (spec(services=[{"github": {"repo": "o/r"}}]), "$.services[0].name", "required field 'name' is missing", ""),
    (spec(region="nyc3"), "$.region", "'nyc3' is not one of the allowed values", REGION_HINT),
    (spec(region="mars"), "$.region", "'mars' is not one of the allowed values", "use one of: atl, nyc"),
    (service(image={"registry_type": "ghcr", "repository": "x"}, github=None), "$.services[0].image.registry_type",
     "'ghcr' is not one of the allowed values", "values are case-sensitive: write 'GHCR'"),
    (service(instance_size_slug="apps-s-9vcpu"), "$.services[0].instance_size_slug",
     "'apps-s-9vcpu' is not one of the allowed values", "use one of: apps-s-1vcpu-0.5gb"),
    (service(http_port="8080"), "$.services[0].http_port", "expected integer, got string", ""),
    (spec(name="x"), "$.name", "'x' does not match ^[a-z][a-z0-9-]{0,30}[a-z0-9]$", ""),
    (spec(static_sites=[{"name": "site", "github": {"repo": "o/r"}, "run_command": "serve"}]),
     "$.static_sites[0].run_command", "field 'run_command' is not allowed here", "App Platform does not accept it"),
])
def test_finding_points_at_the_field_with_a_fitting_hint(case, path, message, hint):
    case = json.loads(json.dumps(case))
    for component in case.get("services", []):
        if component.get("github") is None:
            component.pop("github", None)
    findings = validate_app_spec(case)
    assert paths(findings) == [path], findings
    assert findings[0]["message"] == message
    assert findings[0]["hint"].startswith(hint) if hint else findings[0]["hint"] == ""


def test_region_hint_only_for_datacenter_slugs():
    """The datacenter-slug hint applies to 'nyc3', not to 'xyz1' (no region xyz) or a domain type."""
    assert validate_app_spec(spec(region="xyz1"))[0]["hint"].startswith("use one of:")
    domain = validate_app_spec(spec(domains=[{"domain": "example.com", "type": "primary"}]))
    assert domain[0]["hint"] == "values are case-sensitive: write 'PRIMARY'"


def test_one_finding_per_defect():
    # a 1-character name is too short AND off-pattern: one finding; two unknown keys: two
    findings = validate_app_spec(spec(name="x", services=[dict(BASE["services"][0], http_prot=1, instanse_count=2)]))
    assert paths(findings) == ["$.name", "$.services[0].http_prot", "$.services[0].instanse_count"]


@pytest.mark.parametrize("envs, path, message", [
    ({"DATABASE_URL": "postgresql://u:%s@db:5432/app" % SECRET, "TOKEN": SECRET}, "$.services[0].envs",  # pragma: allowlist secret
     "envs must be a list of variables, not a mapping"),
    (["DATABASE_URL=postgresql://u:%s@db:5432/app" % SECRET], "$.services[0].envs[0]",  # pragma: allowlist secret
     "an env must be an object, not a KEY=VALUE string"),
    ([{"key": "TOKEN", "value": 12345678, "type": "SECRET"}], "$.services[0].envs[0].value", "expected string, got integer"),
    ([{"key": "BAD KEY=%s" % SECRET, "value": SECRET}], "$.services[0].envs[0].key",
     "the value does not match ^[_A-Za-z][_A-Za-z0-9]*$"),
    ([{"key": "TOKEN", "value": SECRET, "scope": SECRET}], "$.services[0].envs[0].scope", "the value is not one of the allowed values"),
])
def test_env_values_are_never_quoted(envs, path, message):
    findings = validate_app_spec(service(envs=envs))
    assert paths(findings) == [path]
    assert findings[0]["message"] == message
    text = json.dumps(findings)
    assert SECRET not in text and "12345678" not in text


def test_app_level_envs_as_mapping():
    findings = validate_app_spec(spec(envs={"API_KEY": SECRET}))
    assert [(f["path"], f["message"]) for f in findings] == [("$.envs", "envs must be a list of variables, not a mapping")]
    assert SECRET not in json.dumps(findings)


def test_credentials_outside_envs_are_not_quoted():
    findings = validate_app_spec(service(log_destinations=[{"name": "dd", "datadog": {"api_key": 42}}],
                                         image=None))
    assert paths(findings) == ["$.services[0].image", "$.services[0].log_destinations[0].datadog.api_key"]
    assert "42" not in json.dumps([f["message"] for f in findings])
