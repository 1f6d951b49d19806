"""Helpers for test_seed_readme.py: run the seed-compatible wrappers and the playbooks the way
a user types them (from a directory outside the checkout), build the fixture world that stands
in for GitHub (file:// service repos) and GHCR (locally built images), and talk to Docker."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "services"))
import make_repos  # noqa: E402  (fixture helper, not a package)
from playbook_run import secret_keys  # noqa: E402

CORPUS_MANIFESTS = ROOT.parent / "shared" / "corpus" / "tachyon-infra" / "release-manifest"


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.out = proc.stdout + proc.stderr

    def __repr__(self):  # shown by pytest when an assertion on a Result fails
        return "rc=%d\n--- stdout (tail)\n%s\n--- stderr (tail)\n%s" % (
            self.rc, self.stdout[-4000:], self.stderr[-3000:])


def user_env(**extra):
    """The environment of a user's shell: no venv on PATH, no ANSIBLE_CONFIG (the wrappers
    must find both themselves)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ANSIBLE_", "VIRTUAL_ENV", "PYTEST_"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if Path(p) != BIN)
    env["ANSIBLE_NOCOLOR"] = "1"
    env.update(extra)
    return env


def run(argv, cwd, env=None, timeout=900):
    res = Result(subprocess.run([str(a) for a in argv], cwd=cwd, env=env or user_env(),
                                capture_output=True, text=True, timeout=timeout, check=False))
    # pytest shortens assertion messages; the captured output of a failed test is shown whole
    print("$ %s  (rc=%d)\n%s" % (" ".join(str(a) for a in argv), res.rc, res.out))
    return res


def script(name, *args, cwd, env=None, timeout=900):
    """./scripts/<name> <args>, run from ``cwd`` (outside the checkout)."""
    return run([ROOT / "scripts" / name, *args], cwd=cwd, env=env, timeout=timeout)


def playbook(name, *args, cwd, env=None, timeout=900):
    """ansible-playbook playbooks/<name> <args>, as documented in the README."""
    base = user_env(PATH=str(BIN) + os.pathsep + user_env()["PATH"], ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    base.update(env or {})
    return run([BIN / "ansible-playbook", ROOT / "playbooks" / name, *args], cwd=cwd, env=base, timeout=timeout)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fixture_world(work):
    """file:// service repos (GitHub's stand-in) and the extra vars pointing setup.yml and
    local.yml at them; returns (repos, vars_file, vars)."""
    repos = make_repos.make_repos(work / "fixtures")
    variables = {
        "repos_dir": str(work / "siblings"),
        "repos_list": [{"name": name, "url": pin["url"]} for name, pin in repos.items()],
        "local_stack_repos_dir": str(work / "siblings"),
        "local_stack_project_name": "tachyon-seed-readme",
        "local_stack_api_port": free_port(),
        "local_stack_postgres_port": free_port(),
        "local_stack_redis_port": free_port(),
    }
    (work / "siblings").mkdir()
    vars_file = work / "vars.json"
    vars_file.write_text(json.dumps(variables, indent=2))
    return repos, vars_file, variables


def require_docker():
    """Fail (never skip) when there is no usable Docker engine with Compose v2."""
    problem = None
    for argv in (["docker", "version", "--format", "{{.Server.Version}}"], ["docker", "compose", "version"]):
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            problem = str(err)
            break
        if proc.returncode:
            problem = proc.stderr.strip() or "%s failed" % " ".join(argv)
            break
    if problem:
        pytest.fail("the seed's docker compose steps need a Docker engine with Compose v2 (%s): run "
                    "sudo bash scripts/provision-docker.sh (make test does it first)" % problem, pytrace=False)


def compose(project, *args, files=("docker-compose.yml",), env=None):
    argv = ["docker", "compose", "-p", project]
    for name in files:
        argv += ["-f", ROOT / name]
    return run(argv + list(args), cwd=ROOT, env=env or dict(os.environ))


def secret_env():
    """TACHYON_SECRET_<KEY> for every SECRET env of the App Specs (the deploy reads them from
    the environment; random values that exist only in this process)."""
    return {"TACHYON_SECRET_" + key: "seed-%s-%s" % (key.lower(), os.urandom(4).hex()) for key in secret_keys()}


def legacy_manifest_with_full_shas():
    """The newest corpus manifest (legacy format) whose services are all pinned to 40-hex SHAs
    and whose staging and production were deployed, or None when the corpus is absent."""
    if not CORPUS_MANIFESTS.is_dir():
        return None
    candidates = []
    for path in sorted(CORPUS_MANIFESTS.glob("*.json")):
        data = json.loads(path.read_text())
        shas = [s.get("sha", "") for s in data.get("services", {}).values()]
        deployed = all((data.get("environments", {}).get(env) or {}).get("deployed_at")
                       for env in ("staging", "production"))
        if "schema_version" not in data and shas and deployed and \
                all(len(s) == 40 and all(c in "0123456789abcdef" for c in s) for s in shas):
            candidates.append((data["environments"]["staging"]["deployed_at"], path))
    return max(candidates)[1] if candidates else None
