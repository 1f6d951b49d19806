"""AWX: the workflow's release-notes node (awx/release_notes.yml) runs playbooks/release_notes.yml
on the production inventory without any credential, right before the approval node, whose
description points the approver at the artifacts that playbook sets."""
import os

import yaml
from ansible.parsing.dataloader import DataLoader

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _load(name):
    return DataLoader().load_from_file(os.path.join(ROOT, "awx", name))


def test_the_notes_template_reads_only_the_manifest_and_the_repos():
    (template,) = _load("release_notes.yml")["tachyon_awx_notes_templates"]
    assert template["playbook"] == "playbooks/release_notes.yml" and template["credentials"] == []
    inventories = {i["name"]: i["source_path"] for i in _load("project.yml")["tachyon_awx_inventories"]}
    assert inventories[template["inventory"]] == "inventories/production"
    assert template["allow_simultaneous"] is False


def test_the_approval_node_points_at_the_artifacts_the_playbook_sets():
    (workflow,) = _load("job_templates.yml")["tachyon_awx_workflows"]
    nodes = {n["identifier"]: n for n in workflow["nodes"]}
    assert nodes["release-notes"]["success_nodes"] == ["approve-production"]
    description = " ".join(nodes["approve-production"]["approval"]["description"].split())
    assert "release notes" in description and "tachyon_release_notes" in description
    with open(os.path.join(ROOT, "playbooks", "release_notes.yml"), encoding="utf-8") as handle:
        (play,) = yaml.safe_load(handle)
    (stats,) = [t for t in play["tasks"] if "ansible.builtin.set_stats" in t]
    assert set(stats["ansible.builtin.set_stats"]["data"]) == {"tachyon_release_notes"}
    # the workflow survey's release is the notes' "to" side
    assert "tachyon_version" in play["vars"]["to_version"]
    assert {q["variable"] for q in workflow["survey"]["spec"]} >= {"tachyon_version"}
