"""module_utils/_report/summary.py: the job summary (GitHub markdown) and AWX artifact data of a
deploy run, success and failure; nothing secret in either."""
import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._report import summary as ds

SERVICES = {
    "tachyon-api": {"sha": "4a091424887308027935eb247097d4ffd77c8f99", "tag": "4a091424887308027935eb247097d4ffd77c8f99",
                    "digest": "sha256:" + "1" * 64, "image": "ghcr.io/tachyonapp/tachyon-api"},
    "tachyon-workers": {"sha": "2f9e050447ffe25d88c4035db2d4bb3f9987b7ff", "tag": "2f9e050447ffe25d88c4035db2d4bb3f9987b7ff",
                        "digest": None, "image": "ghcr.io/tachyonapp/tachyon-workers"},
}
HEALTH = {"status": "healthy", "elapsed": 1.2, "attempts": 3, "payload": {"version": SERVICES["tachyon-api"]["sha"]}}
NOTES = "### Release notes: production 0.1.9 → candidate 0.2.0\n\n**tachyon-api**: 3 commits\n"


def test_a_successful_production_deploy():
    summary = ds.build("production", "succeeded", version="0.2.0", services=SERVICES, deployment_id="dep-1",
                       live_url="https://tachyon-prod.ondigitalocean.app/", health=HEALTH, deployed_by="bob",
                       approved_by="alice", run_url="https://github.com/tachyonapp/tachyon-infra/actions/runs/1",
                       release_notes=NOTES)
    assert summary["health"] == {"verified": True, "status": "healthy", "elapsed": 1.2, "attempts": 3,
                                 "version": SERVICES["tachyon-api"]["sha"]}
    assert [s["service"] for s in summary["services"]] == ["tachyon-api", "tachyon-workers"]
    assert summary["release_notes"] is True and summary["approved_by"] == "alice"
    md = ds.render(summary, NOTES)
    lines = md.splitlines()
    assert lines[0] == "## :white_check_mark: production: release 0.2.0 deployed and healthy"
    assert "| Deployment | `dep-1` |" in lines and "| Approved by | alice |" in lines
    assert "| Health | healthy, reports version `%s`, after 1.2s, 3 polls |" % SERVICES["tachyon-api"]["sha"] in lines
    assert "| App | <https://tachyon-prod.ondigitalocean.app/> |" in lines
    assert "| tachyon-api | `%s` | `sha256:%s` |" % (SERVICES["tachyon-api"]["sha"], "1" * 64) in lines
    assert "| tachyon-workers | `%s` | by tag `%s` |" % ((SERVICES["tachyon-workers"]["sha"],) * 2) in lines
    assert md.rstrip().endswith("**tachyon-api**: 3 commits")


def test_a_failed_and_rolled_back_deploy_names_why_without_secrets():
    failure = ("Wait until healthy: GET https://user:pw@app.example/health?token=abc123 failed; "  # pragma: allowlist secret
               "Authorization: Bearer abcdefghijklmnop dop_v1_" + "a" * 64)  # pragma: allowlist secret
    summary = ds.build("staging", "rolled_back", version="0.2.0", services=SERVICES, deployment_id="dep-2",
                       live_url="https://app.example/?sig=zzz", health={"status": "unhealthy"}, failure=failure,
                       rolled_back_to="dep-1")
    md = ds.render(summary)
    for secret in ("pw@", "abc123", "abcdefghijklmnop", "a" * 64, "sig=zzz"):
        assert secret not in md and secret not in repr(summary)
    assert md.splitlines()[0] == "## :rewind: staging: release 0.2.0 FAILED, rolled back"
    assert "| Rolled back to | `dep-1` |" in md and "| Health | not verified (last status: unhealthy) |" in md
    assert "**Why it failed:** Wait until healthy: GET https://app.example/health failed" in md
    assert summary["health"]["verified"] is False and summary["live_url"] == "https://app.example/"


def test_a_rollback_to_a_version_says_so_and_markdown_is_escaped():
    summary = ds.build("staging", "succeeded", version="0.1.9", rollback_of_version="0.2.0",
                       deployed_by="eve|<script>", health={"status": "healthy"})
    md = ds.render(summary)
    assert md.splitlines()[0] == "## :white_check_mark: staging: release 0.1.9 (rollback from 0.2.0) deployed and healthy"
    assert "| Rolled back from | 0.2.0 |" in md and r"eve\|\<script\>" in md and "<script>" not in md


def test_an_unknown_outcome_is_refused():
    with pytest.raises(ValueError, match="outcome"):
        ds.build("staging", "maybe")
