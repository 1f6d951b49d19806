"""The deploy workflows give their inventory every environment variable it reads, and production's
soak is 30 minutes unless the repository variable TACHYON_SOAK_MINUTES says otherwise.

`make workflows` found deploy-prod.yml's deploy step without staging's DO_APP_ID and
DIGITALOCEAN_ACCESS_TOKEN, which inventories/production reads for the promotion gates: every
production deploy was refused ("this inventory does not know staging's app"). The first test
checks that class statically, for both deploy workflows."""
import os
import re
import subprocess

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV_LOOKUP = re.compile(r"lookup\('ansible\.builtin\.env', '([A-Z0-9_]+)'")


def _inventory_env(inventory):
    names = set()
    for folder, _dirs, files in os.walk(os.path.join(ROOT, "inventories", inventory)):
        for name in files:
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                names.update(ENV_LOOKUP.findall(handle.read()))
    return names


def _step_env(workflow, job, step_prefix):
    with open(os.path.join(ROOT, ".github", "workflows", workflow), encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    steps = [s for s in data["jobs"][job]["steps"] if s.get("name", "").startswith(step_prefix)]
    assert len(steps) == 1, "no single step %r in %s's %s job" % (step_prefix, workflow, job)
    return set(data.get("env", {})) | set(data["jobs"][job].get("env", {})) | set(steps[0].get("env", {}))


@pytest.mark.parametrize("workflow, inventory", [("deploy-staging.yml", "staging"), ("deploy-prod.yml", "production")])
def test_the_deploy_step_gives_the_inventory_every_variable_it_reads(workflow, inventory):
    read = _inventory_env(inventory)
    assert "TACHYON_DO_API_ENDPOINT" in read  # the lookup pattern still finds them
    missing = read - _step_env(workflow, "deploy", "Deploy (ansible-playbook playbooks/deploy.yml")
    assert not missing, "%s's deploy step does not pass %s, which inventories/%s reads" % (
        workflow, sorted(missing), inventory)


def _soak(env_value, var="tachyon_soak_minutes|float"):
    env = {k: v for k, v in os.environ.items() if k != "TACHYON_SOAK_MINUTES"}
    if env_value is not None:
        env["TACHYON_SOAK_MINUTES"] = env_value
    proc = subprocess.run(
        [os.path.join(ROOT, ".venv", "bin", "ansible"), "tachyon-production", "-i", "inventories/production",
         "-m", "ansible.builtin.debug", "-a", "var=%s" % var],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.parametrize("env_value, expected", [(None, "30.0"), ("", "30.0"), ("45", "45.0")])
def test_production_soak_is_30_minutes_unless_the_variable_says_otherwise(env_value, expected):
    assert "tachyon_soak_minutes|float: %s\n" % expected in _soak(env_value)


def test_production_soak_variable_is_data_never_a_template(tmp_path):
    """A repository variable is outside input: a Jinja expression in it is shown as text, never run
    (deploy_plan's float option and the role's argument spec then refuse it)."""
    marker = tmp_path / "ran"
    shown = _soak('{{ lookup("ansible.builtin.pipe", "touch %s") }}\n' % marker, var="tachyon_soak_minutes")
    assert "lookup" in shown and not marker.exists()


def _preview_secrets(env_value):
    """roles/preview/defaults' tachyon_preview_secrets expression, rendered as the role renders it."""
    with open(os.path.join(ROOT, "roles", "preview", "defaults", "main.yml"), encoding="utf-8") as handle:
        expr = yaml.safe_load(handle)["tachyon_preview_secrets"]
    env = {k: v for k, v in os.environ.items() if k != "TACHYON_PREVIEW_SECRETS"}
    if env_value is not None:
        env["TACHYON_PREVIEW_SECRETS"] = env_value
    proc = subprocess.run(
        [os.path.join(ROOT, ".venv", "bin", "ansible"), "localhost", "-m", "ansible.builtin.debug",
         "-a", "msg={{ (%s) | to_json }}" % expr.strip()[2:-2]],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize("env_value, expected", [(None, "msg: '{}'"), ("", "msg: '{}'"),
                                                 ('{"K": "v"}', """msg: '{"K": "v"}'""")])
def test_preview_secrets_unset_or_empty_are_none(env_value, expected):
    """preview.yml passes its optional secret TACHYON_PREVIEW_SECRETS; a caller without it gives an
    empty string (GitHub and act alike): none, not a JSON error (`make workflows` found every
    preview failing 'from_json ... Expecting value')."""
    rc, out = _preview_secrets(env_value)
    assert rc == 0 and expected in out, out
