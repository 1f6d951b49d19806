"""Unit tests of the promotion gates' logic (issue 14): what a deployment runs (live_app), the
migration flag (migrations), the smoke check list (smoke), the soak and staging gates and the
plan (gates); plus the emulator's stale_image fault."""
import copy
import datetime
import json
import os

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._plan import gates
from ansible_collections.tachyon.infra.plugins.module_utils._plan import plan
from ansible_collections.tachyon.infra.plugins.module_utils._platform import live_app
from ansible_collections.tachyon.infra.plugins.module_utils._release import migrations
from ansible_collections.tachyon.infra.plugins.module_utils._platform import smoke
from emulator.testing import running_emulator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIGEST = "sha256:" + "a" * 64
OLD = "sha256:" + "b" * 64


def recorded(name):
    """The body of a recorded DigitalOcean response (tests/recorded/fixtures)."""
    with open(os.path.join(ROOT, "tests", "recorded", "fixtures", name)) as handle:
        body = json.load(handle)["body"]
    return body.get("deployment", body)


def tachyon_deployment(job_status="SUCCESS", workers_digest=DIGEST):
    """deployment_active_image.json's shape with Tachyon's three components (api, workers, the
    PRE_DEPLOY job db-migrate): the deploy stage's component step per component."""
    dep = copy.deepcopy(recorded("deployment_active_image.json"))
    image = {"registry_type": "GHCR", "registry": "tachyonapp"}
    dep["spec"] = {"name": "tachyon", "services": [{"name": "api", "image": dict(image, repository="tachyon-api", digest=DIGEST)}],
                   "workers": [{"name": "workers", "image": dict(image, repository="tachyon-workers", digest=workers_digest)}],
                   "jobs": [{"name": "db-migrate", "kind": "PRE_DEPLOY",
                             "image": dict(image, repository="tachyon-db-migrate", tag="9252ea2")}]}
    comps = dep["progress"]["steps"][1]["steps"][1]
    web = comps["steps"][0]
    comps["steps"] = []
    for name, status in (("db-migrate", job_status), ("api", "SUCCESS"), ("workers", "SUCCESS")):
        step = copy.deepcopy(web)
        step.update(name=name, component_name=name, status=status)
        comps["steps"].append(step)
    return dep


SERVICES = {
    "tachyon-api": {"component": "api", "image": "ghcr.io/tachyonapp/tachyon-api", "tag": "4a09142", "digest": DIGEST},
    "tachyon-workers": {"component": "workers", "image": "ghcr.io/tachyonapp/tachyon-workers", "tag": "2f9e050",
                        "digest": DIGEST},
    "tachyon-db-migrate": {"component": "db-migrate", "image": "ghcr.io/tachyonapp/tachyon-db-migrate",
                           "tag": "9252ea2", "sha": "9252ea2", "digest": None},
}


def test_recorded_deployment_components_and_steps():
    dep = recorded("deployment_active_image.json")
    assert live_app.components(dep)["web"]["ref"] == "registry.digitalocean.com/add_sample:latest"
    assert live_app.deploy_component_steps(dep) == {"web": "SUCCESS"}
    assert live_app.pre_deploy_jobs(dep) == {} and live_app.migration_ran(dep) is False


def test_every_component_runs_its_pin():
    dep = tachyon_deployment()
    assert live_app.compare(SERVICES, dep) == [] and live_app.job_problems(dep) == []
    assert live_app.pre_deploy_jobs(dep) == {"db-migrate": "SUCCESS"} and live_app.migration_ran(dep)


def test_a_component_on_an_old_image_is_named_with_both_references():
    problems = live_app.compare(SERVICES, tachyon_deployment(workers_digest=OLD))
    assert problems == ["tachyon-workers (component workers) runs ghcr.io/tachyonapp/tachyon-workers@%s, but the "
                        "release pins ghcr.io/tachyonapp/tachyon-workers@%s" % (OLD, DIGEST)]
    # pinned by tag, the live one by digest: not provably the same image
    dep = tachyon_deployment()
    dep["spec"]["jobs"][0]["image"]["digest"] = DIGEST
    assert "tachyon-db-migrate (component db-migrate)" in live_app.compare(SERVICES, dep)[0]
    # a component missing from the live deployment
    del dep["spec"]["workers"]
    assert any("has no such component" in p for p in live_app.compare(SERVICES, dep))


@pytest.mark.parametrize("status,ran", [("ERROR", True), ("RUNNING", False), ("PENDING", False)])
def test_a_pre_deploy_job_that_did_not_succeed(status, ran):
    dep = tachyon_deployment(job_status=status)
    assert live_app.job_problems(dep) == ["PRE_DEPLOY job db-migrate did not succeed: its deploy step is %s" % status]
    assert live_app.migration_ran(dep) is ran


def test_migration_flag():
    pin = {"sha": "9252ea24498a84c0fdcdc75be8ea8182caebb176", "tag": "9252ea24498a84c0fdcdc75be8ea8182caebb176",
           "digest": DIGEST}
    db = "tachyon-db-migrate"
    assert not migrations.carries_migration(pin, {"tag": "9252ea2", "digest": DIGEST}, db)["carries"]
    assert not migrations.carries_migration(pin, {"tag": "9252ea2"}, db)["carries"]  # SHA prefix, no digest to compare
    moved = migrations.carries_migration(pin, {"tag": pin["tag"], "digest": OLD}, db)
    assert moved["carries"] and "differs from" in moved["reason"]
    assert migrations.carries_migration(pin, None, db)["carries"]
    manifest = {"services": {"tachyon-db-migrate": pin},
                "environments": {"production": {"services": {"tachyon-db-migrate": {"tag": "sandbox-initial"}}}}}
    flag = migrations.release_carries_migration(manifest, "production", db)
    assert flag["carries"] and "the manifest's record of production" in flag["reason"]
    assert not migrations.release_carries_migration(manifest, "production", db, live_pin=dict(pin))["carries"]
    # no service marked migrations: true in the catalog: nothing carries a migration, and it says why
    none = migrations.release_carries_migration(manifest, "production", None)
    assert not none["carries"] and "no service in the catalog runs migrations (migrations: true" in none["reason"]


def test_smoke_check_list_shape():
    checks = smoke.validate([{"path": "/health", "json": {"status": "healthy"}}])
    assert checks == [{"name": "GET /health", "path": "/health", "method": "GET", "status": 200,
                       "json": {"status": "healthy"}, "timeout": 10}]
    with pytest.raises(smoke.SmokeCheckError) as err:
        smoke.validate([{"path": "health?x=1", "method": "FETCH", "status": True, "json": [], "timeout": 0, "extra": 1},
                        "GET /"])
    text = str(err.value)
    for part in ("tachyon_smoke_checks[0] has unknown key(s) extra", "[0]: path must be a string starting with /",
                 "[0]: method must be one of", "[0]: status must be an HTTP status code", "[0]: json must map",
                 "[0]: timeout must be a number", "tachyon_smoke_checks[1] is a str, not a mapping"):
        assert part in text, part
    with pytest.raises(smoke.SmokeCheckError):
        smoke.validate({"path": "/health"})


def test_smoke_checks_against_fake_answers():
    answers = {"/health": (200, json.dumps({"status": "healthy", "checks": {"postgres": "disconnected"}}), None),
               "/missing": (404, "Cannot GET /missing", None), "/down": (None, None, "connection failed (refused)")}

    def fetch(url, method, timeout):
        return answers[url[len("http://app"):]]
    wanted = {"status": "healthy", "checks.postgres": "connected", "checks.redis": "connected"}
    checks = smoke.validate([{"path": "/health", "json": wanted}, {"path": "/missing", "status": 404}, {"path": "/down"},
                             {"path": "/missing", "json": {"a": 1}, "status": 404}])
    results, failed = smoke.run_checks("http://app/", checks, fetch=fetch)
    assert [r["ok"] for r in results] == [False, True, False, False]
    assert failed[0]["problem"] == ('checks.postgres="disconnected" (expected "connected"), '
                                    'checks.redis missing (expected "connected")')
    assert failed[1]["problem"] == "connection failed (refused)"
    assert failed[2]["problem"] == "the body is not JSON (fields a expected)"


def test_soak_gate_says_how_long_is_left():
    now = datetime.datetime(2026, 5, 1, 12, 10, 0, tzinfo=datetime.timezone.utc)
    left = gates.soak_gate("2026-05-01T12:00:00Z", 30, now)
    assert not left["ok"] and left["detail"] == (
        "staging was verified at 2026-05-01T12:00:00Z, only 10m00s ago; tachyon_soak_minutes is 30: 20m00s left "
        "(production may deploy from 2026-05-01T12:30:00Z)")
    assert gates.soak_gate("2026-05-01T11:40:00Z", 30, now)["ok"]
    assert gates.soak_gate("2026-05-01T12:10:00Z", 0, now)["ok"]
    assert not gates.soak_gate(None, 0, now)["ok"]


def test_staging_gates_and_plan():
    manifest = {"version": "0.2.0", "environments": {"staging": {"deployment_id": "dep-1"}}}
    live = {"active_deployment_id": "dep-2", "components": live_app.components(tachyon_deployment())}
    gate = gates.staging_live_gate(manifest, live, SERVICES)
    assert not gate["ok"] and "staging's live active deployment is dep-2, but the manifest records dep-1" in gate["detail"]
    live["active_deployment_id"] = "dep-1"
    assert gates.staging_live_gate(manifest, live, SERVICES)["ok"]
    live["components"]["workers"]["digest"] = OLD
    assert "does not run what it recorded" in gates.staging_live_gate(manifest, live, SERVICES)["detail"]
    healthy = {"status": "healthy", "version": "4a09142", "checks": {"postgres": "connected", "redis": "connected"}}
    assert gates.staging_health_gate("u", 200, healthy, None, "4a09142", ["postgres"])["ok"]
    stale = gates.staging_health_gate("u", 200, healthy, None, "5b1a2c3", ["postgres"])
    assert not stale["ok"] and "version was 4a09142, expected 5b1a2c3" in stale["detail"]
    rows = gates.now_and_next(SERVICES, live["components"])
    assert [r["change"] for r in rows] == [False, False, True]
    plan_rows = [{"service": r["service"], "component": r["component"], "change": r["change"],
                  "from": {"sha": None, "digest": None, "ref": r["now"]},
                  "to": {"sha": SERVICES[r["service"]].get("sha"), "digest": SERVICES[r["service"]].get("digest")}}
                 for r in rows]
    results = [gates.gate("soak", False, "1m left"), gates.gate("freeze", True, "not frozen")]
    table = plan.table("production", "0.2.0", plan_rows, {"carries": False, "reason": "no migration"}, results,
                       "refused", True)
    assert table[0] == "PLAN production release 0.2.0: REFUSED; gates: soak FAIL, freeze ok [check mode: nothing is changed]"
    assert table[-1] == "  gate 'soak' failed: 1m left"
    api = [line for line in table if line.startswith("  tachyon-api ")]
    assert len(api) == 1 and api[0].endswith("%s (unchanged)" % DIGEST)


def test_emulator_stale_image_fault_keeps_the_old_image_in_the_live_spec():
    with running_emulator(phase_seconds=0.02) as emu:
        client, app_id = emu.client("staging"), emu.app_ids["staging"]
        spec = client.apps.get(app_id)["app"]["spec"]
        for kind in ("services", "workers"):
            spec[kind][0]["image"]["tag"] = "new"
        emu.set_faults([{"kind": "stale_image", "component": "workers", "count": 1}])
        dep_id = client.apps.update(app_id, {"spec": spec})["app"]["pending_deployment"]["id"]
        dep = client.apps.get_deployment(app_id, dep_id)["deployment"]
        images = {c["name"]: c["image"]["tag"] for kind in ("services", "workers") for c in dep["spec"][kind]}
        assert images == {"api": "new", "workers": "sandbox-initial"}
        assert client.apps.get(app_id)["app"]["spec"]["workers"][0]["image"]["tag"] == "new"  # what was sent
        with pytest.raises(ValueError, match="stale_image: component must name"):
            emu.set_faults([{"kind": "stale_image"}])


def test_every_gate_is_a_registered_function_of_the_facts_and_decided_in_one_place():
    """Adding a gate is one function in _plan/gates.py (docs/docsite/rst/adding_a_gate.rst): GATES is the
    list evaluate() runs, a gate that does not apply returns None, a failing one refuses unless
    advisory."""
    assert [f.__name__ for f in gates.GATES] == ["inputs", "app_identity", "promotion", "rollback_approver",
                                                 "image_digests", "staging_live", "staging_healthy",
                                                 "staging_platform_healthy", "maintenance_mode", "soak",
                                                 "change_window", "freeze", "deploy_lock"]
    facts = plan.Facts({"environment": "staging", "manifest_path": "m.json"})
    facts.lock_status = {"locked": True, "lock": {"holder": "bob"}, "frozen": False, "freeze": None, "expired": None}
    results = gates.evaluate(facts)
    assert [g["name"] for g in results] == ["freeze", "deploy lock"]
    assert gates.refusals(results) == []  # the lock is advisory: the lock step waits or refuses
    facts.input_problems.append("tachyon_shas names unknown service(s) nope")
    assert [g["name"] for g in gates.refusals(gates.evaluate(facts))] == ["inputs"]


def test_the_plan_names_each_commit_by_its_subject_from_the_repo_cache(tmp_path):
    """The plan reads a commit's subject from the release notes' bare cache when it holds it (no
    fetch); the table shows 'from -> short SHA "subject"  digest'."""
    import subprocess
    work, cache = tmp_path / "work", tmp_path / "cache"
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@x", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@x")
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    subprocess.run(["git", "-C", str(work), "commit", "-q", "--allow-empty", "-m", "Fix the login redirect (#42)"],
                   check=True, env=env)
    sha = subprocess.run(["git", "-C", str(work), "rev-parse", "HEAD"], capture_output=True, text=True,
                         check=True).stdout.strip()
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(cache / "tachyon-api.git")], check=True)
    facts = plan.Facts({"environment": "staging", "manifest_path": "m.json"})
    facts.services = {"tachyon-api": {"sha": sha, "digest": DIGEST, "component": "api"},
                      "tachyon-workers": {"sha": "b" * 40, "digest": DIGEST, "component": "workers"}}
    plan._read_subjects({"repo_cache": str(cache)}, facts)
    assert facts.services["tachyon-api"]["subject"] == "Fix the login redirect (#42)"
    assert "subject" not in facts.services["tachyon-workers"]
    rows = plan.component_rows(facts)
    table = plan.table("staging", "0.2.0", rows, {"carries": False}, [], "deploy", False)
    assert '  tachyon-api     nothing -> %s "Fix the login redirect (#42)"  %s' % (sha[:7], DIGEST) in table
