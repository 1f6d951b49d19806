"""Conformance: pydo (DigitalOcean's official client) drives every emulated App Platform
endpoint; every body it receives validates against the vendored OpenAPI response schema."""
import copy
import json

import pytest
import requests
from azure.core.exceptions import HttpResponseError

from emulator_helpers import conforms, conforms_error, wait_phase, with_tag

PHASE_ORDER = ["PENDING_BUILD", "BUILDING", "PENDING_DEPLOY", "DEPLOYING", "ACTIVE"]


def _new_spec(name="sandbox-new"):
    return {"name": name, "region": "nyc", "services": [{
        "name": "api", "http_port": 4000, "instance_count": 1, "instance_size_slug": "apps-s-1vcpu-0.5gb",
        "image": {"registry_type": "GHCR", "registry": "tachyonapp", "repository": "tachyon-api", "tag": "v1"},
        "envs": [{"key": "API_KEY", "type": "SECRET", "value": "clear-text-api-key"}]}]}


def _is_subsequence(seen, order):
    it = iter(order)
    return all(phase in it for phase in seen)


def test_list_and_get_are_scoped_to_the_token_account(emu, staging):
    client, app_id = staging
    listing = conforms(client.apps.list(), "list_apps")
    assert [a["id"] for a in listing["apps"]] == [app_id]
    assert listing["meta"]["total"] == 1
    app = conforms(client.apps.get(app_id), "apps_get")["app"]
    assert app["active_deployment"]["phase"] == "ACTIVE"
    assert app["live_url"] == emu.live_url(app_id)
    assert app["owner_uuid"] != conforms(emu.client("production").apps.get(emu.app_ids["production"]),
                                         "apps_get")["app"]["owner_uuid"]


def test_other_accounts_token_gets_404_and_bad_tokens_401(emu, staging):
    _, app_id = staging
    prod = emu.client("production", retry_total=0)
    # pydo returns the 404 body of apps.get instead of raising (its generated code accepts 404)
    body = prod.apps.get(app_id)
    assert body["id"] == "not_found"
    conforms(body, "shared.not_found")
    assert conforms(prod.apps.update(app_id, {"spec": _new_spec()}), "shared.not_found")["id"] == "not_found"
    assert staging[0].apps.get(app_id)["app"]["spec"]["name"] == "tachyon-staging"
    url = "%s/v2/apps/%s" % (emu.url, app_id)
    conforms_error(requests.get(url, timeout=5), 401)
    body = conforms_error(requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=5), 401)
    assert body["message"] == "Unable to authenticate you."
    conforms_error(requests.get(url, headers={"Authorization": "Bearer " + emu.tokens["production"]},
                                timeout=5), 404)


def test_rate_limit_headers_on_every_response(emu, staging):
    _, app_id = staging
    headers = {"Authorization": "Bearer " + emu.tokens["staging"]}
    first = requests.get("%s/v2/apps" % emu.url, headers=headers, timeout=5)
    second = requests.get("%s/v2/apps/%s/deployments" % (emu.url, app_id), headers=headers, timeout=5)
    missing = requests.get("%s/v2/apps/unknown" % emu.url, headers=headers, timeout=5)
    unauth = requests.get("%s/v2/apps" % emu.url, timeout=5)
    for response in (first, second, missing, unauth):
        for name in ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"):
            assert int(response.headers[name]) >= 0, (response.url, name)
    assert int(second.headers["ratelimit-remaining"]) == int(first.headers["ratelimit-remaining"]) - 1
    conforms_error(missing, 404)


def test_create_app_follows_phases_to_active(emu):
    client = emu.client("staging", retry_total=0)
    created = conforms(client.apps.create({"spec": _new_spec()}), "new_app")["app"]
    # pending_deployment is {id, spec}, as in the OpenAPI app example
    pending = created["pending_deployment"]
    assert set(pending) == {"id", "spec"}
    dep, seen = wait_phase(client, created["id"], pending["id"])
    assert dep["phase"] == "ACTIVE" and seen[-1] == "ACTIVE"
    assert _is_subsequence(seen, PHASE_ORDER), seen
    progress = dep["progress"]
    # leaves: build.initialize, build.components.api, deploy.initialize,
    # deploy.components.api.deploy, deploy.components.api.wait, deploy.finalize
    assert progress["success_steps"] == progress["total_steps"] == 6
    assert [s["name"] for s in progress["steps"]] == ["build", "deploy"]
    built = progress["steps"][0]["steps"][1]["steps"][0]
    assert built["component_name"] == "api" and built["status"] == "SUCCESS"
    assert built["reason"]["code"] == "PreBuiltImage" and built["started_at"] == "0001-01-01T00:00:00Z"
    assert [s["name"] for s in progress["steps"][1]["steps"][1]["steps"][0]["steps"]] == ["deploy", "wait"]
    app = conforms(client.apps.get(created["id"]), "apps_get")["app"]
    assert app["active_deployment"]["id"] == dep["id"]
    assert app["live_url"] and app["last_deployment_active_at"]
    status, health = emu.health(created["id"])
    assert status == 200 and health.pop("timestamp").endswith("Z")
    assert health == {"status": "healthy", "version": "v1", "checks": {"postgres": "connected", "redis": "connected"}}
    with pytest.raises(HttpResponseError) as err:
        client.apps.create({"spec": _new_spec()})
    assert err.value.status_code == 409


def test_update_returns_pending_and_newer_deployment_supersedes(emu, staging):
    client, app_id = staging
    spec = conforms(client.apps.get(app_id), "apps_get")["app"]["spec"]
    first = conforms(client.apps.update(app_id, {"spec": with_tag(spec, "aaaaaaa"),
                                                 "update_all_source_versions": True}), "update_app")["app"]
    second = conforms(client.apps.update(app_id, {"spec": with_tag(spec, "bbbbbbb"),
                                                  "update_all_source_versions": True}), "update_app")["app"]
    assert first["pending_deployment"]["id"] != second["pending_deployment"]["id"]
    old, _ = wait_phase(client, app_id, first["pending_deployment"]["id"])
    assert old["phase"] == "SUPERSEDED"
    new, _ = wait_phase(client, app_id, second["pending_deployment"]["id"])
    assert new["phase"] == "ACTIVE"
    assert new["spec"]["services"][0]["image"]["tag"] == "bbbbbbb"
    assert emu.health(app_id)[1]["version"] == "bbbbbbb"
    # the deployment it replaced as active is SUPERSEDED too
    listing = conforms(client.apps.list_deployments(app_id), "existing_deployments")
    phases = [d["phase"] for d in listing["deployments"]]
    assert phases == ["ACTIVE", "SUPERSEDED", "SUPERSEDED"]
    # an identical spec without update_all_source_versions starts no deployment
    # (pending_deployment then still names the most recent deployment, as GET does)
    same = conforms(client.apps.update(app_id, {"spec": with_tag(spec, "bbbbbbb")}), "update_app")["app"]
    assert same["pending_deployment"]["id"] == new["id"]
    assert conforms(client.apps.list_deployments(app_id), "existing_deployments")["meta"]["total"] == 3


def test_secret_values_come_back_as_ciphertext_only(emu, staging):
    client, app_id = staging
    spec = copy.deepcopy(client.apps.get(app_id)["app"]["spec"])
    spec["services"][0]["envs"].append({"key": "STRIPE_SECRET_KEY", "type": "SECRET", "value": "sk-clear-value"})
    updated = client.apps.update(app_id, {"spec": spec, "update_all_source_versions": True})
    raw = json.dumps(updated) + json.dumps(client.apps.get(app_id)) + json.dumps(client.apps.list_deployments(app_id))
    assert "sk-clear-value" not in raw
    env = [e for e in client.apps.get(app_id)["app"]["spec"]["services"][0]["envs"] if e["key"] == "STRIPE_SECRET_KEY"]
    assert env[0]["value"].startswith("EV[1:") and env[0]["value"].endswith("]")
    again = [e for e in client.apps.get(app_id)["app"]["spec"]["services"][0]["envs"] if e["key"] == "STRIPE_SECRET_KEY"]
    assert again == env
    assert emu.secret_matches(app_id, "STRIPE_SECRET_KEY", "sk-clear-value", component="api")
    assert not emu.secret_matches(app_id, "STRIPE_SECRET_KEY", "another-value", component="api")
    # sending the ciphertext back keeps the secret
    read_back = client.apps.get(app_id)["app"]["spec"]
    client.apps.update(app_id, {"spec": read_back})
    assert emu.secret_matches(app_id, "STRIPE_SECRET_KEY", "sk-clear-value", component="api")


@pytest.mark.parametrize("mutate, field", [
    (lambda s: s["services"][0]["image"].update(registry_type="GHCRX"), "services[0].image.registry_type"),
    (lambda s: s["services"][0].update(http_prot=80), "services[0]"),
    (lambda s: s.update(region="nyc3"), "region"),
    (lambda s: s["workers"][0].update(name="api"), "component name 'api'"),
])
def test_invalid_spec_refused_with_field_named_and_nothing_changed(staging, mutate, field):
    client, app_id = staging
    before = client.apps.list_deployments(app_id)["meta"]["total"]
    spec = copy.deepcopy(client.apps.get(app_id)["app"]["spec"])
    mutate(spec)
    with pytest.raises(HttpResponseError) as err:
        client.apps.update(app_id, {"spec": spec, "update_all_source_versions": True})
    assert err.value.status_code == 400
    body = conforms(err.value.response.json(), "shared.bad_request")
    assert body["id"] == "invalid_argument"
    assert field in body["message"]
    assert client.apps.list_deployments(app_id)["meta"]["total"] == before
    with pytest.raises(HttpResponseError):
        client.apps.validate_app_spec({"spec": spec})


def test_propose_validates_without_changing_anything(staging):
    client, app_id = staging
    spec = client.apps.get(app_id)["app"]["spec"]
    proposal = conforms(client.apps.validate_app_spec({"spec": spec, "app_id": app_id}), "propose_app")
    assert proposal["app_name_available"] is True and proposal["spec"] == spec
    other = conforms(client.apps.validate_app_spec({"spec": spec}), "propose_app")
    assert other["app_name_available"] is False
    assert client.apps.list_deployments(app_id)["meta"]["total"] == 1


def test_create_list_paginate_and_cancel_deployments(emu, staging):
    client, app_id = staging
    emu.configure(phase_seconds=30)
    dep = conforms(client.apps.create_deployment(app_id, {"force_build": True}), "new_app_deployment")["deployment"]
    assert dep["phase"] == "PENDING_BUILD"
    app = client.apps.get(app_id)["app"]
    assert app["in_progress_deployment"]["id"] == dep["id"]
    canceled = conforms(client.apps.cancel_deployment(app_id, dep["id"]), "cancel_deployment")["deployment"]
    assert canceled["phase"] == "CANCELED"
    with pytest.raises(HttpResponseError) as err:
        client.apps.cancel_deployment(app_id, dep["id"])
    assert err.value.status_code == 400
    page = conforms(client.apps.list_deployments(app_id, page=1, per_page=1), "existing_deployments")
    assert page["meta"]["total"] == 2 and len(page["deployments"]) == 1
    assert "next" in page["links"]["pages"]
    page2 = conforms(client.apps.list_deployments(app_id, page=2, per_page=1), "existing_deployments")
    assert page2["deployments"][0]["phase"] == "ACTIVE"
    assert "prev" in page2["links"]["pages"]
    assert client.apps.get_deployment(app_id, "no-such-deployment")["id"] == "not_found"


def test_logs_point_at_archived_log_files(emu, staging):
    client, app_id = staging
    spec = client.apps.get(app_id)["app"]["spec"]
    dep_id = client.apps.update(app_id, {"spec": with_tag(spec, "c0ffee1"),
                                         "update_all_source_versions": True})["app"]["pending_deployment"]["id"]
    wait_phase(client, app_id, dep_id)
    # every component is a pre-built image: the build stage is skipped, so BUILD logs are a 400
    with pytest.raises(HttpResponseError) as err:
        client.apps.get_logs(app_id, dep_id, "api", type="BUILD")
    assert err.value.status_code == 400
    deploy = conforms(client.apps.get_logs_aggregate(app_id, dep_id, type="DEPLOY"), "list_logs")
    assert set(deploy) == {"historic_urls"}  # a finished stage: archived logs only
    text = requests.get(deploy["historic_urls"][0], timeout=5).text
    assert "Running pre-deploy job" in text and "workers is ready" in text
    assert "ghcr.io/tachyonapp/tachyon-api:c0ffee1" in text
    # RUN logs of the ACTIVE deployment: the live URL (signed like a presigned URL)
    run = conforms(client.apps.get_logs_active_deployment(app_id, "api", type="RUN"), "list_logs")
    assert set(run) == {"live_url"} and "sig=" in run["live_url"]
    assert "listening on port 4000" in requests.get(run["live_url"], timeout=5).text
    tampered = deploy["historic_urls"][0].replace("sig=", "sig=0")
    assert requests.get(tampered, timeout=5).status_code == 403
    with pytest.raises(HttpResponseError) as err:
        client.apps.get_logs(app_id, dep_id, "api")  # type defaults to UNSPECIFIED
    assert err.value.status_code == 400
    assert client.apps.get_logs(app_id, dep_id, "nope", type="BUILD")["id"] == "not_found"


def _deploy(client, app_id, tag):
    spec = client.apps.get(app_id)["app"]["spec"]
    dep_id = client.apps.update(app_id, {"spec": with_tag(spec, tag),
                                         "update_all_source_versions": True})["app"]["pending_deployment"]["id"]
    return wait_phase(client, app_id, dep_id)[0]


def test_rollback_pins_until_commit(emu, staging):
    client, app_id = staging
    good = _deploy(client, app_id, "1111111")
    _deploy(client, app_id, "2222222")
    check = conforms(client.apps.validate_rollback(app_id, {"deployment_id": good["id"]}), "apps_validate_rollback")
    assert check["valid"] is True
    assert check["warnings"][0]["code"] == "image_source_missing_digest"
    rollback = conforms(client.apps.create_rollback(app_id, {"deployment_id": good["id"]}),
                        "new_app_deployment")["deployment"]
    assert rollback["cloned_from"] == good["id"]
    app = conforms(client.apps.get(app_id), "apps_get")["app"]
    assert app["pinned_deployment"]["id"] == rollback["id"]
    for call in (lambda: client.apps.create_deployment(app_id, {}),
                 lambda: client.apps.update(app_id, {"spec": app["spec"], "update_all_source_versions": True})):
        with pytest.raises(HttpResponseError) as err:
            call()
        assert err.value.status_code == 400
        assert "pinned" in conforms(err.value.response.json(), "shared.bad_request")["message"]
    pinned_check = client.apps.validate_rollback(app_id, {"deployment_id": good["id"]})
    assert pinned_check["valid"] is False and pinned_check["error"]["code"] == "app_pinned"
    wait_phase(client, app_id, rollback["id"])
    assert emu.health(app_id)[1]["version"] == "1111111"
    assert client.apps.commit_rollback(app_id) is None
    assert "pinned_deployment" not in client.apps.get(app_id)["app"]
    assert _deploy(client, app_id, "3333333")["phase"] == "ACTIVE"
    with pytest.raises(HttpResponseError) as err:
        client.apps.commit_rollback(app_id)
    assert err.value.status_code == 400


def test_rollback_revert_redeploys_the_spec_before_the_rollback(emu, staging):
    client, app_id = staging
    good = _deploy(client, app_id, "1111111")
    _deploy(client, app_id, "2222222")
    rollback = client.apps.create_rollback(app_id, {"deployment_id": good["id"]})["deployment"]
    wait_phase(client, app_id, rollback["id"])
    revert = conforms(client.apps.revert_rollback(app_id), "new_app_deployment")["deployment"]
    assert revert["spec"]["services"][0]["image"]["tag"] == "2222222"
    wait_phase(client, app_id, revert["id"])
    app = client.apps.get(app_id)["app"]
    assert "pinned_deployment" not in app
    assert app["spec"]["services"][0]["image"]["tag"] == "2222222"
    assert emu.health(app_id)[1]["version"] == "2222222"


def test_rollback_to_a_failed_or_active_deployment_is_invalid(emu, staging):
    client, app_id = staging
    emu.set_faults([{"kind": "deploy_fail", "stage": "build", "count": 1}])
    spec = client.apps.get(app_id)["app"]["spec"]
    failed = client.apps.update(app_id, {"spec": with_tag(spec, "badbad1"),
                                         "update_all_source_versions": True})["app"]["pending_deployment"]
    wait_phase(client, app_id, failed["id"])
    check = conforms(client.apps.validate_rollback(app_id, {"deployment_id": failed["id"]}), "apps_validate_rollback")
    assert check["valid"] is False
    assert check["error"] == {"code": "incompatible_result",
                              "message": 'deployment result "failed" is unsuitable for rollback'}
    active = client.apps.get(app_id)["app"]["active_deployment"]["id"]
    assert client.apps.validate_rollback(app_id, {"deployment_id": active})["valid"] is False
    with pytest.raises(HttpResponseError) as err:
        client.apps.create_rollback(app_id, {"deployment_id": failed["id"]})
    assert err.value.status_code == 400


def test_delete_app(emu):
    client = emu.client("staging", retry_total=0)
    created = client.apps.create({"spec": _new_spec("to-delete")})["app"]
    assert conforms(client.apps.delete(created["id"]), "delete_app")["id"] == created["id"]
    assert client.apps.get(created["id"])["id"] == "not_found"
