"""Strict parsing at the module boundary (issue 17, deliverable 4): what release_manifest,
manifest_publish, the App Spec reader and ansible-playbook itself (ansible.cfg) accept.

Each test is one "Why" bullet of the issue, reproduced through the interface a user has:
    - a SHA "abc1234\\n" accepted;
    - a manifest with a duplicate "history" key accepted and rewritten with the history gone;
    - a symlinked manifest replaced by a regular file, the real target left stale;
    - an approver given as a list recorded as "['alice', 'bob']".
"""
import json
import os
import shutil
import subprocess
import sys

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.tachyon.infra.plugins.module_utils._spec import app_spec as aps
from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.module_utils._common.strict_input import load_yaml, strict_str
from ansible_collections.tachyon.infra.plugins.modules import manifest_publish, release_manifest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
import service_catalog as catalog  # noqa: E402  (fixture helper, not a package)

BIN = os.path.dirname(sys.executable)
SHAS = {"tachyon-api": "9f8e7d6", "tachyon-workers": "1a2b3c4", "tachyon-db-migrate": "5d6e7f8"}
DEPLOYED = {name: {"sha": sha, "tag": sha} for name, sha in SHAS.items()}
NOW = "2026-05-01T12:00:00Z"


def module(capsys, mod=release_manifest, **args):
    """The module as a module process runs it: (result, failed)."""
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        mod.main()
    return json.loads(capsys.readouterr().out), exc.value.code != 0


# one way a module runs (issue 24: the in-process runner of the action plugins is gone)
RUNNERS = {"module": module}


@pytest.fixture
def manifest_path(tmp_path):
    path = tmp_path / "manifest.json"
    shutil.copy(os.path.join(ROOT, "releases", "manifest.json"), path)
    return path


def staging_success(path, **kw):
    args = dict(path=str(path), state="recorded", environment="staging", outcome="succeeded",
                deployment_id="dep-1", services=DEPLOYED, deployed_by="ci", at=NOW,
                health_verified_at=NOW)
    args.update(kw)
    return args


# ----------------------------------------------------------------------------- SHA + newline
@pytest.mark.parametrize("runner", sorted(RUNNERS))
def test_created_refuses_a_sha_with_a_trailing_newline(capsys, manifest_path, runner):
    before = manifest_path.read_bytes()
    result, failed = RUNNERS[runner](capsys, path=str(manifest_path), state="created", version="0.2.0",
                                     services=dict(SHAS, **{"tachyon-api": "abc1234\n"}), **catalog.RELEASE_ARGS)
    assert failed, result
    assert result["msg"] == ("services.tachyon-api: 'abc1234\\n' is not a git SHA; give 7 to 40 hexadecimal "
                             "characters and nothing else (e.g. the output of `git rev-parse --short HEAD`); "
                             "remove the whitespace around it (a trailing newline counts)")
    assert manifest_path.read_bytes() == before


@pytest.mark.parametrize("field,value", [("sha", "9f8e7d6\n"), ("tag", "9f8e7d6\n")])
def test_recorded_refuses_a_deployed_sha_or_tag_with_a_newline(capsys, manifest_path, field, value):
    before = manifest_path.read_bytes()
    services = {name: dict(item) for name, item in DEPLOYED.items()}
    services["tachyon-api"][field] = value
    result, failed = module(capsys, **staging_success(manifest_path, services=services))
    assert failed and "'9f8e7d6\\n'" in result["msg"], result
    assert manifest_path.read_bytes() == before


# ----------------------------------------------------------------------------- duplicate keys
def test_a_manifest_with_a_duplicate_history_key_is_refused_and_left_alone(capsys, manifest_path):
    """Today: json keeps the last "history" ([]), and the next write drops the history."""
    assert module(capsys, **staging_success(manifest_path))[1] is False
    text = manifest_path.read_text()
    assert len(json.loads(text)["history"]) == 1
    doubled = text.rstrip().rstrip("}") + ',\n  "history": []\n}\n'
    manifest_path.write_text(doubled)
    result, failed = module(capsys, **staging_success(manifest_path, deployment_id="dep-2"))
    assert failed, result
    assert result["msg"].startswith('%s: duplicate key "history" in one JSON object' % manifest_path), result
    assert manifest_path.read_text() == doubled


def test_an_app_spec_with_a_duplicate_key_is_refused_naming_key_and_lines(tmp_path):
    spec = tmp_path / "app.yml"
    spec.write_text("name: tachyon\nregion: nyc\nservices:\n  - name: api\n    envs: []\n"
                    "    instance_count: 1\n    envs:\n      - key: A\n        value: b\n")
    with pytest.raises(ValueError) as exc:
        aps.load_spec(str(spec))
    text = str(exc.value)
    assert text.startswith("%s is not valid YAML" % spec)
    assert "found duplicate key 'envs'" in text and "first 'envs' at line 5" in text and "line 7" in text


def test_yaml_merge_keys_still_override():
    assert load_yaml("base: &b {a: 1, b: 2}\nother:\n  <<: *b\n  a: 3\n")["other"] == {"a": 3, "b": 2}


def test_ansible_playbook_refuses_a_duplicate_key_in_extra_vars_yaml(tmp_path):
    """ansible.cfg duplicate_dict_key = error: every YAML ansible reads (playbooks,
    inventories, group_vars, -e @file.yml)."""
    variables = tmp_path / "vars.yml"
    variables.write_text("tachyon_approved_by: alice\ntachyon_approved_by: mallory\n")
    play = tmp_path / "play.yml"
    play.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                    "    - ansible.builtin.debug: {var: tachyon_approved_by}\n")
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", str(play),
                           "-e", "@%s" % variables], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "duplicate mapping key 'tachyon_approved_by'" in out and "%s:2" % variables in out, out
    assert "mallory" not in proc.stdout


# ----------------------------------------------------------------------------- symlinks
def test_recorded_through_a_symlinked_manifest_updates_its_target(capsys, tmp_path, manifest_path):
    checkout = tmp_path / "checkout" / "releases"
    checkout.mkdir(parents=True)
    link = checkout / "manifest.json"
    link.symlink_to(manifest_path)
    result, failed = module(capsys, **staging_success(link))
    assert not failed and result["changed"], result
    assert link.is_symlink() and os.readlink(str(link)) == str(manifest_path)
    assert len(json.loads(manifest_path.read_text())["history"]) == 1
    # the lock sits beside the target, where every other link to it finds it too
    assert (manifest_path.parent / ".manifest.json.lock").exists()
    assert sorted(os.listdir(str(checkout))) == ["manifest.json"]


# ----------------------------------------------------------------------------- types
@pytest.mark.parametrize("runner", sorted(RUNNERS))
def test_an_approver_list_is_refused_not_recorded_as_text(capsys, manifest_path, runner):
    before = manifest_path.read_bytes()
    args = staging_success(manifest_path, environment="production", approved_by=["alice", "bob"])
    result, failed = RUNNERS[runner](capsys, **args)
    assert failed, result
    assert ("argument 'approved_by' is of type list and we were unable to convert to str: give one "
            "string, not a list (['alice', 'bob'] would be stored as the text \"['alice', 'bob']\")") in result["msg"]
    assert manifest_path.read_bytes() == before


@pytest.mark.parametrize("option,value", [
    ("version", 1.0), ("deployed_by", ["ci"]), ("note", {"text": "x"}), ("deployment_id", 12345),
    ("rolled_back_to", ["dep-0"]), ("at", 20260501), ("environment", ["staging"]),
])
def test_every_text_option_of_release_manifest_must_be_one_string(capsys, manifest_path, option, value):
    before = manifest_path.read_bytes()
    args = dict(path=str(manifest_path), state="recorded", environment="staging", outcome="failed",
                rolled_back_to="dep-0", at=NOW)
    args[option] = value
    result, failed = module(capsys, **args)
    assert failed and "argument '%s' is of type %s" % (option, type(value).__name__) in result["msg"], result
    assert manifest_path.read_bytes() == before


def test_known_services_elements_must_be_strings(capsys, manifest_path):
    result, failed = module(capsys, path=str(manifest_path), state="created", version="0.2.0",
                            services=SHAS, known_services=["tachyon-api", ["tachyon-workers"], "tachyon-db-migrate"],
                            images=catalog.IMAGES)
    assert failed and "Elements value for option 'known_services' is of type list" in result["msg"], result


def test_strict_str_returns_strings_unchanged():
    assert strict_str("alice") == "alice" and strict_str("") == ""
    with pytest.raises(TypeError):
        strict_str(None)


# ----------------------------------------------------------------------------- manifest_publish
@pytest.fixture
def hub(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    hub = tmp_path / "hub"
    (hub / "releases").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(hub)], check=True)
    return hub


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize("option,value,expect", [
    ("note", ["a", "b"], "argument 'note' is of type list"),
    ("author_name", 42, "argument 'author_name' is of type int"),
    ("branch", "main\n", "branch 'main\\n' must be one non-empty line"),
    ("remote", " origin", "remote ' origin' must be one non-empty line"),
])
def test_manifest_publish_refuses_non_strings_and_multiline_names(capsys, hub, option, value, expect):
    (hub / "releases" / "manifest.json").write_text("{}\n")
    args = dict(repo_dir=str(hub), author_name="ci", author_email="ci@example.invalid", push=False)
    args[option] = value
    result, failed = module(capsys, mod=manifest_publish, **args)
    assert failed and expect in result["msg"], result


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_manifest_publish_refuses_a_symlinked_manifest(capsys, hub, tmp_path):
    real = tmp_path / "real.json"
    real.write_text("{}\n")
    (hub / "releases" / "manifest.json").symlink_to(real)
    result, failed = module(capsys, mod=manifest_publish, repo_dir=str(hub), push=False,
                            author_name="ci", author_email="ci@example.invalid")
    assert failed and "releases/manifest.json in %s is a symbolic link" % hub in result["msg"], result
    assert str(real) in result["msg"]


def test_a_digest_with_a_trailing_newline_is_not_rendered_into_an_app_spec():
    spec = aps.load_spec(os.path.join(ROOT, ".do", "app.staging.yml"))
    component = sorted(aps.image_components(spec))[0]
    digest = "sha256:" + "ab" * 32
    assert aps.render_images(spec, {component: {"digest": digest}})
    with pytest.raises(ValueError, match="digest must look like sha256:<64 hex>"):
        aps.render_images(spec, {component: {"digest": digest + "\n"}})


@pytest.mark.parametrize("duplicate", [False, True], ids=["valid", "duplicate-history"])
def test_local_stack_ghcr_mode_reads_the_manifest_strictly(tmp_path, duplicate):
    """roles/local_stack (ghcr mode) read the manifest with from_json, which keeps the last of
    two "history" keys; it now reads it with the collection's lookup."""
    text = open(os.path.join(ROOT, "releases", "manifest.json")).read()
    if duplicate:
        text = text.rstrip().rstrip("}") + ',\n  "history": []\n}\n'
    manifest = tmp_path / "manifest.json"
    manifest.write_text(text)
    play = tmp_path / "play.yml"
    play.write_text("- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n"
                    "    - ansible.builtin.include_tasks: %s/roles/local_stack/tasks/ghcr_tags.yml\n" % ROOT)
    variables = {"local_stack_manifest_path": str(manifest), "local_stack_ghcr_latest": False,
                 "ansible_python_interpreter": sys.executable,
                 "local_stack_services": [{"name": n, "image": "ghcr.io/tachyonapp/" + n} for n in SHAS]}
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", str(play),
                           "-e", json.dumps(variables)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    out = proc.stdout + proc.stderr
    pinned = json.loads(text)["services"]["tachyon-api"]["tag"]
    if duplicate:
        assert proc.returncode != 0 and '%s: duplicate key "history"' % manifest in out, out
    else:
        assert proc.returncode == 0 and "TACHYON_API_TAG: %s" % pinned in out, out


@pytest.mark.parametrize("option,value,expect", [
    ("approved_by", "alice\n", "approved_by: 'alice\\n' is not a name; give one name on one line (e.g. alice); "
                               "remove the whitespace around it (a trailing newline counts)"),
    ("approved_by", "alice\nbob", "approved_by: 'alice\\nbob' is not a name"),
    ("deployed_by", " ci", "deployed_by: ' ci' is not a name"),
    ("deployment_id", "dep-1\n", "deployment_id: 'dep-1\\n' is not a deployment id; give the App Platform "
                                 "deployment id (one word, no whitespace)"),
])
@pytest.mark.parametrize("state", ["recorded", "promotable"])
def test_a_person_or_id_with_a_newline_is_refused_before_anything_is_read(capsys, manifest_path, option, value,
                                                                          expect, state):
    """promotable too: a production deploy must not start with an approver it cannot record."""
    before = manifest_path.read_bytes()
    args = staging_success(manifest_path, environment="production", approved_by="alice", state=state,
                           version="0.1.0")
    args[option] = value
    result, failed = module(capsys, **args)
    assert failed and result["msg"].startswith(expect), result
    assert manifest_path.read_bytes() == before


def test_the_schema_refuses_a_person_with_a_newline():
    doc = json.load(open(os.path.join(ROOT, "releases", "manifest.json")))
    doc["created_by"] = "alice\n"
    assert mf.schema_errors(doc) == ["$.created_by: 'alice\\n' does not match a name on one line without "
                                     "surrounding whitespace"]
