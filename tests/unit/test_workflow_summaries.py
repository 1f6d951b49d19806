"""The deploy workflows' job summaries: the release notes are made before the deploy (and, in
deploy-prod, shown in the validate job, before the production reviewers are asked), and the
deploy step hands the playbook $GITHUB_STEP_SUMMARY and the notes file as data."""
import shutil

import pytest

from test_workflows import DEPLOY, _data, _run_deploy_step, load, option, playbook_calls, steps

NOTES = "playbooks/release_notes.yml"


@pytest.mark.parametrize("name,inventory", [("deploy-staging.yml", "staging"), ("deploy-prod.yml", "production")])
def test_the_notes_are_made_before_the_deploy_and_never_gate_it(name, inventory):
    workflow = load(name)
    ordered = [(i, s) for job, i, s in steps(workflow) if job == "deploy"]
    (notes_at, notes_step), = [(i, s) for i, s in ordered if NOTES in s.get("run", "")]
    (deploy_at, _step), = [(i, s) for i, s in ordered if DEPLOY in s.get("run", "")]
    assert notes_at < deploy_at and notes_step.get("continue-on-error") is True
    (_job, argv, _step), = playbook_calls(workflow, "deploy", playbook=NOTES)
    assert option(argv, "-i") == ["inventories/" + inventory]
    assert option(argv, "-e") == ["format=markdown", "notes_output=$RUNNER_TEMP/release-notes.md"]
    assert "secrets." not in str(notes_step.get("env"))


def test_deploy_prod_shows_the_notes_before_the_approval():
    workflow = load("deploy-prod.yml")
    (_job, argv, step), = playbook_calls(workflow, "validate", playbook=NOTES)
    assert "environment" not in workflow["jobs"]["validate"]
    assert option(argv, "-i") == ["inventories/production"]
    # the notes reach $GITHUB_STEP_SUMMARY through scripts/step-summary.py (capped under GitHub's
    # 1 MiB; tests/workflows/test_step_summary.py shows it appends to $GITHUB_STEP_SUMMARY)
    assert 'scripts/step-summary.py "$RUNNER_TEMP/release-notes.md" release-notes' in step["run"]
    assert "secrets." not in str(step.get("env"))


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed (GitHub runners have it)")
@pytest.mark.parametrize("name,env", [
    ("deploy-staging.yml", {"VERSION": "", "API_SHA": "", "WORKERS_SHA": "", "DB_SHA": "", "DEPLOYED_BY": "octocat"}),
    ("deploy-prod.yml", {"VERSION": "0.2.0", "APPROVED_BY": "reviewer-1", "DEPLOYED_BY": "octocat"}),
])
def test_the_deploy_gets_the_step_summary_and_the_notes_file(tmp_path, name, env):
    summary = str(tmp_path / "step_summary")
    _argv, extra = _run_deploy_step(tmp_path, name, dict(env, GITHUB_STEP_SUMMARY=summary))
    assert extra["tachyon_summary_path"] == _data(summary)
    assert extra["tachyon_summary_notes_path"] == _data(str(tmp_path / "release-notes.md"))
