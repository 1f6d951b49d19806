"""`python -m emulator serve` (what `make sandbox` runs), state kept across restarts, and the
sandbox inventory agreeing with the emulator's seed."""
import json
import os
import re
import subprocess
import sys
import time

import pytest
import requests
import yaml

from emulator.testing import ROOT, SANDBOX_SEED, running_emulator
from emulator_helpers import conforms, wait_phase, with_tag

INVENTORY = os.path.join(ROOT, "inventories", "sandbox")
DO_TOKEN = re.compile(r"do[por]_v1_[0-9a-f]{64}")


def _serve(*args):
    return subprocess.Popen([sys.executable, "-m", "emulator", "serve", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_serve_prints_its_url_and_writes_the_ready_file(tmp_path):
    ready = tmp_path / "ready"
    process = _serve("--port", "0", "--seed", SANDBOX_SEED, "--ready-file", str(ready), "--phase-seconds", "0.05")
    try:
        line = process.stdout.readline().strip()
        match = re.fullmatch(r"listening on (http://127\.0\.0\.1:(\d+))", line)
        assert match, line
        url = match.group(1)
        while not ready.exists():
            assert process.poll() is None, process.stderr.read()
            time.sleep(0.01)
        assert ready.read_text().strip() == url
        response = requests.get(url + "/v2/apps", headers={"Authorization": "Bearer sandbox-staging-token"},
                                timeout=5)
        assert conforms(response.json(), "list_apps")["apps"][0]["spec"]["name"] == "tachyon-staging"
    finally:
        process.terminate()
        assert process.wait(10) == 0


def test_serve_refuses_a_bad_seed_with_a_clear_message(tmp_path):
    seed = tmp_path / "seed.yml"
    seed.write_text(yaml.safe_dump({"accounts": [{"name": "a", "token": "sandbox-a-token"}],
                                    "apps": [{"id": "x", "account": "a", "spec": {"name": "BAD NAME"}}]}))
    process = _serve("--port", "0", "--seed", str(seed))
    _out, err = process.communicate(timeout=30)
    assert process.returncode != 0
    assert "error validating app spec field name" in err


def test_state_dir_keeps_apps_across_a_kill(tmp_path):
    state = str(tmp_path / "state")
    with running_emulator(subprocess=True, state_dir=state, phase_seconds=0.05) as emu:
        client, app_id = emu.client("staging", retry_total=0), emu.app_ids["staging"]
        spec = client.apps.get(app_id)["app"]["spec"]
        spec["services"][0]["envs"].append({"key": "API_SECRET", "type": "SECRET", "value": "never-on-disk"})
        app = client.apps.update(app_id, {"spec": with_tag(spec, "5ca1ab1"), "update_all_source_versions": True})
        wait_phase(client, app_id, app["app"]["pending_deployment"]["id"])
        emu.kill()
    saved = open(os.path.join(state, "state.json"), encoding="utf-8").read()
    assert "never-on-disk" not in saved and "5ca1ab1" in saved
    with running_emulator(subprocess=True, state_dir=state) as emu:
        app = emu.client("staging").apps.get(emu.app_ids["staging"])["app"]
        assert app["active_deployment"]["spec"]["services"][0]["image"]["tag"] == "5ca1ab1"
        assert emu.health(app["id"])[1]["version"] == "5ca1ab1"
        assert emu.secret_matches(app["id"], "API_SECRET", "never-on-disk", component="api")


def _group_vars(name):
    with open(os.path.join(INVENTORY, "group_vars", name + ".yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _env_default(expression):
    match = re.search(r"lookup\('ansible\.builtin\.env', '(\w+)',\s*default='([^']+)'\)", expression)
    assert match, expression
    return match.groups()


def test_sandbox_inventory_matches_the_seed():
    with open(SANDBOX_SEED, encoding="utf-8") as handle:
        seed = yaml.safe_load(handle)
    accounts = {a["name"]: a for a in seed["accounts"]}
    apps = {a["account"]: a["id"] for a in seed["apps"]}
    for env in ("staging", "production"):
        group = _group_vars(env)
        assert group["tachyon_do_app_id"] == apps[env]
        variable, default = _env_default(group["tachyon_do_token"])
        assert (variable, default) == (accounts[env]["token_env"], accounts[env]["token"])
        assert not DO_TOKEN.search(default), "a sandbox token must not look like a DigitalOcean token"
    with open(os.path.join(INVENTORY, "group_vars", "all", "do_api.yml"), encoding="utf-8") as handle:
        endpoint = yaml.safe_load(handle)["tachyon_do_api_endpoint"]
    assert _env_default(endpoint) == ("TACHYON_SANDBOX_ENDPOINT", "http://127.0.0.1:8480")
    with open(os.path.join(ROOT, "Makefile"), encoding="utf-8") as handle:
        makefile = handle.read()
    assert "SANDBOX_PORT ?= 8480" in makefile and "--seed emulator/sandbox-seed.yml" in makefile


def test_sandbox_seed_token_env_overrides(monkeypatch):
    monkeypatch.setenv("TACHYON_SANDBOX_STAGING_TOKEN", "sandbox-from-env")
    with running_emulator() as emu:
        assert emu.tokens["staging"] == "sandbox-from-env"
        assert emu.client("staging").apps.list()["meta"]["total"] == 1
        unauthorized = requests.get(emu.url + "/v2/apps", timeout=5,
                                    headers={"Authorization": "Bearer sandbox-staging-token"})
        assert unauthorized.status_code == 401


@pytest.mark.parametrize("account", ["staging", "production"])
def test_sandbox_apps_start_active_and_healthy(account):
    with running_emulator() as emu:
        app_id = emu.app_ids[account]
        app = conforms(emu.client(account).apps.get(app_id), "apps_get")["app"]
        assert app["active_deployment"]["phase"] == "ACTIVE"
        assert sorted(n for key in ("services", "workers", "jobs") for n in [c["name"] for c in app["spec"][key]]) \
            == ["api", "db-migrate", "workers"]
        assert app["spec"]["jobs"][0]["kind"] == "PRE_DEPLOY"
        status, payload = emu.health(app_id)
        assert status == 200 and payload["version"] == "sandbox-initial"
        assert json.dumps(payload["checks"]) == '{"postgres": "connected", "redis": "connected"}'
