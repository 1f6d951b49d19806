"""Adding a service is a few files (docs/docsite/rst/adding_a_service.rst): a copy of the repo
gets a fourth service, ``tachyon-scheduler`` (a worker), by editing only the files that page
names; its image is built and pushed into the local registry (Debian's docker-registry on
127.0.0.1, scripts/provision-registry.sh, the GHCR stand-in); then release -> staging ->
production run on the App Platform emulator through every gate (the production approval, the
staging proof, the soak, the run guard, the lock), and the four services are deployed and
verified by digest in both environments.
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
from pathlib import Path

import pytest

from emulator.testing import running_emulator
from test_registry_digests import FAST, docker, push_images, registry_env, sandbox_player

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "services"))
import make_repos  # noqa: E402

pytestmark = [pytest.mark.docker, pytest.mark.slow]

NEW = "tachyon-scheduler"
# The page lists the files a person touches; the test edits exactly these (and checks the page
# names each one).
CATALOG = "playbooks/group_vars/all/services.yml"
SPECS = (".do/app.staging.yml", ".do/app.prod.yml")
CATALOG_ENTRY = """
  - name: tachyon-scheduler
    component: scheduler
    repo: tachyon-scheduler
    image: "{{ tachyon_registry }}/tachyon-scheduler"
    arg: scheduler
"""
SPEC_COMPONENT = """
  - name: scheduler
    image:
      registry_type: GHCR
      registry: tachyonapp
      repository: tachyon-scheduler
      tag: latest
    instance_count: 1
    instance_size_slug: professional-xs
    envs:
      - key: NODE_ENV
        value: production
      - key: LOG_LEVEL
        value: info
"""


def tracked_files():
    """The checkout's files as git sees them (tracked, and untracked but not ignored), as in the work tree."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    return [rel for rel in listed if rel and (ROOT / rel).is_file() and not (ROOT / rel).is_symlink()]


def copy_repo(dest):
    """A copy of the checkout with its own collection link (what `make setup` makes)."""
    for rel in tracked_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    link = dest / ".collections" / "ansible_collections" / "tachyon" / "infra"
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink("../../..", link)


def add_worker_component(text):
    """Insert the scheduler as the last entry of the spec's top-level ``workers:`` list."""
    lines = text.splitlines(keepends=True)
    start = lines.index("workers:\n")
    end = next((i for i in range(start + 1, len(lines)) if lines[i][:1] not in (" ", "\n", "")), len(lines))
    while lines[end - 1].strip() == "":
        end -= 1
    return "".join(lines[:end]) + SPEC_COMPONENT.lstrip("\n") + "".join(lines[end:])


def scheduler_repo(dest):
    """A fourth service repo (the workers fixture under another name) behind a file:// remote."""
    work = dest / "work" / NEW
    shutil.copytree(make_repos.HERE / "tachyon-workers", work, ignore=shutil.ignore_patterns("node_modules", "dist"))
    for name in ("package.json", "package-lock.json"):
        path = work / name
        path.write_text(path.read_text().replace("tachyon-workers", NEW))
    shutil.copyfile(ROOT / "templates" / "Dockerfile.node", work / "Dockerfile")
    shutil.copyfile(ROOT / "templates" / ".dockerignore", work / ".dockerignore")
    (work / ".gitignore").write_text("node_modules/\ndist/\n.env\n.env.*\n")
    make_repos._git("init", "--quiet", "--initial-branch=main", cwd=work)
    make_repos._git("add", "-A", cwd=work)
    make_repos._git("commit", "--quiet", "-m", "%s fixture" % NEW, cwd=work)
    make_repos._git("clone", "--quiet", "--bare", str(work), str(dest / "remotes" / ("%s.git" % NEW)), cwd=dest)
    return make_repos._git("rev-parse", "main", cwd=work)


def test_a_fourth_service_in_four_files_goes_release_staging_production_by_digest(tmp_path):
    reg = registry_env()
    host = reg["host"]
    repo = tmp_path / "hub"
    copy_repo(repo)

    # ---- the edits a person makes, and nothing else
    page = (ROOT / "docs" / "docsite" / "rst" / "adding_a_service.rst").read_text()
    edited = [CATALOG] + list(SPECS)
    for rel in edited:
        assert "``%s``" % rel in page, "docs 'Adding a service' does not name %s" % rel
    catalog = repo / CATALOG
    catalog.write_text(catalog.read_text().rstrip("\n") + "\n" + CATALOG_ENTRY.lstrip("\n"))
    for rel in SPECS:
        (repo / rel).write_text(add_worker_component((repo / rel).read_text()))
    # the files that cannot read the catalog are generated from it (make validate checks they are current)
    stale = subprocess.run([sys.executable, "scripts/catalog.py", "--check"], cwd=repo, capture_output=True, text=True,
                           check=False)
    assert stale.returncode == 1 and "run python scripts/catalog.py" in stale.stdout, stale
    generated = subprocess.run([sys.executable, "scripts/catalog.py"], cwd=repo, capture_output=True, text=True,
                               check=False)
    assert generated.returncode == 0, generated
    regenerated = sorted(line.split(":")[0] for line in generated.stdout.splitlines() if "rewritten" in line)
    assert regenerated == [".github/workflows/deploy-staging.yml", ".github/workflows/preview-reaper.yml",
                           "awx/job_templates.yml"], generated.stdout
    for rel in regenerated:
        assert "scheduler" in (repo / rel).read_text()
    differ = sorted(rel for rel in tracked_files() if (repo / rel).read_bytes() != (ROOT / rel).read_bytes())
    assert differ == sorted(edited + regenerated) and len(edited) <= 4, differ

    # ---- the service's CI: build its image (and the three others') and push :<sha>
    docker_env = dict(os.environ, DOCKER_CONFIG=str(tmp_path / "docker-config"))
    docker("login", host, "-u", reg["TACHYON_REGISTRY_USER"], "--password-stdin", env=docker_env,
           stdin=reg["password"])
    # commits (so tags) of this run only: other tests push and re-push the fixtures' tags meanwhile
    repos = make_repos.make_repos(tmp_path / "repos", nonce=uuid.uuid4().hex)
    node = os.environ.get("TACHYON_NODE_IMAGE", "node:20-alpine")
    built = make_repos.build_ghcr_images(tmp_path / "repos", repos, node)
    sha = scheduler_repo(tmp_path / "repos")
    built[NEW] = "ghcr.io/tachyonapp/%s:%s" % (NEW, sha)
    subprocess.run(["docker", "build", "--quiet", "--target", "production", "--build-arg", "NODE_IMAGE=%s" % node,
                    "--build-arg", "GIT_COMMIT_SHA=%s" % sha, "-t", built[NEW],
                    str(tmp_path / "repos" / "work" / NEW)], check=True, capture_output=True)
    shas, pushed = push_images(built, host, docker_env)
    assert len(pushed) == 4

    with running_emulator(phase_seconds=0.05) as emu:
        manifest = tmp_path / "releases" / "manifest.json"
        manifest.parent.mkdir()
        shutil.copy(repo / "releases" / "manifest.json", manifest)
        player = sandbox_player(repo, reg, emu, manifest, timeout=600)

        def play(name, limit, extra):
            return player(name, limit, extra)[:2]

        def running(environment):
            app = emu.client(environment).apps.get(emu.app_ids[environment])["app"]
            return {c["name"]: c["image"] for kind in ("services", "workers", "jobs") for c in app["spec"].get(kind, [])}

        rc, out = play("release.yml", None, {"release_version": "0.9.0", "release_shas": shas})
        assert rc == 0, out[-3000:]
        pins = json.loads(manifest.read_text())["services"]
        assert {svc: pins[svc]["digest"] for svc in pins} == pushed
        # the api reports the commit it was built from on /health
        urllib.request.urlopen(urllib.request.Request(
            emu.url + "/_emulator/image-version", method="POST",
            data=json.dumps({"digest": pushed["tachyon-api"], "version": shas["tachyon-api"]}).encode()),
            timeout=5).read()

        components = {"tachyon-api": "api", "tachyon-workers": "workers", "tachyon-db-migrate": "db-migrate",
                      NEW: "scheduler"}
        rc, out = play("deploy.yml", "staging", dict(
            FAST, tachyon_shas=shas, tachyon_repo_base_url="file://%s/repos/remotes" % tmp_path))
        assert rc == 0, out[-4000:]
        ran = running("staging")
        assert {svc: ran[comp].get("digest") for svc, comp in components.items()} == pushed, ran
        recorded = json.loads(manifest.read_text())["environments"]["staging"]["services"]
        assert {svc: recorded[svc]["digest"] for svc in recorded} == pushed

        # production: every gate - first without an approver (refused, nothing deployed), then approved
        before = emu.client("production").apps.get(emu.app_ids["production"])["app"]["active_deployment"]["id"]
        rc, out = play("deploy.yml", "production", dict(FAST, tachyon_version="0.9.0", tachyon_soak_minutes=0.01))
        assert rc != 0 and "approv" in out, out[-4000:]
        assert emu.client("production").apps.get(emu.app_ids["production"])["app"]["active_deployment"]["id"] == before
        time.sleep(1)
        rc, out = play("deploy.yml", "production", dict(
            FAST, tachyon_version="0.9.0", tachyon_approved_by="alice", tachyon_soak_minutes=0.01))
        assert rc == 0, out[-4000:]
        gates = dict(re.findall(r"(\w[\w ()]*?) (ok|FAIL)(?:,|$)", re.search(r"gates: (.*)", out).group(1)))
        for gate in ("promotion (manifest)", "image digests", "staging live deployment", "staging healthy now", "soak",
                     "freeze", "deploy lock"):
            assert gates.get(gate) == "ok", (gate, gates)
        assert re.search(r"%s +nothing -> %s +%s" % (NEW, shas[NEW][:7], re.escape(pushed[NEW])), out), out[-4000:]
        assert "every component runs its pinned image" in out
        ran = running("production")
        assert {svc: ran[comp].get("digest") for svc, comp in components.items()} == pushed, ran
        assert all("tag" not in image for image in ran.values()), ran
        record = json.loads(manifest.read_text())["environments"]["production"]
        assert record["version"] == "0.9.0" and record["approved_by"] == "alice"
        assert {svc: record["services"][svc]["digest"] for svc in record["services"]} == pushed
        assert reg["password"] not in out
