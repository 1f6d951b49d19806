"""Deploy by digest against the emulator's registry (no Docker): a tag re-pushed after staging
verified it stops production, naming the service and both digests; a tag-only staging record
deploys to production only with tachyon_allow_tag_only, which the run says."""
import json
import re
import urllib.request

import pytest
import requests

from emulator.testing import running_emulator
from test_deploy import RELEASE, Run, _manifest_with_staging, manifest_json, sandbox_digest


@pytest.fixture(name="run")
def run_fixture(tmp_path):
    """test_deploy's run fixture: the deploy harness against a fresh emulator."""
    with running_emulator(phase_seconds=0.05) as emu:
        yield Run(emu, tmp_path)


def re_push(emu, service, tag, body=b'{"schemaVersion": 2, "rebuilt": true}'):
    """PUT a manifest under the tag with the sandbox's push credentials; returns the new digest."""
    token = requests.get(emu.url + "/_registry/token", auth=("sandbox", "sandbox-registry-password"),
                         params={"scope": "repository:tachyonapp/%s:pull,push" % service}, timeout=5).json()["token"]
    resp = requests.put("%s/_registry/v2/tachyonapp/%s/manifests/%s" % (emu.url, service, tag), data=body, timeout=5,
                        headers={"Authorization": "Bearer " + token,
                                 "Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    assert resp.status_code == 201, resp.text
    return resp.headers["Docker-Content-Digest"]


def test_a_tag_re_pushed_after_staging_is_refused_in_production(run):
    rc, out = run.staging()
    assert rc == 0, out
    verified = manifest_json(run)["environments"]["staging"]["services"]["tachyon-api"]["digest"]
    assert verified == sandbox_digest("tachyon-api", RELEASE["tachyon-api"])
    moved = re_push(run.emu, "tachyon-api", RELEASE["tachyon-api"])
    before = run.app("production")["active_deployment"]["id"]
    # the opt-out does not cover a digest that changed: it is for services that have none
    rc, out = run.production(extra={"tachyon_allow_tag_only": True})
    assert rc != 0
    flat = " ".join(out.split())
    assert ("tachyon-api: staging verified %s, but the registry's tag ghcr.io/tachyonapp/tachyon-api:%s now points "
            "at %s (the tag was re-pushed)" % (verified, RELEASE["tachyon-api"], moved)) in flat, out[-3000:]
    assert "tachyon-workers" not in flat.split("production deploy refused")[1].split("Nothing was deployed")[0]
    assert run.app("production")["active_deployment"]["id"] == before
    assert "Deploy to App Platform (production)" not in out


def test_tag_only_staging_record_needs_the_opt_out_and_says_so(run):
    _manifest_with_staging(run, RELEASE)
    data = manifest_json(run)
    for entry in [data["environments"]["staging"]] + data["history"][-1:]:
        for svc in entry["services"].values():
            svc["digest"] = None  # a staging deploy from before digests: by tag
    run.manifest.write_text(json.dumps(data, indent=2))
    rc, out = run.production()
    assert rc != 0 and "tachyon_allow_tag_only=true" in out and "staging deployed it by tag" in out, out[-3000:]
    rc, out = run.production(extra={"tachyon_allow_tag_only": True})
    assert rc == 0, out
    assert re.search(r"tachyon-api deploys ghcr.io/tachyonapp/tachyon-api:%s by TAG" % RELEASE["tachyon-api"], out)
    images = {c["name"]: c["image"] for c in run.app("production")["spec"]["services"]}
    assert images["api"]["tag"] == RELEASE["tachyon-api"] and "digest" not in images["api"]
    health = json.load(urllib.request.urlopen(run.app("production")["live_url"].rstrip("/") + "/health", timeout=5))
    assert health["version"] == RELEASE["tachyon-api"]
