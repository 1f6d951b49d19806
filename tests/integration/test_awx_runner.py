"""playbooks/deploy.yml run the way AWX runs a job template, against the App Platform emulator.

AWX hands every job to ansible-runner with a private data dir. This test builds that dir
from the AWX-as-code data (awx/*.yml) instead of re-stating it:

* project/    a fresh clone of the hub's git remote (AWX's project update), per job;
* inventory/  an executable inventory script printing what `ansible-inventory --list --export`
              gives for inventories/staging or inventories/production (AWX's inventory sync
              stores exactly that; the jobs get it back as a script);
* env/envvars the job template's credentials rendered through their credential types'
              injectors with AWX's Jinja: the DigitalOcean token and app id under the names
              the inventory reads, every SECRET env as TACHYON_SECRET_<KEY>, the git
              identity and push token for publishing the manifest;
* env/extravars the job template's extra_vars plus the survey answers and AWX's own
              awx_* variables; only the API and registry endpoints and the polling knobs are the test's.

The remote is a local bare repository seeded from this checkout with a release pinned in
releases/manifest.json; the job publishes the recorded manifest back to it (as AWX's
ephemeral checkouts require), so the production job's fresh clone sees staging's proof.
Staging then production (with the approver from the workflow survey): both runs succeed,
their events show the app_deploy task with the deployment id the emulator has ACTIVE, the
manifest on the remote records each environment, and no secret appears in any event, in the
stdout or in the run's artifacts (see _assert_no_secret_anywhere for the two input records
that hold them by design).
"""
import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jinja2.sandbox
import pytest
import yaml
from ansible.parsing.dataloader import DataLoader

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from emulator.testing import SANDBOX_SEED, running_emulator
from playbook_run import secret_keys

ansible_runner = pytest.importorskip("ansible_runner", reason="ansible-runner is in requirements-dev.txt")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
import service_catalog as catalog  # noqa: E402  (fixture helper, not a package)
BIN = os.path.dirname(sys.executable)
VERSION = "0.7.0"
SHAS = {name: secrets.token_hex(20) for name in ("tachyon-api", "tachyon-workers", "tachyon-db-migrate")}
APPROVER = "release-approver"
AWX_USER = "awx-operator"
WORKFLOW_JOB = 5
# A job the promotion workflow launched: AWX's meta variables for it (ansible/awx
# awx/main/tests/functional/models/test_unified_job.py, test_scheduled_workflow_job_node_metavars)
WORKFLOW_META = {"awx_job_launch_type": "workflow", "awx_workflow_job_id": WORKFLOW_JOB,
                 "awx_workflow_job_name": "release-staging-to-production"}


def _recorded_approvals():
    """GET /api/v2/workflow_approvals/ as AWX answers it (tests/fixtures/awx/workflow_approvals.json,
    recorded from AWX's own UI tests): approval 6 of workflow job 5, approved - here by APPROVER."""
    with open(os.path.join(ROOT, "tests", "fixtures", "awx", "workflow_approvals.json"), encoding="utf-8") as handle:
        results = json.load(handle)["results"]
    approved = json.loads(json.dumps(results[1]))
    approved["summary_fields"]["approved_or_denied_by"]["username"] = APPROVER
    return [approved]


class _FakeAwxApi(BaseHTTPRequestHandler):
    token = "awx-" + secrets.token_hex(16)

    def do_GET(self):
        url = urlsplit(self.path)
        job = int((parse_qs(url.query).get("unified_job_node__workflow_job") or ["0"])[0])
        if url.path != "/api/v2/workflow_approvals/" or self.headers.get("Authorization") != "Bearer " + self.token:
            self.send_response(401)
            self.end_headers()
            return
        results = [a for a in _recorded_approvals() if a["summary_fields"]["source_workflow_job"]["id"] == job]
        body = json.dumps({"count": len(results), "results": results}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


# What only the test chooses: where the API (and registry) is, and quick polling (defaults are minutes).
TEST_VARS = {"tachyon_poll_interval": 0.3, "tachyon_deploy_timeout": 120,
             "tachyon_health_timeout": 30, "tachyon_health_max_interval": 0.3,
             "tachyon_health_consecutive": 1, "tachyon_soak_minutes": 0}
PROJECT_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", ".collections", ".cache", ".ansible", ".pytest_cache", "__pycache__",
    ".sandbox", ".sanity", "build", "bench", "tests", "node_modules", "*.tar.gz")


def _git(*args, cwd):
    env = dict(os.environ, GIT_AUTHOR_NAME="seed", GIT_AUTHOR_EMAIL="seed@test",
               GIT_COMMITTER_NAME="seed", GIT_COMMITTER_EMAIL="seed@test", GIT_TERMINAL_PROMPT="0")
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True,
                          text=True).stdout


def _awx_data():
    loader = DataLoader()
    data = {}
    for name in ("project.yml", "credentials.yml", "job_templates.yml"):
        data.update(loader.load_from_file(os.path.join(ROOT, "awx", name)))
    return json.loads(json.dumps(data))  # plain str: AWX stores the templates as text


class AwxWorld:
    """The hub's remote, the emulator's accounts and the credential inputs of one test."""

    def __init__(self, tmp, emu, seed):
        self.tmp = tmp
        self.emu = emu
        self.data = _awx_data()
        self.app_ids = {a["account"]: a["id"] for a in seed["apps"]}
        self.tokens = {a["name"]: a["token"] for a in seed["accounts"]}
        self.push_token = "ghp_" + secrets.token_hex(18)
        self.app_secrets = {k.lower(): "v-%s-%s" % (k.lower(), secrets.token_hex(12))
                            for k in secret_keys()}
        self.inputs = {
            "tachyon-do-staging": {"token": self.tokens["staging"], "app_id": self.app_ids["staging"]},
            "tachyon-do-production": {"token": self.tokens["production"],
                                      "app_id": self.app_ids["production"]},
            "tachyon-app-secrets-staging": self.app_secrets,
            "tachyon-app-secrets-production": self.app_secrets,
            "tachyon-manifest-publisher": {"git_user_name": "tachyon-awx", "git_user_email":
                                           "awx@tachyonapp.dev", "push_token": self.push_token},
            # no webhook URLs: the inventories then configure no notification
            "tachyon-notify": {},
            # the production approver, read from (a stand-in of) AWX's API
            "tachyon-awx-approvals": {"host": self._awx_api(), "oauth_token": _FakeAwxApi.token},
        }
        self.remote = self._make_remote()
        self.job_count = 0

    def _awx_api(self):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeAwxApi)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return "http://127.0.0.1:%d" % server.server_address[1]

    def all_secret_values(self):
        return [self.tokens["staging"], self.tokens["production"], self.push_token, _FakeAwxApi.token,
                *self.app_secrets.values()]

    def _make_remote(self):
        """A bare repo standing in for github.com/tachyonapp/tachyon-infra, holding this
        checkout's files and a release pinned with SHAS."""
        work = self.tmp / "seed-checkout"
        shutil.copytree(ROOT, work, ignore=PROJECT_IGNORE, symlinks=True)
        manifest_path = work / "releases" / "manifest.json"
        current, _legacy, _text = mf.load(str(manifest_path))
        release = mf.create_release(current, VERSION, dict(SHAS), **catalog.release_args(known_services=sorted(SHAS)))
        manifest_path.write_text(mf.to_json_text(release), encoding="utf-8")
        _git("init", "-q", "-b", "main", cwd=work)
        _git("add", "-A", cwd=work)
        _git("commit", "-q", "-m", "hub at test start", cwd=work)
        remote = self.tmp / "tachyon-infra.git"
        _git("clone", "-q", "--bare", str(work), str(remote), cwd=self.tmp)
        return remote

    def remote_manifest(self):
        text = _git("--git-dir", str(self.remote), "show", "main:releases/manifest.json",
                    cwd=self.tmp)
        return json.loads(text)

    def _render_credentials(self, job_template):
        """env/envvars as AWX builds it: each credential's type injectors rendered with its
        inputs in a Jinja sandbox."""
        types = {t["name"]: t for t in self.data["tachyon_awx_credential_types"]}
        creds = {c["name"]: c for c in self.data["tachyon_awx_credentials"]}
        sandbox = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
        envvars = {}
        for name in job_template["credentials"]:
            ctype = types[creds[name]["credential_type"]]
            inputs = {f["id"]: "" for f in ctype["inputs"]["fields"]}
            inputs.update(self.inputs[name])
            for key, template in ctype["injectors"].get("env", {}).items():
                envvars[key] = sandbox.from_string(str(template)).render(**inputs)
        return envvars

    def _inventory_script(self, pdd, source_path, project):
        """AWX syncs the SCM inventory source with ansible-inventory and hands the job a
        script that prints the stored inventory."""
        listing = subprocess.run(
            [os.path.join(BIN, "ansible-inventory"), "-i", str(project / source_path), "--list",
             "--export"], cwd=project, capture_output=True, text=True, check=True,
            env=dict(os.environ, ANSIBLE_CONFIG=str(project / "ansible.cfg"))).stdout
        inventory = pdd / "inventory"
        inventory.mkdir()
        script = inventory / "hosts"
        script.write_text("#!%s\nimport sys\nsys.stdout.write(%r)\n" % (sys.executable, listing),
                          encoding="utf-8")
        script.chmod(script.stat().st_mode | stat.S_IXUSR)

    def launch(self, template_name, survey, workflow_vars=None):
        """Run one job of `template_name` like AWX: returns (runner, private_data_dir)."""
        self.job_count += 1
        jt = {t["name"]: t for t in self.data["tachyon_awx_job_templates"]}[template_name]
        pdd = self.tmp / ("job-%d-%s" % (self.job_count, template_name))
        (pdd / "env").mkdir(parents=True)
        project = pdd / "project"
        _git("clone", "-q", str(self.remote), str(project), cwd=self.tmp)
        inv_path = {i["name"]: i["source_path"] for i in self.data["tachyon_awx_inventories"]}
        self._inventory_script(pdd, inv_path[jt["inventory"]], project)
        # The EE has the collection installed; here it is this checkout, linked.
        collections = self.tmp / "ee-collections" / "ansible_collections" / "tachyon"
        if not collections.exists():
            collections.mkdir(parents=True)
            os.symlink(ROOT, collections / "infra")
        envvars = self._render_credentials(jt)
        envvars.update(ANSIBLE_COLLECTIONS_PATH=str(self.tmp / "ee-collections"),
                       PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
                       ANSIBLE_LOCAL_TEMP=str(pdd / "tmp"), ANSIBLE_NOCOLOR="1")
        extravars = dict(jt.get("extra_vars") or {})
        extravars.update({"awx_job_id": self.job_count, "awx_job_template_name": template_name,
                          "awx_user_name": AWX_USER, "awx_project_revision": "HEAD"})
        extravars.update(workflow_vars or {})
        extravars.update(survey)
        # the registry too: the emulator's ghcr.io stand-in (the deploy resolves image digests)
        extravars.update(TEST_VARS, tachyon_do_api_endpoint=self.emu.url,
                         tachyon_registry_endpoints={"ghcr.io": self.emu.url + "/_registry"})
        (pdd / "env" / "envvars").write_text(json.dumps(envvars), encoding="utf-8")
        (pdd / "env" / "extravars").write_text(json.dumps(extravars), encoding="utf-8")
        runner = ansible_runner.run(private_data_dir=str(pdd), playbook=jt["playbook"],
                                    quiet=True, timeout=600)
        return runner, pdd


def _events(runner):
    return list(runner.events)


def _deploy_event(events):
    for event in events:
        data = event.get("event_data") or {}
        if event.get("event") == "runner_on_ok" and \
                data.get("resolved_action") == "tachyon.infra.app_deploy":
            return data
    return None


def _assert_no_secret_anywhere(world, runner, pdd, events):
    """Events, stdout and every artifact the run produced. Not scanned: env/ (the inputs
    AWX itself writes) and artifacts/<ident>/command, where ansible-runner records the
    process environment it was given (mode 0600, inside the same private data dir AWX
    deletes after the job): both hold exactly the injected variables, by design."""
    stdout = runner.stdout.read()
    blob = json.dumps(events) + stdout
    for root, _dirs, files in os.walk(pdd / "artifacts"):
        for name in files:
            if name == "command" and os.path.dirname(root) == str(pdd / "artifacts"):
                continue
            with open(os.path.join(root, name), encoding="utf-8", errors="replace") as handle:
                blob += handle.read()
    leaked = [v[:12] + "..." for v in world.all_secret_values() if v in blob]
    assert not leaked, "secret values found in events/stdout/artifacts: %s" % leaked


def _explain(runner):
    return runner.stdout.read()[-4000:]


def _assert_deployed(world, runner, environment):
    """The job succeeded and its app_deploy event names the deployment now ACTIVE on the
    environment's app; returns (deployment id, events)."""
    assert (runner.status, runner.rc) == ("successful", 0), _explain(runner)
    events = _events(runner)
    deployed = _deploy_event(events)
    assert deployed, "no app_deploy event in the %s job" % environment
    deployment_id = deployed["res"]["deployment_id"]
    client = world.emu.client(world.tokens[environment])
    app = client.apps.get(world.app_ids[environment])["app"]
    assert app["active_deployment"]["id"] == deployment_id
    return deployment_id, events


@pytest.fixture
def world(tmp_path):
    with open(SANDBOX_SEED, encoding="utf-8") as handle:
        seed = yaml.safe_load(handle)
    # Fresh tokens shaped like DigitalOcean's, so a leak is unmistakable.
    for account in seed["accounts"]:
        account["token"] = "dop_v1_" + secrets.token_hex(32)
        account.pop("token_env", None)
    with running_emulator(seed=seed, phase_seconds=0.05) as emu:
        yield AwxWorld(tmp_path, emu, seed)


@pytest.mark.slow
def test_awx_jobs_deploy_staging_then_production(world):
    # deploy-staging job template: survey answers as a person fills them in (the db SHA
    # left blank would resolve main; here all three are pinned to the release).
    survey = {"tachyon_version": VERSION, "tachyon_sha_api": SHAS["tachyon-api"],
              "tachyon_sha_workers": SHAS["tachyon-workers"],
              "tachyon_sha_db": SHAS["tachyon-db-migrate"]}
    runner, pdd = world.launch("deploy-staging", survey)
    staging_id, events = _assert_deployed(world, runner, "staging")
    assert world.emu.health(world.app_ids["staging"])[1]["version"] == SHAS["tachyon-api"]
    manifest = world.remote_manifest()
    staging = manifest["environments"]["staging"]
    assert staging["deployment_id"] == staging_id and staging["version"] == VERSION
    assert staging["deployed_by"] == AWX_USER
    assert {k: v["sha"] for k, v in staging["services"].items()} == SHAS
    assert manifest["environments"]["production"]["deployment_id"] is None
    _assert_no_secret_anywhere(world, runner, pdd, events)

    # The workflow's approval node was approved (by APPROVER, in AWX); the workflow launches
    # deploy-production, which reads the approver from AWX's API. The release carries a migration
    # (a new db-migrate SHA) and production asks (tachyon_maintenance_mode ask): left blank in the
    # survey, the job is refused at once, naming the answer, and production is untouched.
    client = world.emu.client(world.tokens["production"])
    before = client.apps.get(world.app_ids["production"])["app"]["active_deployment"]["id"]
    runner, pdd = world.launch("deploy-production", {"tachyon_version": VERSION}, workflow_vars=WORKFLOW_META)
    assert runner.status == "failed" and runner.rc != 0
    text = json.dumps(_events(runner))
    assert "gate 'maintenance' failed" in text and "-e tachyon_maintenance=yes" in text, _explain(runner)
    assert "the survey's 'Maintenance mode for a migration'" in text, _explain(runner)
    assert client.apps.get(world.app_ids["production"])["app"]["active_deployment"]["id"] == before
    runner, pdd = world.launch("deploy-production", {"tachyon_version": VERSION, "tachyon_maintenance": "no"},
                               workflow_vars=WORKFLOW_META)
    production_id, events = _assert_deployed(world, runner, "production")
    manifest = world.remote_manifest()
    production = manifest["environments"]["production"]
    assert production["deployment_id"] == production_id
    assert (production["approved_by"], production["deployed_by"]) == (APPROVER, AWX_USER)
    assert {k: v["sha"] for k, v in production["services"].items()} == SHAS
    assert manifest["environments"]["staging"]["deployment_id"] == staging_id
    # the refused job is in the history as an attempt that deployed nothing (the report shows it refused)
    assert [(h["environment"], h["outcome"]) for h in manifest["history"]][-3:] == \
        [("staging", "succeeded"), ("production", "failed"), ("production", "succeeded")]
    refused = manifest["history"][-2]
    assert refused["deployment_id"] is None and "tachyon_maintenance" in refused["message"], refused
    _assert_no_secret_anywhere(world, runner, pdd, events)


@pytest.mark.slow
def test_awx_production_job_without_staging_proof_fails_and_deploys_nothing(world):
    """The approval alone is not enough: a production job for a release staging never
    verified fails in the promotion check, and the production app is untouched."""
    client = world.emu.client(world.tokens["production"])
    before = client.apps.get(world.app_ids["production"])["app"]["active_deployment"]["id"]
    runner, pdd = world.launch("deploy-production", {"tachyon_version": VERSION}, workflow_vars=WORKFLOW_META)
    assert runner.status == "failed" and runner.rc != 0
    events = _events(runner)
    assert _deploy_event(events) is None
    assert "staging has no successful deployment" in json.dumps(events)
    assert client.apps.get(world.app_ids["production"])["app"]["active_deployment"]["id"] == before
    assert world.remote_manifest()["environments"]["production"]["deployment_id"] is None
    _assert_no_secret_anywhere(world, runner, pdd, events)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["launched alone", "approver typed in the survey"])
def test_awx_production_without_the_workflow_s_approval_refuses_and_deploys_nothing(world, how):
    """Issue 26, class 9: deploy-production launched by itself, or with an approver typed at
    launch, refuses before anything is deployed."""
    client = world.emu.client(world.tokens["production"])
    before = client.apps.get(world.app_ids["production"])["app"]["active_deployment"]["id"]
    extra = {"awx_job_launch_type": "manual"} if how == "launched alone" else \
        dict(WORKFLOW_META, tachyon_approved_by="mallory")
    runner, pdd = world.launch("deploy-production", {"tachyon_version": VERSION}, workflow_vars=extra)
    assert runner.status == "failed" and runner.rc != 0
    events = _events(runner)
    assert _deploy_event(events) is None
    text = json.dumps(events)
    assert ("only as a node of the promotion workflow" in text) if how == "launched alone" else \
        ("never given at launch or in a survey" in text), _explain(runner)
    assert client.apps.get(world.app_ids["production"])["app"]["active_deployment"]["id"] == before
    _assert_no_secret_anywhere(world, runner, pdd, events)
