"""Unit tests of the deploy helpers that need no API: step reporting, rollback target choice,
the deploy lock has its own tests (test_git_lock.py)."""

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._platform import deployments as app_platform
from ansible_collections.tachyon.infra.plugins.modules.app_rollback import last_good
# imported at collection time, like test_input_types' run_guard: imported inside a test after another
# test in the worker installed ansible's collection finder, it went through the finder, which refuses
# a collection package first imported without it ("collection metadata was not loaded", CI 19:32)
from ansible_collections.tachyon.infra.plugins.action.app_deploy import _default_verbosity  # noqa: E402
from ansible_collections.tachyon.infra.plugins.action.app_deploy import ActionModule as AppDeployAction  # noqa: E402
from ansible_collections.tachyon.infra.plugins.action.deploy_lock import ARGS as DEPLOY_LOCK_ARGS  # noqa: E402
from ansible_collections.tachyon.infra.plugins.module_utils._git import lock as git_lock  # noqa: E402

DEPLOYMENT = {
    "id": "d1",
    "phase": "ERROR",
    "progress": {
        "error_steps": 1,
        "steps": [
            {"name": "build", "status": "SUCCESS", "started_at": "2026-01-01T00:00:00Z", "ended_at": "2026-01-01T00:00:02Z",
             "steps": [{"name": "api", "component_name": "api", "status": "SUCCESS"}]},
            {"name": "deploy", "status": "ERROR",
             "steps": [{"name": "workers", "component_name": "workers", "status": "ERROR",
                        "message_base": "Deploying worker", "reason": {"code": "HealthCheck", "message": "exit 1"}}]},
        ],
    },
}


def test_error_steps_are_found_in_nested_steps_and_described():
    steps = app_platform.error_steps(DEPLOYMENT)
    assert [s["path"] for s in steps] == ["deploy", "deploy.workers"]
    assert app_platform.describe_step(steps[-1]) == "Deploying worker workers (step deploy.workers): exit 1"
    summary = app_platform.progress_summary(DEPLOYMENT)
    assert summary["steps"][0] == {"step": "build", "component": None, "status": "SUCCESS", "seconds": 2.0}


class _Logs:
    def __init__(self, info):
        self.info = info
        self.calls = []

    def get_logs(self, app_id, dep_id, component, type):  # noqa: A002 - pydo's keyword
        self.calls.append((component, type))
        return self.info


def test_log_tail_follows_historic_urls_and_masks_secrets():
    client = type("C", (), {})()
    client.apps = _Logs({"historic_urls": ["https://logs/1"]})
    text = "\n".join("line %d" % i for i in range(50)) + "\npassword=hunter2"
    log_type, tail = app_platform.fetch_log_tail(client, "app", "d1", app_platform.error_steps(DEPLOYMENT)[-1],
                                                 lambda url: text, redact_values=["hunter2"])
    assert log_type == "DEPLOY" and client.apps.calls == [("workers", "DEPLOY")]
    assert len(tail) == app_platform.LOG_TAIL_LINES and tail[-1] == "password=********"


def test_wait_reports_failure_and_timeout():
    class Apps:
        def __init__(self, phases):
            self.phases = list(phases)

        def get_deployment(self, app_id, dep_id):
            return {"deployment": {"id": dep_id, "phase": self.phases.pop(0)}}

    client = type("C", (), {})()
    now = [0.0]

    def clock():
        return now[0]

    def sleep(seconds):
        now[0] += seconds

    client.apps = Apps(["BUILDING", "DEPLOYING", "ACTIVE"])
    lines = []
    dep = app_platform.wait_for_deployment(client, "a", "d", 100, 5, lines.append, clock, sleep)
    assert dep["phase"] == "ACTIVE" and lines == ["deployment d: BUILDING", "deployment d: DEPLOYING", "deployment d: ACTIVE"]
    client.apps = Apps(["BUILDING", "SUPERSEDED"])
    with pytest.raises(app_platform.DeploymentFailed):
        app_platform.wait_for_deployment(client, "a", "d", 100, 5, None, clock, sleep)
    client.apps = Apps(["BUILDING"] * 100)
    now[0] = 0.0
    with pytest.raises(TimeoutError):
        app_platform.wait_for_deployment(client, "a", "d", 3, 1, None, clock, sleep)
    assert now[0] == pytest.approx(3)


def test_polls_start_on_a_fixed_cadence_whatever_the_request_time():
    """The request's own time is not added to the pause: the noticing lag stays within the pause,
    a quarter of the time waited so far (at least 0.25 s, at most the interval)."""
    now = [0.0]
    starts = []

    class Apps:
        def get_deployment(self, app_id, dep_id):
            starts.append(now[0])
            now[0] += 0.1  # each request takes 0.1 s
            return {"deployment": {"id": dep_id, "phase": "ACTIVE" if len(starts) == 8 else "BUILDING"}}

    client = type("C", (), {"apps": Apps()})()
    app_platform.wait_for_deployment(client, "a", "d", 100, 1, None, lambda: now[0],
                                     lambda s: now.__setitem__(0, now[0] + s))
    assert starts == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5625, 1.953125])


def _done(n=3):
    return {"success_steps": n, "total_steps": n,
            "steps": [{"name": "s%d" % i, "status": "SUCCESS"} for i in range(n)]}


def test_last_good_is_the_newest_formerly_active_before_the_current():
    """Earlier active deployments are listed SUPERSEDED: they count when every step succeeded."""
    deps = [
        {"id": "new", "phase": "ACTIVE", "created_at": "2026-01-03T00:00:00Z", "progress": _done(), "spec": {"n": 3}},
        {"id": "failed", "phase": "ERROR", "created_at": "2026-01-02T12:00:00Z", "spec": {"n": 9}},
        {"id": "replaced", "phase": "SUPERSEDED", "created_at": "2026-01-02T06:00:00Z", "spec": {"n": 8},
         "progress": {"success_steps": 1, "pending_steps": 2, "total_steps": 3,
                      "steps": [{"name": "build", "status": "SUCCESS"}, {"name": "deploy", "status": "PENDING"}]}},
        {"id": "good", "phase": "SUPERSEDED", "created_at": "2026-01-02T00:00:00Z", "progress": _done(), "spec": {"n": 2}},
        {"id": "old", "phase": "SUPERSEDED", "created_at": "2026-01-01T00:00:00Z", "progress": _done(), "spec": {"n": 1}},
    ]
    target, reason = last_good(deps, deps[0])
    assert target["id"] == "good"
    assert "SUPERSEDED after being ACTIVE (all 3 steps succeeded)" in reason
    assert "failed ended ERROR" in reason and "replaced SUPERSEDED before it became ACTIVE (1 of 3 steps done)" in reason
    target, reason = last_good(deps, deps[-1])
    assert target is None and "no deployment older than the running one" in reason


def test_last_good_skips_failed_superseded_and_the_running_spec():
    deps = [
        {"id": "maint", "phase": "ACTIVE", "created_at": "2026-01-04T00:00:00Z", "spec": {"n": 2},
         "cause_details": {"type": "MAINTENANCE"}, "progress": _done()},
        {"id": "same", "phase": "SUPERSEDED", "created_at": "2026-01-03T00:00:00Z", "spec": {"n": 2}, "progress": _done()},
        {"id": "broken", "phase": "SUPERSEDED", "created_at": "2026-01-02T00:00:00Z", "spec": {"n": 1},
         "progress": {"error_steps": 1, "steps": [{"name": "deploy", "status": "ERROR"}]}},
    ]
    target, reason = last_good(deps, deps[0])
    assert target is None
    assert "same SUPERSEDED after being ACTIVE (all 3 steps succeeded), but with the spec the app runs now" in reason
    assert "broken SUPERSEDED with failed step(s) deploy" in reason


def test_last_good_from_a_rollback_goes_one_release_further_back():
    deps = [
        {"id": "rb", "phase": "ACTIVE", "created_at": "2026-01-04T00:00:00Z", "cloned_from": "b", "spec": {"n": 2},
         "progress": _done()},
        {"id": "c", "phase": "SUPERSEDED", "created_at": "2026-01-03T00:00:00Z", "spec": {"n": 3}, "progress": _done()},
        {"id": "b", "phase": "SUPERSEDED", "created_at": "2026-01-02T00:00:00Z", "spec": {"n": 2}, "progress": _done()},
        {"id": "a", "phase": "SUPERSEDED", "created_at": "2026-01-01T00:00:00Z", "spec": {"n": 1}, "progress": _done()},
    ]
    target, reason = last_good(deps, deps[0])
    assert target["id"] == "a"


def _rate_limited(seconds, waiting_for):
    from ansible_collections.tachyon.infra.plugins.module_utils._platform.client import DOApiError
    err = DOApiError("get deployment d: rate limited by the API (429): %s." % waiting_for, status=429, retryable=True)
    err.retry_after, err.waiting_for = seconds, waiting_for
    return err


def test_429s_while_polling_are_waited_out_and_not_counted_as_errors():
    now = [0.0]
    polls = []

    class Apps:
        def get_deployment(self, app_id, dep_id):
            polls.append(now[0])
            if len(polls) <= 8:
                raise _rate_limited(2.0, "the API's rate limit (429 with retry-after 2s)")
            return {"deployment": {"id": dep_id, "phase": "ACTIVE"}}

    client = type("C", (), {"apps": Apps()})()
    dep = app_platform.wait_for_deployment(client, "a", "d", 100, 1, None, lambda: now[0],
                                           lambda s: now.__setitem__(0, now[0] + s))
    assert dep["phase"] == "ACTIVE" and len(polls) == 9 > app_platform.MAX_POLL_ERRORS
    assert polls[1] - polls[0] == pytest.approx(2.0)  # the wait the API asked for


def test_a_429_wait_past_the_deadline_ends_the_wait_at_once_saying_why():
    now = [0.0]

    class Apps:
        def get_deployment(self, app_id, dep_id):
            raise _rate_limited(60.0, "the API's rate limit (429 with retry-after 60s)")

    client = type("C", (), {"apps": Apps()})()
    with pytest.raises(app_platform.WaitTimeout) as exc:
        app_platform.wait_for_deployment(client, "a", "d", 5, 1, None, lambda: now[0],
                                         lambda s: now.__setitem__(0, now[0] + s))
    assert now[0] == 0.0  # nothing slept
    assert exc.value.waiting_for == ("deployment d to become ACTIVE (last phase not seen yet); polling is held back by "
                                     "the API's rate limit (429 with retry-after 60s), which ends after the deadline "
                                     "(5.0s left)")


def test_in_progress_means_a_running_phase_without_error_steps():
    assert app_platform.in_progress({"phase": "BUILDING"})
    for phase in ("ACTIVE", "ERROR", "CANCELED", "SUPERSEDED", "UNKNOWN", None):
        assert not app_platform.in_progress({"phase": phase})
    assert not app_platform.in_progress(dict(DEPLOYMENT, phase="DEPLOYING"))


def test_log_tail_never_prints_a_presigned_url_or_live_token():
    client = type("C", (), {})()
    url = "https://nyc3.digitaloceanspaces.com/logs/d1/workers/deploy.log?X-Amz-Signature=abc123&X-Amz-Credential=K"

    def refuse(_url):
        raise OSError("HTTP Error 403: Forbidden for %s" % _url)

    client.apps = _Logs({"historic_urls": [url]})
    _type, tail = app_platform.fetch_log_tail(client, "app", "d1", app_platform.error_steps(DEPLOYMENT)[-1], refuse)
    assert tail == ["(could not read the archived log https://nyc3.digitaloceanspaces.com/logs/d1/workers/deploy.log: "
                    "HTTP Error 403: Forbidden for https://nyc3.digitaloceanspaces.com/logs/d1/workers/deploy.log)"]
    client.apps = _Logs({"live_url": "wss://proxy.example/live?token=s3cr3t", "historic_urls": None})
    _type, tail = app_platform.fetch_log_tail(client, "app", "d1", app_platform.error_steps(DEPLOYMENT)[-1], refuse)
    assert tail == ["(live log only, see wss://proxy.example/live)"]


def test_default_output_shows_a_deployments_first_phase_and_its_outcome_the_rest_at_v():
    seen = set()
    lines = ["deployment d: PENDING_BUILD", "  build: RUNNING", "deployment d: BUILDING",
             "deployment d: DEPLOYING", "deployment d: ACTIVE", "verified: healthy",
             "deployment r: DEPLOYING", "deployment r: ERROR"]
    shown = [line for line in lines if _default_verbosity(line, seen)]
    assert shown == ["deployment d: PENDING_BUILD", "deployment d: ACTIVE", "verified: healthy",
                     "deployment r: DEPLOYING", "deployment r: ERROR"]


# The record of a verified deployment, written by app_deploy's action plugin (release_manifest
# state=recorded's own code, after the lock check) instead of a second module run.
RECORD = {"path": "/srv/hub/releases/manifest.json", "environment": "production", "version": "0.2.0",
          "services": {"tachyon-api": {"sha": "a" * 40}}, "deployed_by": "ci", "approved_by": "alice"}


def test_record_params_note_names_health_lock_takeover_and_override():
    result = {"changed": True, "deployment_id": "d-1", "health": {"elapsed": 1.5, "attempts": 3},
              "lock_taken_over": "taken over by bob"}
    params, error = AppDeployAction._record_params(dict(RECORD, break_glass="break-glass by carol",
                                                        override="ovr-1 <!here>"), result)
    assert error is None
    assert params["state"] == "recorded" and params["outcome"] == "succeeded" and params["deployment_id"] == "d-1"
    assert params["note"] == ("deployed; healthy after 1.5s (3 polls); break-glass by carol; "
                              "LOCK: taken over by bob; OVERRIDE: ovr-1 <!here>")
    assert params["approved_by"] == "alice" and params["path"] == RECORD["path"]
    assert params["health_verified_at"].endswith("Z")


def test_record_params_of_a_rerun_say_already_live_and_bad_input_is_refused():
    params, error = AppDeployAction._record_params(RECORD, {"changed": False, "deployment_id": "d-1"})
    assert error is None and params["note"] == "already live; healthy after ?s (? polls)"
    params, error = AppDeployAction._record_params(dict(RECORD, environment="qa"), {"deployment_id": "d-1"})
    assert params is None and "environment" in error and "qa" in error


def test_record_params_refuse_a_key_that_is_not_the_records():
    params, error = AppDeployAction._record_params(dict(RECORD, outcome="failed"), {"deployment_id": "d-1"})
    assert params is None and error.startswith("record: unsupported key(s) outcome;")


def test_lock_params_are_deploy_locks_store_options_and_lock_id():
    """app_deploy's lock option is validated by deploy_lock's own store-option spec (one home:
    _git/lock.py STORE_OPTIONS) before anything is deployed."""
    assert set(git_lock.STORE_OPTIONS) <= set(DEPLOY_LOCK_ARGS)
    assert {k: DEPLOY_LOCK_ARGS[k] for k in git_lock.STORE_OPTIONS} == git_lock.STORE_OPTIONS
    params, error = AppDeployAction._lock_params({"repo_dir": "/hub", "environment": "staging", "path": "/hub/l.lock",
                                                  "stale_after": "60", "lock_id": None})
    assert error is None and params == {"remote": None, "repo_dir": "/hub", "environment": "staging",
                                        "path": "/hub/l.lock", "stale_after": 60, "lock_id": None}
    assert AppDeployAction._lock_params(None) == (None, None)
    params, error = AppDeployAction._lock_params({"environment": "staging", "owner": "bob"})
    assert params is None and error.startswith("lock: ") and "owner" in error
    params, error = AppDeployAction._lock_params({"environment": "staging", "stale_after": "soon"})
    assert params is None and "stale_after" in error
    params, error = AppDeployAction._lock_params("staging")
    assert params is None and "expected a dict" in error
