"""AWX as code (awx/*.yml applied by playbooks/awx.yml): every template points at a playbook
and an inventory that exist in this repository, the workflow's approval node sits between
the staging and the production deploy, no template runs concurrently, the credential type
injects the token the inventories read, survey variables are ones the deploy playbook reads,
and no secret value is in the data."""
import glob
import json
import os
import re
import subprocess
import sys

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader

from ansible_collections.tachyon.infra.plugins.module_utils._platform import maintenance

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AWX_DIR = os.path.join(ROOT, "awx")
BIN = os.path.dirname(sys.executable)
VAR_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@pytest.fixture(scope="module")
def data():
    loader = DataLoader()
    merged = {}
    for path in sorted(glob.glob(os.path.join(AWX_DIR, "*.yml"))):
        loaded = loader.load_from_file(path)
        overlap = set(merged) & set(loaded)
        assert not overlap, "%s redefines %s" % (path, overlap)
        merged.update(loaded)
    return merged


def _read_tree(*patterns):
    text = []
    for pattern in patterns:
        for path in glob.glob(os.path.join(ROOT, pattern), recursive=True):
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as handle:
                    text.append(handle.read())
    return "\n".join(text)


def _job_templates(data):
    return {jt["name"]: jt for jt in data["tachyon_awx_job_templates"]}


def test_playbook_loads_every_data_file():
    with open(os.path.join(ROOT, "playbooks", "awx.yml"), encoding="utf-8") as handle:
        play = DataLoader().load(handle.read())[0]
    files = {os.path.normpath(os.path.join(ROOT, "playbooks", f)) for f in play["vars_files"]}
    assert files == set(glob.glob(os.path.join(AWX_DIR, "*.yml")))


def test_playbook_syntax_check():
    result = subprocess.run(
        [os.path.join(BIN, "ansible-playbook"), "playbooks/awx.yml", "--syntax-check"],
        capture_output=True, text=True, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_project_is_this_git_repository(data):
    project = data["tachyon_awx_project"]
    assert project["scm_type"] == "git"
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        repository = DataLoader().load(handle.read())["repository"]
    assert project["scm_url"].removesuffix(".git") == repository


def test_inventories_are_sourced_from_existing_repo_directories(data):
    names = [inv["name"] for inv in data["tachyon_awx_inventories"]]
    assert len(names) == len(set(names))
    for inv in data["tachyon_awx_inventories"]:
        path = os.path.join(ROOT, inv["source_path"])
        assert os.path.isdir(path), "%s: %s does not exist" % (inv["name"], inv["source_path"])
    paths = {inv["source_path"] for inv in data["tachyon_awx_inventories"]}
    assert {"inventories/staging", "inventories/production"} <= paths


def test_every_template_references_an_existing_playbook_inventory_and_credential(data):
    inventories = {inv["name"] for inv in data["tachyon_awx_inventories"]}
    credentials = {c["name"] for c in data["tachyon_awx_credentials"]}
    for jt in data["tachyon_awx_job_templates"]:
        assert os.path.isfile(os.path.join(ROOT, jt["playbook"])), jt["playbook"]
        assert jt["inventory"] in inventories, jt["name"]
        assert set(jt["credentials"]) <= credentials, jt["name"]
    jts = _job_templates(data)
    assert set(jts) == {"deploy-staging", "deploy-production"}
    assert jts["deploy-staging"]["playbook"] == jts["deploy-production"]["playbook"] == \
        "playbooks/deploy.yml"


def test_each_template_targets_its_own_environment(data):
    inv_path = {inv["name"]: inv["source_path"] for inv in data["tachyon_awx_inventories"]}
    jts = _job_templates(data)
    assert inv_path[jts["deploy-staging"]["inventory"]] == "inventories/staging"
    assert inv_path[jts["deploy-production"]["inventory"]] == "inventories/production"
    assert jts["deploy-staging"]["credentials"] != jts["deploy-production"]["credentials"]
    assert "production" in jts["deploy-production"]["credentials"][0]


def test_no_template_allows_concurrent_jobs(data):
    for item in data["tachyon_awx_job_templates"] + data["tachyon_awx_workflows"]:
        assert item["allow_simultaneous"] is False, item["name"]


def _survey_vars(item):
    return {q["variable"] for q in item["survey"]["spec"]}


def _ctypes(data):
    return {c["name"]: c for c in data["tachyon_awx_credential_types"]}


def _injected_env(data, jt):
    creds = {c["name"]: c for c in data["tachyon_awx_credentials"]}
    env = {}
    for name in jt["credentials"]:
        env.update(_ctypes(data)[creds[name]["credential_type"]]["injectors"].get("env", {}))
    return env


def _secret_keys(spec_file):
    loader = DataLoader()
    spec = loader.load_from_file(os.path.join(ROOT, ".do", spec_file))
    lists = [spec.get("envs") or []]
    for kind in ("services", "workers", "jobs"):
        lists += [c.get("envs") or [] for c in spec.get(kind) or []]
    return {e["key"] for envs in lists for e in envs if e.get("type") == "SECRET"}


def test_surveys_ask_for_version_and_shas_never_the_production_approver(data):
    jts = _job_templates(data)
    staging = _survey_vars(jts["deploy-staging"])
    production = _survey_vars(jts["deploy-production"])
    assert "tachyon_version" in staging and "tachyon_version" in production
    assert len([v for v in staging if "sha" in v]) == 3, staging
    # issue 26: the approver is read from AWX's approval node (tachyon.infra.awx_approval), never
    # a survey answer typed by whoever launches
    for item in data["tachyon_awx_job_templates"] + data["tachyon_awx_workflows"]:
        assert "tachyon_approved_by" not in _survey_vars(item), item["name"]
    assert "tachyon-awx-approvals" in jts["deploy-production"]["credentials"]
    required = {q["variable"] for q in jts["deploy-production"]["survey"]["spec"] if q["required"]}
    assert {"tachyon_version"} <= required
    for item in data["tachyon_awx_job_templates"] + data["tachyon_awx_workflows"]:
        for question in item["survey"]["spec"]:
            assert {"question_name", "variable", "type", "required"} <= set(question)
            assert question["type"] in {"text", "multiplechoice", "integer", "password"}


def test_production_surveys_ask_the_maintenance_choice_production_asks_for(data):
    """Production asks (inventories/production: tachyon_maintenance_mode ask): the production job
    template and the promotion workflow offer yes/no, optional (blank passes nothing: a release that
    carries a migration is refused), and the refusal names the question the operator answers."""
    with open(os.path.join(ROOT, "inventories", "production", "group_vars", "all", "main.yml"),
              encoding="utf-8") as handle:
        assert yaml.safe_load(handle)["tachyon_maintenance_mode"] == "ask"
    refusal = maintenance.decide("production", "ask", "", True)
    assert refusal["refused"]
    production = _job_templates(data)["deploy-production"]
    (workflow,) = data["tachyon_awx_workflows"]
    for item in (production, workflow):
        (question,) = [q for q in item["survey"]["spec"] if q["variable"] == "tachyon_maintenance"]
        assert (question["type"], question["choices"], question["required"]) == \
            ("multiplechoice", ["yes", "no"], False), item["name"]
        assert "default" not in question, "a default would answer for whoever launches"
        assert "'%s'" % question["question_name"] in refusal["why"], item["name"]
        assert all(maintenance.decide("production", "ask", c, True)["refused"] is False for c in question["choices"])
    assert "tachyon_maintenance" not in _survey_vars(_job_templates(data)["deploy-staging"])


def test_survey_and_template_variables_are_read_by_the_deploy_playbook(data):
    """A survey answer is either a variable deploy.yml reads, or goes into one through the
    job template's extra_vars (the per-service SHAs -> tachyon_shas)."""
    deploy = _read_tree("playbooks/deploy.yml", "roles/deploy/**/*.yml")
    if not deploy.strip():
        pytest.fail("playbooks/deploy.yml and roles/deploy are missing: the job templates "
                    "point at a playbook that does not exist")

    with open(os.path.join(ROOT, "playbooks", "group_vars", "all", "services.yml"), encoding="utf-8") as handle:
        catalog = yaml.safe_load(handle)["tachyon_services"]
    # the deploy role reads tachyon_sha_<arg> of every catalog service (roles/deploy/defaults: tachyon_shas)
    per_service = {"tachyon_sha_%s" % svc["arg"] for svc in catalog} \
        if "'tachyon_sha_')" in deploy and "map(attribute='arg')" in deploy else set()

    def read_by_deploy(variable):
        return re.search(r"\b%s\b" % variable, deploy) or variable in per_service

    for item in data["tachyon_awx_job_templates"] + data["tachyon_awx_workflows"]:
        extra = item.get("extra_vars") or {}
        for variable in extra:
            assert read_by_deploy(variable), "%s: extra var %s" % (item["name"], variable)
        mapped = " ".join(str(v) for v in extra.values())
        for variable in _survey_vars(item):
            assert read_by_deploy(variable) or re.search(r"\b%s\b" % variable, mapped), \
                "%s: survey variable %s reaches nothing deploy.yml reads" % (item["name"], variable)


def test_staging_sha_answers_become_tachyon_shas(data):
    """Render the deploy role's tachyon_shas default the way Ansible will at run time, with the
    survey answers as AWX passes them (launch-time variables are !unsafe: never templates)."""
    from ansible.plugins.loader import init_plugin_loader
    from ansible.template import Templar, trust_as_template
    from ansible.utils.unsafe_proxy import wrap_var
    init_plugin_loader([os.path.join(ROOT, ".collections")])  # the default reads ansible.builtin.vars
    with open(os.path.join(ROOT, "roles", "deploy", "defaults", "main.yml"), encoding="utf-8") as handle:
        template = yaml.safe_load(handle)["tachyon_shas"]
    marker = os.path.join(ROOT, ".awx-survey-injection")
    hostile = "{{ lookup('pipe', 'touch %s') }}" % marker
    answers = {"tachyon_sha_api": wrap_var("abc1234"), "tachyon_sha_workers": wrap_var(""),
               "tachyon_sha_db": wrap_var(hostile)}
    with open(os.path.join(ROOT, "playbooks", "group_vars", "all", "services.yml"), encoding="utf-8") as handle:
        catalog = yaml.safe_load(handle)["tachyon_services"]
    templar = Templar(loader=DataLoader(), variables=dict(answers, tachyon_services=catalog))
    rendered = templar.template(trust_as_template(str(template)))
    assert rendered == {"tachyon-api": "abc1234", "tachyon-db-migrate": hostile}
    assert not os.path.exists(marker), "a survey answer was evaluated as a template"
    for jt in _job_templates(data).values():
        assert "{{" not in json.dumps(jt.get("extra_vars") or {}), \
            "%s: extra_vars must hold no template (run_guard refuses them)" % jt["name"]
    # every catalog service has its answer, and the default names none itself (the catalog is the list)
    assert not re.findall(r"'(tachyon-[a-z-]+)'", str(template))
    every = {"tachyon_sha_%s" % svc["arg"]: wrap_var("abc1234") for svc in catalog}
    rendered = Templar(loader=DataLoader(), variables=dict(every, tachyon_services=catalog)).template(
        trust_as_template(str(template)))
    assert rendered == {svc["name"]: "abc1234" for svc in catalog}


def test_workflow_runs_staging_then_approval_then_production(data):
    (workflow,) = data["tachyon_awx_workflows"]
    nodes = {n["identifier"]: n for n in workflow["nodes"]}
    parents = {ident: [] for ident in nodes}
    for ident, node in nodes.items():
        assert not node.get("failure_nodes") and not node.get("always_nodes"), ident
        for child in node.get("success_nodes", []):
            assert child in nodes, "%s -> unknown node %s" % (ident, child)
            parents[child].append(ident)
        assert ("job_template" in node) != ("approval" in node), \
            "%s must be either a job template or an approval node" % ident
    roots = [i for i, p in parents.items() if not p]
    assert [nodes[r].get("job_template") for r in roots] == ["deploy-staging"]
    (production,) = [i for i, n in nodes.items() if n.get("job_template") == "deploy-production"]
    (gate,) = parents[production]
    assert "approval" in nodes[gate], "production must follow an approval node"
    assert nodes[gate]["approval"]["timeout"] > 0
    # between staging and the approval: the release notes the approver reads (awx/release_notes.yml)
    (notes,) = parents[gate]
    assert nodes[notes].get("job_template") == "release-notes-production"
    assert [nodes[p].get("job_template") for p in parents[notes]] == ["deploy-staging"]
    jts = set(_job_templates(data)) | {t["name"] for t in data["tachyon_awx_notes_templates"]}
    assert {n["job_template"] for n in nodes.values() if "job_template" in n} <= jts


def test_each_template_gets_the_token_and_app_id_its_inventory_reads(data):
    """What AWX injects is what the template's inventory reads (staging and production use
    the GitHub secrets' names), and a token always comes from a secret field."""
    inv_path = {inv["name"]: inv["source_path"] for inv in data["tachyon_awx_inventories"]}
    for jt in data["tachyon_awx_job_templates"]:
        inventory = _read_tree(inv_path[jt["inventory"]] + "/**/*.yml")
        wanted = set(re.findall(r"lookup\('ansible.builtin.env', '([A-Z_]+)'\)", inventory))
        assert wanted, "%s reads no environment variable" % inv_path[jt["inventory"]]
        assert wanted <= set(_injected_env(data, jt)), (jt["name"], wanted)
    for ctype in data["tachyon_awx_credential_types"]:
        fields = {f["id"]: f for f in ctype["inputs"]["fields"]}
        assert set(ctype["inputs"]["required"]) <= set(fields)
        for name, value in ctype["injectors"]["env"].items():
            used = re.findall(r"\{\{\s*(\w+)\s*\}\}", str(value))
            assert set(used) <= set(fields), (ctype["name"], name)
            if "TOKEN" in name or name.startswith("TACHYON_SECRET_"):
                assert used and all(fields[f].get("secret") for f in used), (ctype["name"], name)


def test_app_secret_credentials_cover_every_secret_env_of_the_app_specs(data):
    jts = _job_templates(data)
    for jt_name, spec_file in (("deploy-staging", "app.staging.yml"),
                               ("deploy-production", "app.prod.yml")):
        env = _injected_env(data, jts[jt_name])
        injected = {k[len("TACHYON_SECRET_"):] for k in env if k.startswith("TACHYON_SECRET_")}
        assert _secret_keys(spec_file) <= injected, (jt_name, _secret_keys(spec_file) - injected)


def test_templates_publish_the_manifest_with_a_git_identity(data):
    for jt in data["tachyon_awx_job_templates"]:
        assert jt["extra_vars"]["tachyon_publish_manifest"] is True, jt["name"]
        env = _injected_env(data, jt)
        assert {"GIT_AUTHOR_NAME", "GIT_COMMITTER_EMAIL", "GIT_CONFIG_KEY_0"} <= set(env)


def test_credentials_carry_no_secret_values(data):
    ctypes = _ctypes(data)
    names = [c["name"] for c in data["tachyon_awx_credentials"]]
    assert len(names) == len(set(names))
    for cred in data["tachyon_awx_credentials"]:
        assert set(cred) == {"name", "description", "credential_type", "inputs_var"}, cred["name"]
        assert cred["credential_type"] in ctypes, cred["name"]
        assert VAR_NAME.match(cred["inputs_var"]), cred["name"]


def _awx_playbook(extra, tmp_path):
    env = dict(os.environ, CONTROLLER_HOST="http://127.0.0.1:9", ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    secrets_file = tmp_path / "secrets.json"

    secrets_file.write_text(json.dumps(extra), encoding="utf-8")
    result = subprocess.run(
        [os.path.join(BIN, "ansible-playbook"), "playbooks/awx.yml", "-e", "@%s" % secrets_file],
        capture_output=True, text=True, check=False, cwd=ROOT, env=env, timeout=120)
    return result.returncode, result.stdout + result.stderr


TOKEN = "dop_v1_" + "ab12" * 16


def test_applying_without_the_secret_variables_fails_naming_them(tmp_path):
    """The role refuses to talk to AWX before every credential's inputs are set, and names
    what is missing (never a value)."""
    rc, output = _awx_playbook({"tachyon_awx_do_staging": {"token": TOKEN, "app_id": ""}},
                               tmp_path)
    assert rc != 0
    assert "tachyon_awx_do_staging (missing or empty: app_id)" in output
    assert "tachyon_awx_do_production (unset)" in output
    assert "TASK [tachyon.infra.awx : Organization]" not in output, "nothing may be applied"
    assert TOKEN not in output


def test_applying_with_every_secret_reaches_awx_and_prints_no_secret(tmp_path):
    """With the inputs set, the role goes on to AWX (unreachable here: the first awx.awx call
    fails with a connection error) and no secret value is printed."""
    push = "ghp_" + "Z9" * 18
    extra = {"tachyon_awx_do_staging": {"token": TOKEN, "app_id": "app-s"},
             "tachyon_awx_do_production": {"token": TOKEN[::-1], "app_id": "app-p"},
             "tachyon_awx_app_secrets_staging": {"clerk_secret_key": "sk_live_staging_value"},
             "tachyon_awx_app_secrets_production": {"clerk_secret_key": "sk_live_prod_value"},
             "tachyon_awx_manifest_publisher": {"git_user_name": "bot", "git_user_email": "b@x",
                                                "push_token": push},
             "tachyon_awx_notify": {"slack_url": "https://hooks.slack.com/services/T0/B0/awx-hook-secret"},  # pragma: allowlist secret
             "tachyon_awx_approvals_reader": {"host": "https://awx.example.com", "oauth_token": "awx-approvals-secret"}}
    rc, output = _awx_playbook(extra, tmp_path)
    assert rc != 0
    assert "TASK [tachyon.infra.awx : Organization]" in output
    assert "127.0.0.1:9" in output
    for value in (TOKEN, TOKEN[::-1], push, "sk_live_staging_value", "sk_live_prod_value", "awx-hook-secret",
                  "awx-approvals-secret"):
        assert value not in output


def test_secret_inputs_given_as_templates_are_refused_unevaluated_and_unprinted(tmp_path):
    """A credential input with Jinja in it is refused by run_guard before anything reads it,
    naming the variable, never the value, and nothing it holds runs."""
    marker = tmp_path / "ran"
    secret = "dop_v1_" + "cd34" * 16  # pragma: allowlist secret
    rc, output = _awx_playbook({"tachyon_awx_do_staging": {
        "token": secret + "{{ lookup('pipe', 'touch %s') }}" % marker, "app_id": "x"}}, tmp_path)
    assert rc != 0
    assert "extra var tachyon_awx_do_staging.token holds Jinja template syntax" in output, output
    assert not marker.exists()
    assert secret not in output and "cd34cd34" not in output
