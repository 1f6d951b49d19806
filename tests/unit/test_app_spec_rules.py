"""app_spec_rules: the cross-field rules App Platform enforces, each at the offending field."""
import copy

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._spec import rules
from ansible_collections.tachyon.infra.plugins.module_utils._spec.rules import validate_app_spec

GIT = {"repo": "digitalocean/sample-golang", "branch": "main"}
IMAGE = {"registry_type": "DOCKER_HUB", "registry": "library", "repository": "nginx", "tag": "1.27"}
BASE = {"name": "sample", "region": "nyc", "services": [{"name": "web", "github": GIT}]}


def spec(**changes):
    out = copy.deepcopy(BASE)
    out.update(copy.deepcopy(changes))
    return out


def found(case):
    return [(f["path"], f["check"]) for f in validate_app_spec(case)]


def test_every_rule_is_documented_with_a_source():
    for rule_id, check in rules.RULES:
        assert rule_id in rules.__doc__ and callable(check)
    assert rules.__doc__.count("DigitalOcean source") == 1


def test_duplicate_component_names_across_kinds():
    case = spec(workers=[{"name": "web", "github": GIT}], databases=[{"name": "web", "engine": "PG"}])
    assert found(case) == [("$.databases[0].name", "rule:unique-names"), ("$.workers[0].name", "rule:unique-names")]
    message = validate_app_spec(case)[1]["message"]
    assert message == "component name 'web' is already used by $.services[0]"


@pytest.mark.parametrize("kind, extra, path", [
    ("services", {"image": IMAGE}, "$.services[0].image"),
    ("services", {"gitlab": {"repo": "o/r"}}, "$.services[0].gitlab"),
    ("workers", {"image": IMAGE}, "$.workers[0].image"),
    ("static_sites", {"bitbucket": {"repo": "o/r"}}, "$.static_sites[0].bitbucket"),
])
def test_one_source_per_component(kind, extra, path):
    component = dict({"name": "comp", "github": GIT}, **extra)
    case = spec(**{kind: [component]}) if kind != "services" else spec(services=[component])
    results = [f for f in validate_app_spec(case) if f["check"] == "rule:one-source"]
    assert [f["path"] for f in results] == [path]
    assert "more than one source" in results[0]["message"]
    assert results[0]["hint"] == "keep exactly one of git, github, gitlab, bitbucket or image"


def test_three_sources_are_two_findings():
    case = spec(services=[{"name": "web", "github": GIT, "gitlab": {"repo": "o/r"}, "image": IMAGE}])
    assert found(case) == [("$.services[0].gitlab", "rule:one-source"), ("$.services[0].image", "rule:one-source")]


@pytest.mark.parametrize("kind", ["services", "workers"])
def test_instance_count_with_autoscaling(kind):
    component = {"name": "comp", "github": GIT, "instance_count": 2,
                 "autoscaling": {"min_instance_count": 2, "max_instance_count": 4, "metrics": {"cpu": {"percent": 80}}}}
    case = spec(**{kind: [component]}) if kind != "services" else spec(services=[component])
    assert found(case) == [("$.%s[0].instance_count" % kind, "rule:count-autoscaling")]
    del component["instance_count"]
    assert found(spec(**{kind: [component]}) if kind != "services" else spec(services=[component])) == []


def test_tag_with_digest():
    image = dict(IMAGE, digest="sha256:" + "ab" * 32)
    assert found(spec(services=[{"name": "web", "image": image}])) == [("$.services[0].image.digest", "rule:tag-digest")]
    del image["tag"]
    assert found(spec(services=[{"name": "web", "image": image}])) == []


@pytest.mark.parametrize("where, rule, ok", [
    ("app", "DEPLOYMENT_FAILED", True), ("app", "DOMAIN_LIVE", True), ("app", "AUTOSCALE_FAILED", True),
    ("app", "CPU_UTILIZATION", False), ("app", "MEM_UTILIZATION", False), ("app", "RESTART_COUNT", False),
    ("app", "REQUESTS_PER_SECOND", False), ("app", "JOB_INVOCATION_FAILED", False),
    ("app", "FUNCTIONS_ERROR_COUNT", False),
    ("services", "CPU_UTILIZATION", True), ("services", "REQUEST_DURATION_P95_MS", True),
    ("services", "DEPLOYMENT_FAILED", False), ("services", "FUNCTIONS_ERROR_COUNT", False),
    ("workers", "RESTART_COUNT", True), ("workers", "REQUESTS_PER_SECOND", False),
    ("jobs", "JOB_INVOCATION_FAILED", False), ("scheduled", "JOB_INVOCATION_FAILED", True),
    ("functions", "FUNCTIONS_ACTIVATION_COUNT", True), ("functions", "DOMAIN_FAILED", False),
])
def test_alert_rule_scope(where, rule, ok):
    alerts = [{"rule": rule}]
    if where == "app":
        case = spec(alerts=alerts)
        path = "$.alerts[0].rule"
    elif where in ("jobs", "scheduled"):
        job = {"name": "job", "github": GIT, "kind": "SCHEDULED" if where == "scheduled" else "PRE_DEPLOY",
               "alerts": alerts}
        if where == "scheduled":
            job["schedule"] = {"cron": "*/5 * * * *"}
        case = spec(jobs=[job])
        path = "$.jobs[0].alerts[0].rule"
    else:
        case = spec(**{where: [{"name": "comp", "github": GIT, "alerts": alerts}]}) if where != "services" \
            else spec(services=[{"name": "web", "github": GIT, "alerts": alerts}])
        path = "$.%s[0].alerts[0].rule" % where
    findings = validate_app_spec(case)
    if ok:
        assert findings == []
    else:
        assert [(f["path"], f["check"]) for f in findings] == [(path, "rule:alert-scope")]
        assert findings[0]["hint"].startswith("App Platform applies %s only to " % rule)


def test_rules_tolerate_malformed_specs():
    """The schema reports the shape; the rules neither crash nor add findings of their own."""
    for case in ({"name": "x1", "services": "web"}, {"name": "ab", "services": [None, 3]},
                 {"name": "ab", "alerts": ["DEPLOYMENT_FAILED"]}, ["not", "a", "mapping"]):
        assert rules.rule_findings(case) == []
        validate_app_spec(case)
