"""deploy.yml and rollback.yml against the emulator (which answers GET app with
pending_deployment as the real API does): a rerun after a failed deploy deploys; rollback.yml
without a target goes back to the last good deployment; rate limits never stretch a run past
its deploy timeout."""
import time

import pytest

from playbook_run import NEXT, RELEASE, playbook_run


@pytest.fixture()
def run(tmp_path, monkeypatch):
    with playbook_run(tmp_path, monkeypatch) as value:
        yield value


def test_a_rerun_after_a_failed_deploy_deploys(run):
    before = len(run.deployments())
    run.emu.set_faults([{"kind": "deploy_fail", "stage": "deploy", "component": "workers", "count": 1}])
    rc, out = run.deploy()
    assert rc != 0 and "failing step" in out, out[-3000:]
    failed = run.app()["pending_deployment"]["id"]
    assert [d["phase"] for d in run.deployments() if d["id"] == failed] == ["ERROR"]
    rc, out = run.deploy()
    assert rc == 0, out[-3000:]
    assert "following deployment %s" % failed not in out
    app = run.app()
    assert app["active_deployment"]["id"] != failed and len(run.deployments()) == before + 2
    assert run.manifest_data()["environments"]["staging"]["deployment_id"] == app["active_deployment"]["id"]


def test_rollback_without_a_target_goes_back_to_the_first_of_two_good_deploys(run):
    rc, out = run.deploy(RELEASE)
    assert rc == 0, out[-3000:]
    first = run.app()["active_deployment"]["id"]
    rc, out = run.deploy(NEXT)
    assert rc == 0, out[-3000:]
    second = run.app()["active_deployment"]["id"]
    assert second != first
    assert {d["id"]: d["phase"] for d in run.deployments()}[first] == "SUPERSEDED"
    rc, out = run.playbook("rollback.yml")
    assert rc == 0, out[-3000:]
    app = run.app()
    assert app["active_deployment"]["cloned_from"] == first and not app.get("pinned_deployment")
    assert "rolled back from %s to %s" % (second, first) in out
    assert "is the last good deployment: SUPERSEDED after being ACTIVE" in out
    entry = run.manifest_data()["history"][-1]
    assert entry["outcome"] == "rolled_back" and entry["rolled_back_to"] == first


def test_rollback_without_a_good_deployment_refuses_saying_why(run):
    rc, out = run.playbook("rollback.yml")
    assert rc != 0
    assert "no earlier good deployment to roll back to" in out, out[-3000:]
    assert "tachyon_rollback_to" in out


@pytest.mark.parametrize("fault,expect", [
    ({"kind": "rate_limit", "method": "GET", "path": "/v2/apps/*/deployments/*", "retry_after": 60},
     "the API's rate limit (429 with retry-after 60s)"),
    ({"kind": "rate_limit", "scope": "hourly", "method": "GET", "path": "/v2/apps/*/deployments/*", "reset_in": 3600},
     "the API's hourly rate limit (429 without retry-after; ratelimit-reset at"),
], ids=["burst-retry-after-60", "hourly-reset-in-1h"])
def test_rate_limited_polls_end_the_run_within_the_deploy_timeout(run, fault, expect):
    """issue 17: 429 with retry-after 60 on every poll and a 5 s deploy timeout took 6 minutes."""
    run.emu.set_faults([fault])
    run.emu.clear_requests()
    started = time.monotonic()
    rc, out = run.deploy(extra={"tachyon_deploy_timeout": 5})
    elapsed = time.monotonic() - started
    assert rc != 0
    assert "did not become ACTIVE within 5s" in out and expect in out, out[-3000:]
    # It never waits out the retry-after (60 s) or the hourly reset: from its first rate-limited
    # poll of the deployment to the next request that is not one more poll of it (its cancel, or
    # the tasks after the failed deploy) is at most the 5 s timeout, as the platform saw it. (The
    # run's wall time, ansible-playbook's start and its other tasks included, ~10 s on an idle
    # machine and 54-69 s at load average 15-25, is printed below, not asserted: it measures the
    # machine.)
    requests = run.emu.requests()
    first = next((i for i, r in enumerate(requests) if r["status"] == 429 and "/deployments/" in r["path"]), None)
    assert first is not None, requests
    poll = requests[first]
    following = [r for r in requests[first + 1:] if (r["method"], r["path"]) != (poll["method"], poll["path"])]
    assert following, "nothing after the rate-limited polls: %s" % requests[first:]
    waited = following[0]["at"] - poll["at"]
    assert waited < 40, (waited, requests[first:])
    print("rate-limited run (%s): %.1f s, %.1f s from the first rate-limited poll to the next request"
          % (fault.get("scope", "burst"), elapsed, waited))
