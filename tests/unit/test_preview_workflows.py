"""The preview workflows (issue 16): the reusable preview.yml a service repo calls on its pull
requests (deploy the preview and comment its URL; destroy it on close), build-push.yml building
the PR's head commit without moving :latest, and the hub's scheduled reaper. The generic checks
(pins, least privilege, no secret in a script, no expression pasted into a script, actionlint)
run on these files in test_workflows.py and test_workflow_pins.py."""
import json
import os
import shutil
import subprocess

import pytest

from test_workflows import ROOT, load, option, playbook_calls, steps

HAS_JQ = shutil.which("jq") is not None


def _run_step(tmp_path, name, job, env, playbook_output=""):
    """Run the playbook step of ``job`` as written, .venv/bin/ansible-playbook replaced by a
    recorder that prints ``playbook_output``: returns (argv, extra vars, GITHUB_OUTPUT text)."""
    project = tmp_path / "project"
    (project / ".venv" / "bin").mkdir(parents=True)
    recorder = project / ".venv" / "bin" / "ansible-playbook"
    recorder.write_text('#!/usr/bin/env python3\nimport json, sys\nargs = sys.argv[1:]\n'
                        'extra = [json.load(open(a[1:])) for a in args if a.startswith("@")]\n'
                        'json.dump({"argv": args, "extra": extra}, open(%r, "w"))\nprint(%r)\n'
                        % (str(tmp_path / "called.json"), playbook_output), encoding="utf-8")
    recorder.chmod(0o755)
    (_job, _argv, step), = list(playbook_calls(load(name), job))
    out = tmp_path / "github_output"
    run_env = dict(os.environ, RUNNER_TEMP=str(tmp_path), GITHUB_OUTPUT=str(out),
                   GITHUB_STEP_SUMMARY=str(tmp_path / "summary"), **env)
    result = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=project, env=run_env,
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    called = json.loads((tmp_path / "called.json").read_text(encoding="utf-8"))
    return called["argv"], called["extra"][0], out.read_text() if out.exists() else ""


def _data(value):
    return {"__ansible_unsafe": value}


def test_preview_is_reusable_with_deploy_and_destroy_jobs_on_the_staging_inventory():
    workflow = load("preview.yml")
    call = workflow["on"]["workflow_call"]
    assert call["inputs"]["action"]["required"] and "digest" in call["inputs"]
    assert call["secrets"]["DIGITALOCEAN_ACCESS_TOKEN"]["required"] is True
    assert call["outputs"]["url"]["value"] == "${{ jobs.deploy.outputs.url }}"
    jobs = workflow["jobs"]
    assert jobs["deploy"]["if"] == "inputs.action == 'deploy'" and jobs["destroy"]["if"] == "inputs.action == 'destroy'"
    assert jobs["deploy"]["permissions"] == {"contents": "read", "packages": "read", "pull-requests": "write"}
    assert jobs["destroy"]["permissions"] == {"contents": "read", "pull-requests": "write"}
    for job in ("deploy", "destroy"):
        (_job, argv, step), = list(playbook_calls(workflow, job))
        assert argv[1] == "playbooks/preview.yml" and option(argv, "-i") == ["inventories/staging"]
        assert step["env"]["DIGITALOCEAN_ACCESS_TOKEN"] == "${{ secrets.DIGITALOCEAN_ACCESS_TOKEN }}"
        # the hub's playbooks, not the service repo's checkout
        checkout = [s for _j, _i, s in steps(workflow) if _j == job and s.get("uses", "").startswith("actions/checkout@")]
        assert checkout[0]["with"]["repository"] == "tachyonapp/tachyon-infra"
    # the preview gets its own secrets only: no production or staging SECRET value is handed over
    text = open(os.path.join(ROOT, ".github", "workflows", "preview.yml"), encoding="utf-8").read()
    assert "TACHYON_SECRET_" not in text and "DIGITALOCEAN_PROD_ACCESS_TOKEN" not in text
    comment = [s for _j, _i, s in steps(workflow) if _j == "deploy" and "gh api" in s.get("run", "")]
    assert comment and "issues/$PR/comments" in comment[0]["run"] and "PATCH" in comment[0]["run"]
    assert comment[0]["env"]["URL"] == "${{ steps.preview.outputs.url }}"


@pytest.mark.skipif(not HAS_JQ, reason="jq is not installed (GitHub runners have it)")
def test_preview_inputs_reach_the_playbook_as_data_and_the_url_is_an_output(tmp_path):
    env = {"REPO": "tachyonapp/tachyon-api", "PR": "42", "SHA": "a" * 40, "DIGEST": "sha256:" + "b" * 64}
    argv, extra, output = _run_step(tmp_path / "a", "preview.yml", "deploy", env,
                                    'ok: [tachyon-staging] => {"msg": ["preview x created", '
                                    '"PREVIEW_URL=https://tachyon-api-pr42-6bbbd7-abcde.ondigitalocean.app"]}')
    assert argv[:3] == ["playbooks/preview.yml", "-i", "inventories/staging"]
    assert extra == {"preview_action": "deploy", "preview_repo": _data(env["REPO"]), "preview_pr": _data("42"),
                     "preview_sha": _data(env["SHA"]), "preview_digest": _data(env["DIGEST"])}
    assert output == "url=https://tachyon-api-pr42-6bbbd7-abcde.ondigitalocean.app\n"
    _argv, extra, _out = _run_step(tmp_path / "b", "preview.yml", "destroy", {"REPO": "o/r", "PR": "7"})
    assert extra == {"preview_action": "destroy", "preview_repo": _data("o/r"), "preview_pr": _data("7")}


def test_build_push_builds_the_prs_head_commit_and_can_leave_latest_alone():
    workflow = load("build-push.yml")
    inputs = workflow["on"]["workflow_call"]["inputs"]
    assert inputs["ref"]["default"] == "" and inputs["push-latest"] == {
        "description": inputs["push-latest"]["description"], "type": "boolean", "default": True}
    build = workflow["jobs"]["build"]["steps"]
    assert build[0]["with"]["ref"] == "${{ inputs.ref || github.sha }}"
    push = [s for s in build if s.get("id") == "push"][0]
    assert push["env"]["SHA"] == "${{ inputs.ref || github.sha }}" and push["env"]["PUSH_LATEST"] == "${{ inputs.push-latest }}"
    assert 'if [ "$PUSH_LATEST" = "true" ]; then' in push["run"]


@pytest.mark.skipif(not HAS_JQ, reason="jq is not installed (GitHub runners have it)")
def test_reaper_runs_on_a_schedule_with_the_open_pull_requests(tmp_path):
    workflow = load("preview-reaper.yml")
    assert workflow["on"]["schedule"][0]["cron"] and "workflow_dispatch" in workflow["on"]
    assert workflow["jobs"]["reap"]["permissions"] == {"contents": "read", "pull-requests": "read"}
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "open-prs.json").write_text(json.dumps(["tachyonapp/tachyon-api#42"]))
    argv, extra, _out = _run_step(tmp_path / "a", "preview-reaper.yml", "reap", {"TTL_HOURS": "48"})
    assert argv[:3] == ["playbooks/preview.yml", "-i", "inventories/staging"]
    assert extra == {"preview_action": "reap", "tachyon_preview_ttl_hours": 48,
                     "tachyon_preview_open": [_data("tachyonapp/tachyon-api#42")]}
