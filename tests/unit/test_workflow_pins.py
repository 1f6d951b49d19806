"""Supply chain of .github/workflows: every third-party action pinned by full commit SHA with its
version in a comment, and least privilege: no permissions at the top, each job naming its own."""
import glob
import os
import re

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKFLOWS = sorted(glob.glob(os.path.join(ROOT, ".github", "workflows", "*.yml")))
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}\s+#\s*v?\d+(\.\d+)*\s*$")
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$")


def unpinned(text):
    """(line number, line) of every `uses:` that is not a 40-hex SHA with a version comment.
    Local actions (./...) and reusable workflows of this repository are not third-party."""
    bad = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        match = USES.match(line)
        if not match or match.group("ref").startswith("./"):
            continue
        if not PINNED.match(match.group("ref") + match.group("rest")):
            bad.append((number, line.strip()))
    return bad


def test_there_are_workflows():
    assert len(WORKFLOWS) >= 5


@pytest.mark.parametrize("path", WORKFLOWS, ids=os.path.basename)
def test_every_action_is_pinned_by_commit_sha_with_its_version(path):
    assert unpinned(open(path).read()) == []


@pytest.mark.parametrize("line", [
    "      - uses: actions/checkout@v5",
    "        uses: actions/checkout@main",
    "      - uses: actions/checkout@fbc6f3992d24b796d5a048ff273f7fcc4a7b6c0",      # 39 hex
    "      - uses: actions/checkout@fbc6f3992d24b796d5a048ff273f7fcc4a7b6c09",     # no version comment
])
def test_the_check_refuses_tags_branches_short_shas_and_missing_versions(line):
    assert unpinned(line) != []


def test_the_check_takes_a_pinned_action():
    assert unpinned("      - uses: actions/checkout@fbc6f3992d24b796d5a048ff273f7fcc4a7b6c09 # v5.1.0") == []


@pytest.mark.parametrize("path", WORKFLOWS, ids=os.path.basename)
def test_least_privilege_permissions_per_job(path):
    workflow = yaml.safe_load(open(path))
    assert workflow.get("permissions") == {}, "top-level permissions must be {} (each job asks for its own)"
    for name, job in workflow["jobs"].items():
        perms = job.get("permissions")
        assert isinstance(perms, dict) and perms, "job %s names no permissions" % name
        assert "write-all" not in str(perms) and "read-all" not in str(perms)
        if perms.get("contents") == "write" or perms.get("packages") == "write":
            # only the jobs that push (the manifest, an image) write
            assert name in ("deploy", "build"), "job %s asks for write access" % name


def test_build_push_outputs_the_digest_and_deploy_staging_takes_digests():
    build = yaml.safe_load(open(os.path.join(ROOT, ".github/workflows/build-push.yml")))
    on = build.get("on") or build.get(True)
    assert on["workflow_call"]["outputs"]["digest"]["value"] == "${{ jobs.build.outputs.digest }}"
    assert build["jobs"]["build"]["outputs"]["digest"] == "${{ steps.push.outputs.digest }}"
    staging = yaml.safe_load(open(os.path.join(ROOT, ".github/workflows/deploy-staging.yml")))
    on = staging.get("on") or staging.get(True)
    assert "digests" in on["workflow_dispatch"]["inputs"]
    assert "tachyon_digests" in open(os.path.join(ROOT, ".github/workflows/deploy-staging.yml")).read()
