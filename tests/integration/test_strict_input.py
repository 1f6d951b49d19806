"""Strict parsing end to end (issue 17, deliverable 4): "A SHA `abc1234\\n` is accepted, deployed
as tag `abc1234\\n`". playbooks/deploy.yml against the App Platform emulator with a SHA that
has a trailing newline (the form `$(git rev-parse HEAD)` loses but a file or a JSON value keeps)
must refuse it before anything is deployed, and leave no such tag in the manifest.
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from emulator.testing import running_emulator
from playbook_run import secret_keys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
RELEASE = {"tachyon-api": "4a091424887308027935eb247097d4ffd77c8f99",
           "tachyon-workers": "2f9e050447ffe25d88c4035db2d4bb3f9987b7ff",
           "tachyon-db-migrate": "9252ea24498a84c0fdcdc75be8ea8182caebb176"}
FAST = {"tachyon_poll_interval": 0.3, "tachyon_health_timeout": 4, "tachyon_health_max_interval": 0.3,
        "tachyon_health_consecutive": 1, "tachyon_deploy_timeout": 60, "tachyon_deployed_by": "tester"}


def secret_env():
    return {"TACHYON_SECRET_" + key: "s3cr3t-%s" % os.urandom(4).hex() for key in secret_keys()}


class Sandbox:
    def __init__(self, emu, tmp_path):
        self.emu = emu
        self.manifest = tmp_path / "releases" / "manifest.json"
        self.manifest.parent.mkdir()
        shutil.copy(os.path.join(ROOT, "releases", "manifest.json"), str(self.manifest))
        self.env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"], ANSIBLE_NOCOLOR="1",
                        ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), TACHYON_SANDBOX_ENDPOINT=emu.url,
                        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"), **secret_env())

    def deploy(self, env, **extra):
        variables = dict(FAST, manifest_path=str(self.manifest), **extra)
        proc = subprocess.run(["ansible-playbook", "playbooks/deploy.yml", "-i", "inventories/sandbox", "-l", env,
                               "-e", json.dumps(variables)], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=300, check=False)
        return proc.returncode, proc.stdout + proc.stderr

    def deployments(self, env):
        return self.emu.client(env).apps.list_deployments(self.emu.app_ids[env])["deployments"]


def test_production_refuses_an_approver_list_and_deploys_nothing(tmp_path):
    """issue 17: "An approver given as a list is recorded as "['alice', 'bob']"."""
    with running_emulator(phase_seconds=0.05) as emu:
        box = Sandbox(emu, tmp_path)
        rc, out = box.deploy("staging", tachyon_shas=RELEASE)
        assert rc == 0, out[-3000:]
        before = box.manifest.read_text()
        count = len(box.deployments("production"))
        rc, out = box.deploy("production", tachyon_version="0.1.0", tachyon_approved_by=["alice", "bob"])
        assert rc != 0, out[-3000:]
        # refused by run_guard, before the promotion check reads it (release_manifest's own check of
        # approved_by, tests/unit/test_strict_parsing.py, is the second line of defence)
        assert "extra var tachyon_approved_by must be a string" in out and "but it is a list" in out, out[-3000:]
        assert len(box.deployments("production")) == count
    after = json.loads(box.manifest.read_text())
    assert "['alice', 'bob']" not in box.manifest.read_text()
    assert after["environments"]["production"] == json.loads(before)["environments"]["production"]


@pytest.mark.parametrize("bad", ["4a09142\n", "4a091424887308027935eb247097d4ffd77c8f99\n", " 4a09142"],
                         ids=["short+newline", "full+newline", "leading-space"])
def test_staging_refuses_a_sha_with_a_newline_and_deploys_nothing(tmp_path, bad):
    manifest = tmp_path / "releases" / "manifest.json"
    manifest.parent.mkdir()
    shutil.copy(os.path.join(ROOT, "releases", "manifest.json"), str(manifest))
    with running_emulator(phase_seconds=0.05) as emu:
        client = emu.client("staging")
        app_id = emu.app_ids["staging"]
        before_active = client.apps.get(app_id)["app"]["active_deployment"]["id"]
        before_count = len(client.apps.list_deployments(app_id)["deployments"])
        env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"], ANSIBLE_NOCOLOR="1",
                   ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), TACHYON_SANDBOX_ENDPOINT=emu.url,
                   ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"), **secret_env())
        variables = dict(FAST, manifest_path=str(manifest), tachyon_shas=dict(RELEASE, **{"tachyon-api": bad}))
        proc = subprocess.run(["ansible-playbook", "playbooks/deploy.yml", "-i", "inventories/sandbox", "-l",
                               "staging", "-e", json.dumps(variables)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300, check=False)
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0, out
        assert "malformed SHA for tachyon-api" in out and "Nothing was deployed" in out, out[-3000:]
        assert len(client.apps.list_deployments(app_id)["deployments"]) == before_count
        assert client.apps.get(app_id)["app"]["active_deployment"]["id"] == before_active
    data = json.loads(manifest.read_text())
    mf.validate(data, "test")
    assert bad not in manifest.read_text() and json.dumps(bad) not in manifest.read_text()
    assert data["environments"]["staging"] == json.loads(
        open(os.path.join(ROOT, "releases", "manifest.json")).read())["environments"]["staging"]


# Round-2 inputs (digests, the lock, notifications) and the deploy's own, each given with the
# wrong type or shape at once: ansible-core's role argument validation would convert most of
# them (a list becomes its text, a string a one-element list) and the deploy went out before the
# record refused tachyon_deployed_by "bob\n". All are refused together, before anything runs.
WRONG = {"tachyon_lock_wait": -5, "tachyon_allow_tag_only": "maybe", "tachyon_break_glass": ["x"],
         "tachyon_notify_webhooks": "http://127.0.0.1:9/hook", "tachyon_deployed_by": "bob\n",
         "tachyon_digests": ["sha256:" + "a" * 64], "tachyon_deploy_timeout": "soon",
         "tachyon_lock_remote": ["origin"], "tachyon_github_deployments": "sometimes"}
EXPECTED = ["extra var tachyon_lock_wait must be a number", "but it is a negative number",
            "extra var tachyon_allow_tag_only must be a boolean", "extra var tachyon_break_glass must be a string",
            "extra var tachyon_notify_webhooks must be a list of mappings",
            "extra var tachyon_deployed_by: 'bob\\n' is not a name", "extra var tachyon_digests must be a mapping",
            "extra var tachyon_deploy_timeout must be a whole number", "extra var tachyon_lock_remote must be a string",
            "extra var tachyon_github_deployments must be a boolean"]


def test_inputs_of_the_wrong_type_are_refused_together_and_nothing_runs(tmp_path):
    with running_emulator(phase_seconds=0.05) as emu:
        box = Sandbox(emu, tmp_path)
        before = box.manifest.read_text()
        count = len(box.deployments("staging"))
        rc, out = box.deploy("staging", tachyon_shas=RELEASE, **WRONG)
        assert rc != 0
        flat = " ".join(out.split())
        for text in EXPECTED:
            assert text in flat, (text, out[-4000:])
        assert "refused before deploying or writing anything" in out
        assert len(box.deployments("staging")) == count
        assert not list(tmp_path.glob("**/*.lock"))
    assert box.manifest.read_text() == before


def test_role_variables_of_the_wrong_type_in_the_inventory_are_refused_by_the_guard(tmp_path):
    """The role's argument validation is folded into the play's guard (run_guard option role):
    an inventory value of the wrong type is refused naming it, before the plan or the lock."""
    inventory = tmp_path / "inventory"
    shutil.copytree(os.path.join(ROOT, "inventories", "sandbox"), str(inventory))
    with open(str(inventory / "group_vars" / "staging.yml"), "a") as handle:
        handle.write("\ntachyon_lock_wait: soon\n")
    with running_emulator(phase_seconds=0.05) as emu:
        box = Sandbox(emu, tmp_path)
        before = box.manifest.read_text()
        count = len(box.deployments("staging"))
        proc = subprocess.run(["ansible-playbook", "playbooks/deploy.yml", "-i", str(inventory), "-l", "staging",
                               "-e", json.dumps(dict(FAST, manifest_path=str(box.manifest), tachyon_shas=RELEASE))],
                              cwd=ROOT, env=box.env, capture_output=True, text=True, timeout=300, check=False)
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0, out[-3000:]
        assert "refused before deploying or writing anything" in out, out[-3000:]
        assert "role deploy: argument 'tachyon_lock_wait'" in out and "argument_specs.yml" in out, out[-3000:]
        assert "Plan the deploy" not in out and "Take the deploy lock" not in out
        assert len(box.deployments("staging")) == count
    assert box.manifest.read_text() == before
