"""The release pins sha, tag and digest: manifest.create_release(digests=...), the schema's
optional pinned digest (tag-only and legacy releases still load), and the release_images filter."""
import copy
import os
import sys

import pytest

from ansible_collections.tachyon.infra.plugins.filter.release_images import release_images
from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
import service_catalog as catalog  # noqa: E402  (fixture helper, not a package)

SHAS = {"tachyon-api": "4a09142", "tachyon-workers": "2f9e050", "tachyon-db-migrate": "9252ea2"}
DIGEST = "sha256:" + "ab" * 32
CATALOG = [{"name": n, "image": "ghcr.io/tachyonapp/" + n} for n in SHAS]


def test_a_release_pins_the_digest_next_to_sha_and_tag():
    result = mf.create_release(None, "1.0.0", SHAS, digests={"tachyon-api": DIGEST}, **catalog.RELEASE_ARGS)
    assert result["services"]["tachyon-api"] == {"sha": "4a09142", "image": "ghcr.io/tachyonapp/tachyon-api",
                                                 "tag": "4a09142", "digest": DIGEST}
    assert "digest" not in result["services"]["tachyon-workers"]  # tag only
    mf.validate(result, "test")
    # the same release again: no change; other digests for the same version need force
    assert mf.create_release(result, "1.0.0", SHAS, digests={"tachyon-api": DIGEST}, **catalog.RELEASE_ARGS) is result
    with pytest.raises(mf.ManifestError, match="already exists with other pins"):
        mf.create_release(result, "1.0.0", SHAS, digests={"tachyon-api": "sha256:" + "cd" * 32}, **catalog.RELEASE_ARGS)


@pytest.mark.parametrize("digests, message", [
    ({"tachyon-api": "sha256:xyz"}, "digests.tachyon-api: expected sha256:<64 hex>"),
    ({"tachyon-api": DIGEST + "\n"}, "digests.tachyon-api: expected sha256:<64 hex>"),
    ({"nope": DIGEST}, "digests: unknown service"),
])
def test_bad_digests_are_refused_by_name(digests, message):
    with pytest.raises(mf.ManifestError, match=message):
        mf.create_release(None, "1.0.0", SHAS, digests=digests, **catalog.RELEASE_ARGS)


def test_a_tag_only_manifest_still_loads_and_a_pinned_digest_must_be_well_formed():
    tag_only = mf.create_release(None, "1.0.0", SHAS, **catalog.RELEASE_ARGS)
    mf.validate(copy.deepcopy(tag_only), "tag-only")
    bad = copy.deepcopy(tag_only)
    bad["services"]["tachyon-api"]["digest"] = "sha256:short"
    with pytest.raises(mf.ManifestError):
        mf.validate(bad, "bad digest")
    nulled = copy.deepcopy(tag_only)
    nulled["services"]["tachyon-api"]["digest"] = None
    mf.validate(nulled, "null digest")


def test_release_images_filter():
    assert release_images({"tachyon-api": "4A09142", "tachyon-workers": "", "tachyon-db-migrate": "zz",
                           "unknown": "abcdef0"}, CATALOG) == {
        "tachyon-api": {"image": "ghcr.io/tachyonapp/tachyon-api", "tag": "4a09142"}}
