"""The fixture release manifest (tests/fixtures/services/make_repos.py), which the local_stack
scenario's ghcr mode and the seed tests read, passes the product's own strict reader: a
fixture that only a lenient reader accepts would test nothing."""
import sys
from pathlib import Path

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "services"))
import make_repos  # noqa: E402  pylint: disable=wrong-import-position  # fixture helper, not a package


def test_fixture_release_manifest_is_a_valid_manifest(tmp_path):
    repos = {repo: {"sha": "%040x" % (index + 1)} for index, repo in enumerate(make_repos.SERVICES)}
    path = tmp_path / "manifest.json"
    path.write_text(manifest.to_json_text(make_repos.release_manifest(repos)))
    loaded = manifest.read(str(path))
    assert loaded["version"] == "0.1.0"
    assert set(loaded["environments"]) == {"staging", "production"}
    assert all(loaded["environments"][env]["deployment_id"] is None for env in ("staging", "production"))
