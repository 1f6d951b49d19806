"""The production gate's pure parts (issue 17, deliverables 1, 3, 7): promotion needs staging's
latest attempt to be a verified success of the release and returns the refs staging ran; a
deployment recorded for one environment cannot be recorded for the other; history entries
carry the services; short SHAs are expanded against the repo or refused; hints name the
variables that fix them."""
import os
import subprocess
import sys

import pytest
from ansible.errors import AnsibleLookupError

from ansible_collections.tachyon.infra.plugins.filter.deploy import deployment_environment
from ansible_collections.tachyon.infra.plugins.lookup.git_ls_remote import ls_remote
from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
# imported at collection time as well (the imports inside tests then find them in sys.modules): a
# plugin first imported after a test made ansible install its collection finder fails "collection
# metadata was not loaded" (order-dependent under xdist)
from ansible_collections.tachyon.infra.plugins.filter.deploy import recorded_deployments

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
import service_catalog as catalog  # noqa: E402  (fixture helper, not a package)

NOW = "2026-05-01T12:00:00Z"
LATER = "2026-05-01T13:00:00Z"
SHAS = {"tachyon-api": "9f8e7d6", "tachyon-workers": "1a2b3c4", "tachyon-db-migrate": "5d6e7f8"}
FULL = {n: s + "0" * 33 for n, s in SHAS.items()}


def release(shas=None, version="0.2.0", current=None):
    return mf.create_release(current, version, dict(SHAS if shas is None else shas), now=NOW,
                             **catalog.RELEASE_ARGS)


def ran(shas=FULL, digest=None):
    return {n: {"sha": s, "tag": s, "image": "ghcr.io/tachyonapp/" + n, "digest": digest}
            for n, s in shas.items()}


def staged(doc, deployment_id="dep-s1", at=NOW, services=None, verified=True):
    return mf.record_deployment(doc, "staging", "succeeded", deployment_id=deployment_id,
                                services=services or ran(), deployed_by="ci",
                                health_verified_at=at if verified else None, at=at)


# ----------------------------------------------------------------------------- current proof
def test_promotion_returns_exactly_the_refs_staging_ran():
    services = ran()
    services["tachyon-api"]["digest"] = "sha256:" + "a" * 64
    result = mf.check_promotion(staged(release(), services=services), "0.2.0", "alice")
    # the release pins 7-character SHAs; production gets the full SHAs, tags and digest staging ran
    assert result["tachyon-api"] == {"sha": FULL["tachyon-api"], "tag": FULL["tachyon-api"],
                                     "image": "ghcr.io/tachyonapp/tachyon-api", "digest": "sha256:" + "a" * 64}
    assert {n: r["tag"] for n, r in result.items()} == FULL


def test_promotion_refused_when_staging_was_rolled_back_since():
    doc = staged(release())
    doc = mf.record_deployment(doc, "staging", "rolled_back", deployment_id="dep-s2", rolled_back_to="dep-s0",
                               deployed_by="ci", message="0.2.0 is bad", at=LATER)
    with pytest.raises(mf.ManifestError, match=r"staging's latest attempt \(%s, deployment dep-s2\) was rolled "
                                               r"back to dep-s0" % LATER):
        mf.check_promotion(doc, "0.2.0", "alice")


def test_promotion_refused_when_a_staging_attempt_failed_since():
    doc = mf.record_deployment(staged(release()), "staging", "failed", deployment_id="dep-s2",
                               services=ran(), deployed_by="ci", message="build failed", at=LATER)
    with pytest.raises(mf.ManifestError, match="staging's latest attempt .* failed: its earlier success is no"):
        mf.check_promotion(doc, "0.2.0", "alice")


def test_reverifying_the_same_staging_deployment_after_a_failure_is_current_proof_again():
    doc = mf.record_deployment(staged(release()), "staging", "failed", deployment_id="dep-s2",
                               services=ran(), deployed_by="ci", message="build failed", at=LATER)
    again = staged(doc, deployment_id="dep-s1", at="2026-05-01T14:00:00Z")
    assert again is not doc and again["history"][-1]["at"] == "2026-05-01T14:00:00Z"
    assert mf.check_promotion(again, "0.2.0", "alice")["tachyon-api"]["sha"] == FULL["tachyon-api"]
    # recording the same attempt twice in a row still changes nothing
    assert staged(again, deployment_id="dep-s1", at="2026-05-01T15:00:00Z") is again


def test_promotion_refused_when_staging_last_deployed_another_release():
    doc = staged(release())
    doc = release({"tachyon-api": "aaaaaaa", "tachyon-workers": SHAS["tachyon-workers"],
                   "tachyon-db-migrate": SHAS["tachyon-db-migrate"]}, version="0.3.0", current=doc)
    with pytest.raises(mf.ManifestError) as err:
        mf.check_promotion(doc, "0.3.0", "alice")
    assert "staging's latest deployment (%s, dep-s1) is release 0.2.0, not 0.3.0" % NOW in str(err.value)
    assert "staging deployed tachyon-api %s but the release pins aaaaaaa" % FULL["tachyon-api"] in str(err.value)


# ----------------------------------------------------------------------------- environment identity
def test_a_staging_deployment_cannot_be_recorded_as_production():
    doc = staged(release())
    with pytest.raises(mf.ManifestError, match="deployment_id dep-s1 is recorded as a staging deployment, so "
                                               "the app it belongs to is staging's, not production's"):
        mf.record_deployment(doc, "production", "succeeded", deployment_id="dep-s1", services=ran(),
                             deployed_by="ci", approved_by="alice", health_verified_at=LATER, at=LATER)
    assert deployment_environment(doc, "dep-s1") == "staging"
    assert deployment_environment(doc, "dep-p1") is None and deployment_environment(doc, None) is None


# ----------------------------------------------------------------------------- history services
def test_a_rollback_records_the_services_it_returned_to():
    doc = staged(release())
    doc = mf.record_deployment(doc, "staging", "succeeded", deployment_id="dep-s2", deployed_by="ci",
                               services=ran({n: "b" * 40 for n in FULL}), health_verified_at=LATER, at=LATER)
    doc = mf.record_deployment(doc, "staging", "rolled_back", deployment_id="dep-s3", rolled_back_to="dep-s1",
                               deployed_by="ci", at="2026-05-01T14:00:00Z")
    assert {n: s["sha"] for n, s in doc["history"][-1]["services"].items()} == FULL


# ----------------------------------------------------------------------------- hints
def test_hints_name_the_variables_that_fix_them():
    doc = staged(release())
    with pytest.raises(mf.ManifestError, match=r"-e tachyon_approved_by=<name>"):
        mf.check_promotion(doc, "0.2.0", "")
    with pytest.raises(mf.ManifestError, match=r"-e tachyon_version=0\.2\.0\)"):
        mf.check_promotion(doc, "0.9.0", "alice")


# ----------------------------------------------------------------------------- short SHAs
def _bare_repo(tmp_path, branches=("main", "feature")):
    src = tmp_path / "src"
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(src)]
    subprocess.run(["git", "init", "-q", "-b", branches[0], str(src)], check=True)
    shas = {}
    for branch in branches:
        subprocess.run(git + ["checkout", "-q", "-B", branch], check=True)
        (src / "f").write_text(branch)
        subprocess.run(git + ["add", "."], check=True)
        subprocess.run(git + ["commit", "-qm", branch], check=True)
        shas[branch] = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True,
                                      check=True).stdout.strip()
    subprocess.run(["git", "clone", "-q", "--bare", str(src), str(tmp_path / "api.git")], check=True)
    return "file://%s" % (tmp_path / "api.git"), shas


def test_short_sha_is_expanded_against_the_repo(tmp_path):
    url, shas = _bare_repo(tmp_path)
    assert ls_remote({"api": url}, "refs/heads/main", {"api": shas["feature"][:7].upper()}) == {"api": shas["feature"]}
    # a full SHA is taken as given (lowercased), no git needed for it
    assert ls_remote({"api": url}, "refs/heads/main", {"api": "C" * 40}) == {"api": "c" * 40}


def test_short_sha_the_repo_does_not_know_is_refused(tmp_path):
    url, _shas = _bare_repo(tmp_path)
    with pytest.raises(AnsibleLookupError, match=r"cannot expand the short SHA of api abcdef1 \(%s\): no branch or "
                                                 r"tag of the remote points to a commit starting with it\. Give all "
                                                 r"40 hexadecimal characters" % url):
        ls_remote({"api": url}, "refs/heads/main", {"api": "abcdef1"})


@pytest.mark.parametrize("sha", ["abc1234\n", "abc123", "abc1234 ", "g" * 40, "a" * 41, 1234567])
def test_malformed_sha_is_refused_naming_the_service(sha):
    with pytest.raises(AnsibleLookupError, match=r"malformed SHA for api in tachyon_shas"):
        ls_remote({"api": "file:///nonexistent"}, "refs/heads/main", {"api": sha})


def test_recorded_deployments_of_an_environment():
    doc = staged(release())
    doc = mf.record_deployment(doc, "staging", "rolled_back", deployment_id="dep-s2", rolled_back_to="dep-s0",
                               deployed_by="ci", at=LATER)
    assert recorded_deployments(doc, "staging") == ["dep-s0", "dep-s1", "dep-s2"]
    assert recorded_deployments(doc, "production") == []
