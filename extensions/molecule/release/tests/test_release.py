"""Verify the release scenario: the scratch manifest holds release 0.2.0, schema-valid."""
import json
import os

import jsonschema

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
SCRATCH = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "release", "manifest.json")


def test_scratch_manifest_holds_the_release(host):
    manifest = json.loads(host.file(SCRATCH).content_string)
    assert manifest["version"] == "0.2.0"
    assert manifest["created_by"] == "molecule"
    assert {name: pin["sha"] for name, pin in manifest["services"].items()} == {
        "tachyon-api": "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432",
        "tachyon-workers": "1a2b3c4",
        "tachyon-db-migrate": "5d6e7f8",
    }
    assert manifest["services"]["tachyon-api"]["image"] == "ghcr.io/tachyonapp/tachyon-api"


def test_scratch_manifest_matches_the_schema(host):
    with open(os.path.join(ROOT, "releases", "manifest.schema.json")) as handle:
        schema = json.load(handle)
    jsonschema.validate(json.loads(host.file(SCRATCH).content_string), schema)


def test_checked_in_manifest_untouched(host):
    with open(os.path.join(ROOT, "releases", "manifest.json")) as handle:
        assert json.load(handle)["version"] == "0.1.0"
