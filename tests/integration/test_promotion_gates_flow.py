"""Promotion gates against the App Platform emulator (issue 14): whole-app verification, smoke
checks, staging's proof at promotion time (live deployment, health now, soak), the migration
guard (rollback with a warning in staging, freeze without rollback in production) and the
check-mode plan. Scenarios are combined so the file runs a handful of playbooks only."""
import math
import re
import time

import pytest

from emulator.testing import running_emulator
from test_deploy import RELEASE, Run, manifest_json, sandbox_digest


@pytest.fixture(name="run")
def run_fixture(tmp_path):
    with running_emulator(phase_seconds=0.05) as emu:
        yield Run(emu, tmp_path)


def flat(out):
    return " ".join(out.split())


def frozen(run, env):
    rc, out = run.playbook(env, playbook="lock.yml", extra={"lock_action": "status"})
    assert rc == 0, out
    return "FROZEN by" in out


def test_staging_old_image_and_failing_smoke_check_roll_back_with_the_migration_warning(run):
    app_id = run.emu.app_ids["staging"]
    first = run.app()["active_deployment"]["id"]
    # the workers component stays on its old image in the live deployment's spec
    run.emu.set_faults([{"kind": "stale_image", "component": "workers", "app_id": app_id, "count": 1}])
    rc, out = run.staging()
    text = flat(out)
    assert rc != 0, out
    worker_digest = sandbox_digest("tachyon-workers", RELEASE["tachyon-workers"])
    assert ("tachyon-workers (component workers) runs ghcr.io/tachyonapp/tachyon-workers:sandbox-initial, but the "
            "release pins ghcr.io/tachyonapp/tachyon-workers@%s" % worker_digest) in text, out[-4000:]
    assert "Rolled back to the last good deployment %s" % first in text
    # the sandbox app ran db-migrate:sandbox-initial, so the release carried a migration, and it ran
    assert "THE MIGRATION JOB RAN, THE SCHEMA STAYS MIGRATED" in text
    entry = manifest_json(run)["history"][-1]
    assert entry["outcome"] == "rolled_back" and entry["after_migration"] == "rollback"
    assert run.app()["active_deployment"]["cloned_from"] == first
    assert not frozen(run, "staging")

    # a smoke check that fails (the fixture api answers 404 there) counts like a failed health check
    run.emu.clear_faults()
    checks = [{"name": "health payload", "path": "/health", "json": {"status": "healthy"}},
              {"name": "version page", "path": "/version", "status": 200, "timeout": 3}]
    rc, out = run.staging(extra={"tachyon_smoke_checks": checks})
    text = flat(out)
    assert rc != 0, out
    assert "smoke check(s) failed" in text and "version page (GET /version): HTTP 404, expected 200" in text, out[-4000:]
    assert "(1 of 2 passed)" in text and "Rolled back to the last good deployment" in text
    assert manifest_json(run)["history"][-1]["outcome"] == "rolled_back"

    # a malformed check list is refused before anything is deployed
    deployments = len(run.deployments())
    rc, out = run.staging(extra={"tachyon_smoke_checks": [{"path": "health", "status": "ok"}]})
    text = flat(out)
    assert rc != 0 and "malformed smoke checks: tachyon_smoke_checks[0]: path must be a string starting with /" in text
    assert "tachyon_smoke_checks[0]: status must be an HTTP status code (100-599), got 'ok'" in text, out[-3000:]
    assert "Nothing was deployed" in text and len(run.deployments()) == deployments


def refusal(out):
    """The gates' refusal, as printed (one line)."""
    match = re.search(r"production deploy of release \S+ refused: .*? Nothing was deployed\.", flat(out))
    assert match, out[-4000:]
    return match.group(0)


def _seconds(duration):
    """'42s' or '1m05s' (the gates' fmt_duration) in seconds."""
    minutes, _sep, seconds = duration.rpartition("m")
    return int(minutes or 0) * 60 + int(seconds.rstrip("s"))


def test_production_needs_staging_live_healthy_and_soaked_and_freezes_after_a_migration(run):
    started = time.monotonic()
    rc, out = run.staging()
    assert rc == 0, out
    staging_took = time.monotonic() - started
    staging_app, prod_app = run.emu.app_ids["staging"], run.emu.app_ids["production"]
    prod_before = run.app("production")["active_deployment"]["id"]
    deployments = len(run.deployments("production"))

    # 18 s: the refusals and the freeze below take about that long; on a loaded machine (a run
    # that took longer than 8 s) the soak is the staging run's time + 10 s, in tenths of a minute,
    # so that the production run, which does less before its plan than staging did in all, still
    # sees it unfinished
    soak = max(3, math.ceil((staging_took + 10) / 6)) / 10.0
    rc, out = run.production(extra={"tachyon_soak_minutes": soak})
    text = refusal(out)
    print("SOAK REFUSAL:", text)
    left = re.search(r"gate 'soak' failed: staging was verified at \S+, only \S+ ago; tachyon_soak_minutes is %s: "
                     r"((?:\d+m)?\d+s) left \(production may deploy from \S+\)" % re.escape(str(soak)), text)
    assert rc != 0 and left, text
    refused_at = time.monotonic()
    assert "gate 'staging live deployment'" not in text and "gate 'staging healthy now'" not in text

    run.emu.set_faults([{"kind": "health", "mode": "unhealthy", "app_id": staging_app}])
    rc, out = run.production()
    text = refusal(out)
    print("UNHEALTHY REFUSAL:", text)
    assert rc != 0 and re.search(r"gate 'staging healthy now' failed: staging is not healthy now \(\S+/health: "
                                 r"HTTP 503\)", text), text
    assert run.app("production")["active_deployment"]["id"] == prod_before
    assert len(run.deployments("production")) == deployments
    run.emu.clear_faults()

    # production fails after its migration job ran: frozen, not rolled back
    run.emu.set_faults([{"kind": "health", "mode": "unhealthy", "app_id": prod_app}])
    rc, out = run.production()
    text = flat(out)
    print("FREEZE:", text[text.find("production deploy of release"):][:2500])
    assert rc != 0
    assert "NOT ROLLED BACK: the migration job ran" in text and "production is now FROZEN" in text, out[-4000:]
    assert "playbooks/lock.yml -i inventories/production -e lock_action=release" in text
    assert "The app RUNS the failed deployment" in text and "stays on its last good" not in text
    entry = manifest_json(run)["history"][-1]
    assert entry["environment"] == "production" and entry["outcome"] == "failed"
    assert entry["after_migration"] == "freeze"
    assert run.app("production")["active_deployment"]["id"] == entry["deployment_id"] != prod_before
    assert frozen(run, "production")
    run.emu.clear_faults()
    rc, out = run.playbook("production", playbook="lock.yml", extra={"lock_action": "release"})
    assert rc == 0, out

    # after the soak it goes through
    time.sleep(max(0.0, _seconds(left.group(1)) + 1 - (time.monotonic() - refused_at)))
    rc, out = run.production(extra={"tachyon_soak_minutes": soak})
    assert rc == 0, out[-4000:]
    assert manifest_json(run)["environments"]["production"]["deployment_id"] == \
        run.app("production")["active_deployment"]["id"]

    # staging redeployed (out of band, other SHAs): its live deployment is no longer the recorded one
    from test_deploy import OTHER, _staging_runs
    redeployed = _staging_runs(run, OTHER)
    rc, out = run.production()
    text = refusal(out)
    print("REDEPLOYED REFUSAL:", text)
    recorded = manifest_json(run)["environments"]["staging"]["deployment_id"]
    assert rc != 0 and ("gate 'staging live deployment' failed: staging's live active deployment is %s, but the "
                        "manifest records %s for release 0.1.0" % (redeployed, recorded)) in text, text


WRITES = ("POST", "PUT", "PATCH", "DELETE")


def test_check_mode_prints_the_plan_and_changes_nothing(run):
    """--check is the plan (issue 25): it prints it, changes nothing (app, manifest, lock; the
    emulator's request log shows no write) and fails, naming every reason, when it is refused."""
    rc, out = run.staging()
    assert rc == 0, out
    before = run.manifest.read_text()
    counts = {env: len(run.deployments(env)) for env in ("staging", "production")}
    # any mutating API request would hit one of these faults (and count a hit)
    run.emu.set_faults([{"kind": "http_error", "method": m, "path": "/v2/*", "status": 500} for m in WRITES])
    run.emu.clear_requests()
    rc, out = run.production(check=True, extra={"tachyon_soak_minutes": 30})
    assert rc != 0, out[-4000:]
    text = flat(out)
    migrate = sandbox_digest("tachyon-db-migrate", RELEASE["tachyon-db-migrate"])
    assert re.search(r"PLAN production release 0\.1\.0: REFUSED; gates: promotion \(manifest\) ok, image digests ok, "
                     r"staging live deployment ok, staging healthy now ok, staging components healthy ok, soak FAIL, "
                     r"freeze ok, deploy lock ok "
                     r"\[check mode: nothing is changed\]", text), text
    assert re.search(r"tachyon-db-migrate +sandbox-initial -> %s +%s \(MIGRATION\)"
                     % (RELEASE["tachyon-db-migrate"][:7], migrate), text), text
    assert re.search(r"gate 'soak' failed: staging was verified at \S+, only \d+s ago; tachyon_soak_minutes is 30.0?: "
                     r"\d+m\d\ds left", text), text
    assert "To unblock: wait for the soak, then run again" in text

    # every failing gate is named at once (no approver and the soak), the others still evaluated
    rc, out = run.production(check=True, approver=None, extra={"tachyon_soak_minutes": 30})
    assert rc != 0, out[-4000:]
    text = flat(out)
    assert re.search(r"gate 'promotion \(manifest\)' failed: production promotion of 0.1.0 refused: +- no approver",
                     text), text
    assert "gate 'soak' failed" in text and "staging healthy now ok" in text

    # an allowed promotion: exit 0, the commits that would go live, the spec diff
    rc, out = run.production(check=True, args=["--diff"])
    assert rc == 0, out[-4000:]
    text = flat(out)
    assert "PLAN production release 0.1.0: deploy;" in text
    for name, sha in RELEASE.items():
        assert re.search(r"%s +sandbox-initial -> %s +%s" % (name, sha[:7], sandbox_digest(name, sha)), text), name
    assert "would replace deployment" in text and "spec diff:" in text

    assert all(f["hits"] == 0 for f in run.emu.state()["faults"]), run.emu.state()["faults"]
    assert [r for r in run.emu.requests() if r["method"] in WRITES] == []
    assert run.manifest.read_text() == before
    assert not (run.manifest.parent / ".deploy-production.lock").exists()
    assert {env: len(run.deployments(env)) for env in ("staging", "production")} == counts
