"""`make workflows` (scripts/workflows.sh) is not a dry run: a copy of a workflow with a failing
step inserted, or with an environment variable renamed so that its script reads one never set
(the steps run under bash -euo pipefail), makes the run fail. Runs the reaper case under act in
the runner image (Docker; the image is built once and cached, scripts/workflows/runner)."""
import os
import shutil
import subprocess

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HAS_DOCKER = shutil.which("docker") is not None and subprocess.run(
    ["docker", "info"], capture_output=True, check=False).returncode == 0

pytestmark = [pytest.mark.docker, pytest.mark.slow,
              pytest.mark.skipif(not HAS_DOCKER, reason="needs a running Docker engine (make docker)")]


def _run(tmp_path, edit):
    workflows = tmp_path / "workflows"
    shutil.copytree(os.path.join(ROOT, ".github", "workflows"), workflows)
    path = workflows / "preview-reaper.yml"
    path.write_text(edit(path.read_text()))
    yaml.safe_load(path.read_text())  # still a workflow
    env = dict(os.environ, WORKFLOWS_DIR=str(workflows), WORKFLOWS_OUT=str(tmp_path / "out"))
    proc = subprocess.run(["bash", os.path.join(ROOT, "scripts", "workflows.sh"), "reaper_complete"], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False, timeout=900)
    return proc.returncode, proc.stdout + proc.stderr


def test_the_reaper_case_passes_as_written(tmp_path):
    rc, out = _run(tmp_path, lambda text: text)
    assert rc == 0, out[-3000:]
    assert "ok         preview-reaper.yml     reap         reaper               success" in out


def test_a_failing_step_inserted_fails_the_run(tmp_path):
    marker = "      - name: Reap (ansible-playbook playbooks/preview.yml -e preview_action=reap)\n"

    def edit(text):
        assert marker in text
        return text.replace(marker, "      - name: Inserted failing step\n        run: exit 3\n" + marker)

    rc, out = _run(tmp_path, edit)
    assert rc != 0
    assert "UNEXPECTED preview-reaper.yml     reap         reaper               failure" in out
    assert "make workflows: FAILED" in out


def test_a_renamed_variable_fails_the_run(tmp_path):
    """The reap step's TTL_HOURS given as TTL_HOUR: its script reads an unset variable (set -u)."""
    def edit(text):
        assert text.count("          TTL_HOURS: ") == 1
        return text.replace("          TTL_HOURS: ", "          TTL_HOUR: ")

    rc, out = _run(tmp_path, edit)
    assert rc != 0 and "UNEXPECTED preview-reaper.yml" in out
    log = (tmp_path / "out" / "preview-reaper.reap.reaper.log").read_text()
    assert "TTL_HOURS: unbound variable" in log
