"""The App Spec schema (vendored OpenAPI + overlay) against godo's App Spec types, field by field.

Compared: field names, JSON types, enum values, and required fields (a godo field without
``omitempty`` is always sent, so the schema requires it).

godo's apps.gen.go is generated from App Platform's own model; its types reachable from
AppSpec are committed as godo/apps_gen_types.json (source and commit inside, extracted by
godo/extract_godo_types.py), so this runs offline. Every field godo has must be accepted
with the same JSON type, every godo enum value must be allowed, and every field the schema
has must exist in godo, except the differences listed in KNOWN_DIFFERENCES with a reason.
"""
import json
import os

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._spec.schema import (
    GODO_COMMIT, app_spec_schema)

HERE = os.path.dirname(os.path.abspath(__file__))
GODO_TYPES = os.path.join(HERE, "godo", "apps_gen_types.json")
GO_JSON = {"string": "string", "bool": "boolean", "int64": "integer", "int32": "integer", "float32": "number"}

# Differences kept on purpose, each with its reason (DigitalOcean's own sources disagree).
KNOWN_DIFFERENCES = {
    "$.ingress.custom_error_page_url: in the schema, not in godo":
        "OpenAPI app_ingress_spec.yml declares it (newer than godo's generated types)",
    "$.vpc.egress_ips: in the schema, not in godo":
        "OpenAPI apps_vpc.yml is shared by the spec and the App object; godo splits AppVpcSpec/AppVPC",
    "$.ingress.rules[].component.name: required in the schema, optional in godo":
        "OpenAPI app_ingress_spec_rule_routing_component.yml requires it: a rule routes to a named "
        "component (godo's generated struct marks every field omitempty)",
    "$.workers[].autoscaling.metrics.request_duration: in godo, not in the schema":
        "godo shares one AppAutoscalingSpec; OpenAPI app_autoscaling_spec.yml is 'CPU-only autoscaling "
        "for worker components' (workers serve no HTTP requests)",
    "$.workers[].autoscaling.metrics.requests_per_second: in godo, not in the schema":
        "same as request_duration: request metrics are for services only (OpenAPI)",
}


def _defs():
    return app_spec_schema()["$defs"]


def _deref(node):
    while isinstance(node, dict) and "$ref" in node:
        node = _defs()[node["$ref"].split("#/$defs/", 1)[1]]
    return node


def _view(node):
    """(properties, JSON types, enum or None, the node) of a schema node, refs and
    compositions resolved."""
    props, types, enum, required = {}, set(), None, set()
    stack = [node]
    while stack:
        current = _deref(stack.pop())
        if not isinstance(current, dict):
            continue
        props.update({k: v for k, v in current.get("properties", {}).items()
                      if not (isinstance(v, dict) and "x-removed" in v)})
        required.update(current.get("required", []))
        kind = current.get("type")
        if kind:
            types.update([kind] if isinstance(kind, str) else kind)
        if "enum" in current:
            enum = (enum or []) + list(current["enum"])
        for key in ("allOf", "anyOf", "oneOf"):
            stack.extend(current.get(key) or [])
    return props, types, enum, _deref(node), required


def field_differences(godo):
    """Every field/type/enum difference between godo's AppSpec tree and the schema."""
    out = []
    seen = set()

    def walk(struct, node, path):
        if (struct, path) in seen:
            return
        seen.add((struct, path))
        props, _types, _enum, _node, required = _view(node)
        fields = godo["structs"][struct]
        godo_required = set(godo["required"].get(struct, []))
        for name in sorted(godo_required - required):
            out.append("%s.%s: required in godo (no omitempty), optional in the schema" % (path, name))
        for name in sorted(required - godo_required):
            out.append("%s.%s: required in the schema, optional in godo" % (path, name))
        for name in sorted(set(fields) - set(props)):
            out.append("%s.%s: in godo, not in the schema" % (path, name))
        for name in sorted(set(props) - set(fields)):
            out.append("%s.%s: in the schema, not in godo" % (path, name))
        for name in sorted(set(fields) & set(props)):
            go_type, sub, where = fields[name], props[name], "%s.%s" % (path, name)
            base = go_type.lstrip("[]*")
            _p, types, enum, resolved, _r = _view(sub)
            if go_type.startswith("[]"):
                if "array" not in types:
                    out.append("%s: godo has a list, the schema %s" % (where, sorted(types)))
                    continue
                sub, where = resolved.get("items", {}), where + "[]"
                _p, types, enum, resolved, _r = _view(sub)
            if base in godo["structs"]:
                if types and "object" not in types:
                    out.append("%s: godo has an object, the schema %s" % (where, sorted(types)))
                walk(base, sub, where)
            elif base in godo["enums"]:
                values = godo["enums"][base]
                if enum is None:
                    out.append("%s: godo has enum %s, the schema none" % (where, values))
                    continue
                missing = [v for v in values if v not in enum]
                extra = [v for v in enum if v not in values]
                if missing:
                    out.append("%s: enum values in godo, not in the schema: %s" % (where, missing))
                if extra:
                    out.append("%s: enum values in the schema, not in godo: %s" % (where, extra))
            else:
                want = GO_JSON[base]
                if want not in types:
                    out.append("%s: godo has %s, the schema %s" % (where, want, sorted(types) or "any"))

    walk(godo["root"], app_spec_schema(), "$")
    return out


def _extractor():
    from importlib.machinery import SourceFileLoader

    return SourceFileLoader("extract_godo_types", os.path.join(HERE, "godo", "extract_godo_types.py")).load_module()


@pytest.fixture(scope="module")
def godo():
    return _extractor().load(GODO_TYPES)


def test_fixture_is_the_commit_the_schema_cites(godo):
    assert godo["commit"] == GODO_COMMIT
    assert godo["source"] == "github:digitalocean/godo apps.gen.go"
    assert "AppSpec" in godo["structs"] and "AppServiceSpec" in godo["structs"]


def test_schema_and_godo_have_the_same_fields(godo):
    differences = field_differences(godo)
    unexplained = [d for d in differences if d not in KNOWN_DIFFERENCES]
    assert unexplained == [], "\n".join(unexplained)
    stale = sorted(set(KNOWN_DIFFERENCES) - set(differences))
    assert stale == [], "no longer different, drop from KNOWN_DIFFERENCES: %s" % stale


def test_the_comparison_sees_a_missing_field_and_enum_value(godo):
    """The comparison itself can fail: a field and an enum value godo lacks are reported."""
    changed = json.loads(json.dumps(godo))
    del changed["structs"]["AppServiceSpec"]["inactivity_sleep"]
    changed["enums"]["AppJobSpecKind"].append("NIGHTLY")
    changed["structs"]["AppDomainSpec"]["certificate"] = "int64"
    found = field_differences(changed)
    assert "$.services[].inactivity_sleep: in the schema, not in godo" in found
    assert "$.jobs[].kind: enum values in godo, not in the schema: ['NIGHTLY']" in found
    assert "$.domains[].certificate: godo has integer, the schema ['string']" in found


def test_extractor_reads_structs_and_enums():
    extractor = _extractor()
    structs, enums = extractor.parse(
        "type AppSpec struct {\n\t// c\n\tName string `json:\"name\"`\n"
        "\tJobs []*AppJobSpec `json:\"jobs,omitempty\"`\n}\n"
        "type AppJobSpec struct {\n\tKind AppJobSpecKind `json:\"kind,omitempty\"`\n}\n"
        "type AppJobSpecKind string\n\nconst (\n\tAppJobSpecKind_Scheduled AppJobSpecKind = \"SCHEDULED\"\n)\n")
    assert structs == {"AppSpec": {"name": "string", "jobs": "[]*AppJobSpec"},
                       "AppJobSpec": {"kind": "AppJobSpecKind"}}
    assert enums == {"AppJobSpecKind": ["SCHEDULED"]}
    assert extractor.reachable(structs) == {"AppSpec", "AppJobSpec"}
