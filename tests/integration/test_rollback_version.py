"""rollback.yml -e tachyon_rollback_version: staging runs release 0.1.0, then 0.2.0; the rollback
to 0.1.0 redeploys 0.1.0's recorded pins (by digest) through the deploy path on the emulator,
health-verifies them and records a rollback; production without an approver, a release production
never ran, both kinds of rollback at once and a template in the variable are refused untouched."""
import json
import os
import sys
import urllib.request

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from emulator.testing import running_emulator
from test_deploy import RELEASE, Run, _images, _manifest_with_staging, manifest_json, sandbox_digest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
import service_catalog as catalog  # noqa: E402  (fixture helper, not a package)

NEXT = {"tachyon-api": "5b1a2c3d4e5f60718293a4b5c6d7e8f901234567",
        "tachyon-workers": "6c2b3d4e5f60718293a4b5c6d7e8f90123456789",
        "tachyon-db-migrate": "7d3c4e5f60718293a4b5c6d7e8f9012345678901"}
COMPONENTS = {"tachyon-api": "api", "tachyon-workers": "workers", "tachyon-db-migrate": "db-migrate"}


@pytest.fixture(name="run")
def run_fixture(tmp_path):
    with running_emulator(phase_seconds=0.05) as emu:
        yield Run(emu, tmp_path)


def new_release(run, version, shas):
    doc = mf.create_release(manifest_json(run), version, shas, **catalog.RELEASE_ARGS)
    run.manifest.write_text(mf.to_json_text(doc))


def test_rollback_to_the_first_release_redeploys_its_pins_and_records_a_rollback(run):
    rc, out = run.staging(RELEASE)
    assert rc == 0, out[-3000:]
    new_release(run, "0.2.0", NEXT)
    rc, out = run.staging(NEXT)
    assert rc == 0, out[-3000:]
    newer = run.app()["active_deployment"]["id"]

    summary_file = run.tmp / "step-summary.md"
    notes_file = run.tmp / "release-notes.md"
    notes_file.write_text("### Release notes: staging 0.2.0 → release 0.1.0\n")
    run.env["ANSIBLE_SHOW_CUSTOM_STATS"] = "1"
    rc, out = run.playbook("staging", playbook="rollback.yml", extra={
        "tachyon_rollback_version": "0.1.0", "tachyon_summary_path": str(summary_file),
        "tachyon_summary_notes_path": str(notes_file)})
    assert rc == 0, out[-3000:]
    assert "staging goes from release 0.2.0 back to release 0.1.0 as staging deployment" in out
    app = run.app()
    assert app["active_deployment"]["id"] != newer
    # the pins 0.1.0 recorded, by digest, deployed as a new deployment (not App Platform's rollback)
    assert _images(app) == {COMPONENTS[n]: sandbox_digest(n, sha) for n, sha in RELEASE.items()}
    assert not app.get("pinned_deployment") and not app["active_deployment"].get("cloned_from")
    health = json.load(urllib.request.urlopen(app["live_url"].rstrip("/") + "/health", timeout=5))
    assert health["version"] == RELEASE["tachyon-api"]
    data = manifest_json(run)
    entry = data["history"][-1]
    assert entry["outcome"] == "succeeded" and entry["version"] == "0.1.0"
    assert entry["rollback_of_version"] == "0.2.0" and entry["health_verified_at"]
    assert entry["deployment_id"] == app["active_deployment"]["id"]
    assert {n: s["sha"] for n, s in entry["services"].items()} == RELEASE
    assert {n: s["digest"] for n, s in entry["services"].items()} == {n: sandbox_digest(n, s) for n, s in RELEASE.items()}
    assert data["environments"]["staging"]["version"] == "0.1.0"
    # the release stays 0.2.0: rolling back does not re-pin it, and promotion now needs staging again
    assert data["version"] == "0.2.0" and {n: p["sha"] for n, p in data["services"].items()} == NEXT
    assert all("rollback_of_version" not in e for e in data["history"][:-1])
    # the job summary (GitHub) and the same data as AWX artifacts (set_stats)
    summary = summary_file.read_text()
    assert summary.startswith("## :white_check_mark: staging: release 0.1.0 (rollback from 0.2.0) deployed and healthy")
    assert "| Deployment | `%s` |" % entry["deployment_id"] in summary
    assert "| tachyon-api | `%s` | `%s` |" % (RELEASE["tachyon-api"], sandbox_digest("tachyon-api", RELEASE["tachyon-api"])) in summary
    assert "healthy, reports version `%s`" % RELEASE["tachyon-api"] in summary and app["live_url"].rstrip("/") in summary
    assert summary.rstrip().endswith("### Release notes: staging 0.2.0 → release 0.1.0")
    stats = out.split("CUSTOM STATS", 1)[1]
    assert "tachyon_deploy_summary" in stats and entry["deployment_id"] in stats


@pytest.mark.parametrize("extra,expect,recorded", [
    ({"tachyon_rollback_version": "0.1.0"}, "a production rollback to release 0.1.0 needs an approver", True),
    ({"tachyon_rollback_version": "0.1.0", "tachyon_approved_by": "alice"},
     "production rolls back only to a release it ran itself", True),
    ({"tachyon_rollback_version": "v0.1.0", "tachyon_approved_by": "alice"}, "is not a semantic version", True),
    ({"tachyon_rollback_version": "0.1.0", "tachyon_rollback_to": "some-deployment", "tachyon_approved_by": "alice"},
     "are two kinds of rollback; give one of them", False),
    ({"tachyon_rollback_version": "{{ lookup('pipe', 'touch /tmp/tachyon-pwned') }}", "tachyon_approved_by": "alice"},
     "tachyon_rollback_version", False),
])
def test_production_rollback_to_a_version_refused_untouched(run, extra, expect, recorded):
    """Refused before the deploy path: nothing recorded. Refused inside it (as deploy.yml's own
    promotion refusals): the failed attempt is recorded, nothing else changes. Never deployed."""
    _manifest_with_staging(run, RELEASE)  # staging ran and verified 0.1.0 (recorded, not deployed)
    before = manifest_json(run)
    deployments = len(run.deployments("production"))
    rc, out = run.playbook("production", playbook="rollback.yml", extra=extra)
    assert rc != 0 and expect in " ".join(out.split()), out[-3000:]
    after = manifest_json(run)
    assert len(run.deployments("production")) == deployments and "Deploy to App Platform (production)" not in out
    assert not os.path.exists("/tmp/tachyon-pwned")
    assert {k: v for k, v in after.items() if k != "history"} == {k: v for k, v in before.items() if k != "history"}
    assert after["history"][:len(before["history"])] == before["history"]
    if recorded:
        assert len(after["history"]) == len(before["history"]) + 1
        entry = after["history"][-1]
        assert entry["environment"] == "production" and entry["outcome"] == "failed" and "Nothing was deployed" in entry["message"]
    else:
        assert after == before


def test_production_rolls_back_to_a_release_it_ran_past_the_promotion_gates(run):
    """Production ran 0.1.0, then 0.2.0; rolling back to 0.1.0 (approved) redeploys production's
    own verified pins of 0.1.0. Staging now runs 0.2.0, so the promotion gates (staging's live
    deployment, its health with 0.1.0's SHA, the soak) are not what proves a rollback: production
    verified 0.1.0 itself. The health check and the whole-app verification still run."""
    for version, shas in (("0.1.0", RELEASE), ("0.2.0", NEXT)):
        if version != "0.1.0":
            new_release(run, version, shas)
        rc, out = run.staging(shas)
        assert rc == 0, out[-3000:]
        rc, out = run.production(version=version)
        assert rc == 0, out[-3000:]
    rc, out = run.playbook("production", playbook="rollback.yml",
                           extra={"tachyon_rollback_version": "0.1.0", "tachyon_approved_by": "alice"})
    assert rc == 0, out[-4000:]
    app = run.app("production")
    assert _images(app) == {COMPONENTS[n]: sandbox_digest(n, sha) for n, sha in RELEASE.items()}
    entry = manifest_json(run)["history"][-1]
    assert (entry["environment"], entry["outcome"], entry["version"], entry["rollback_of_version"]) == \
        ("production", "succeeded", "0.1.0", "0.2.0")
    assert entry["approved_by"] == "alice" and entry["deployment_id"] == app["active_deployment"]["id"]
