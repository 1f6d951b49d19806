"""Every `run:` step of the workflows runs under `set -euo pipefail` (issue 26, class 3): the check
(roles/validate/files/workflow_shells.py) that `make validate` runs, on the repo's workflows and on
workflows that break the rule in each way it can be broken; and zizmor, offline, clean."""
import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECK = os.path.join(ROOT, "roles", "validate", "files", "workflow_shells.py")
BIN = os.path.join(ROOT, ".venv", "bin")
STRICT = "bash --noprofile --norc -euo pipefail {0}"

spec = importlib.util.spec_from_file_location("workflow_shells", CHECK)
workflow_shells = importlib.util.module_from_spec(spec)
spec.loader.exec_module(workflow_shells)


def _workflow(steps, defaults=None, job_defaults=None):
    job = {"runs-on": "ubuntu-latest", "steps": steps}
    if job_defaults:
        job["defaults"] = {"run": job_defaults}
    data = {"on": {"workflow_dispatch": {}}, "jobs": {"build": job}}
    if defaults:
        data["defaults"] = {"run": defaults}
    return data


def test_the_repos_workflows_pass():
    proc = subprocess.run([sys.executable, CHECK, os.path.join(ROOT, ".github", "workflows")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize("data", [
    _workflow([{"run": "gh pr list | jq ."}], defaults={"shell": STRICT}),
    _workflow([{"run": "gh pr list | jq ."}], job_defaults={"shell": "bash -euo pipefail {0}"}),
    _workflow([{"run": "gh pr list | jq .", "shell": "bash -e -u -o pipefail {0}"}]),
    _workflow([{"run": "# list\nset -euo pipefail\ngh pr list | jq ."}]),
    _workflow([{"run": "set -Eeuo pipefail\ngh pr list | jq ."}], defaults={"shell": "bash"}),
    _workflow([{"uses": "actions/checkout@v5"}]),
], ids=["workflow-defaults", "job-defaults", "step-shell", "set-line", "set-line-bash", "no-run"])
def test_strict_steps_pass(data):
    assert workflow_shells.findings("w.yml", data) == []


@pytest.mark.parametrize("data, why", [
    (_workflow([{"name": "List", "run": "gh pr list | jq ."}]), "the default shell"),
    (_workflow([{"run": "x | y"}], defaults={"shell": "bash -e {0}"}), "shell 'bash -e {0}'"),
    (_workflow([{"run": "x | y"}], defaults={"shell": "bash -eo pipefail {0}"}), "shell"),  # no -u
    (_workflow([{"run": "x | y"}], defaults={"shell": STRICT}, job_defaults={"shell": "sh"}), "shell 'sh'"),
    (_workflow([{"run": "x | y", "shell": "bash {0}"}], defaults={"shell": STRICT}), "shell 'bash {0}'"),
    (_workflow([{"run": "x | y\nset -euo pipefail"}]), "the default shell"),  # set after a command
    (_workflow([{"run": "set -e\nx | y"}]), "the default shell"),
    (_workflow([{"run": "set -euo pipefail\nx | y", "shell": "sh"}]), "shell 'sh'"),  # sh has no pipefail
    (_workflow([{"run": "x | y", "shell": "pwsh"}], defaults={"shell": STRICT}), "shell 'pwsh'"),
], ids=["default-shell", "bash-e", "no-nounset", "job-overrides", "step-overrides", "set-late",
        "set-e-only", "sh", "pwsh"])
def test_a_step_without_pipefail_is_refused_naming_file_job_and_step(data, why):
    found = workflow_shells.findings("w.yml", data)
    assert len(found) == 1, found
    assert found[0].startswith("w.yml: job build step 1 (") and why in found[0]
    assert "set -euo pipefail" in found[0]


def test_the_check_fails_a_tree_with_one_bad_step(tmp_path):
    (tmp_path / "good.yml").write_text("on: push\ndefaults: {run: {shell: '%s'}}\njobs:\n  a:\n"
                                       "    runs-on: x\n    steps: [{run: 'a | b'}]\n" % STRICT)
    (tmp_path / "bad.yml").write_text("on: push\njobs:\n  a:\n    runs-on: x\n"
                                      "    steps: [{name: ok, run: 'set -euo pipefail'}, {name: Pipe, run: 'a | b'}]\n")
    proc = subprocess.run([sys.executable, CHECK, str(tmp_path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        "%s: job a step 2 (Pipe): run under the default shell (bash -e, no pipefail): %s"
        % (tmp_path / "bad.yml", workflow_shells.FIX)]
    (tmp_path / "broken.yml").write_text("jobs: [")
    proc = subprocess.run([sys.executable, CHECK, str(tmp_path / "broken.yml")], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 2 and "cannot be read as a workflow" in proc.stdout


@pytest.mark.slow
def test_make_validate_refuses_a_workflow_run_step_without_pipefail(tmp_path):
    """The validate playbook's workflow_shells and zizmor checks, on a tree whose one workflow has
    a run step under GitHub's default shell and a checkout that keeps its credentials."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(
        "name: bad\non: push\npermissions: {}\njobs:\n  list:\n    runs-on: ubuntu-latest\n"
        "    permissions: {contents: read}\n    steps:\n"
        "      - uses: actions/checkout@fbc6f3992d24b796d5a048ff273f7fcc4a7b6c09 # v5.1.0\n"
        "      - name: List\n        run: gh pr list | jq .\n")
    proc = subprocess.run(
        [os.path.join(BIN, "ansible-playbook"), os.path.join(ROOT, "playbooks", "validate.yml"),
         "-e", '{"validate_root": "%s", "validate_checks": ["workflow_shells", "zizmor"]}' % tmp_path],
        capture_output=True, text=True, check=False, cwd=ROOT, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "FAIL workflow run steps under set -euo pipefail" in out
    assert "job list step 2 (List)" in out
    assert "FAIL zizmor (offline, auditor persona)" in out and "artipacked" in out
    assert "validate failed: workflow run steps under set -euo pipefail, zizmor" in out


def test_zizmor_is_clean_offline_at_the_default_and_auditor_personas():
    for persona in ("regular", "auditor"):
        proc = subprocess.run([os.path.join(BIN, "zizmor"), "--offline", "--persona", persona, "--no-progress",
                               os.path.join(ROOT, ".github", "workflows")],
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "No findings to report" in proc.stdout
