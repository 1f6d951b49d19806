"""Verify the local stack for real, in order: build mode (health, migration user, worker,
hot reload), down, ghcr mode pinned by the manifest, infra mode, reset, and the ephemeral
integration environment of docker-compose.test.yml. The tests run in file order and each
leaves the stack in the state the next one starts from."""
import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
WORK = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "local_stack"
STACK = json.loads((WORK / "stack.json").read_text())
PROJECT = STACK["local_stack_project_name"]
API = "http://127.0.0.1:%d" % STACK["local_stack_api_port"]
COMPOSE_ENV = {**os.environ, "TACHYON_REPOS_DIR": STACK["local_stack_repos_dir"],
               "TACHYON_API_PORT": str(STACK["local_stack_api_port"]),
               "TACHYON_POSTGRES_PORT": str(STACK["local_stack_postgres_port"]),
               "TACHYON_REDIS_PORT": str(STACK["local_stack_redis_port"])}
POLL_SECONDS = 60


def run(*argv, check=True, env=None):
    proc = subprocess.run(argv, cwd=ROOT, env=env or COMPOSE_ENV, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(argv), proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:]))
    return proc


def playbook(*extra):
    return run("ansible-playbook", "-i", "inventories/local", "playbooks/local.yml",
               "-e", "@%s" % (WORK / "stack.json"), *extra, env=dict(os.environ))


def compose(*args, check=True):
    return run("docker", "compose", "-p", PROJECT, "--profile", "ghcr", *args, check=check)


def running_services():
    out = compose("ps", "--status", "running", "--format", "{{.Service}}").stdout
    return sorted(out.split())


def get_json(path):
    with urllib.request.urlopen(API + path, timeout=5) as resp:
        return json.loads(resp.read())


def poll(fn, what):
    deadline, last = time.monotonic() + POLL_SECONDS, None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except (OSError, ValueError) as err:
            last = err
        time.sleep(0.5)
    raise AssertionError("%s: not within %ds (last: %r)" % (what, POLL_SECONDS, last))


def psql(sql):
    return compose("exec", "-T", "-e", "PGPASSWORD=tachyon_local_dev", "postgres", "psql", "-h", "127.0.0.1",
                   "-U", "tachyon", "-d", "tachyon_dev", "-tA", "-c", sql).stdout.strip()


def test_build_mode_serves_the_seed_health_payload():
    payload = get_json("/health")
    assert payload["status"] == "healthy"
    assert payload["checks"] == {"postgres": "connected", "redis": "connected"}
    assert payload["version"] == "unknown"  # local builds: GIT_COMMIT_SHA unset
    assert set(payload) == {"status", "version", "timestamp", "checks"}
    assert running_services() == ["api", "postgres", "redis", "workers"]


def test_migration_ran_to_completion_as_the_migrate_user():
    state = compose("ps", "-a", "--format", "{{.Service}} {{.State}} {{.ExitCode}}").stdout.splitlines()
    assert "db-migrate exited 0" in state
    assert psql("SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'tachyon'") == "tachyon_migrate"
    assert psql("SELECT version FROM tachyon.schema_migrations") == "001_job_runs"
    assert psql("SELECT has_table_privilege('tachyon_app', 'tachyon.job_runs', 'INSERT')") == "t"


def test_worker_consumes_a_job_from_redis():
    compose("exec", "-T", "redis", "redis-cli", "LPUSH", "tachyon:jobs", '{"id": "molecule-1", "type": "ping"}')

    def pop_result():
        return compose("exec", "-T", "redis", "redis-cli", "RPOP", "tachyon:results").stdout.strip()

    result = poll(pop_result, "a result on tachyon:results")
    assert json.loads(result)["id"] == "molecule-1" and json.loads(result)["status"] == "done"
    assert psql("SELECT count(*) FROM tachyon.job_runs WHERE job_id = 'molecule-1'") == "1"


def test_source_edit_reaches_the_running_api_without_rebuild():
    before = compose("ps", "-q", "api").stdout.strip()
    image_before = run("docker", "inspect", "-f", "{{.Image}}", before).stdout.strip()
    assert get_json("/hello") == {"message": "hello from tachyon-api"}
    source = Path(STACK["local_stack_repos_dir"]) / "tachyon-api" / "src" / "message.js"
    source.write_text(source.read_text().replace("hello from tachyon-api", "hot reloaded by molecule"))
    poll(lambda: get_json("/hello") == {"message": "hot reloaded by molecule"}, "the edited message")
    assert compose("ps", "-q", "api").stdout.strip() == before  # same container
    assert run("docker", "inspect", "-f", "{{.Image}}", before).stdout.strip() == image_before  # no rebuild
    poll(lambda: get_json("/health")["status"] == "healthy", "health after the reload")


def test_down_removes_the_containers_and_keeps_the_volumes():
    playbook("-e", "state=down")
    assert compose("ps", "-a", "-q").stdout.strip() == ""
    volumes = run("docker", "volume", "ls", "-q", "--filter", "label=com.docker.compose.project=%s" % PROJECT).stdout.split()
    assert sorted(volumes) == ["%s_pgdata" % PROJECT, "%s_redisdata" % PROJECT]


def test_ghcr_mode_runs_the_images_pinned_by_the_manifest():
    out = playbook("-e", "mode=ghcr").stdout
    sha = STACK["fixture_shas"]["tachyon-api"]
    payload = get_json("/health")
    assert payload["status"] == "healthy" and payload["version"] == sha
    assert sha in out.split("Show the verified health payload")[1]  # the verified payload is printed
    assert running_services() == ["api-ghcr", "postgres", "redis", "workers-ghcr"]
    image = compose("ps", "--format", "{{.Image}}", "api-ghcr").stdout.strip()
    assert image == "ghcr.io/tachyonapp/tachyon-api:%s" % sha


def test_infra_mode_runs_only_postgres_and_redis():
    playbook("-e", "mode=infra")
    assert running_services() == ["postgres", "redis"]
    assert (Path(STACK["local_stack_repos_dir"]) / "tachyon-api" / ".env.local").read_text() == \
        (ROOT / "env" / ".env.local.example").read_text()


def test_reset_removes_containers_and_volumes():
    playbook("-e", "state=reset")
    assert compose("ps", "-a", "-q").stdout.strip() == ""
    assert run("docker", "volume", "ls", "-q", "--filter", "label=com.docker.compose.project=%s" % PROJECT).stdout.strip() == ""


def test_integration_environment_passes_and_leaves_nothing():
    project = PROJECT + "-test"
    try:
        proc = run("docker", "compose", "-p", project, "-f", "docker-compose.test.yml", "up", "--build",
                   "--abort-on-container-exit", "--exit-code-from", "test-runner", "test-runner", check=False)
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
        assert "PASS http://api-test:4000/health" in proc.stdout
    finally:
        run("docker", "compose", "-p", project, "-f", "docker-compose.test.yml", "down", "--volumes", check=False)
    assert run("docker", "volume", "ls", "-q", "--filter", "label=com.docker.compose.project=%s" % project).stdout.strip() == ""
