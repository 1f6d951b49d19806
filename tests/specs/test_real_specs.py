"""Real App Specs (tests/specs/INDEX.yaml): every valid one accepted, every invalid one
rejected with exactly the findings and the reason written next to it; no finding ever quotes
an env value or a credential of the spec."""
import json
import os

import pytest
import yaml

from ansible_collections.tachyon.infra.plugins.module_utils._spec import app_spec as aps

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "INDEX.yaml"), encoding="utf-8") as _handle:
    ENTRIES = yaml.safe_load(_handle)["specs"]
SECRET_KEYS = {"value", "api_key", "token", "password", "registry_credentials"}


def load(entry):
    with open(os.path.join(HERE, "corpus", entry["file"]), encoding="utf-8") as handle:
        text = handle.read()
    if entry.get("format") == "json":
        doc = json.loads("\n".join(l for l in text.splitlines() if not l.startswith("#")))
    else:
        doc = yaml.safe_load(text)
    return doc[entry["extract"]] if entry.get("extract") else doc


def secret_values(node, inside_envs=False):
    """Env values (whatever the envs' shape) and credential fields of a spec."""
    out = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "envs":
                out |= secret_values(value, True)
            elif inside_envs and not isinstance(value, (dict, list)):
                out.add(str(value))
            elif key in SECRET_KEYS and isinstance(value, str):
                out.add(value)
            else:
                out |= secret_values(value, inside_envs)
    elif isinstance(node, list):
        for value in node:
            if inside_envs and isinstance(value, str):
                out.add(value)
                out.add(value.split("=", 1)[-1])
            else:
                out |= secret_values(value, inside_envs)
    return {v for v in out if len(v) >= 6}


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["file"])
def test_real_spec(entry):
    spec = load(entry)
    findings = aps.validate(spec)
    if entry["expect"] == "accepted":
        assert findings == [], "\n".join(aps.format_finding(entry["file"], f) for f in findings)
    else:
        assert entry["expect"] == "rejected" and entry["because"]
        got = [{"path": f["path"], "check": f["check"]} for f in findings]
        assert got == entry["findings"], "\n".join(aps.format_finding(entry["file"], f) for f in findings)
    text = json.dumps(findings)
    leaked = [v for v in secret_values(spec) if v in text]
    assert not leaked, "a finding quotes an env value or credential"


def test_every_entry_names_its_source_and_every_file_is_listed():
    files = set(os.listdir(os.path.join(HERE, "corpus")))
    assert files == {e["file"] for e in ENTRIES}
    for entry in ENTRIES:
        with open(os.path.join(HERE, "corpus", entry["file"]), encoding="utf-8") as handle:
            first = handle.readline()
            if first.startswith("# yamllint disable-file"):
                first = handle.readline()
        if "derived_from" in entry:
            assert entry["defect"] and entry["derived_from"] in files and first.startswith("# derived from ")
        else:
            assert entry["source"] and first.startswith("# source: ")
            if entry["source"].startswith("github:"):
                assert len(entry["commit"]) == 40 and entry["commit"] in first


def test_corpus_covers_what_real_specs_use():
    accepted = [load(e) for e in ENTRIES if e["expect"] == "accepted" and "derived_from" not in e]
    assert len(accepted) >= 30

    def components(spec, kinds=("services", "workers", "jobs", "static_sites", "functions")):
        return [c for kind in kinds for c in spec.get(kind) or []]

    seen = set()
    for spec in accepted:
        seen |= {key for key in ("services", "workers", "jobs", "static_sites", "functions", "databases",
                                 "domains", "alerts", "ingress", "envs") if spec.get(key)}
        for component in components(spec):
            seen |= {key for key in ("image", "git", "github", "gitlab", "autoscaling", "alerts",
                                     "log_destinations", "inactivity_sleep") if component.get(key)}
        for rule in (spec.get("ingress") or {}).get("rules") or []:
            if (rule.get("component") or {}).get("preserve_path_prefix") is True:
                seen.add("preserve_path_prefix")
    assert seen >= {"services", "workers", "jobs", "static_sites", "functions", "databases", "domains",
                    "alerts", "ingress", "image", "git", "github", "autoscaling", "log_destinations",
                    "inactivity_sleep", "preserve_path_prefix"}, seen
