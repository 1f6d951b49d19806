"""Run playbooks/deploy.yml and rollback.yml against an in-process App Platform emulator, for
the product's integration tests (test_failed_deploy_secrets.py, test_rerun_and_rollback.py).

Each run gets its own emulator (fast phases), a scratch copy of the manifest, random secret
values (passed as TACHYON_SECRET_<KEY>, as the deploy role reads them) and a random
DigitalOcean-format token for the staging account (TACHYON_SANDBOX_STAGING_TOKEN: the sandbox
inventory and the emulator seed both read it), so a test can look for them in the output.
"""
import contextlib
import json
import os
import shutil
import subprocess
import sys

from ansible_collections.tachyon.infra.plugins.module_utils._spec.app_spec import load_spec, secret_env_keys
from emulator.testing import running_emulator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
RELEASE = {"tachyon-api": "4a091424887308027935eb247097d4ffd77c8f99",
           "tachyon-workers": "2f9e050447ffe25d88c4035db2d4bb3f9987b7ff",
           "tachyon-db-migrate": "9252ea24498a84c0fdcdc75be8ea8182caebb176"}
NEXT = {"tachyon-api": "5b1a2c3d4e5f60718293a4b5c6d7e8f901234567",
        "tachyon-workers": "6c2b3d4e5f60718293a4b5c6d7e8f90123456789",
        "tachyon-db-migrate": "7d3c4e5f60718293a4b5c6d7e8f9012345678901"}
FAST = {"tachyon_poll_interval": 0.3, "tachyon_health_timeout": 4, "tachyon_health_max_interval": 0.3,
        "tachyon_health_consecutive": 1, "tachyon_deploy_timeout": 60, "tachyon_deployed_by": "tester",
        "tachyon_soak_minutes": 0}


def secret_keys():
    """The keys of every SECRET env of the repo's App Specs: the TACHYON_SECRET_<KEY> values the
    deploy reads from the environment (the same reader the deploy role's lookup uses)."""
    return sorted({key for path in (".do/app.staging.yml", ".do/app.prod.yml")
                   for _component, key in secret_env_keys(load_spec(os.path.join(ROOT, path)))})


class Run(object):
    def __init__(self, emu, tmp_path, token, secrets):
        self.emu = emu
        self.token = token
        self.secrets = secrets
        self.manifest = tmp_path / "releases" / "manifest.json"
        self.manifest.parent.mkdir()
        shutil.copy(os.path.join(ROOT, "releases", "manifest.json"), str(self.manifest))
        self.env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"],
                        ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"),
                        ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote"),
                        TACHYON_SANDBOX_ENDPOINT=emu.url, TACHYON_SANDBOX_STAGING_TOKEN=token)
        self.env.update({"TACHYON_SECRET_" + k: v for k, v in secrets.items()})

    def playbook(self, playbook="deploy.yml", extra=None, args=()):
        variables = dict(FAST, manifest_path=str(self.manifest))
        variables.update(extra or {})
        cmd = ["ansible-playbook", os.path.join("playbooks", playbook), "-i", "inventories/sandbox", "-l", "staging",
               "-e", json.dumps(variables)] + list(args)
        proc = subprocess.run(cmd, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300, check=False)
        return proc.returncode, proc.stdout + proc.stderr

    def deploy(self, shas=None, **kw):
        extra = dict(kw.pop("extra", {}), tachyon_shas=RELEASE if shas is None else shas)
        return self.playbook("deploy.yml", extra=extra, **kw)

    @property
    def app_id(self):
        return self.emu.app_ids["staging"]

    def client(self):
        return self.emu.client(self.token)

    def app(self):
        return self.client().apps.get(self.app_id)["app"]

    def deployments(self):
        return self.client().apps.list_deployments(self.app_id, per_page=50)["deployments"]

    def manifest_data(self):
        with open(str(self.manifest)) as handle:
            return json.load(handle)


@contextlib.contextmanager
def playbook_run(tmp_path, monkeypatch):
    token = "dop_v1_" + os.urandom(32).hex()
    secrets = {key: "s3cr3t-%s-%s" % (key.lower(), os.urandom(6).hex()) for key in secret_keys()}
    # the emulator's sandbox seed reads the staging token from this variable too
    monkeypatch.setenv("TACHYON_SANDBOX_STAGING_TOKEN", token)
    with running_emulator(phase_seconds=0.05) as emu:
        assert emu.tokens["staging"] == token
        yield Run(emu, tmp_path, token, secrets)
