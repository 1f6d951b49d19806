"""Image digests end to end against a real registry: Debian's docker-registry (the CNCF
distribution registry) on 127.0.0.1 with htpasswd auth, started by scripts/provision-registry.sh
(`make docker`), standing in for ghcr.io.

Build the fixture services with templates/Dockerfile.node, push :<sha> (docker CLI), release
(digests pinned), deploy staging by digest to the emulator, re-push the api tag with other
content, and see production refused with the service and both digests named.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._release import registry
from emulator.testing import running_emulator
from playbook_run import secret_keys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures", "services"))
import make_repos  # noqa: E402

pytestmark = [pytest.mark.docker, pytest.mark.slow]
STATE = os.environ.get("TACHYON_REGISTRY_DIR", "/var/lib/tachyon-registry")
FAST = {"tachyon_poll_interval": 0.3, "tachyon_health_timeout": 10, "tachyon_health_max_interval": 0.3,
        "tachyon_health_consecutive": 1, "tachyon_deploy_timeout": 60, "tachyon_deployed_by": "tester"}


def registry_env():
    path = os.path.join(STATE, "env")
    if not os.path.exists(path):
        pytest.fail("%s is missing: run `make docker` (scripts/provision-registry.sh starts the "
                    "local registry)" % path)
    env = dict(line.strip().split("=", 1) for line in open(path) if "=" in line)
    env["password"] = open(env["TACHYON_REGISTRY_PASSWORD_FILE"]).read().strip()
    env["host"] = env["TACHYON_REGISTRY_URL"].split("://", 1)[1]
    return env


def docker(*args, env=None, stdin=None):
    proc = subprocess.run(["docker"] + list(args), env=env, input=stdin, capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, "docker %s: %s" % (args[0], proc.stderr[-2000:])
    return proc.stdout


def push_images(built, host, docker_env):
    """Push each built ``ghcr.io/tachyonapp/<service>:<sha>`` to the local registry under the same
    path; returns ({service: sha}, {service: the digest the registry answered})."""
    shas = {svc: ref.rsplit(":", 1)[1] for svc, ref in built.items()}
    pushed = {}
    for svc, ref in built.items():
        local = "%s/tachyonapp/%s:%s" % (host, svc, shas[svc])
        docker("tag", ref, local, env=docker_env)
        out = docker("push", local, env=docker_env)
        pushed[svc] = [l for l in out.splitlines() if "digest: sha256:" in l][0].split("digest: ")[1].split()[0]
    return shas, pushed


def sandbox_player(root, reg, emu, manifest, timeout=300):
    """play(playbook, limit, extra) -> (rc, output, seconds): a playbook of the checkout ``root`` on
    the sandbox inventory against ``emu``, the local registry standing in for ghcr.io, the App
    Specs' secrets from the environment, the release manifest ``manifest``."""
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"], ANSIBLE_NOCOLOR="1",
               ANSIBLE_CONFIG=os.path.join(str(root), "ansible.cfg"), TACHYON_SANDBOX_ENDPOINT=emu.url,
               TACHYON_REGISTRY_USERNAME=reg["TACHYON_REGISTRY_USER"],
               TACHYON_REGISTRY_PASSWORD=reg["password"])
    env.update({"TACHYON_SECRET_" + k: "x-%s" % k.lower() for k in secret_keys()})
    common = {"manifest_path": str(manifest), "tachyon_registry_endpoints": {"ghcr.io": reg["TACHYON_REGISTRY_URL"]}}

    def play(name, limit, extra):
        cmd = ["ansible-playbook", os.path.join("playbooks", name), "-i", "inventories/sandbox"] + \
            (["-l", limit] if limit else []) + ["-e", json.dumps(dict(common, **extra))]
        started = time.monotonic()
        proc = subprocess.run(cmd, cwd=str(root), env=env, capture_output=True, text=True, timeout=timeout, check=False)
        return proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started
    return play


def test_release_deploy_by_digest_and_a_re_pushed_tag_is_refused(tmp_path):
    reg = registry_env()
    host = reg["host"]
    docker_env = dict(os.environ, DOCKER_CONFIG=str(tmp_path / "docker-config"))  # not ~/.docker
    # wrong credentials: docker login fails (and says so); right ones log in
    bad = subprocess.run(["docker", "login", host, "-u", reg["TACHYON_REGISTRY_USER"], "--password-stdin"],
                         input="not-the-password", env=docker_env, capture_output=True, text=True,
                         check=False)
    assert bad.returncode != 0 and "unauthorized" in (bad.stderr + bad.stdout).lower()
    docker("login", host, "-u", reg["TACHYON_REGISTRY_USER"], "--password-stdin", env=docker_env,
           stdin=reg["password"])

    # commits (so tags) of this run only: the api tag is re-pushed below while other tests use the registry
    repos = make_repos.make_repos(tmp_path / "repos", nonce=uuid.uuid4().hex)
    node = os.environ.get("TACHYON_NODE_IMAGE", "node:20-alpine")
    built = make_repos.build_ghcr_images(tmp_path / "repos", repos, node)   # ghcr.io/tachyonapp/<svc>:<sha>
    shas, pushed = push_images(built, host, docker_env)

    with running_emulator(phase_seconds=0.05) as emu:
        manifest = tmp_path / "releases" / "manifest.json"
        manifest.parent.mkdir()
        shutil.copy(os.path.join(ROOT, "releases", "manifest.json"), manifest)
        play = sandbox_player(ROOT, reg, emu, manifest)

        rc, out, _seconds = play("release.yml", None, {"release_version": "0.9.0", "release_shas": shas})
        assert rc == 0, out[-3000:]
        timings = re.findall(r"resolved in ([0-9.]+)s \((\d+) registry requests\)", out)
        pins = json.loads(manifest.read_text())["services"]
        assert {svc: pins[svc]["digest"] for svc in pins} == pushed
        # the api image reports the commit it was built from (GIT_COMMIT_SHA) on /health
        req = urllib.request.Request(emu.url + "/_emulator/image-version", method="POST",
                                     data=json.dumps({"digest": pushed["tachyon-api"],
                                                      "version": shas["tachyon-api"]}).encode())
        urllib.request.urlopen(req, timeout=5).read()

        rc, out, t_staging = play("deploy.yml", "staging", dict(
            FAST, tachyon_shas=shas, tachyon_repo_base_url="file://%s/repos/remotes" % tmp_path))
        assert rc == 0, out[-4000:]
        timings += re.findall(r"resolved in ([0-9.]+)s \((\d+) registry requests\)", out)
        assert reg["password"] not in out
        app = emu.client("staging").apps.get(emu.app_ids["staging"])["app"]
        ran = {c["name"]: c["image"] for kind in ("services", "workers", "jobs")
               for c in app["spec"].get(kind, [])}
        assert ran["api"]["digest"] == pushed["tachyon-api"] and "tag" not in ran["api"]
        recorded = json.loads(manifest.read_text())["environments"]["staging"]["services"]
        assert {svc: recorded[svc]["digest"] for svc in recorded} == pushed

        # re-push the api tag with other content
        api = "%s/tachyonapp/tachyon-api:%s" % (host, shas["tachyon-api"])
        subprocess.run(["docker", "build", "--quiet", "-t", api, "--label", "org.tachyon.repushed=1", "-"],
                       input="FROM %s\n" % built["tachyon-api"], env=docker_env, text=True,
                       capture_output=True, check=True)
        out = docker("push", api, env=docker_env)
        moved = [l for l in out.splitlines() if "digest: sha256:" in l][0].split("digest: ")[1].split()[0]
        assert moved != pushed["tachyon-api"]
        assert registry.Resolver(endpoints={"ghcr.io": reg["TACHYON_REGISTRY_URL"]},
                                 credentials={"username": reg["TACHYON_REGISTRY_USER"], "password": reg["password"]}
                                 ).resolve("ghcr.io/tachyonapp/tachyon-api", shas["tachyon-api"]) == moved

        before = emu.client("production").apps.get(emu.app_ids["production"])["app"]["active_deployment"]["id"]
        rc, out, t_production = play("deploy.yml", "production", dict(
            FAST, tachyon_version="0.9.0", tachyon_approved_by="alice"))
        assert rc != 0
        refusal = ("tachyon-api: staging verified %s, but the registry's tag ghcr.io/tachyonapp/tachyon-api:%s "
                   "now points at %s (the tag was re-pushed)" % (pushed["tachyon-api"], shas["tachyon-api"], moved))
        assert refusal in " ".join(out.split()), out[-4000:]
        assert "production deploy refused; nothing was deployed" in out
        after = emu.client("production").apps.get(emu.app_ids["production"])["app"]["active_deployment"]["id"]
        assert after == before
        timings += re.findall(r"resolved in ([0-9.]+)s \((\d+) registry requests\)", out)
        assert reg["password"] not in out
        print("\ndigest resolution (release, staging, production): %s" % timings)
        print(out[out.index("production deploy refused"):][:1500])
        print("\nstaging deploy %.1fs; production refused after %.1fs\nREFUSAL: %s" % (t_staging, t_production, refusal))
