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
    # the deploy's own clock, from the emulator's request log (ansible-playbook's start and the
    # tasks around the deploy are not counted, so a loaded machine does not fail this): from the
    # deployment's creation to its last poll, the run stays near its 5 s timeout; honouring the
    # retry-after (60 s, or the hourly reset) instead would take a minute or more per poll
    log = run.emu.requests()
    # the deployment is created by the spec update (PUT /v2/apps/{id}) or POST .../deployments
    created = [r["at"] for r in log if r["method"] in ("PUT", "POST") and r["path"].startswith("/v2/apps/")]
    polls = [r["at"] for r in log if r["method"] == "GET" and "/deployments/" in r["path"]]
    seen = ["%s %s %s +%.1fs" % (r["method"], r["path"], r["status"], r["at"] - log[0]["at"]) for r in log]
    assert created and polls, seen
    span = max(polls) - created[0]
    assert span < 30, (span, seen)
    print("rate-limited run (%s): %.1f s, of which the deploy polled for %.1f s"
          % (fault.get("scope", "burst"), elapsed, span))
