"""playbooks/deploy.yml and rollback.yml against the App Platform emulator: the happy path four
ways and the fault matrix. Each test runs ansible-playbook as a subprocess against its own
emulator (fast phases) and a scratch copy of the manifest.

Every failure case checks the same three things: a clear error, the live app on its last good
deployment, and the manifest valid with one more history entry and nothing else changed.
"""
import copy
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from emulator.registry import generated_manifest
from emulator.testing import running_emulator
from playbook_run import secret_keys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
import service_catalog as catalog  # noqa: E402  (fixture helper, not a package)
BIN = os.path.dirname(sys.executable)
RELEASE = {"tachyon-api": "4a091424887308027935eb247097d4ffd77c8f99",
           "tachyon-workers": "2f9e050447ffe25d88c4035db2d4bb3f9987b7ff",
           "tachyon-db-migrate": "9252ea24498a84c0fdcdc75be8ea8182caebb176"}
OTHER = {"tachyon-api": "a" * 40, "tachyon-workers": "b" * 40, "tachyon-db-migrate": "c" * 40}
CATALOG = catalog.CATALOG
FAST = {"tachyon_poll_interval": 0.3, "tachyon_health_timeout": 4, "tachyon_health_max_interval": 0.3,
        "tachyon_health_consecutive": 1, "tachyon_deploy_timeout": 60, "tachyon_deployed_by": "tester",
        "tachyon_soak_minutes": 0}


SECRETS = {key: "s3cr3t-%s-%s" % (key.lower(), os.urandom(4).hex()) for key in secret_keys()}


class Run:
    def __init__(self, emu, tmp_path):
        self.emu = emu
        self.tmp = tmp_path
        self.manifest = tmp_path / "releases" / "manifest.json"
        self.manifest.parent.mkdir()
        shutil.copy(os.path.join(ROOT, "releases", "manifest.json"), self.manifest)
        self.env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"],
                        ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"),
                        ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote"),
                        TACHYON_SANDBOX_ENDPOINT=emu.url)
        self.env.update({"TACHYON_SECRET_" + k: v for k, v in SECRETS.items()})

    def playbook(self, env="staging", extra=None, check=False, playbook="deploy.yml", args=(), background=False,
                 inventory="inventories/sandbox"):
        variables = dict(FAST, manifest_path=str(self.manifest))
        variables.update(extra or {})
        cmd = ["ansible-playbook", os.path.join("playbooks", playbook), "-i", str(inventory), "-l", env,
               "-e", json.dumps(variables)] + (["--check", "--diff"] if check else []) + list(args)
        if background:
            return subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        proc = subprocess.run(cmd, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300, check=False)
        return proc.returncode, proc.stdout + proc.stderr

    def staging(self, shas=None, **kw):
        extra = dict(kw.pop("extra", {}), tachyon_shas=RELEASE if shas is None else shas)
        return self.playbook("staging", extra=extra, **kw)

    def production(self, version="0.1.0", approver="alice", **kw):
        extra = dict(kw.pop("extra", {}))
        if version is not None:
            extra["tachyon_version"] = version
        if approver is not None:
            extra["tachyon_approved_by"] = approver
        return self.playbook("production", extra=extra, **kw)

    def app(self, env="staging"):
        return self.emu.client(env).apps.get(self.emu.app_ids[env])["app"]

    def deployments(self, env="staging"):
        return self.emu.client(env).apps.list_deployments(self.emu.app_ids[env])["deployments"]


def sandbox_digest(service, sha):
    """The digest the emulator's registry answers for ghcr.io/tachyonapp/<service>:<sha>."""
    return "sha256:" + hashlib.sha256(generated_manifest("tachyonapp/" + service, sha)).hexdigest()


def manifest_json(run):
    data = json.loads(run.manifest.read_text())
    mf.validate(data, "test")  # raises if the manifest is not valid
    return data


@pytest.fixture()
def run(tmp_path):
    with running_emulator(phase_seconds=0.05) as emu:
        yield Run(emu, tmp_path)


def recap(out):
    line = [l for l in out.splitlines() if l.startswith("tachyon-")][-1]
    return {k: int(v) for k, v in (part.split("=") for part in line.split(":", 1)[1].split())}


def assert_failed_cleanly(run, rc, out, before, expect, env="staging", outcome="failed", active=None):
    """Clear error, app on its last good deployment, manifest: one history entry more, rest same."""
    assert rc != 0, out
    for text in expect:
        assert text in out, "%r not in output:\n%s" % (text, out[-3000:])
    app = run.app(env)
    good = active or before["active"]
    assert app["active_deployment"]["id"] == good or app["active_deployment"].get("cloned_from") == good
    after = manifest_json(run)
    assert len(after["history"]) == len(before["manifest"]["history"]) + 1
    entry = after["history"][-1]
    assert entry["environment"] == env and entry["outcome"] == outcome
    assert {k: v for k, v in after.items() if k != "history"} == \
        {k: v for k, v in before["manifest"].items() if k != "history"}
    for value in SECRETS.values():
        assert value not in out
    return entry


def snapshot(run, env="staging"):
    return {"active": run.app(env)["active_deployment"]["id"], "manifest": manifest_json(run),
            "deployments": len(run.deployments(env))}


# --------------------------------------------------------------------------- happy path
def test_staging_four_ways_then_production(run):
    before = snapshot(run)
    rc, out = run.staging(check=True)
    assert rc == 0, out
    assert recap(out)["changed"] == 1
    # staging deploys by digest: the sandbox registry's digest of tachyon-api:<sha> (issue 12)
    assert "digest: %s" % sandbox_digest("tachyon-api", RELEASE["tachyon-api"]) in out and "REDACTED" in out
    assert manifest_json(run) == before["manifest"] and len(run.deployments()) == before["deployments"]

    rc, out = run.staging()
    assert rc == 0, out
    assert recap(out)["changed"] == 1  # deployed, verified and recorded by one app_deploy task
    assert "[app_deploy] deployment" in out and ": ACTIVE" in out
    data = manifest_json(run)
    staging = data["environments"]["staging"]
    assert staging["deployment_id"] == run.app()["active_deployment"]["id"]
    assert staging["services"]["tachyon-api"]["sha"] == RELEASE["tachyon-api"] and staging["health_verified_at"]
    assert len(run.deployments()) == before["deployments"] + 1
    status, payload = run.emu.health(run.emu.app_ids["staging"])
    assert status == 200 and payload["version"] == RELEASE["tachyon-api"]
    assert run.emu.secret_matches(run.emu.app_ids["staging"], "STRIPE_SECRET_KEY", SECRETS["STRIPE_SECRET_KEY"], component="api")

    rc, out = run.staging(check=True)
    assert rc == 0 and recap(out)["changed"] == 0, out
    rc, out = run.staging()
    assert rc == 0 and recap(out)["changed"] == 0, out
    assert manifest_json(run) == data and len(run.deployments()) == before["deployments"] + 1

    rc, out = run.production()
    assert rc == 0, out
    prod = manifest_json(run)["environments"]["production"]
    assert prod["approved_by"] == "alice" and prod["deployed_by"] == "tester"
    assert prod["services"]["tachyon-api"]["sha"] == RELEASE["tachyon-api"]


def test_staging_resolves_main_with_git_ls_remote(run, tmp_path):
    work = tmp_path / "work"
    shas = {}
    for repo in ("tachyon-api", "tachyon-workers", "tachyon-db"):
        src = work / repo
        src.mkdir(parents=True)
        (src / "README").write_text(repo)
        git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(src)]
        subprocess.run(git[:5] + ["init", "-q", "-b", "main", str(src)], check=True)
        subprocess.run(git + ["add", "."], check=True)
        subprocess.run(git + ["commit", "-qm", "init"], check=True)
        shas[repo] = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        subprocess.run(["git", "clone", "-q", "--bare", str(src), str(tmp_path / "remotes" / (repo + ".git"))], check=True)
    rc, out = run.playbook("staging", extra={"tachyon_shas": {"tachyon-workers": OTHER["tachyon-workers"]},
                                             "tachyon_repo_base_url": "file://%s" % (tmp_path / "remotes")})
    assert rc == 0, out
    services = manifest_json(run)["environments"]["staging"]["services"]
    assert services["tachyon-api"]["sha"] == shas["tachyon-api"]
    assert services["tachyon-db-migrate"]["sha"] == shas["tachyon-db"]
    assert services["tachyon-workers"]["sha"] == OTHER["tachyon-workers"]


# --------------------------------------------------------------------------- transient faults: retried, one deployment
@pytest.mark.parametrize("faults", [
    [{"kind": "http_error", "method": "PUT", "path": "/v2/apps/*", "status": 503, "count": 2}],
    [{"kind": "rate_limit", "method": "PUT", "path": "/v2/apps/*", "retry_after": 1, "count": 2}],
    [{"kind": "drop_connection", "method": "PUT", "path": "/v2/apps/*", "count": 1}],
    [{"kind": "http_error", "method": "GET", "path": "/v2/apps/*/deployments/*", "status": 500, "count": 3},
     {"kind": "rate_limit", "method": "GET", "path": "/v2/apps/*/deployments/*", "retry_after": 1, "count": 2}],
    [{"kind": "drop_connection", "method": "GET", "path": "/v2/apps/*/deployments/*", "count": 3}],
], ids=["5xx-update", "429-update", "drop-update", "5xx-429-wait", "drop-wait"])
def test_transient_api_faults_are_retried_without_a_second_deployment(run, faults):
    before = snapshot(run)
    run.emu.set_faults(faults)
    rc, out = run.staging()
    assert rc == 0, out
    assert len(run.deployments()) == before["deployments"] + 1
    assert manifest_json(run)["environments"]["staging"]["deployment_id"] == run.app()["active_deployment"]["id"]
    assert all(f["hits"] >= 1 for f in run.emu.state()["faults"])


@pytest.mark.parametrize("fault,expect", [
    ({"kind": "http_error", "method": "PUT", "path": "/v2/apps/*", "status": 503}, "503"),
    ({"kind": "rate_limit", "method": "PUT", "path": "/v2/apps/*", "retry_after": 0}, "429"),
], ids=["5xx-update", "429-update"])
def test_persistent_api_faults_fail_clearly_and_deploy_nothing(run, fault, expect):
    before = snapshot(run)
    run.emu.set_faults([fault])
    rc, out = run.staging()
    assert_failed_cleanly(run, rc, out, before, [expect, "update app", "Nothing was deployed"])
    assert len(run.deployments()) == before["deployments"]


# --------------------------------------------------------------------------- deployment failures
@pytest.mark.parametrize("stage", ["build", "deploy"])
def test_failed_deployment_names_step_and_prints_log_tail(run, stage):
    before = snapshot(run)
    run.emu.set_faults([{"kind": "deploy_fail", "stage": stage, "component": "workers", "count": 1}])
    rc, out = run.staging()
    entry = assert_failed_cleanly(run, rc, out, before, ["failing step", "workers", "log (last", "FAILED",
                                                         "stays on its last good deployment"])
    assert entry["deployment_id"] and entry["deployment_id"] != before["active"]


@pytest.mark.parametrize("mode,expect", [("unhealthy", "HTTP 503"), ("stale_version", "sandbox-initial")])
def test_health_failure_rolls_back_to_last_good(run, mode, expect):
    before = snapshot(run)
    run.emu.set_faults([{"kind": "health", "mode": mode}])
    rc, out = run.staging()
    entry = assert_failed_cleanly(run, rc, out, before, ["the live app did not become healthy", expect,
                                                         "Rolled back to the last good deployment"],
                                  outcome="rolled_back")
    assert entry["rolled_back_to"] == before["active"]
    app = run.app()
    assert app["active_deployment"]["cloned_from"] == before["active"] and not app.get("pinned_deployment")


def test_superseded_deployment_fails_without_rolling_back_the_other(run):
    before = snapshot(run)
    run.emu.set_faults([{"kind": "slow_phase", "phase": "BUILDING", "seconds": 20, "count": 1}])
    proc = run.staging(background=True)
    client = run.emu.client("staging")
    app_id = run.emu.app_ids["staging"]
    deadline = time.monotonic() + 60
    while not client.apps.get(app_id)["app"].get("in_progress_deployment") and time.monotonic() < deadline:
        time.sleep(0.1)
    spec = copy.deepcopy(client.apps.get(app_id)["app"]["spec"])
    spec["envs"].append({"key": "SOMEONE_ELSE", "value": "1"})
    other = client.apps.update(app_id, {"spec": spec})["app"]["pending_deployment"]["id"]
    out, _err = proc.communicate(timeout=120)
    while client.apps.get(app_id)["app"]["active_deployment"]["id"] != other and time.monotonic() < deadline:
        time.sleep(0.1)
    assert_failed_cleanly(run, proc.returncode, out, before, ["SUPERSEDED"], active=other)


def test_timeout_cancels_our_deployment(run):
    before = snapshot(run)
    run.emu.set_faults([{"kind": "slow_phase", "phase": "BUILDING", "seconds": 30, "count": 1}])
    rc, out = run.staging(extra={"tachyon_deploy_timeout": 2})
    entry = assert_failed_cleanly(run, rc, out, before, ["did not become ACTIVE within 2s", "canceled"])
    phases = {d["id"]: d["phase"] for d in run.deployments()}
    assert phases[entry["deployment_id"]] == "CANCELED"


# --------------------------------------------------------------------------- lock
def test_concurrent_deploy_is_refused_naming_the_holder(run):
    before = snapshot(run)
    lock = run.manifest.parent / ".deploy-staging.lock"
    lock.write_text(json.dumps({"lock_id": "x", "owner": "bob", "pid": os.getpid(), "host": socket.gethostname(),
                                "purpose": "deploy of staging", "since": "2026-01-01T00:00:00Z",
                                "since_epoch": time.time()}))
    rc, out = run.staging()
    assert_failed_cleanly(run, rc, out, before, ["another deploy of staging", "bob", "pid %d" % os.getpid()])
    assert len(run.deployments()) == before["deployments"] and lock.exists()
    # the holder is gone: its lock is stale, taken over with a warning, and released at the end
    dead = subprocess.Popen(["true"])
    dead.wait()
    lock.write_text(json.dumps(dict(json.loads(lock.read_text()), pid=dead.pid)))
    rc, out = run.staging()
    assert rc == 0 and "took over a stale lock of bob" in out, out
    assert not lock.exists()


# --------------------------------------------------------------------------- promotion rules
def _staging_runs(run, shas):
    """Make the staging app run ``shas`` by digest (a deploy another run made, straight through the
    API) and return its deployment id: the promotion gates read staging's live deployment."""
    client = run.emu.client("staging")
    app_id = run.emu.app_ids["staging"]
    spec = client.apps.get(app_id)["app"]["spec"]
    names = {"api": "tachyon-api", "workers": "tachyon-workers", "db-migrate": "tachyon-db-migrate"}
    for kind in ("services", "workers", "jobs"):
        for comp in spec.get(kind) or []:
            image = comp["image"]
            image.pop("tag", None)
            image["digest"] = sandbox_digest(names[comp["name"]], shas[names[comp["name"]]])
    dep_id = client.apps.update(app_id, {"spec": spec})["app"]["pending_deployment"]["id"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if client.apps.get_deployment(app_id, dep_id)["deployment"]["phase"] == "ACTIVE":
            return dep_id
        time.sleep(0.05)
    raise AssertionError("staging deployment %s never went ACTIVE" % dep_id)


def _manifest_with_staging(run, shas):
    dep_id = _staging_runs(run, shas)
    data = manifest_json(run)
    # as staging records it: by digest, the sandbox registry's digest of <image>:<sha> (issue 12)
    services = {name: {"sha": sha, "tag": sha, "image": "ghcr.io/tachyonapp/" + name,
                       "digest": sandbox_digest(name, sha)} for name, sha in shas.items()}
    data = mf.record_deployment(data, "staging", "succeeded", deployment_id=dep_id, services=services,
                                deployed_by="tester", health_verified_at="2026-01-01T00:00:00Z")
    run.manifest.write_text(json.dumps(data, indent=2))


@pytest.mark.parametrize("case,kwargs,expect", [
    ("no-staging", {}, "staging"),
    ("other-shas", {"staging": OTHER}, "but the release pins"),
    ("version-mismatch", {"staging": RELEASE, "version": "9.9.9"}, "9.9.9"),
    ("missing-approver", {"staging": RELEASE, "approver": None}, "approved_by"),
])
def test_production_promotion_rules(run, case, kwargs, expect):
    if "staging" in kwargs:
        _manifest_with_staging(run, kwargs["staging"])
    before = snapshot(run, "production")
    rc, out = run.production(version=kwargs.get("version", "0.1.0"), approver=kwargs.get("approver", "alice"))
    assert_failed_cleanly(run, rc, out, before, [expect, "Nothing was deployed"], env="production")
    assert len(run.deployments("production")) == before["deployments"]


# --------------------------------------------------------------------------- bad input
def test_missing_secret_names_the_key_and_deploys_nothing(run):
    before = snapshot(run)
    del run.env["TACHYON_SECRET_STRIPE_SECRET_KEY"]
    rc, out = run.staging()
    assert_failed_cleanly(run, rc, out, before, ["missing secret value(s)", "STRIPE_SECRET_KEY"])
    assert len(run.deployments()) == before["deployments"]


@pytest.mark.parametrize("extra,expect", [
    ({"tachyon_shas": dict(RELEASE, **{"tachyon-api": "xyz-not-a-sha"})}, "malformed SHA for tachyon-api"),
    ({"tachyon_shas": dict(RELEASE, **{"tachyon-nope": "abcdef1"})}, "unknown service(s) tachyon-nope"),
    ({"tachyon_services": [dict(s, component="nope") if s["name"] == "tachyon-api" else s for s in CATALOG]},
     "nope"),
    ({"tachyon_shas": {"tachyon-workers": "bbbbbbb"}, "tachyon_repo_base_url": "file:///nonexistent/remotes"},
     "could not resolve refs/heads/main of tachyon-api (file:///nonexistent/remotes/tachyon-api.git)"),
], ids=["malformed-sha", "unknown-service", "unknown-component", "unresolvable-repo"])
def test_bad_input_fails_before_deploying(run, extra, expect):
    before = snapshot(run)
    rc, out = run.playbook("staging", extra=dict({"tachyon_shas": RELEASE}, **extra))
    assert_failed_cleanly(run, rc, out, before, [expect, "Nothing was deployed"])
    assert len(run.deployments()) == before["deployments"]


def test_malformed_manifest_is_refused_and_left_alone(run):
    before_active = run.app()["active_deployment"]["id"]
    run.manifest.write_text('{"version": "0.1.0", "services": ')
    rc, out = run.staging()
    assert rc != 0 and "manifest" in out.lower(), out
    assert run.manifest.read_text() == '{"version": "0.1.0", "services": '
    assert run.app()["active_deployment"]["id"] == before_active


# --------------------------------------------------------------------------- secrets never leak
def test_no_secret_in_vvv_output_or_any_written_file(run):
    rc, out = run.staging(args=["-vvv"], extra={})
    assert rc == 0, out
    run.env["ANSIBLE_KEEP_REMOTE_FILES"] = "1"
    rc2, out2 = run.staging(args=["-vvv"], extra={"tachyon_shas": OTHER})
    assert rc2 == 0, out2
    for value in SECRETS.values():
        assert value not in out and value not in out2
    written = [os.path.join(d, f) for d, _s, files in os.walk(run.tmp) for f in files]
    home_tmp = os.path.expanduser("~/.ansible/tmp")
    written += [os.path.join(d, f) for d, _s, files in os.walk(home_tmp) for f in files] if os.path.isdir(home_tmp) else []
    assert any(p.endswith("manifest.json") for p in written)
    for path in written:
        with open(path, "rb") as handle:
            data = handle.read()
        for value in SECRETS.values():
            assert value.encode() not in data, path
    # and the emulator did receive them (the test would prove nothing otherwise)
    assert run.emu.secret_matches(run.emu.app_ids["staging"], "STRIPE_SECRET_KEY", SECRETS["STRIPE_SECRET_KEY"], component="api")


# --------------------------------------------------------------------------- manual rollback
def test_manual_rollback_playbook(run):
    first = run.app()["active_deployment"]["id"]
    rc, out = run.staging()
    assert rc == 0, out
    rc, out = run.playbook("staging", playbook="rollback.yml", extra={"tachyon_rollback_to": first}, check=True)
    assert rc == 0 and recap(out)["changed"] == 1, out
    rc, out = run.playbook("staging", playbook="rollback.yml", extra={"tachyon_rollback_to": first})
    assert rc == 0, out
    assert run.app()["active_deployment"]["cloned_from"] == first
    entry = manifest_json(run)["history"][-1]
    assert entry["outcome"] == "rolled_back" and entry["rolled_back_to"] == first
    rc, out = run.playbook("staging", playbook="rollback.yml", extra={"tachyon_rollback_to": first})
    assert rc == 0 and recap(out)["changed"] == 0, out


# --------------------------------------------------------------------------- issue 17: the gate
def _images(app):
    """component name -> image reference the app runs (tag or digest)."""
    out = {}
    for kind in ("services", "workers", "jobs"):
        for comp in app["spec"].get(kind) or []:
            image = comp.get("image") or {}
            out[comp["name"]] = image.get("digest") or image.get("tag")
    return out


def _assert_refused_untouched(run, rc, out, before_text, expect):
    """Refused before anything was read or written: message, manifest bytes, both apps."""
    assert rc != 0, out
    assert "refused before deploying or writing anything" in out, out[-3000:]
    for text in expect:
        assert text in out, "%r not in output:\n%s" % (text, out[-3000:])
    assert run.manifest.read_text() == before_text
    assert "Deploy to App Platform" not in out and "Take the deploy lock" not in out


@pytest.mark.parametrize("extra,args,expect", [
    # the reproduction of issue 17: production host, environment forced to staging, a bad SHA
    ({"tachyon_environment": "staging", "tachyon_shas": {"tachyon-api": "baddbad"}}, [],
     ["extra var tachyon_environment=staging disagrees with the inventory",
      "host tachyon-production is in inventory group production"]),
    ({"deploy_promotion": {"services": {}}, "deploy_services": {}}, [],
     ["extra var deploy_promotion", "extra var deploy_services", "cannot be given with -e"]),
    ({"tachyon_do_app_id": "5a4db0c5-0000-4000-8000-5a4db0c5a001", "tachyon_do_token": "sandbox-staging-token"},
     [], ["extra var tachyon_do_app_id", "extra var tachyon_do_token", "come only from its inventory"]),
    ({}, ["--skip-tags", "promotion_check"], ["--skip-tags promotion_check would skip a safety check of production"]),
    ({}, ["--skip-tags", "always"], ["--skip-tags always would skip a safety check"]),
], ids=["environment", "internal-vars", "app-id-token", "skip-promotion", "skip-always"])
def test_production_identity_cannot_be_overridden(run, extra, args, expect):
    before_text = run.manifest.read_text()
    before = {env: (run.app(env)["active_deployment"]["id"], len(run.deployments(env)))
              for env in ("staging", "production")}
    rc, out = run.production(approver=None, version=None, extra=extra, args=args)
    _assert_refused_untouched(run, rc, out, before_text, expect)
    for env in ("staging", "production"):
        assert (run.app(env)["active_deployment"]["id"], len(run.deployments(env))) == before[env]
    status, payload = run.emu.health(run.emu.app_ids["production"])
    assert payload is None or payload.get("version") != "baddbad"


def test_environment_disagreeing_in_host_vars_is_refused(run, tmp_path):
    inventory = tmp_path / "inventory"
    shutil.copytree(os.path.join(ROOT, "inventories", "sandbox"), inventory)
    (inventory / "host_vars").mkdir()
    (inventory / "host_vars" / "tachyon-production.yml").write_text("tachyon_environment: staging\n")
    before_text = run.manifest.read_text()
    rc, out = run.playbook("production", extra={"tachyon_version": "0.1.0", "tachyon_approved_by": "alice"},
                           inventory=inventory)
    _assert_refused_untouched(run, rc, out, before_text, ["tachyon_environment is 'staging' for host tachyon-production"])


def test_production_inventory_pointing_at_the_staging_app_is_refused(run, tmp_path):
    rc, out = run.staging()
    assert rc == 0, out
    staging_active = run.app("staging")["active_deployment"]["id"]
    inventory = tmp_path / "inventory"
    shutil.copytree(os.path.join(ROOT, "inventories", "sandbox"), inventory)
    staging_vars = (inventory / "group_vars" / "staging.yml").read_text()
    (inventory / "group_vars" / "production.yml").write_text(staging_vars)  # the staging app and token
    before = manifest_json(run)
    count = len(run.deployments("staging"))
    rc, out = run.playbook("production", extra={"tachyon_version": "0.1.0", "tachyon_approved_by": "alice"},
                           inventory=inventory)
    assert rc != 0, out
    assert "records as a staging deployment: it is the staging app, not the production one" in out, out[-3000:]
    assert "Nothing was deployed" in out
    assert run.app("staging")["active_deployment"]["id"] == staging_active
    assert len(run.deployments("staging")) == count
    after = manifest_json(run)
    assert after["environments"] == before["environments"]
    assert all(e["environment"] != "production" or e["outcome"] == "failed" for e in after["history"])


def _staging_then(run):
    rc, out = run.staging()
    assert rc == 0, out
    return manifest_json(run)["environments"]["staging"]["deployment_id"]


def test_promotion_refused_after_staging_was_rolled_back_off_the_release(run):
    first = run.app("staging")["active_deployment"]["id"]
    _staging_then(run)
    rc, out = run.playbook("staging", playbook="rollback.yml",
                           extra={"tachyon_rollback_to": first, "tachyon_rollback_reason": "0.1.0 is bad"})
    assert rc == 0, out
    entry = manifest_json(run)["history"][-1]
    assert entry["outcome"] == "rolled_back" and entry["services"] is None  # sandbox-initial: never recorded
    before = snapshot(run, "production")
    rc, out = run.production()
    assert_failed_cleanly(run, rc, out, before, ["staging's latest attempt", "was rolled back to %s" % first,
                                                 "Nothing was deployed"], env="production")
    assert len(run.deployments("production")) == before["deployments"]
    # staging deploys the release again: current proof, production goes
    rc, out = run.staging()
    assert rc == 0, out
    rc, out = run.production()
    assert rc == 0, out


def test_promotion_refused_after_a_failed_staging_attempt_until_staging_is_verified_again(run):
    good = _staging_then(run)
    run.emu.set_faults([{"kind": "deploy_fail", "stage": "build", "component": "workers", "count": 1}])
    rc, out = run.staging(shas=dict(RELEASE, **{"tachyon-workers": OTHER["tachyon-workers"]}))
    assert rc != 0, out
    failed = manifest_json(run)["history"][-1]
    assert failed["outcome"] == "failed"
    # the history says which SHAs were attempted
    assert failed["services"]["tachyon-workers"]["sha"] == OTHER["tachyon-workers"]
    assert failed["services"]["tachyon-api"] == {"sha": RELEASE["tachyon-api"], "tag": RELEASE["tachyon-api"],
                                                 "digest": sandbox_digest("tachyon-api", RELEASE["tachyon-api"]),
                                                 "image": "ghcr.io/tachyonapp/tachyon-api"}
    before = snapshot(run, "production")
    rc, out = run.production()
    assert_failed_cleanly(run, rc, out, before, ["staging's latest attempt", "failed"], env="production")
    # staging still runs the good deployment: deploying the release again changes nothing on the
    # app but records a fresh verified success, which is current proof
    rc, out = run.staging()
    assert rc == 0, out
    data = manifest_json(run)
    assert data["history"][-1]["outcome"] == "succeeded" and data["history"][-1]["deployment_id"] == good
    rc, out = run.production()
    assert rc == 0, out


def _service_repos(tmp_path):
    shas = {}
    for repo in ("tachyon-api", "tachyon-workers", "tachyon-db"):
        src = tmp_path / "work" / repo
        src.mkdir(parents=True)
        (src / "README").write_text(repo)
        git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(src)]
        subprocess.run(git[:5] + ["init", "-q", "-b", "main", str(src)], check=True)
        subprocess.run(git + ["add", "."], check=True)
        subprocess.run(git + ["commit", "-qm", "init"], check=True)
        shas[repo] = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        subprocess.run(["git", "clone", "-q", "--bare", str(src), str(tmp_path / "remotes" / (repo + ".git"))], check=True)
    return {"tachyon-api": shas["tachyon-api"], "tachyon-workers": shas["tachyon-workers"],
            "tachyon-db-migrate": shas["tachyon-db"]}


def test_short_shas_are_expanded_and_production_runs_exactly_what_staging_ran(run, tmp_path):
    full = _service_repos(tmp_path)
    base = {"tachyon_repo_base_url": "file://%s" % (tmp_path / "remotes")}
    # a release pinned with 7-character prefixes (the seed's create-release.sh habit)
    data = manifest_json(run)
    data = mf.create_release(data, "0.2.0", {n: s[:7] for n, s in full.items()}, now="2026-05-01T00:00:00Z",
                             **catalog.RELEASE_ARGS)
    run.manifest.write_text(mf.to_json_text(data))
    rc, out = run.staging(shas={n: s[:7].upper() for n, s in full.items()}, extra=base)
    assert rc == 0, out
    staging = manifest_json(run)["environments"]["staging"]["services"]
    assert {n: (s["sha"], s["tag"]) for n, s in staging.items()} == {n: (s, s) for n, s in full.items()}
    ran = _images(run.app("staging"))
    # deployed by digest: the sandbox registry's digests of the full SHAs' tags
    assert ran == {"api": sandbox_digest("tachyon-api", full["tachyon-api"]),
                   "workers": sandbox_digest("tachyon-workers", full["tachyon-workers"]),
                   "db-migrate": sandbox_digest("tachyon-db-migrate", full["tachyon-db-migrate"])}
    rc, out = run.production(version="0.2.0")
    assert rc == 0, out
    assert _images(run.app("production")) == ran
    production = manifest_json(run)["environments"]["production"]["services"]
    assert production == staging


def test_short_sha_that_the_repo_cannot_expand_is_refused(run, tmp_path):
    _service_repos(tmp_path)
    before = snapshot(run)
    rc, out = run.staging(shas={"tachyon-api": "abcdef1"},
                          extra={"tachyon_repo_base_url": "file://%s" % (tmp_path / "remotes")})
    assert_failed_cleanly(run, rc, out, before, [
        "cannot expand the short SHA of tachyon-api abcdef1", "Give all 40 hexadecimal characters in tachyon_shas",
        "Nothing was deployed"])


# --------------------------------------------------------------------------- issue 17: hints that work
def test_missing_approver_hint_names_the_variable_that_fixes_it(run):
    _manifest_with_staging(run, RELEASE)
    rc, out = run.production(approver=None)
    assert rc != 0
    hint = re.search(r"-e (\w+)=<name>", out)
    assert hint and hint.group(1) == "tachyon_approved_by", out[-3000:]
    # the pre-issue-17 hint did not work: -e approved_by=alice is still refused
    rc, out = run.production(approver=None, extra={"approved_by": "alice"})
    assert rc != 0 and "no approver" in out
    rc, out = run.production(approver=None, extra={hint.group(1): "alice"})
    assert rc == 0, out
    assert manifest_json(run)["environments"]["production"]["approved_by"] == "alice"


def test_missing_version_hint_names_the_variable_that_fixes_it(run):
    _manifest_with_staging(run, RELEASE)
    rc, out = run.production(version=None)
    assert rc != 0
    assert "all of the following are missing" not in out
    hint = re.search(r"-e (\w+)=(\S+?)[;)]", out)
    assert hint and hint.group(1) == "tachyon_version" and hint.group(2) == "0.1.0", out[-3000:]
    rc, out = run.production(version=None, extra={hint.group(1): hint.group(2)})
    assert rc == 0, out


def test_rolled_back_attempt_records_the_services_it_attempted(run):
    run.emu.set_faults([{"kind": "health", "mode": "unhealthy"}])
    rc, out = run.staging()
    assert rc != 0
    entry = manifest_json(run)["history"][-1]
    assert entry["outcome"] == "rolled_back"
    assert {n: s["sha"] for n, s in entry["services"].items()} == RELEASE


def test_re_pin_hint_names_the_wrapper_option_that_fixes_it(run):
    env = dict(run.env)
    script = os.path.join(ROOT, "scripts", "create-release.sh")
    extra = ["-e", json.dumps({"manifest_path": str(run.manifest)})]
    other = ["0.1.0", "a" * 40, "b" * 40, "c" * 40]
    proc = subprocess.run([script] + other + extra, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "already exists with other pins" in out, out[-3000:]
    hint = re.search(r"-e (release_force=true)", out)
    assert hint, out[-3000:]
    proc = subprocess.run([script] + other + extra + ["-e", hint.group(1)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert manifest_json(run)["services"]["tachyon-api"]["sha"] == "a" * 40


def test_run_guard_hints_followed_let_the_run_through(run):
    _manifest_with_staging(run, RELEASE)
    extra = {"tachyon_environment": "staging", "deploy_services": {}, "tachyon_do_token": "sandbox-staging-token"}
    rc, out = run.production(extra=extra)
    assert rc != 0
    removed = re.findall(r"Remove -e (\w+)", out)
    assert sorted(set(removed)) == sorted(extra), out[-3000:]
    rc, out = run.production(extra={k: v for k, v in extra.items() if k not in removed})
    assert rc == 0, out
