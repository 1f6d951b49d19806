"""secret_scan: our detectors, file selection (git and plain trees), baseline, module.

Fake tokens are built at test time so the repository itself never holds one.
"""
import json
import os
import random
import secrets
import string
import subprocess

import pytest
from ansible.module_utils.testing import patch_module_args
from detect_secrets.core.potential_secret import PotentialSecret

from ansible_collections.tachyon.infra.plugins.module_utils._validate import secret_scan as ss
from ansible_collections.tachyon.infra.plugins.modules import secret_scan


def do_token(prefix="dop"):
    return prefix + "_v1_" + secrets.token_hex(32)


def github_pat():
    return "github_pat_" + "".join(random.choice(string.ascii_letters + string.digits + "_")
                                   for _position in range(82))


def run(capsys, check=False, **args):
    if check:
        args["_ansible_check_mode"] = True
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        secret_scan.main()
    out = capsys.readouterr().out
    return json.loads(out), exc.value.code != 0, out


def git(path, *args):
    subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True,
                   env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
                            GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com"))


@pytest.mark.parametrize("prefix", ["dop", "doo", "dor"])
def test_digitalocean_tokens_found_never_printed(capsys, tmp_path, prefix):
    token = do_token(prefix)
    (tmp_path / "notes.md").write_text("# notes\n\nThe token is %s here.\n" % token)
    result, failed, out = run(capsys, path=str(tmp_path))
    assert failed
    assert result["findings"] == [{"file": "notes.md", "line": 3, "type": "DigitalOcean Token"}]
    assert "notes.md:3: DigitalOcean Token" in result["msg"]
    assert token not in out and token[7:] not in out


def test_github_fine_grained_token(capsys, tmp_path):
    token = github_pat()
    (tmp_path / "ci.sh").write_text("export GH=%s\n" % token)
    result, failed, out = run(capsys, path=str(tmp_path))
    assert failed and {"file": "ci.sh", "line": 1, "type": "GitHub Fine-Grained Token"} in result["findings"]
    assert token not in out


def test_near_misses_are_not_do_tokens(tmp_path):
    (tmp_path / "a.txt").write_text("dop_v1_%s\ndop_v2_%s\nxdop_v1_%s\n"
                                    % ("a" * 63, secrets.token_hex(32), "0" * 64))
    findings, _scanned = ss.scan(str(tmp_path))
    assert not [f for f in findings if f["type"] == "DigitalOcean Token"]


def test_default_plugins_run_too(tmp_path):
    marker = "RSA PRIVATE" + " KEY-----"  # assembled so this file holds no key header
    (tmp_path / "k.pem").write_text("-----BEGIN %s\nMIIB\n-----END %s\n" % (marker, marker))
    findings, _scanned = ss.scan(str(tmp_path))
    assert {"file": "k.pem", "line": 1, "type": "Private Key"} in findings


def test_git_tree_tracked_untracked_ignored_and_excluded(capsys, tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("ignored.txt\n")
    (tmp_path / "tracked.txt").write_text(do_token() + "\n")
    git(tmp_path, "add", ".gitignore", "tracked.txt")
    git(tmp_path, "commit", "-qm", "init")
    (tmp_path / "untracked.txt").write_text(do_token() + "\n")
    (tmp_path / "ignored.txt").write_text(do_token() + "\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "lib.txt").write_text(do_token() + "\n")
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "fake.txt").write_text(do_token() + "\n")
    result, failed, _stdout = run(capsys, path=str(tmp_path), exclude=["fixtures"])
    assert failed
    assert sorted(f["file"] for f in result["findings"]) == ["tracked.txt", "untracked.txt"]


def test_plain_tree_skips_default_excludes(tmp_path):
    for rel in (".venv/x.txt", ".collections/x.txt", "node_modules/p/x.txt", "src/x.txt"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(do_token() + "\n")
    assert ss.list_files(str(tmp_path)) == ["src/x.txt"]


def test_baseline_and_pragma_allowlist(capsys, tmp_path):
    token, other = do_token(), do_token()
    (tmp_path / "a.txt").write_text("one %s\n" % token)
    (tmp_path / "b.py").write_text("TWO = \"%s\"  # pragma: allowlist secret\n" % other)
    baseline = {"version": "1.5.0", "results": {"a.txt": [
        {"type": "DigitalOcean Token", "filename": "a.txt",
         "hashed_secret": PotentialSecret.hash_secret(token), "is_verified": False, "line_number": 9}]}}
    (tmp_path / ".secrets.baseline").write_text(json.dumps(baseline))
    result, failed, _stdout = run(capsys, path=str(tmp_path))
    assert not failed and result["findings"] == [], result
    (tmp_path / ".secrets.baseline").write_text("{not json")
    result, failed, _stdout = run(capsys, path=str(tmp_path))
    assert failed and "bad baseline" in result["msg"]


def test_identifiers_and_flags_are_not_secrets(tmp_path):
    sha = secrets.token_hex(20)
    (tmp_path / "manifest.json").write_text('{\n  "sha": "%s",\n  "tag": "%s"\n}\n' % (sha, sha))
    (tmp_path / "form.yml").write_text("fields:\n  - id: token\n    secret: true\n"
                                       "  - {id: key, label: KEY, secret: true}\n")
    (tmp_path / "shas.yml").write_text("api: %s\n" % secrets.token_hex(20))
    (tmp_path / "key.py").write_text('KEY = "%s"\n' % secrets.token_hex(16))
    findings, scanned = ss.scan(str(tmp_path))
    assert scanned == 4
    assert findings == [{"file": "key.py", "line": 1, "type": "Hex High Entropy String"}]


def test_parallel_scan_matches_serial(tmp_path):
    for i in range(30):
        (tmp_path / ("f%02d.txt" % i)).write_text("x\n" * i + (do_token() + "\n" if i % 7 == 0 else ""))
    serial, n1 = ss.scan(str(tmp_path), processes=1)
    parallel, n2 = ss.scan(str(tmp_path), processes=3)
    assert serial == parallel and n1 == n2 == 30
    assert [f["file"] for f in serial] == ["f00.txt", "f07.txt", "f14.txt", "f21.txt", "f28.txt"]


def test_binary_and_check_mode(capsys, tmp_path):
    (tmp_path / "blob.bin").write_bytes(b"\0\1" + do_token().encode())
    (tmp_path / "ok.txt").write_text("nothing to see\n")
    for check in (False, True):
        result, failed, _stdout = run(capsys, check=check, path=str(tmp_path))
        assert not failed and result["changed"] is False
        assert result["scanned"] == 1 and result["findings"] == [] and result["report"] == []


def test_collect_without_failing(capsys, tmp_path):
    (tmp_path / "a.txt").write_text(do_token() + "\n")
    result, failed, _stdout = run(capsys, path=str(tmp_path), fail_on_findings=False)
    assert not failed and len(result["findings"]) == 1
    assert result["report"][0] == "a.txt:1: DigitalOcean Token"
    assert result["report"][-1].startswith("hint: ")
    result, failed, _stdout = run(capsys, path=str(tmp_path / "nope"))
    assert failed and "is not a directory" in result["msg"]


@pytest.mark.parametrize("value, kind", [
    ("", None),
    ("tachyon_app_local", None),
    ("sk_test_...", None),
    ("https://inviting-moray-23.clerk.accounts.dev", None),
    (None, "DigitalOcean Token"),
    ("sk_live_" + "a1B2c3D4e5F6g7H8i9J0k1L2", "Stripe Access Key"),
    # random values (no secret-looking literal in the tree) under fixed ids, so that every
    # pytest-xdist worker (ansible-test units runs with -n auto) collects the same tests
    pytest.param("".join(random.choice(string.ascii_letters + string.digits) for _position in range(48)),
                 "High Entropy String", id="random-alphanumeric-48"),
    pytest.param(secrets.token_hex(16), "High Entropy String", id="random-hex-32"),
])
def test_looks_like_secret(value, kind):
    assert ss.looks_like_secret(do_token() if value is None else value) == kind


def test_cache_skips_unchanged_clean_files_only(capsys, tmp_path):
    tree, cache = tmp_path / "tree", tmp_path / "cache"
    tree.mkdir()
    for i in range(25):
        (tree / ("f%02d.txt" % i)).write_text("line %d\n" % i)
    token = do_token()
    (tree / "allowed.txt").write_text("x = %s\n" % token)
    baseline = {"results": {"allowed.txt": [
        {"type": "DigitalOcean Token", "hashed_secret": PotentialSecret.hash_secret(token), "line_number": 1}]}}
    (tree / ".secrets.baseline").write_text(json.dumps(baseline))
    first, failed, _stdout = run(capsys, path=str(tree), cache_dir=str(cache))
    assert not failed and first["cached"] == 0 and first["scanned"] == 26
    stored = (cache / "secret-scan.json").read_text()
    assert token not in stored and PotentialSecret.hash_secret(token) not in stored
    assert len(json.loads(stored)["clean"]) == 25  # the allowlisted file is scanned every time
    second, failed, _stdout = run(capsys, path=str(tree), cache_dir=str(cache))
    assert not failed and second["cached"] == 25 and second["scanned"] == 26
    # a changed file is scanned again, and its new secret found
    (tree / "f03.txt").write_text("line 3\ntoken = %s\n" % do_token())
    third, failed, _stdout = run(capsys, path=str(tree), cache_dir=str(cache))
    assert failed and third["cached"] == 24
    assert third["findings"] == [{"file": "f03.txt", "line": 2, "type": "DigitalOcean Token"}]
    # the same content under another path is another file
    (tree / "f03.txt").write_text("line 3\n")
    (tree / "f04.txt").rename(tree / "moved.txt")
    fourth, failed, _stdout = run(capsys, path=str(tree), cache_dir=str(cache))
    assert not failed and fourth["cached"] == 23
    # the baseline no longer allowing the token: found, although the file did not change
    (tree / ".secrets.baseline").write_text(json.dumps({"results": {}}))
    fifth, failed, _stdout = run(capsys, path=str(tree), cache_dir=str(cache))
    assert failed and fifth["findings"] == [{"file": "allowed.txt", "line": 1, "type": "DigitalOcean Token"}]


def test_cache_of_other_rules_is_not_used(tmp_path):
    (tmp_path / "a.txt").write_text("hello\n")
    ss.scan(str(tmp_path), cache_dir=str(tmp_path / ".cache"))
    stats = {}
    ss.scan(str(tmp_path), cache_dir=str(tmp_path / ".cache"), stats=stats)
    assert stats["cached"] == 1
    path = tmp_path / ".cache" / "secret-scan.json"
    data = json.loads(path.read_text())
    data["rules"] = "another detect-secrets or another version of the detectors"
    path.write_text(json.dumps(data))
    ss.scan(str(tmp_path), cache_dir=str(tmp_path / ".cache"), stats=stats)
    assert stats["cached"] == 0
    path.write_text("{broken")
    findings, scanned = ss.scan(str(tmp_path), cache_dir=str(tmp_path / ".cache"), stats=stats)
    assert stats["cached"] == 0 and scanned == 1 and findings == []
