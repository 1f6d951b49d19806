"""Verify the deploy scenario: the live app runs the release, the manifest recorded it once."""
import json
import os
import urllib.request

SCENARIO = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "deploy")
APP_ID = "5a4db0c5-0000-4000-8000-5a4db0c5a001"
API_SHA = "4a091424887308027935eb247097d4ffd77c8f99"


def endpoint():
    with open(os.path.join(SCENARIO, "emulator.url")) as handle:
        return handle.read().strip()


def test_live_app_reports_the_release():
    with urllib.request.urlopen("%s/_live/%s/health" % (endpoint(), APP_ID), timeout=5) as resp:
        payload = json.load(resp)
    assert payload["status"] == "healthy" and payload["version"] == API_SHA


def test_one_deployment_recorded_once():
    with open(os.path.join(SCENARIO, "releases", "manifest.json")) as handle:
        manifest = json.load(handle)
    staging = manifest["environments"]["staging"]
    assert staging["deployed_by"] == "molecule" and staging["health_verified_at"]
    assert staging["services"]["tachyon-api"]["sha"] == API_SHA
    assert [h["outcome"] for h in manifest["history"]] == ["succeeded"]
    request = urllib.request.Request("%s/v2/apps/%s/deployments" % (endpoint(), APP_ID),
                                     headers={"Authorization": "Bearer sandbox-staging-token"})
    with urllib.request.urlopen(request, timeout=5) as resp:
        deployments = json.load(resp)["deployments"]
    assert len(deployments) == 2  # the seed's and ours: check runs and the rerun deployed nothing
    assert staging["deployment_id"] == deployments[0]["id"] or staging["deployment_id"] in {d["id"] for d in deployments}
