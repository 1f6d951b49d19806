"""The validate playbook fails on the broken copy with the expected messages, and never
prints the planted token."""
import os
import re
import subprocess
import sys

BROKEN = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "broken")
PROJECT = os.environ["MOLECULE_PROJECT_DIRECTORY"]
CHECKS = '{"validate_checks": ["yamllint", "env_schema", "app_spec", "secret_scan"]}'


def run_validate():
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(PROJECT, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)
    playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    return subprocess.run([playbook, os.path.join(PROJECT, "playbooks", "validate.yml"),
                           "-e", "validate_root=" + BROKEN, "-e", CHECKS],
                          capture_output=True, text=True, cwd=PROJECT, env=env, check=False)


def test_broken_copy_fails_with_every_finding_and_no_token(host):
    token = re.search(r"dop_v1_[0-9a-f]{64}", open(os.path.join(BROKEN, "config", "deploy.yml")).read())
    assert token, "prepare did not plant the token"
    proc = run_validate()
    output = proc.stdout + proc.stderr
    flat = " ".join(output.split())
    assert proc.returncode != 0, output
    assert "env/.env.staging.example:-: REDIS_HOST: REDIS_HOST is missing" in flat
    assert re.search(r"env/\.env\.production\.example:\d+: FEATURE_FLAGS_URL: FEATURE_FLAGS_URL is not declared", flat)
    assert ".do/app.staging.yml: $.region: 'nyc3' is not one of" in flat and "datacenter slug" in flat
    assert "config/deploy.yml:3: DigitalOcean Token" in flat
    assert "ok yamllint" in flat
    assert "3 of 4 check(s) failed" in flat
    assert "validate failed: env schema, App Specs and env keys declared, secret scan" in flat
    assert token.group(0) not in output and token.group(0)[7:] not in output
