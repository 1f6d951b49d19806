"""Hardening class 1 (issue 26): a deploy record that cannot be published to the hub's branch,
for any reason, survives on the remote under refs/tachyon/records/<env>/<deployment> (a ref no
manifest state can refuse); the message says where and how it comes back, and the next publish
folds it in and deletes the ref (module_utils/_release/records.py, manifest_publish). The
issue's examples were an invalid manifest on the remote and a history force-pushed to an
unrelated line; here also: a remote that refuses pushes to the branch (a protected branch), a
remote whose manifest was deleted, and an unreachable remote (then the checkout keeps it and
the message says so)."""
import json
import stat

import pytest

from ansible_collections.tachyon.infra.plugins.modules import manifest_publish
from test_manifest_replay import MANIFEST, git, hub, publish, record, remote_manifest  # noqa: F401 pylint: disable=unused-import


def _break_remote(bare, tmp_path, how):
    """Make the remote's branch unpublishable for our record, the way ``how`` says."""
    other = tmp_path / "breaker"
    git(tmp_path, "clone", "-q", "file://%s" % bare, str(other))
    if how == "invalid manifest":
        (other / MANIFEST).write_text('{"version": "not a manifest"')
        git(other, "commit", "-qam", "oops")
        git(other, "push", "-q", "origin", "HEAD:main")
    elif how == "unrelated history":
        git(other, "checkout", "-q", "--orphan", "fresh")
        git(other, "rm", "-rq", "--cached", ".")
        (other / "README").write_text("a fresh start\n")
        git(other, "add", "README")
        git(other, "commit", "-qm", "fresh start")
        git(other, "push", "-q", "--force", "origin", "HEAD:main")
    elif how == "manifest deleted":
        git(other, "rm", "-q", MANIFEST)
        git(other, "commit", "-qm", "drop the manifest")
        git(other, "push", "-q", "origin", "HEAD:main")
    elif how == "protected branch":
        hook = bare / "hooks" / "pre-receive"
        hook.write_text("#!/bin/sh\nwhile read old new ref; do case \"$ref\" in refs/heads/*) "
                        "echo \"protected branch: $ref\" >&2; exit 1;; esac; done\nexit 0\n")
        hook.chmod(hook.stat().st_mode | stat.S_IEXEC)


@pytest.mark.parametrize("how", ["invalid manifest", "unrelated history", "manifest deleted", "protected branch"])
def test_an_unpublishable_record_is_kept_and_the_next_publish_folds_it_in(hub, tmp_path, how):
    bare, (stage, _other) = hub
    _break_remote(bare, tmp_path, how)
    record(stage, "staging", "stg-9", "2026-01-02T00:00:00Z")
    with pytest.raises(manifest_publish.GitError) as err:
        publish(stage)
    text = str(err.value)
    ref = "refs/tachyon/records/staging/stg-9"
    assert err.value.extra["kept_ref"] == ref and ref in text, text
    assert "next manifest publish" in text and "folds it into the manifest" in text
    kept = json.loads(git(bare, "show", "%s:%s" % (ref, MANIFEST)))
    assert kept["history"][-1]["deployment_id"] == "stg-9"

    # the remote is repaired (a good manifest on main again, hooks removed); another run publishes
    hook = bare / "hooks" / "pre-receive"
    if hook.exists():
        hook.unlink()
    fixer = tmp_path / "fixer"
    git(tmp_path, "clone", "-q", "file://%s" % stage, str(fixer))  # a checkout with a good manifest
    git(fixer, "push", "-q", "--force", "file://%s" % bare, "HEAD~1:refs/heads/main")
    nxt = tmp_path / "next"
    git(tmp_path, "clone", "-q", "file://%s" % bare, str(nxt))
    record(nxt, "production", "prd-1", "2026-01-03T00:00:00Z")
    result = publish(nxt)
    assert result["pushed"] and result["folded_records"] == [ref]
    ids = [e["deployment_id"] for e in remote_manifest(bare)["history"]]
    assert "stg-9" in ids and "prd-1" in ids
    assert git(bare, "for-each-ref", "refs/tachyon/records/") == ""  # folded in: the ref is gone


def test_an_unreachable_remote_keeps_the_record_in_the_checkout_and_says_so(hub, tmp_path):
    bare, (stage, _other) = hub
    record(stage, "staging", "stg-7", "2026-01-02T00:00:00Z")
    git(stage, "remote", "set-url", "origin", "file://%s/nowhere.git" % tmp_path)
    with pytest.raises(manifest_publish.GitError) as err:
        publish(stage)
    text = str(err.value)
    assert "only in this checkout" in text and str(stage) in text
    assert "run the publish again" in text
