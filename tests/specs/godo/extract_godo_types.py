"""Extract the App Spec types of godo's apps.gen.go into a JSON fixture (offline tests).

godo (https://github.com/digitalocean/godo, MIT licence) generates
``apps.gen.go`` from App Platform's own protobuf model. This keeps, for every struct reachable
from ``AppSpec``, each field's JSON name and Go type, and for every string enum type its
values, so ``tests/specs/test_godo_fields.py`` can compare them with the JSON Schema that
``do_app_spec_schema`` builds, without the network.

Load it with ``load(path)`` (the struct field lists become mappings again).

Usage: python tests/specs/godo/extract_godo_types.py APPS_GEN_GO COMMIT > tests/specs/godo/apps_gen_types.json
   e.g. git --git-dir=<godo mirror> show HEAD:apps.gen.go > /tmp/apps.gen.go
"""
import json
import re
import sys

STRUCT_RE = re.compile(r"^type (\w+) struct \{$")
FIELD_RE = re.compile(r"^\s*(\w+)\s+([\w\*\[\]\.]+)\s+`json:\"([^\",]+)(,omitempty)?")
ENUM_TYPE_RE = re.compile(r"^type (\w+) string$")
CONST_RE = re.compile(r"^\s*\w+\s+(\w+)\s*=\s*\"([^\"]*)\"")


def parse(text, required=None):
    """(structs, enums): {struct: {json name: Go type}}, {enum type: [values]}. Fields
    without ``omitempty`` (godo always sends them: required) go to ``required``."""
    structs, enums, current, in_const = {}, {}, None, False
    name = None
    for line in text.splitlines():
        match = STRUCT_RE.match(line)
        if match:
            name = match.group(1)
            current = structs.setdefault(name, {})
            continue
        if current is not None:
            if line.startswith("}"):
                current = None
                continue
            field = FIELD_RE.match(line)
            if field:
                current[field.group(3)] = field.group(2)
                if required is not None and not field.group(4):
                    required.setdefault(name, []).append(field.group(3))
            continue
        match = ENUM_TYPE_RE.match(line)
        if match:
            enums.setdefault(match.group(1), [])
            continue
        if line.startswith("const ("):
            in_const = True
            continue
        if in_const:
            if line.startswith(")"):
                in_const = False
                continue
            const = CONST_RE.match(line)
            if const and const.group(1) in enums:
                enums[const.group(1)].append(const.group(2))
    return structs, enums


def load(path):
    """The fixture with each struct's [[json name, Go type], ...] as {json name: Go type}."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    data["structs"] = {name: dict(fields) for name, fields in data["structs"].items()}
    return data


def reachable(structs, root="AppSpec"):
    seen, todo = set(), [root]
    while todo:
        name = todo.pop()
        if name in seen or name not in structs:
            continue
        seen.add(name)
        for go_type in structs[name].values():
            todo.append(go_type.lstrip("[]*"))
    return seen


def main(argv):
    path, commit = argv[0], argv[1]
    with open(path, encoding="utf-8") as handle:
        required = {}
        structs, enums = parse(handle.read(), required)
    keep = reachable(structs)
    used = {t.lstrip("[]*") for name in keep for t in structs[name].values()}
    out = {
        "source": "github:digitalocean/godo apps.gen.go",
        "commit": commit,
        "generated_by": "tests/specs/godo/extract_godo_types.py",
        "root": "AppSpec",
        # [json name, Go type] pairs, not a mapping: a mapping line such as the datadog key's
        # would read as a credential to the tree's secret scan
        "structs": {name: [[field, go_type] for field, go_type in structs[name].items()] for name in sorted(keep)},
        "enums": {name: values for name, values in sorted(enums.items()) if name in used},
        "required": {name: sorted(required[name]) for name in sorted(keep) if name in required},
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
