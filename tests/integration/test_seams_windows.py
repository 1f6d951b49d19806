"""A seam between change windows (issue 29) and the GitHub workflows (issue 28): deploy-prod.yml's
validate job runs the promotion check (deploy.yml --tags promotion_check) before anyone is asked
to approve, and the deploy job needs it to pass. Inside a deny window the check refused whatever
the workflow's ``override`` input said: the input reached only the deploy job, so an approved
incident override could never let a production deploy through GitHub (class 7 of issue 26: an
input accepted that means nothing). The check now gets the override, and reads it where the
deploy reads it (the hub's remote).

The validate step's own jq command builds the vars (as the workflow runs it, its ansible-playbook
line left out); the promotion check runs against the emulator, from a clone of a bare hub remote
that holds the override ref."""
import datetime
import json
import os
import shutil
import subprocess
import zoneinfo

import pytest
import yaml

from test_deploy_lock import RELEASE, Hub, running_emulator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _validate_step():
    with open(os.path.join(ROOT, ".github", "workflows", "deploy-prod.yml"), encoding="utf-8") as handle:
        steps = yaml.safe_load(handle)["jobs"]["validate"]["steps"]
    (step,) = [s for s in steps if s.get("name", "").startswith("Version matches the manifest")]
    return step


def promotion_vars(tmp_path, version, override):
    """The vars the validate step passes to the promotion check, built by its own script."""
    step = _validate_step()
    script = step["run"].split(".venv/bin/ansible-playbook")[0]
    assert "promotion-vars.json" in script
    env = dict(os.environ, VERSION=version, OVERRIDE=override, MAINTENANCE="undecided", RUNNER_TEMP=str(tmp_path))
    subprocess.run(["bash", "-euo", "pipefail", "-c", script], env=env, check=True, timeout=60)
    return json.loads((tmp_path / "promotion-vars.json").read_text()), step


def with_window(hub):
    inventory = hub.tmp / "inventory"
    shutil.copytree(os.path.join(ROOT, "inventories", "sandbox"), inventory)
    now = datetime.datetime.now(zoneinfo.ZoneInfo("UTC"))
    window = {"name": "launch freeze", "kind": "deny", "zone": "UTC",
              "start": (now - datetime.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
              "end": (now + datetime.timedelta(hours=3)).strftime("%Y-%m-%d %H:%M")}
    path = inventory / "group_vars" / "production.yml"
    path.write_text(path.read_text() + "\n" + yaml.safe_dump({"tachyon_change_windows": [window]}))
    return str(inventory)


def _run(hub, clone, playbook, inventory, env, who, extra, tags=None):
    cmd = hub.command(clone, playbook, env=env, who=who, extra=extra)
    cmd[cmd.index("inventories/sandbox")] = inventory
    if tags:
        cmd += ["--tags", tags]
    proc = subprocess.run(cmd, cwd=ROOT, env=dict(hub.env, ANSIBLE_LOCAL_TEMP=str(clone / ".ansible-tmp")),
                          capture_output=True, text=True, timeout=600, check=False)
    return proc.returncode, " ".join((proc.stdout + proc.stderr).split())


@pytest.fixture
def hub(tmp_path):
    with running_emulator(phase_seconds=0.05) as emu:
        yield Hub(emu, tmp_path)


def test_the_promotion_check_sees_the_override_the_deploy_will_use(hub, tmp_path):
    a = hub.clone("laptop")
    rc, out = hub.run(a, who="alice", extra={"tachyon_shas": RELEASE})  # staging proves the release
    assert rc == 0, out[-3000:]
    version = hub.manifest()["version"]
    inventory = with_window(hub)
    # an incident override on the hub's remote, requested by alice and approved by bob
    rc, out = _run(hub, a, "override.yml", inventory, "production", "alice",
                   {"override_action": "request", "tachyon_version": version, "override_reason": "incident 7"})
    assert rc == 0, out[-3000:]
    override = "ov-" + out.split("override ov-")[1][:12]
    rc, out = _run(hub, a, "override.yml", inventory, "production", "bob",
                   {"override_action": "approve", "override_id": override})
    assert rc == 0 and "approved by bob" in out, out[-3000:]
    assert "refs/tachyon/overrides/" + override in hub.refs()

    # the validate job of a fresh runner, without and with the workflow's override input
    b = hub.clone("runner")
    for given, expect in (("", "gate 'change window' failed"), (override, None)):
        variables, step = promotion_vars(tmp_path, version, given)
        # the workflow's vars (the hub test's own paths and speed settings underneath); the
        # validate job publishes nothing
        extra = dict(variables, tachyon_publish_manifest=False, tachyon_shas=RELEASE)
        rc, out = _run(hub, b, "deploy.yml", inventory, "production", "github-actions", extra, tags="promotion_check")
        if expect:
            assert rc != 0 and expect in out and "launch freeze" in out, out[-3000:]
        else:  # the check passes: the deploy job (which consumes the override) can run
            assert rc == 0, out[-3000:]
    # the step reads the override ref with a read-only token of its own, as the deploy job pushes
    assert step["env"]["OVERRIDE"] == "${{ inputs.override }}" and "GIT_CONFIG_VALUE_0" in step["env"]
    # the check consumed nothing: the deploy job can still use it
    record = subprocess.run(["git", "log", "-1", "--format=%B", "refs/tachyon/overrides/" + override], cwd=str(hub.bare),
                            capture_output=True, text=True, check=True).stdout
    assert "approved" in record and "consumed" not in record.lower(), record
