"""app_rollback (plugins/modules/app_rollback.py, through pydo) against recorded answers.

The deployment histories are replay_fixtures/deployments_history*.json: recorded deployment
bodies (ACTIVE, ERROR, SUPERSEDED after being ACTIVE, SUPERSEDED before, App Platform's
automated rollback with cloned_from) with ids, creation times and one spec field changed.
"""
import pytest

from replay import body_of, case

from ansible_collections.tachyon.infra.plugins.modules import app_rollback

APP = "/v2/apps/{id}"
DEPLOYMENT = "/v2/apps/{app_id}/deployments/{deployment_id}"
DEPLOYMENTS = "/v2/apps/{app_id}/deployments"
VALIDATE = "/v2/apps/{app_id}/rollback/validate"
ROLLBACK = "/v2/apps/{app_id}/rollback"
COMMIT = "/v2/apps/{app_id}/rollback/commit"
ROLLBACK_ID = body_of("rollback_create")["deployment"]["id"]


def app_running(history, active_id):
    """The recorded app (app_get_without_pending_deployment) whose active_deployment is the
    history's ``active_id`` deployment (placed here: the recording's app has its own ids)."""
    active = [d for d in body_of(history)["deployments"] if d["id"] == active_id][0]

    def place(body):
        body["app"]["active_deployment"] = active
        body["app"]["spec"] = active["spec"]
        return body
    return case("app_get_without_pending_deployment", body=place)


def routes(api, history, active_id, validate="rollback_validate_valid"):
    api.route("GET", APP, app_running(history, active_id))
    api.route("GET", DEPLOYMENTS, case(history))
    api.route("POST", VALIDATE, case(validate))
    api.route("POST", ROLLBACK, case("rollback_create"))
    api.route("GET", DEPLOYMENT, case("deployment_pending_build"), case("deployment_automated_rollback"))
    api.route("POST", COMMIT, {"status": 200, "body": {}})


def rollback(run_module, api, **args):
    params = dict(app_id="a1b9eea7-7ef3-43b5-b362-894d42a3b4b6", api_endpoint=api.url, timeout=20, poll_interval=0.1)
    params.update(args)
    return run_module(app_rollback, **params)


def test_without_target_rolls_back_to_the_last_formerly_active_deployment(run_module, api):
    """d4 runs; d3 was superseded before it went live, d2 after: d2 is the target (today's code
    accepted only ACTIVE and refused: 'no earlier good deployment')."""
    routes(api, "deployments_history", "d4-active")
    result, failed = rollback(run_module, api)
    assert not failed, result["msg"]
    assert result["target_deployment_id"] == "d2-superseded-good" and result["deployment_id"] == ROLLBACK_ID
    assert api.calls("POST", VALIDATE)[0]["body"] == {"deployment_id": "d2-superseded-good", "skip_pin": False}
    assert api.calls("POST", ROLLBACK)[0]["body"]["deployment_id"] == "d2-superseded-good"
    assert len(api.calls("POST", COMMIT)) == 1 and result["committed"] is True
    assert "d2-superseded-good (created 2021-07-22T10:00:00Z, manual) is the last good deployment: " \
        "SUPERSEDED after being ACTIVE (all 6 steps succeeded)" in result["msg"]
    assert "skipped newer: d3-superseded-early SUPERSEDED before it became ACTIVE (2 of 6 steps done)" in result["msg"]


def test_check_mode_says_which_deployment_it_would_roll_back_to(run_module, api):
    routes(api, "deployments_history", "d4-active")
    result, failed = rollback(run_module, api, _ansible_check_mode=True)
    assert not failed and result["changed"]
    assert result["msg"].startswith("would roll back from d4-active to d2-superseded-good: ")
    assert api.calls("POST", ROLLBACK) == [] and len(api.calls("POST", VALIDATE)) == 1


def test_on_an_automated_rollback_the_target_is_older_than_what_it_cloned(run_module, api):
    """The app runs App Platform's automated rollback (cloned_from d4) after d5 failed: the
    failed d5 and d4 itself are passed over, the target is d2."""
    routes(api, "deployments_history_after_rollback", "d6-rollback")
    result, failed = rollback(run_module, api)
    assert not failed, result["msg"]
    assert result["target_deployment_id"] == "d2-superseded-good"


def test_a_maintenance_redeploy_of_the_running_spec_is_not_a_target(run_module, api):
    """A MAINTENANCE deployment (recorded, cause_details.type MAINTENANCE) now runs d4's spec; d4
    (SUPERSEDED after being ACTIVE, same spec) is passed over: going back means d2."""
    history = body_of("deployments_history")
    maintenance = body_of("deployment_maintenance")["deployment"]
    d4 = [d for d in history["deployments"] if d["id"] == "d4-active"][0]
    maintenance.update(id="d7-maintenance", created_at="2021-07-27T10:00:00Z", spec=d4["spec"])
    d4["phase"] = "SUPERSEDED"

    def listing(body):
        body["deployments"] = [maintenance] + history["deployments"]
        return body

    def app(body):
        body["app"]["active_deployment"] = maintenance
        return body

    api.route("GET", APP, case("app_get_without_pending_deployment", body=app))
    api.route("GET", DEPLOYMENTS, case("deployments_history", body=listing))
    api.route("POST", VALIDATE, case("rollback_validate_valid"))
    api.route("POST", ROLLBACK, case("rollback_create"))
    api.route("GET", DEPLOYMENT, case("deployment_automated_rollback"))
    api.route("POST", COMMIT, {"status": 200, "body": {}})
    result, failed = rollback(run_module, api)
    assert not failed, result["msg"]
    assert result["target_deployment_id"] == "d2-superseded-good"
    assert "d4-active SUPERSEDED after being ACTIVE (all 6 steps succeeded), but with the spec the app runs now" \
        in result["msg"]


def test_without_a_good_deployment_it_refuses_with_the_reason(run_module, api):
    routes(api, "deployments_history_no_good_target", "d4-active")
    result, failed = rollback(run_module, api)
    assert failed
    assert result["msg"].startswith("no earlier good deployment to roll back to: none of the older deployments was good")
    assert "d3-superseded-early SUPERSEDED before it became ACTIVE (2 of 6 steps done)" in result["msg"]
    assert "newer deployment(s) never went live: d5-error ERROR" in result["msg"]
    assert "-e tachyon_rollback_to=<deployment id>" in result["msg"]
    assert api.calls("POST", VALIDATE) == [] and api.calls("POST", ROLLBACK) == []


def test_validate_invalid_is_refused_with_app_platforms_reason(run_module, api):
    routes(api, "deployments_history", "d4-active", validate="rollback_validate_invalid")
    result, failed = rollback(run_module, api, deployment_id="d5-error")
    assert failed and api.calls("POST", ROLLBACK) == []
    assert 'App Platform refuses to roll back to d5-error: incompatible_result deployment result "failed" is ' \
        "unsuitable for rollback" in result["msg"]


def test_validate_warnings_are_returned(run_module, api):
    routes(api, "deployments_history", "d4-active", validate="rollback_validate_warnings")
    result, failed = rollback(run_module, api)
    assert not failed
    assert result["warnings_from_api"][0]["code"] == "image_source_missing_digest"


@pytest.mark.parametrize("validate", ["rollback_validate_valid", "rollback_validate_valid_pydo"])
def test_a_given_target_is_used_as_given(run_module, api, validate):
    routes(api, "deployments_history", "d4-active", validate=validate)
    result, failed = rollback(run_module, api, deployment_id="d1-superseded-good")
    assert not failed and result["target_deployment_id"] == "d1-superseded-good"
    assert result["target_reason"] == "given as deployment_id"
    assert api.calls("GET", DEPLOYMENTS) == []


def test_already_on_the_target_changes_nothing(run_module, api):
    routes(api, "deployments_history_after_rollback", "d6-rollback")
    result, failed = rollback(run_module, api, deployment_id="d4-active")
    assert not failed and result["changed"] is False
    assert api.calls("POST", VALIDATE) == []


def test_rollback_deployment_timeout_says_what_it_waited_for(run_module, api):
    routes(api, "deployments_history", "d4-active")
    api.route("GET", DEPLOYMENT, case("deployment_pending_build"))
    result, failed = rollback(run_module, api, timeout=1)
    assert failed
    assert "rollback deployment %s not ACTIVE within 1s (timed out waiting for deployment %s to become ACTIVE " \
        "(last phase PENDING_BUILD))" % (ROLLBACK_ID, ROLLBACK_ID) in result["msg"]
