"""app_deploy (plugins/modules/app_deploy.py, unchanged, through pydo) against recorded answers.

Every answer comes from tests/recorded/fixtures/ (published by DigitalOcean) or
tests/recorded/replay_fixtures/ (derived from them, see derive.py); a test changes an answer
only where it must place its own ids or spec, and says so.
"""
import copy
import time

import pytest

from replay import body_of, case

from ansible_collections.tachyon.infra.plugins.modules import app_deploy

APP = "/v2/apps/{id}"
DEPLOYMENT = "/v2/apps/{app_id}/deployments/{deployment_id}"
DEPLOYMENTS = "/v2/apps/{app_id}/deployments"
COMPONENT_LOGS = "/v2/apps/{app_id}/deployments/{deployment_id}/components/{component}/logs"
CANCEL = "/v2/apps/{app_id}/deployments/{deployment_id}/cancel"
NEW_ID = body_of("app_update_put_response")["app"]["pending_deployment"]["id"]
FAILED_ID = body_of("app_get_after_failed_release")["app"]["pending_deployment"]["id"]


def release_spec():
    """The spec of the failed release (pending_deployment of app_get_after_failed_release)."""
    return body_of("app_get_after_failed_release")["app"]["pending_deployment"]["spec"]


def deploy(run_module, api, spec, **args):
    params = dict(app_id="a1b9eea7-7ef3-43b5-b362-894d42a3b4b6", api_endpoint=api.url, spec=spec,
                  secrets_fingerprint=False, timeout=20, poll_interval=0.1)
    params.update(args)
    return run_module(app_deploy, **params)


def after_failed_release(api, *later):
    """GET app: the failed release (pending_deployment {id, spec} of the ERROR deployment)."""
    api.route("GET", APP, case("app_get_after_failed_release"), *later)
    api.route("GET", DEPLOYMENT.replace("{deployment_id}", FAILED_ID), case("deployment_error"))


def routes_for_success(api):
    api.route("PUT", APP, case("app_update_put_response"))
    api.route("GET", DEPLOYMENTS, case("deployments_list"))
    api.route("GET", DEPLOYMENT, case("deployment_pending_build"), case("deployment_active_image"))


# --------------------------------------------------------------------------- GET's pending_deployment
def test_rerun_after_a_failed_release_sends_a_new_update(run_module, api):
    """GET answers pending_deployment = the ERROR deployment carrying our spec: that is no
    deployment of ours in progress, so the rerun PUTs (today's code followed the failed one)."""
    # GET's pending_deployment is {id, spec}: its phase is read from the deployment (ERROR)
    after_failed_release(api)
    routes_for_success(api)
    result, failed = deploy(run_module, api, release_spec())
    assert not failed, result["msg"]
    assert len(api.calls("PUT", APP)) == 1
    assert result["changed"] and result["deployment_id"] == NEW_ID and result["phase"] == "ACTIVE"
    assert result["previous_deployment_id"] == "12944fa4-7e7f-4bdc-9b61-0c50a7b6ec66"
    polled = [c["path"].rsplit("/", 1)[-1] for c in api.calls("GET", DEPLOYMENT)]
    assert polled[0] == FAILED_ID and set(polled[1:]) == {NEW_ID}


def test_a_pending_deployment_id_and_spec_only_is_looked_up_and_followed_when_running(run_module, api):
    """pending_deployment {id, spec} of our spec, the deployment itself PENDING_BUILD: ours is
    running (an interrupted run); it is followed, no second deployment is started."""
    api.route("GET", APP, case("app_get_after_failed_release"))
    api.route("GET", DEPLOYMENT.replace("{deployment_id}", FAILED_ID), case("deployment_pending_build"),
              case("deployment_pending_build"), case("deployment_active_image"))
    result, failed = deploy(run_module, api, release_spec())
    assert not failed, result["msg"]
    assert api.calls("PUT") == [] and result["deployment_id"] == FAILED_ID


@pytest.mark.parametrize("phase_case", ["deployment_error", "deployment_superseded", "deployment_canceled",
                                        "deployment_unknown", "deployment_active_image"])
def test_a_pending_deployment_counts_as_ours_only_in_progress(run_module, api, phase_case):
    """pending_deployment with our spec in a terminal (or UNKNOWN) phase: the update is sent."""
    pending = body_of(phase_case)["deployment"]
    pending["spec"] = release_spec()

    def with_pending(body):
        body["app"]["pending_deployment"] = pending
        return body

    api.route("GET", APP, case("app_get_without_pending_deployment", body=with_pending))
    routes_for_success(api)
    result, failed = deploy(run_module, api, release_spec())
    assert not failed, result["msg"]
    assert len(api.calls("PUT", APP)) == 1 and result["deployment_id"] == NEW_ID


def test_a_deployment_of_our_spec_in_progress_is_followed_not_duplicated(run_module, api):
    """in_progress_deployment = pending_deployment = a PENDING_BUILD deployment of our spec."""
    running = body_of("app_get_in_progress")["app"]["in_progress_deployment"]
    api.route("GET", APP, case("app_get_in_progress"))
    api.route("GET", DEPLOYMENT, case("deployment_pending_build"), case("deployment_active_image"))
    result, failed = deploy(run_module, api, running["spec"])
    assert not failed, result["msg"]
    assert api.calls("PUT") == [] and result["deployment_id"] == running["id"]
    assert any("already running with this spec" in line for line in result["progress_lines"])


def test_the_active_spec_again_changes_nothing(run_module, api):
    app = body_of("app_get_without_pending_deployment")["app"]
    api.route("GET", APP, case("app_get_without_pending_deployment"))
    result, failed = deploy(run_module, api, app["active_deployment"]["spec"])
    assert not failed and result["changed"] is False and api.calls("PUT") == []
    assert result["deployment_id"] == app["active_deployment"]["id"]


# --------------------------------------------------------------------------- the PUT answer
def test_put_answer_with_pending_deployment_is_followed(run_module, api):
    after_failed_release(api)
    routes_for_success(api)
    result, failed = deploy(run_module, api, release_spec())
    assert not failed and result["update_attempts"] == 1
    body = api.calls("PUT", APP)[0]["body"]
    assert body["update_all_source_versions"] is True and body["spec"] == release_spec()


def test_put_answer_without_pending_deployment_finds_ours_on_the_app(run_module, api):
    """Before godo PR #601 the PUT answer had no pending_deployment (the recorded app body
    without one is used as the answer); ours is then the app's pending_deployment, found by spec
    (app_get_with_pending_deployment's pending_deployment is id + spec only: its spec is set to
    ours here)."""

    def pending_is_ours(body):
        body["app"]["pending_deployment"]["spec"] = release_spec()
        return body

    ours = body_of("app_get_with_pending_deployment")["app"]["pending_deployment"]["id"]
    after_failed_release(api, case("app_get_with_pending_deployment", body=pending_is_ours))
    api.route("PUT", APP, case("app_get_without_pending_deployment"))
    api.route("GET", DEPLOYMENTS, case("deployments_list"))
    api.route("GET", DEPLOYMENT, case("deployment_active_image"))
    result, failed = deploy(run_module, api, release_spec())
    assert not failed, result["msg"]
    assert result["deployment_id"] == ours and len(api.calls("PUT")) == 1


# --------------------------------------------------------------------------- phases and step trees
def test_active_deployment_progress_with_nanosecond_and_zero_times(run_module, api):
    after_failed_release(api)
    routes_for_success(api)
    result, failed = deploy(run_module, api, release_spec())
    assert not failed
    steps = {s["step"]: s for s in result["progress"]["steps"]}
    # 4 levels: deploy -> components -> web -> wait; zero times give no duration
    assert steps["deploy.components.web.wait"]["seconds"] is None
    assert steps["deploy.components.web.wait"]["component"] == "web"
    # nanosecond times: 21:48:42.969045812 -> 21:49:07.146946671
    assert steps["deploy"]["seconds"] == pytest.approx(24.18, abs=0.01)
    # a SUCCESS step with a reason (PreviousBuildReused) is a success, not a failure
    assert steps["build.components.web"]["status"] == "SUCCESS"
    assert result["progress"]["success_steps"] == result["progress"]["total_steps"] == 6


def test_error_deployment_names_the_failing_step_and_component(run_module, api):
    after_failed_release(api)
    api.route("PUT", APP, case("app_update_put_response"))
    api.route("GET", DEPLOYMENTS, case("deployments_list"))
    api.route("GET", DEPLOYMENT, case("deployment_pending_build"), case("deployment_error"))
    api.route("GET", COMPONENT_LOGS, case("logs_historic_urls_app_action"))
    result, failed = deploy(run_module, api, release_spec())
    assert failed and result["phase"] == "ERROR"
    assert "failing step: Waiting for service web (step deploy.components.web.wait)" in result["msg"]
    assert result["failure"]["failed_steps"][-1].startswith("Waiting for service web")
    logs = api.calls("GET", COMPONENT_LOGS)
    assert logs[0]["path"].endswith("/components/web/logs") and logs[0]["query"]["type"] == ["DEPLOY"]
    assert result["failure"]["log_type"] == "DEPLOY"


@pytest.mark.parametrize("phase_case,expect", [
    ("deployment_canceled", "was CANCELED before it became ACTIVE"),
    ("deployment_superseded", "was SUPERSEDED"),
    ("deployment_superseded_before_active", "was SUPERSEDED"),
])
def test_terminal_bad_phases_fail_with_their_reason(run_module, api, phase_case, expect):
    after_failed_release(api)
    api.route("PUT", APP, case("app_update_put_response"))
    api.route("GET", DEPLOYMENTS, case("deployments_list"))
    api.route("GET", DEPLOYMENT, case(phase_case))
    result, failed = deploy(run_module, api, release_spec())
    assert failed and expect in result["msg"]


def test_unknown_phase_is_not_success_and_times_out_saying_what_it_waited_for(run_module, api):
    after_failed_release(api)
    api.route("PUT", APP, case("app_update_put_response"))
    api.route("GET", DEPLOYMENTS, case("deployments_list"))
    api.route("GET", DEPLOYMENT, case("deployment_unknown"))
    api.route("POST", CANCEL, case("deployment_canceled"))
    result, failed = deploy(run_module, api, release_spec(), timeout=1)
    assert failed and "did not become ACTIVE within 1s" in result["msg"]
    assert "timed out waiting for deployment %s to become ACTIVE (last phase UNKNOWN)" % NEW_ID in result["msg"]
    assert len(api.calls("POST", CANCEL)) == 1 and "It was canceled" in result["msg"]


# --------------------------------------------------------------------------- logs
def failed_deploy_routes(api, logs_answer):
    after_failed_release(api)
    api.route("PUT", APP, case("app_update_put_response"))
    api.route("GET", DEPLOYMENTS, case("deployments_list"))
    api.route("GET", DEPLOYMENT, case("deployment_error"))
    api.route("GET", COMPONENT_LOGS, logs_answer)


def with_replay_host(api, name):
    def place(body):
        for key in ("historic_urls", "live_url"):
            if isinstance(body.get(key), list):
                body[key] = [u.replace("{replay}", api.url) for u in body[key]]
            elif isinstance(body.get(key), str):
                body[key] = body[key].replace("{replay}", api.url)
        return body
    return case(name, body=place)


def assert_no_credentials(result):
    text = result["_stdout"]
    for needle in ("X-Amz-", "Signature", "token=", "?", "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",  # pragma: allowlist secret
                   "c2VjcmV0LWxvZy1zdHJlYW0tdG9rZW4tZXhhbXBsZQ"):  # pragma: allowlist secret
        assert needle not in text.replace("\\u", ""), "%r in the module's output" % needle


def test_failed_log_read_names_the_log_without_its_presigned_query(run_module, api):
    """The archived log URL is presigned; the read is refused (403, expired): the message names
    the log as scheme://host/path only (today's code printed the whole URL with its signature)."""
    failed_deploy_routes(api, with_replay_host(api, "logs_historic_urls_presigned"))
    api.route("GET", "/app-platform-logs/{dep}/{component}/{file}", case("spaces_access_denied"))
    result, failed = deploy(run_module, api, release_spec())
    assert failed
    line = "(could not read the archived log %s/app-platform-logs/8801ffe3-8afe-4d5e-a700-c2f737b81312/web/deploy.log" % api.url
    assert line in result["msg"] and any(l.startswith(line) for l in result["failure"]["log_tail"])
    assert len(api.calls("GET", "/app-platform-logs/{dep}/{component}/{file}")) == 1
    assert_no_credentials(result)


def test_archived_log_tail_is_printed(run_module, api):
    failed_deploy_routes(api, with_replay_host(api, "logs_historic_urls_presigned"))
    text = "\n".join("line %d" % i for i in range(40)) + "\nfetching https://cdn.example/x.tgz?token=abc\n"
    api.route("GET", "/app-platform-logs/{dep}/{component}/{file}", {"status": 200, "body": text})
    result, failed = deploy(run_module, api, release_spec())
    assert failed and "--- deploy log (last 30 lines) ---" in result["msg"]
    assert result["failure"]["log_tail"][-1] == "fetching https://cdn.example/x.tgz"
    assert_no_credentials(result)


def test_live_url_only_is_named_without_its_token(run_module, api):
    failed_deploy_routes(api, with_replay_host(api, "logs_live_url_token"))
    result, failed = deploy(run_module, api, release_spec())
    assert failed
    assert "(live log only, see %s/v1/live/8801ffe3/web/deploy)" % api.url in result["msg"]
    assert_no_credentials(result)


def test_logs_400_stage_never_reached_is_reported(run_module, api):
    failed_deploy_routes(api, case("logs_400_stage_not_reached"))
    result, failed = deploy(run_module, api, release_spec())
    assert failed and "(could not fetch deploy logs: get deploy logs: the API refused the request (400: " \
        "deployment has no logs of the requested type).)" in result["msg"]


def test_openapi_logs_example_key_historic_logs_is_read(run_module, api):
    """The OpenAPI #/logs example names the list historic_logs (the schema: historic_urls)."""
    def local(body):
        body["historic_logs"] = [api.url + "/archived/build.log"]
        return body
    failed_deploy_routes(api, case("logs_openapi_example", body=local))
    api.route("GET", "/archived/build.log", {"status": 200, "body": "step 1\nstep 2 failed\n"})
    result, failed = deploy(run_module, api, release_spec())
    assert failed and result["failure"]["log_tail"] == ["step 1", "step 2 failed"]


# --------------------------------------------------------------------------- error bodies
@pytest.mark.parametrize("name,expect", [
    ("error_unauthorized", "the API rejected the token (401: Unable to authenticate you.)"),
    ("error_not_found", "not found (404: The resource you requested could not be found.)"),
    ("error_bad_request", "the API refused the request (400: error parsing request body)"),
    ("error_godo_with_request_id", "the token may not do this (403: this model is not available"),
    ("error_server_error", "the API failed (500: Unexpected server-side error) after bounded retries"),
])
def test_error_bodies_become_messages_that_say_what_to_do(run_module, api, name, expect):
    api.route("GET", APP, case(name))
    result, failed = deploy(run_module, api, release_spec())
    assert failed and expect in result["msg"], result["msg"]
    assert api.calls("PUT") == []


# --------------------------------------------------------------------------- 429: burst vs hourly
def test_429_burst_waits_retry_after_then_deploys(run_module, api):
    after_failed_release(api)
    api.route("GET", APP, case("rate_limit_429_burst"), case("app_get_after_failed_release"))
    routes_for_success(api)
    started = time.monotonic()
    result, failed = deploy(run_module, api, release_spec())
    assert not failed, result["msg"]
    assert time.monotonic() - started >= 1.0  # retry-after: 1
    assert len(api.calls("GET", APP)) >= 2


def test_429_hourly_waits_until_ratelimit_reset(run_module, api):
    """The hourly 429 has no Retry-After; ratelimit-reset (epoch seconds) is set 2 s ahead
    here (the recorded value lies in 2015): the GET is retried after ~2 s, not after 1 s."""
    reset = int(time.time()) + 2
    after_failed_release(api)
    api.route("GET", APP, case("rate_limit_429_hourly", headers={"ratelimit-reset": str(reset)}),
              case("app_get_after_failed_release"))
    routes_for_success(api)
    result, failed = deploy(run_module, api, release_spec())
    assert not failed, result["msg"]
    gets = api.calls("GET", APP)
    assert len(gets) >= 2
    assert time.time() >= reset - 0.05


def test_429_hourly_beyond_the_timeout_fails_at_once_saying_why(run_module, api):
    api.route("GET", APP, case("rate_limit_429_hourly", headers={"ratelimit-reset": lambda: str(int(time.time()) + 1800)}))
    started = time.monotonic()
    result, failed = deploy(run_module, api, release_spec(), timeout=5)
    assert failed and time.monotonic() - started < 2
    assert "hourly rate limit (429 without retry-after; ratelimit-reset at" in result["msg"]
    assert len(api.calls("GET", APP)) == 1


def test_429_on_every_poll_ends_within_the_timeout(run_module, api):
    """issue 17: retry-after 60 on every poll and a 5 s timeout: the task ends in about 5 s
    (no sleep past the deadline), saying it was held back by the rate limit."""
    after_failed_release(api)
    api.route("PUT", APP, case("app_update_put_response"))
    api.route("GET", DEPLOYMENTS, case("deployments_list"))
    api.route("GET", DEPLOYMENT, case("rate_limit_429_burst", headers={"retry-after": "60"}))
    api.route("POST", CANCEL, case("deployment_canceled"))
    started = time.monotonic()
    result, failed = deploy(run_module, api, release_spec(), timeout=5)
    elapsed = time.monotonic() - started
    assert failed and elapsed < 6, elapsed
    assert "did not become ACTIVE within 5s" in result["msg"]
    assert "the API's rate limit (429 with retry-after 60s)" in result["msg"]
    assert result["waiting_for"].startswith("deployment %s to become ACTIVE" % NEW_ID)
    assert len(api.calls("POST", CANCEL)) == 1


def test_429_on_the_update_is_retried_past_five_times_while_the_deadline_allows(run_module, api):
    burst = case("rate_limit_429_burst")  # retry-after: 1, as recorded
    after_failed_release(api)
    api.route("PUT", APP, *([copy.deepcopy(burst) for _attempt in range(6)] + [case("app_update_put_response")]))
    api.route("GET", DEPLOYMENTS, case("deployments_list"))
    api.route("GET", DEPLOYMENT, case("deployment_active_image"))
    result, failed = deploy(run_module, api, release_spec(), timeout=30)
    assert not failed, result["msg"]
    assert len(api.calls("PUT")) == 7 and result["update_attempts"] == 7
