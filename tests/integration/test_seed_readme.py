"""The seed README (shared/seed/tachyon-infra-README.md), command by command, in its order.

Each seed command runs through its wrapper (./scripts/*.sh, typed from a directory outside
the checkout, with neither the venv nor ANSIBLE_CONFIG in the environment) or through the
replacement README.md documents (ansible-playbook playbooks/local.yml ...), and its documented
result is checked. Stand-ins: file:// fixture repos for GitHub, locally built images for
GHCR, the App Platform emulator for DigitalOcean. The checkout is never changed: the siblings,
manifests and stacks live in a temporary directory, the stack under its own Compose project
and free host ports.

The docker compose steps need a Docker engine: without one they FAIL with the command that
provisions it (`make test` runs scripts/provision-docker.sh first). They are deliberately few
(one build-mode up with its health payload, quick ghcr/infra/test-file/down checks): the
molecule scenario local_stack covers the stack in depth.
"""
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import urllib.request

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from emulator.testing import running_emulator
from seed_helpers import (ROOT, compose, fixture_world, legacy_manifest_with_full_shas, make_repos, playbook,
                          require_docker, run, script, secret_env)

HEALTH_KEYS = {"status", "version", "timestamp", "checks"}
SEED_CHECKS = {"postgres": "connected", "redis": "connected"}
HEX_DB_SHA = "0a1b2c3"


def checkout_fingerprint():
    """Hash of the files a seed command could write in the checkout (must never change)."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "releases").iterdir()) + sorted((ROOT / "env").iterdir()):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    work = tmp_path_factory.mktemp("seed-readme")
    repos, vars_file, variables = fixture_world(work)
    manifest = work / "releases" / "manifest.json"
    manifest.parent.mkdir()
    shutil.copy(ROOT / "releases" / "manifest.json", manifest)
    before = checkout_fingerprint()
    yield {"work": work, "repos": repos, "vars_file": vars_file, "vars": variables, "manifest": manifest}
    assert checkout_fingerprint() == before, "a seed command changed the checkout's releases/ or env/"


# ----------------------------------------------------------------- Quick Start, step 2
def test_setup_sh_clones_the_sibling_repos_and_validates_the_layout(world):
    res = script("setup.sh", "-e", "@%s" % world["vars_file"], cwd=world["work"])
    assert res.rc == 0, res
    for name, pin in world["repos"].items():
        checkout = world["work"] / "siblings" / name
        assert (checkout / "package.json").is_file(), res
        assert "%s: ok, main at %s" % (name, pin["sha"][:12]) in res.stdout, res
    assert res.stdout.count("[cloned now]") == 4, res
    assert "=== Setup Complete ===" in res.stdout


def test_setup_sh_again_changes_nothing_and_a_missing_repo_fails(world):
    res = script("setup.sh", "-e", "@%s" % world["vars_file"], cwd=world["work"])
    assert res.rc == 0 and "[cloned now]" not in res.stdout and "changed=0" in res.stdout, res

    broken = dict(world["vars"], repos_dir=str(world["work"] / "elsewhere"),
                  repos_list=world["vars"]["repos_list"] + [{"name": "tachyon-nope", "url": "file:///nonexistent/tachyon-nope.git"}])
    (world["work"] / "elsewhere").mkdir()
    res = script("setup.sh", "-e", json.dumps(broken), cwd=world["work"])
    assert res.rc == 1, res
    assert "tachyon-nope" in res.out and "[ERROR] setup failed" in res.stderr, res


# ----------------------------------------------------------------- Environment Variables
def test_validate_env_sh_passes_on_the_checkout(world):
    res = script("validate-env.sh", cwd=world["work"])
    assert res.rc == 0, res
    assert "ok   env schema" in res.stdout and "All environment files are consistent." in res.stdout, res


def test_validate_env_sh_fails_naming_file_and_key(world):
    tree = world["work"] / "env-check"
    shutil.copytree(ROOT / "env", tree / "env")
    staging = tree / "env" / ".env.staging.example"
    lines = staging.read_text().splitlines(keepends=True)
    dropped = next(line for line in lines if re.match(r"^REDIS_HOST=", line))
    staging.write_text("".join(line for line in lines if line is not dropped))
    res = script("validate-env.sh", "-e", "validate_root=%s" % tree, cwd=world["work"])
    assert res.rc == 1, res
    assert "env/.env.staging.example" in res.stdout and "REDIS_HOST" in res.stdout, res
    assert "[ERROR] validate-env failed" in res.stderr, res


# ----------------------------------------------------------------- Release Management
def test_create_release_sh_without_arguments_is_a_usage_error(world):
    before = world["manifest"].read_bytes()
    res = script("create-release.sh", "0.2.0", "abc1234", cwd=world["work"])
    assert res.rc == 2, res
    assert res.stderr.startswith("Usage: create-release.sh <version> <api-sha> <workers-sha> <db-sha>"), res
    assert res.stderr.splitlines()[-1] == "create-release.sh: error: expected 4 argument(s) before any option, got 2", res
    assert world["manifest"].read_bytes() == before


def test_create_release_sh_refuses_the_seed_example_non_hex_sha(world):
    """The seed's example `ghi9012` is not hexadecimal: refused, clearly, file unchanged."""
    before = world["manifest"].read_bytes()
    res = script("create-release.sh", "0.2.0", "abc1234", "def5678", "ghi9012",
                 "-e", "manifest_path=%s" % world["manifest"], cwd=world["work"])
    assert res.rc == 1, res
    assert "'ghi9012' is not a git SHA; give 7 to 40 hexadecimal characters" in res.out, res
    assert "services.tachyon-db-migrate" in res.out, res
    assert world["manifest"].read_bytes() == before


def test_create_release_sh_pins_a_hex_release(world):
    res = script("create-release.sh", "0.2.0", "abc1234", "def5678", HEX_DB_SHA,
                 "-e", "manifest_path=%s" % world["manifest"], cwd=world["work"])
    assert res.rc == 0, res
    assert "Release 0.2.0 pinned" in res.stdout and "ghcr.io/tachyonapp/tachyon-db-migrate:%s" % HEX_DB_SHA in res.stdout
    data = json.loads(world["manifest"].read_text())
    mf.validate(data, "test")
    assert data["version"] == "0.2.0"
    assert {k: v["sha"] for k, v in data["services"].items()} == {
        "tachyon-api": "abc1234", "tachyon-workers": "def5678", "tachyon-db-migrate": HEX_DB_SHA}
    again = script("create-release.sh", "0.2.0", "abc1234", "def5678", HEX_DB_SHA,
                   "-e", "manifest_path=%s" % world["manifest"], cwd=world["work"])
    assert again.rc == 0 and "already pinned" in again.stdout and "changed=0" in again.stdout, again


# ----------------------------------------------------------------- Local Development (Docker)
@pytest.fixture()
def docker_engine():
    require_docker()


def docker_step(test):
    """A step that needs Docker: marked docker+slow; fails (never skips) without an engine."""
    return pytest.mark.docker(pytest.mark.slow(pytest.mark.usefixtures("docker_engine")(test)))


def local(world, *args):
    return playbook("local.yml", "-i", "inventories/local", "-e", "@%s" % world["vars_file"], *args, cwd=ROOT)


def get_health(world):
    url = "http://localhost:%d/health" % world["vars"]["local_stack_api_port"]
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, json.loads(resp.read())


def services(world, *flags):
    res = compose(world["vars"]["local_stack_project_name"], "--profile", "ghcr", "ps", *flags, "--format", "{{.Service}}")
    assert res.rc == 0, res
    return sorted(res.stdout.split())


@docker_step
def test_compose_up_build_mode_then_curl_health_gives_the_seed_payload(world):
    """`docker compose up` + `curl http://localhost:4000/health` (Quick Start 4-5, Mode 1)."""
    res = local(world)
    assert res.rc == 0, res
    status, payload = get_health(world)
    assert status == 200
    assert set(payload) == HEALTH_KEYS, payload
    assert payload["status"] == "healthy" and payload["checks"] == SEED_CHECKS, payload
    assert payload["version"] == "unknown", payload  # built from source: no commit SHA baked in
    datetime.datetime.strptime(payload["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert services(world, "--status", "running") == ["api", "postgres", "redis", "workers"]


@docker_step
def test_compose_profile_ghcr_up_runs_the_images_the_manifest_pins(world):
    """`docker compose --profile ghcr up` (Mode 2): images as CI pushed them, tags from a
    release made with create-release.sh (GHCR's stand-in: images built locally)."""
    make_repos.build_ghcr_images(world["work"] / "fixtures", world["repos"])
    shas = [world["repos"][name]["sha"] for name in ("tachyon-api", "tachyon-workers", "tachyon-db")]
    res = script("create-release.sh", "0.3.0", *shas, "-e", "manifest_path=%s" % world["manifest"], cwd=world["work"])
    assert res.rc == 0, res
    res = local(world, "-e", "mode=ghcr", "-e", "local_stack_manifest_path=%s" % world["manifest"])
    assert res.rc == 0, res
    status, payload = get_health(world)
    assert status == 200 and payload["status"] == "healthy" and payload["checks"] == SEED_CHECKS, payload
    assert payload["version"] == shas[0], payload
    assert services(world, "--status", "running") == ["api-ghcr", "postgres", "redis", "workers-ghcr"]


@docker_step
def test_ghcr_mode_logs_in_and_pulls_from_the_local_registry_by_digest(world, tmp_path):
    """Mode 2 against a real registry (scripts/provision-registry.sh: docker-registry on
    127.0.0.1:5000, htpasswd): push :<sha>, release with digests, bring the ghcr profile up pulled
    by digest; a wrong password fails docker login with a clear message (issue 12)."""
    state = os.environ.get("TACHYON_REGISTRY_DIR", "/var/lib/tachyon-registry")
    if not os.path.exists(os.path.join(state, "env")):
        pytest.fail("no local registry: run `make docker` (scripts/provision-registry.sh)")
    reg = dict(line.strip().split("=", 1) for line in open(os.path.join(state, "env")) if "=" in line)
    password = open(reg["TACHYON_REGISTRY_PASSWORD_FILE"]).read().strip()
    host = reg["TACHYON_REGISTRY_URL"].split("://", 1)[1]
    docker_env = dict(os.environ, DOCKER_CONFIG=str(tmp_path / "docker"))  # never ~/.docker
    built = make_repos.build_ghcr_images(world["work"] / "fixtures", world["repos"])
    login = subprocess.run(["docker", "login", host, "-u", reg["TACHYON_REGISTRY_USER"], "--password-stdin"],
                           env=docker_env, input=password, capture_output=True, text=True, timeout=60,
                           check=False)
    assert login.returncode == 0, login.stderr
    for ref in built.values():
        local_ref = host + "/" + ref.split("/", 1)[1]
        assert run(["docker", "tag", ref, local_ref], cwd=tmp_path, env=docker_env).rc == 0
        assert run(["docker", "push", local_ref], cwd=tmp_path, env=docker_env).rc == 0
    shas = [world["repos"][name]["sha"] for name in ("tachyon-api", "tachyon-workers", "tachyon-db")]
    manifest = tmp_path / "manifest.json"
    registry_env = {"TACHYON_REGISTRY_USERNAME": reg["TACHYON_REGISTRY_USER"], "TACHYON_REGISTRY_PASSWORD": password,
                    "DOCKER_CONFIG": str(tmp_path / "docker-stack")}
    res = playbook("release.yml", "-e", json.dumps({
        "manifest_path": str(manifest), "release_version": "0.4.0", "api_sha": shas[0], "workers_sha": shas[1],
        "db_sha": shas[2], "tachyon_registry_endpoints": {"ghcr.io": reg["TACHYON_REGISTRY_URL"]},
        "release_resolve_digests": True}),
        cwd=ROOT, env=registry_env)
    assert res.rc == 0, res
    pins = json.loads(manifest.read_text())["services"]
    assert all(pin["digest"].startswith("sha256:") for pin in pins.values()), pins
    args = ["-i", "inventories/local", "-e", "@%s" % world["vars_file"], "-e", "mode=ghcr",
            "-e", "local_stack_manifest_path=%s" % manifest, "-e", "local_stack_ghcr_registry=%s" % host]
    res = playbook("local.yml", *args, cwd=ROOT, env=dict(registry_env, TACHYON_REGISTRY_PASSWORD="not-the-password"))
    assert res.rc != 0 and "docker login to %s as %s failed" % (host, reg["TACHYON_REGISTRY_USER"]) in res.stdout, res
    assert "not-the-password" not in res.stdout
    res = playbook("local.yml", *args, cwd=ROOT, env=registry_env)
    assert res.rc == 0, res
    assert password not in res.stdout
    status, payload = get_health(world)
    assert status == 200 and payload["status"] == "healthy" and payload["version"] == shas[0], payload
    api = compose(world["vars"]["local_stack_project_name"], "--profile", "ghcr", "ps", "api-ghcr", "--format", "{{.Image}}")
    assert api.stdout.strip() == "%s/tachyonapp/tachyon-api:%s@%s" % (host, shas[0], pins["tachyon-api"]["digest"]), api


@docker_step
def test_compose_up_postgres_redis_runs_the_infrastructure_only(world):
    """`docker compose up postgres redis` (Mode 3)."""
    res = local(world, "-e", "mode=infra")
    assert res.rc == 0, res
    assert services(world, "--status", "running") == ["postgres", "redis"]


@docker_step
def test_compose_test_file_runs_the_integration_tests_and_leaves_nothing(world):
    """`docker compose -f docker-compose.test.yml up --abort-on-container-exit`, exactly as the
    seed writes it (plus --build, since the images come from the fixture repos): the test
    runner is the only container that exits on success, so the run ends with its PASS and
    its exit code, then `down -v` leaves nothing."""
    project = "tachyon-seed-readme-test"
    env = dict(os.environ, TACHYON_REPOS_DIR=world["vars"]["local_stack_repos_dir"])
    try:
        res = compose(project, "up", "--build", "--abort-on-container-exit",
                      files=("docker-compose.test.yml",), env=env)
        assert res.rc == 0, res
        assert re.search(r"PASS http://api-test:4000/health: .*\"status\":\"healthy\"", res.stdout), res
        assert "test-runner-1 exited with code 0" in res.stdout, res
    finally:
        down = compose(project, "down", "-v", files=("docker-compose.test.yml",), env=env)
    assert down.rc == 0, down
    left = run(["docker", "ps", "-a", "-q", "--filter", "label=com.docker.compose.project=%s" % project], cwd=ROOT)
    assert left.stdout.strip() == "", left


@docker_step
def test_compose_down_v_removes_containers_and_volumes(world):
    """`docker compose down -v` (state=reset)."""
    res = local(world, "-e", "state=reset")
    assert res.rc == 0, res
    assert services(world, "-a") == []
    project = world["vars"]["local_stack_project_name"]
    left = run(["docker", "volume", "ls", "-q", "--filter", "label=com.docker.compose.project=%s" % project], cwd=ROOT)
    assert left.rc == 0 and left.stdout.strip() == "", left


# ----------------------------------------------------------------- Migration: legacy manifest
FAST = {"tachyon_poll_interval": 0.3, "tachyon_health_timeout": 20, "tachyon_health_max_interval": 0.3,
        "tachyon_health_consecutive": 1, "tachyon_deploy_timeout": 120, "tachyon_deployed_by": "seed-test",
        "tachyon_soak_minutes": 0}


def test_legacy_manifest_upgraded_then_production_enforces_staging_first(tmp_path):
    legacy = legacy_manifest_with_full_shas()
    if legacy is None:
        pytest.skip("no legacy manifest with 40-hex SHAs: ../shared/corpus/tachyon-infra/release-manifest/ is absent")
    original = legacy.read_bytes()
    manifest = tmp_path / "releases" / "manifest.json"
    manifest.parent.mkdir()
    manifest.write_bytes(original)

    res = script("upgrade-manifest.sh", manifest, cwd=tmp_path)
    assert res.rc == 0, res
    backups = list(manifest.parent.glob("manifest.json.legacy-*.bak"))
    assert len(backups) == 1 and backups[0].read_bytes() == original
    assert "legacy manifest upgraded to schema_version 1" in res.stdout, res
    upgraded = json.loads(manifest.read_text())
    mf.validate(upgraded, "test")
    legacy_data = json.loads(original)
    assert upgraded["schema_version"] == 1 and upgraded["version"] == legacy_data["version"]
    shas = {name: pin["sha"] for name, pin in legacy_data["services"].items()}
    assert {name: pin["sha"] for name, pin in upgraded["services"].items()} == shas
    again = script("upgrade-manifest.sh", manifest, cwd=tmp_path)
    assert again.rc == 0 and "already in the current format" in again.stdout, again
    assert len(list(manifest.parent.glob("*.bak"))) == 1

    version = legacy_data["version"]
    with running_emulator(phase_seconds=0.05) as emu:
        env = dict(secret_env(), TACHYON_SANDBOX_ENDPOINT=emu.url)

        def deploy(target, **extra):
            variables = dict(FAST, manifest_path=str(manifest), **extra)
            return playbook("deploy.yml", "-i", "inventories/sandbox", "-l", target, "-e", json.dumps(variables),
                            cwd=ROOT, env=env, timeout=300)

        prod_before = emu.client("production").apps.get(emu.app_ids["production"])["app"]["active_deployment"]["id"]
        res = deploy("production", tachyon_version=version, tachyon_approved_by="alice")
        assert res.rc != 0, res
        assert "recorded no SHAs (legacy manifest): deploy release %s to staging again" % version in res.out, res
        app = emu.client("production").apps.get(emu.app_ids["production"])["app"]
        assert app["active_deployment"]["id"] == prod_before  # nothing deployed
        assert json.loads(manifest.read_text())["environments"] == upgraded["environments"]

        res = deploy("staging", tachyon_shas=shas)
        assert res.rc == 0, res
        res = deploy("production", tachyon_version=version, tachyon_approved_by="alice")
        assert res.rc == 0, res
        for value in env.values():
            if value.startswith("seed-"):
                assert value not in res.out

    final = json.loads(manifest.read_text())
    mf.validate(final, "test")
    production = final["environments"]["production"]
    assert production["version"] == version and production["approved_by"] == "alice"
    assert {name: pin["sha"] for name, pin in production["services"].items()} == shas
    assert [(h["environment"], h["outcome"], h.get("source")) for h in final["history"]][-2:] == \
        [("staging", "succeeded", None), ("production", "succeeded", None)]
