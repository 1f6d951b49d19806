"""Untrusted input is data, never a template (issue 17, deliverable 2).

Every input a person or a workflow supplies is fed Jinja: an expression that would run a
command (``{{ lookup('pipe', 'touch <marker>') }}``), a statement that would run one
(``{% if lookup('pipe', 'touch <marker>') %}``) and an unterminated comment (``{#``, which made
ansible-core fail printing part of the value). The inputs: the wrappers' arguments
(scripts/create-release.sh, scripts/upgrade-manifest.sh), the documented variables of every
playbook given as extra vars in each form ansible-playbook takes (-e JSON, -e key=value,
-e @file.json, -e @file.yml), the deploy workflows' workflow_dispatch inputs (their run scripts
executed as written) and the AWX surveys' answers (as AWX passes them, and as plain extra vars).

Each case asserts: no marker file exists (nothing ran), the value was refused (naming the
variable, never printing a value) or reached its destination verbatim (the manifest, App
Platform), and no part of a secret is in the output.

ansible-core 2.19.14, measured first (see the issue's closing note): extra vars are trusted
templates in every form (-e k=v, -e JSON, -e @file): ``-e 'x={{ lookup("pipe", "touch f") }}'``
creates f. Values marked ``!unsafe`` (YAML) or ``{"__ansible_unsafe": ...}`` (JSON, also in
@file), and values read through lookups (env, file), are not templated.
"""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from test_deploy import FAST, RELEASE, ROOT, SECRETS, Run, manifest_json, snapshot  # noqa: F401
from emulator.testing import running_emulator

BIN = os.path.dirname(sys.executable)
KINDS = ("expression", "statement", "comment")
REFUSED = "refused before deploying or writing anything"


@pytest.fixture()
def run(tmp_path):
    with running_emulator(phase_seconds=0.05) as emu:
        yield Run(emu, tmp_path)


class Markers:
    """Payloads that would leave a marker file if any part of them were evaluated."""

    def __init__(self, tmp_path):
        self.dir = tmp_path / "markers"
        self.dir.mkdir()
        self.count = 0

    def payload(self, kind, label="x"):
        self.count += 1
        mark = self.dir / ("%s-%d" % (re.sub(r"[^a-z0-9]+", "-", label.lower()), self.count))
        if kind == "expression":
            return "v{{ lookup('pipe', 'touch %s') }}" % mark
        if kind == "statement":
            return "v{%% if lookup('pipe', 'touch %s') %%}x{%% endif %%}" % mark
        return "v{# %s" % mark

    def assert_nothing_ran(self):
        assert sorted(os.listdir(self.dir)) == [], "an input was evaluated as a template"


@pytest.fixture()
def marks(tmp_path):
    return Markers(tmp_path)


def unsafe(value):
    """An input as the wrappers and workflows pass it: JSON marked untrusted."""
    return {"__ansible_unsafe": value}


def _set(variables, dotted, value):
    head, _dot, rest = dotted.partition(".")
    if rest:
        variables.setdefault(head, {})[rest] = value
    else:
        variables[head] = value


def extra_args(tmp_path, form, variables):
    """ansible-playbook -e arguments carrying ``variables`` in ``form``."""
    if form == "json":
        return ["-e", json.dumps(variables)]
    if form == "kv":
        return [arg for name, value in variables.items() for arg in ("-e", '%s="%s"' % (name, value))]
    path = tmp_path / ("extra-%s.%s" % (os.urandom(3).hex(), "json" if form == "@json" else "yml"))
    path.write_text(json.dumps(variables) if form == "@json" else yaml.safe_dump(variables))
    return ["-e", "@%s" % path]


def playbook(run, name, host, args, env=None, deployer=True):
    limit = [] if host == "localhost" else ["-l", host]
    base = dict(FAST, manifest_path=str(run.manifest))
    if not deployer:  # the run's own inputs name the deployer
        del base["tachyon_deployed_by"]
    cmd = ["ansible-playbook", os.path.join("playbooks", name), "-i", "inventories/sandbox"] + limit + [
        "-e", json.dumps(base)] + list(args)
    proc = subprocess.run(cmd, cwd=ROOT, env=dict(run.env, **(env or {})), capture_output=True, text=True, timeout=300, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def assert_no_secret(out, secret_values=()):
    for value in list(SECRETS.values()) + list(secret_values):
        assert value not in out
        # no part of it either: its random hex part is what would identify it
        for token in re.findall(r"[0-9a-f]{8,}", value):
            assert token not in out


# --------------------------------------------------------------------------- documented variables
RELEASE_VARS = ["release_version", "api_sha", "workers_sha", "db_sha", "release_shas.tachyon-api",
                "release_description", "release_created_by", "release_api_sha"]
DEPLOY_VARS = ["tachyon_version", "tachyon_shas.tachyon-api", "tachyon_deployed_by", "tachyon_approved_by",
               "tachyon_secrets.STRIPE_SECRET_KEY", "tachyon_repo_branch", "tachyon_repo_base_url",
               "tachyon_repo_urls.tachyon-api", "tachyon_sha_api", "tachyon_sha_workers", "tachyon_sha_db",
               "tachyon_spec_path", "tachyon_health_path", "tachyon_environment",
               # added with digests, the shared lock and notifications
               "tachyon_digests.tachyon-api", "tachyon_allow_tag_only", "tachyon_lock_wait",
               "tachyon_lock_remote", "tachyon_break_glass", "tachyon_notify_webhooks"]
ROLLBACK_VARS = ["tachyon_rollback_to", "tachyon_rollback_reason", "tachyon_deployed_by"]
OTHER_PLAYBOOKS = [("setup.yml", ["repos_dir", "repos_branch"]), ("validate.yml", ["validate_root"]),
                   ("local.yml", ["mode", "state"]), ("upgrade_manifest.yml", ["manifest_path"]),
                   ("releases.yml", ["format", "manifest_path", "git_history"]),
                   ("metrics.yml", ["since", "window_end", "format", "cache_dir", "tachyon_repo_base_url"]),
                   ("report.yml", ["report_path", "since", "window_end", "manifest_path"])]


def _hostile(marks, names, kind, secret=None):
    variables = {}
    for name in names:
        value = marks.payload(kind, name)
        if secret is not None and "secrets" in name:
            value = secret + value
        _set(variables, name, value)
    return variables


def _refused_naming(out, names, form=None, kind=None):
    if form == "kv" and kind == "comment":
        # ansible-core itself refuses an unbalanced {# in -e key=value, before any task runs
        assert "failed at splitting arguments, either an unbalanced jinja2 block or quotes" in out, out[-3000:]
        assert "No inventory was parsed" in out
        return
    assert REFUSED in out, out[-3000:]
    for name in names:
        top = name.split(".")[0]
        assert re.search(r"extra var %s\b" % re.escape(name if "." in name else top), out), (name, out[-3000:])


@pytest.mark.parametrize("form", ["json", "kv", "@json", "@yaml"])
@pytest.mark.parametrize("kind", KINDS)
def test_release_playbook_refuses_template_extra_vars(run, marks, tmp_path, form, kind):
    names = [n for n in RELEASE_VARS if form != "kv" or "." not in n]
    before = run.manifest.read_text()
    rc, out = playbook(run, "release.yml", "localhost", extra_args(tmp_path, form, _hostile(marks, names, kind)))
    assert rc != 0
    _refused_naming(out, names, form, kind)
    marks.assert_nothing_ran()
    assert run.manifest.read_text() == before


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("host,form", [("staging", "json"), ("staging", "kv"), ("staging", "@json"),
                                       ("staging", "@yaml"), ("production", "json")])
def test_deploy_playbook_refuses_template_extra_vars(run, marks, tmp_path, form, kind, host):
    names = [n for n in DEPLOY_VARS if form != "kv" or "." not in n]
    secret = "s3cr3t-%s" % os.urandom(6).hex()  # pragma: allowlist secret
    before = snapshot(run, host)
    rc, out = playbook(run, "deploy.yml", host, extra_args(tmp_path, form, _hostile(marks, names, kind, secret)))
    assert rc != 0
    _refused_naming(out, names, form, kind)
    marks.assert_nothing_ran()
    assert_no_secret(out, [secret])
    assert manifest_json(run) == before["manifest"] and len(run.deployments(host)) == before["deployments"]


@pytest.mark.parametrize("kind", KINDS)
def test_rollback_playbook_refuses_template_extra_vars(run, marks, tmp_path, kind):
    before = snapshot(run)
    rc, out = playbook(run, "rollback.yml", "staging", extra_args(tmp_path, "json", _hostile(marks, ROLLBACK_VARS, kind)))
    assert rc != 0
    _refused_naming(out, ROLLBACK_VARS)
    marks.assert_nothing_ran()
    assert manifest_json(run) == before["manifest"] and len(run.deployments()) == before["deployments"]


@pytest.mark.parametrize("name,variables", OTHER_PLAYBOOKS)
def test_other_playbooks_refuse_template_extra_vars(run, marks, tmp_path, name, variables):
    rc, out = playbook(run, name, "localhost", extra_args(tmp_path, "json", _hostile(marks, variables, "expression")))
    assert rc != 0
    _refused_naming(out, variables)
    marks.assert_nothing_ran()


ENVIRONMENT_PLAYBOOKS = [("lock.yml", ["lock_action", "lock_reason"]),
                         ("drift.yml", ["format", "fix", "drift_report_dir"]),
                         ("preview.yml", ["preview_action", "preview_repo", "preview_pr", "preview_sha",
                                          "preview_digest", "tachyon_preview_ttl_hours", "tachyon_preview_closed"])]


@pytest.mark.parametrize("name,variables", ENVIRONMENT_PLAYBOOKS)
@pytest.mark.parametrize("kind", KINDS)
def test_lock_and_drift_playbooks_refuse_template_extra_vars(run, marks, tmp_path, name, variables, kind):
    before = snapshot(run)
    rc, out = playbook(run, name, "staging", extra_args(tmp_path, "json", _hostile(marks, variables, kind)))
    assert rc != 0
    _refused_naming(out, variables)
    marks.assert_nothing_ran()
    assert manifest_json(run) == before["manifest"] and len(run.deployments()) == before["deployments"]
    # no lock or freeze was taken (the file lock sits beside the manifest)
    assert sorted(p.name for p in run.manifest.parent.glob(".deploy-*")) == []


# --------------------------------------------------------------------------- untrusted input: verbatim
@pytest.mark.parametrize("kind", KINDS)
def test_untrusted_deploy_inputs_reach_the_manifest_and_app_platform_verbatim(run, marks, kind):
    deployer = marks.payload(kind, "deployer")
    secret = "s3cr3t-%s-" % os.urandom(6).hex() + marks.payload(kind, "secret") + " {{ 7*7 }}"  # pragma: allowlist secret
    # and a secret from the environment (TACHYON_SECRET_<KEY>: GitHub secrets, AWX credentials)
    env_secret = "s3cr3t-%s-" % os.urandom(6).hex() + marks.payload(kind, "env-secret")  # pragma: allowlist secret
    rc, out = playbook(run, "deploy.yml", "staging", ["-e", json.dumps({
        "tachyon_shas": RELEASE, "tachyon_deployed_by": unsafe(deployer),
        "tachyon_secrets": {"STRIPE_SECRET_KEY": unsafe(secret)}})],
        env={"TACHYON_SECRET_CLERK_SECRET_KEY": env_secret})
    assert rc == 0, out
    marks.assert_nothing_ran()
    assert_no_secret(out, [secret, env_secret])
    staging = manifest_json(run)["environments"]["staging"]
    assert staging["deployed_by"] == deployer
    app_id = run.emu.app_ids["staging"]
    assert run.emu.secret_matches(app_id, "STRIPE_SECRET_KEY", secret, component="api")  # not "... 49"
    assert run.emu.secret_matches(app_id, "CLERK_SECRET_KEY", env_secret, component="api")

    approver = marks.payload(kind, "approver")
    rc, out = playbook(run, "deploy.yml", "production", ["-e", json.dumps({
        "tachyon_version": unsafe("0.1.0"), "tachyon_approved_by": unsafe(approver)})])
    assert rc == 0, out
    marks.assert_nothing_ran()
    assert manifest_json(run)["environments"]["production"]["approved_by"] == approver


@pytest.mark.parametrize("kind", KINDS)
def test_untrusted_version_and_sha_are_refused_as_data(run, marks, kind):
    before = snapshot(run)
    version = marks.payload(kind, "version")
    rc, out = playbook(run, "deploy.yml", "staging", ["-e", json.dumps({
        "tachyon_shas": RELEASE, "tachyon_version": unsafe(version)})])
    assert rc != 0 and "tachyon_version %s is not the release" % version in out, out[-3000:]
    sha = marks.payload(kind, "sha")
    rc, out = playbook(run, "deploy.yml", "staging", ["-e", json.dumps({
        "tachyon_shas": dict(RELEASE, **{"tachyon-api": unsafe(sha)})})])
    assert rc != 0 and "malformed SHA for tachyon-api in tachyon_shas" in out, out[-3000:]
    marks.assert_nothing_ran()
    assert len(run.deployments()) == before["deployments"]
    assert {k: v for k, v in manifest_json(run).items() if k != "history"} == \
        {k: v for k, v in before["manifest"].items() if k != "history"}


@pytest.mark.parametrize("kind", KINDS)
def test_untrusted_rollback_reason_is_recorded_verbatim(run, marks, kind):
    first = run.app()["active_deployment"]["id"]
    rc, out = playbook(run, "deploy.yml", "staging", ["-e", json.dumps({"tachyon_shas": RELEASE})])
    assert rc == 0, out
    reason = marks.payload(kind, "reason")
    rc, out = playbook(run, "rollback.yml", "staging", ["-e", json.dumps({
        "tachyon_rollback_to": unsafe(first), "tachyon_rollback_reason": unsafe(reason)})])
    assert rc == 0, out
    marks.assert_nothing_ran()
    assert manifest_json(run)["history"][-1]["message"].startswith(reason)


# --------------------------------------------------------------------------- wrappers
def _script(run, name, *args, cwd=ROOT):
    proc = subprocess.run([os.path.join(ROOT, "scripts", name)] + list(args), cwd=cwd, env=run.env,
                          capture_output=True, text=True, timeout=300, check=False)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_create_release_arguments_are_data(run, marks, kind):
    before = run.manifest.read_text()
    extra = ["-e", json.dumps({"manifest_path": str(run.manifest)})]
    version = "0.3.0" + marks.payload(kind, "version")
    rc, out = _script(run, "create-release.sh", version, *(marks.payload(kind, n) for n in ("a", "w", "d")), *extra)
    assert rc != 0 and version in out, out[-3000:]  # refused by the semver check, shown verbatim
    api = marks.payload(kind, "api")
    rc, out = _script(run, "create-release.sh", "0.3.0", api, "b" * 40, "c" * 40, *extra)
    assert rc != 0 and api in out and "is not a git SHA" in out, out[-3000:]
    marks.assert_nothing_ran()
    assert run.manifest.read_text() == before


def test_upgrade_manifest_path_is_data(run, marks, tmp_path):
    directory = tmp_path / "m{{ lookup('pipe', 'touch pwned') }}{#"
    directory.mkdir()
    shutil.copy(run.manifest, directory / "manifest.json")
    rc, out = _script(run, "upgrade-manifest.sh", str(directory / "manifest.json"), cwd=tmp_path)
    assert rc == 0, out
    # shown as data (the YAML callback quotes it): the template text itself, unrendered
    assert "already in the current format" in out and "m{{ lookup(''pipe''," in out, out[-3000:]
    assert not (tmp_path / "pwned").exists() and not os.path.exists(os.path.join(ROOT, "pwned"))


# --------------------------------------------------------------------------- workflows
def _workflow_step(name, job, marker):
    with open(os.path.join(ROOT, ".github", "workflows", name), encoding="utf-8") as handle:
        workflow = yaml.safe_load(handle)
    (step,) = [s for s in workflow["jobs"][job]["steps"] if marker in s.get("run", "")]
    return step


def _run_workflow_step(run, tmp_path, name, job, marker, inputs):
    """Run a workflow step's script as written, in a project tree where .venv/bin/ansible-playbook
    runs the real playbook against the sandbox (its -i inventories/<env> becomes the sandbox host
    <env>; -e with the test's timings and scratch manifest, and no publishing, appended)."""
    project = tmp_path / ("project-%s" % os.urandom(3).hex())
    (project / ".venv" / "bin").mkdir(parents=True)
    for entry in os.listdir(ROOT):
        if entry not in (".venv", ".git"):
            os.symlink(os.path.join(ROOT, entry), project / entry)
    overrides = tmp_path / "overrides.json"
    timings = {k: v for k, v in FAST.items() if k != "tachyon_deployed_by"}  # the workflow sets the deployer
    overrides.write_text(json.dumps(dict(timings, manifest_path=str(run.manifest), tachyon_publish_manifest=False)))
    shim = project / ".venv" / "bin" / "ansible-playbook"
    shim.write_text(
        "#!%s\nimport os, sys\nargs, out = sys.argv[1:], []\nwhile args:\n    a = args.pop(0)\n"
        "    if a == '-i':\n        out += ['-i', %r, '-l', os.path.basename(args.pop(0))]\n"
        "    else:\n        out.append(a)\n"
        "real = %r\nos.execv(real, [real] + out + ['-e', '@' + %r])\n"
        % (sys.executable, os.path.join(ROOT, "inventories", "sandbox"), os.path.join(BIN, "ansible-playbook"),
           str(overrides)))
    shim.chmod(0o755)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    step = _workflow_step(name, job, marker)
    env = dict(run.env, RUNNER_TEMP=str(tmp_path), **inputs)
    proc = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=project, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_deploy_workflow_inputs_are_data(run, marks, tmp_path, kind):
    step = "ansible-playbook playbooks/deploy.yml -i inventories/staging"
    before = snapshot(run)
    # a hostile version or SHA input is refused as data
    version = marks.payload(kind, "version")
    rc, out = _run_workflow_step(run, tmp_path, "deploy-staging.yml", "deploy", step, {
        "VERSION": version, "API_SHA": RELEASE["tachyon-api"], "WORKERS_SHA": RELEASE["tachyon-workers"],
        "DB_SHA": RELEASE["tachyon-db-migrate"], "DEPLOYED_BY": "octocat"})
    assert rc != 0 and "tachyon_version %s is not the release" % version in out, out[-3000:]
    sha = marks.payload(kind, "api")
    rc, out = _run_workflow_step(run, tmp_path, "deploy-staging.yml", "deploy", step, {
        "VERSION": "", "API_SHA": sha, "WORKERS_SHA": RELEASE["tachyon-workers"],
        "DB_SHA": RELEASE["tachyon-db-migrate"], "DEPLOYED_BY": "octocat"})
    assert rc != 0 and "malformed SHA for tachyon-api in tachyon_shas" in out, out[-3000:]
    assert len(run.deployments()) == before["deployments"]
    # a hostile actor name is recorded verbatim
    actor = marks.payload(kind, "actor")
    rc, out = _run_workflow_step(run, tmp_path, "deploy-staging.yml", "deploy", step, {
        "VERSION": "0.1.0", "API_SHA": RELEASE["tachyon-api"], "WORKERS_SHA": RELEASE["tachyon-workers"],
        "DB_SHA": RELEASE["tachyon-db-migrate"], "DEPLOYED_BY": actor})
    assert rc == 0, out
    assert manifest_json(run)["environments"]["staging"]["deployed_by"] == actor
    assert_no_secret(out)

    # production: the promotion check job, then the deploy job, with hostile inputs
    rc, out = _run_workflow_step(run, tmp_path, "deploy-prod.yml", "validate", "promotion_check",
                                 {"VERSION": marks.payload(kind, "prod-version")})
    assert rc != 0 and "production promotion of" in out and "refused" in out, out[-3000:]
    # a hostile maintenance choice (the API's workflow_dispatch, not the form's options) is refused as data
    production_before = manifest_json(run)["environments"]["production"]
    rc, out = _run_workflow_step(run, tmp_path, "deploy-prod.yml", "deploy", "playbooks/deploy.yml -i inventories/production", {
        "VERSION": "0.1.0", "APPROVED_BY": "reviewer", "DEPLOYED_BY": "octocat",
        "MAINTENANCE": marks.payload(kind, "maintenance")})
    assert rc != 0 and "tachyon_maintenance" in out and "must be one of" in out, out[-3000:]
    assert manifest_json(run)["environments"]["production"] == production_before
    approver = marks.payload(kind, "approver")
    rc, out = _run_workflow_step(run, tmp_path, "deploy-prod.yml", "deploy", "playbooks/deploy.yml -i inventories/production", {
        "VERSION": "0.1.0", "APPROVED_BY": approver, "DEPLOYED_BY": "octocat"})
    assert rc == 0, out
    production = manifest_json(run)["environments"]["production"]
    assert production["approved_by"] == approver
    marks.assert_nothing_ran()
    assert_no_secret(out)


# --------------------------------------------------------------------------- AWX surveys
def _awx_extravars(path, template_vars, answers):
    """env/extravars as AWX writes it (awx/main/utils/safe_yaml.py, safe_dump): the job
    template's own extra_vars plain, launch-time variables and survey answers !unsafe."""
    lines = [yaml.safe_dump(template_vars, default_flow_style=False)] if template_vars else []
    for name, value in answers.items():
        lines.append("%s: !unsafe %s\n" % (name, json.dumps(value)))
    path.write_text("".join(lines))


def _job_template(name):
    with open(os.path.join(ROOT, "awx", "job_templates.yml"), encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return {t["name"]: t for t in data["tachyon_awx_job_templates"]}[name], data


def test_awx_survey_variables_are_the_documented_ones():
    staging, data = _job_template("deploy-staging")
    production, _data = _job_template("deploy-production")
    surveys = {q["variable"] for item in data["tachyon_awx_job_templates"] + data["tachyon_awx_workflows"]
               for q in item["survey"]["spec"]}
    # the production approver is read from AWX's approval node, never a survey answer (issue 26, class 9)
    # tachyon_override: an incident override's id (issue 29; optional, checked by the plan as data)
    # tachyon_maintenance: yes/no for a release that carries a migration (issue 30; production asks)
    assert surveys == {"tachyon_version", "tachyon_sha_api", "tachyon_sha_workers", "tachyon_sha_db", "tachyon_override",
                       "tachyon_maintenance"}
    assert "{{" not in json.dumps([staging["extra_vars"], production["extra_vars"]])


@pytest.mark.parametrize("kind", KINDS)
def test_awx_survey_answers_are_data(run, marks, tmp_path, kind):
    staging, _data = _job_template("deploy-staging")
    production, _data = _job_template("deploy-production")
    no_publish = {"tachyon_publish_manifest": False, "awx_user_name": "awx-operator"}
    # as AWX passes them (!unsafe): a hostile SHA is refused as data, naming the service
    path = tmp_path / "extravars-1.yml"
    _awx_extravars(path, dict(staging["extra_vars"], **no_publish), {
        "tachyon_version": "0.1.0", "tachyon_sha_api": marks.payload(kind, "api"),
        "tachyon_sha_workers": RELEASE["tachyon-workers"], "tachyon_sha_db": RELEASE["tachyon-db-migrate"]})
    before = snapshot(run)
    rc, out = playbook(run, "deploy.yml", "staging", ["-e", "@%s" % path])
    assert rc != 0 and "malformed SHA for tachyon-api in tachyon_shas" in out, out[-3000:]
    assert len(run.deployments()) == before["deployments"]
    # valid answers deploy; then production with a hostile approver answer records it verbatim
    _awx_extravars(path, dict(staging["extra_vars"], **no_publish), {
        "tachyon_version": "0.1.0", "tachyon_sha_api": RELEASE["tachyon-api"],
        "tachyon_sha_workers": RELEASE["tachyon-workers"], "tachyon_sha_db": RELEASE["tachyon-db-migrate"]})
    rc, out = playbook(run, "deploy.yml", "staging", ["-e", "@%s" % path], deployer=False)
    assert rc == 0, out
    assert manifest_json(run)["environments"]["staging"]["deployed_by"] == "awx-operator"
    approver = marks.payload(kind, "approver")
    _awx_extravars(path, dict(production["extra_vars"], **no_publish),
                   {"tachyon_version": "0.1.0", "tachyon_approved_by": approver})
    rc, out = playbook(run, "deploy.yml", "production", ["-e", "@%s" % path])
    assert rc == 0, out
    assert manifest_json(run)["environments"]["production"]["approved_by"] == approver
    # answers that arrive unmarked (a launcher that does not do what AWX does) are refused
    path2 = tmp_path / "extravars-2.json"
    path2.write_text(json.dumps(dict(staging["extra_vars"], **no_publish, tachyon_version=marks.payload(kind, "v"),
                                     tachyon_sha_api=marks.payload(kind, "a"))))
    rc, out = playbook(run, "deploy.yml", "staging", ["-e", "@%s" % path2])
    assert rc != 0
    _refused_naming(out, ["tachyon_version", "tachyon_sha_api"])
    marks.assert_nothing_ran()
    assert_no_secret(out)
