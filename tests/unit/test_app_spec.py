"""app_spec: validation (schema, env keys declared), rendering, redaction; module in-process."""
import copy
import json
import os
import secrets

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.tachyon.infra.plugins.module_utils._spec import app_spec as aps
from ansible_collections.tachyon.infra.plugins.module_utils._validate.env_schema import Schema
from ansible_collections.tachyon.infra.plugins.modules import app_spec

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPECS = [os.path.join(ROOT, ".do", name) for name in ("app.staging.yml", "app.prod.yml")]
SCHEMA = os.path.join(ROOT, "env", ".env.example")
DIGEST = "sha256:" + "ab" * 32


def run(capsys, check=False, **args):
    if check:
        args["_ansible_check_mode"] = True
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        app_spec.main()
    out = capsys.readouterr().out
    return json.loads(out), exc.value.code != 0, out


def load(path=SPECS[0]):
    return aps.load_spec(path)


def write(tmp_path, spec, name="app.yml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.mark.parametrize("path", SPECS)
def test_repo_specs_are_valid_and_declared(capsys, path):
    result, failed, _stdout = run(capsys, src=path, env_schema=SCHEMA)
    assert not failed, result.get("msg")
    assert result["findings"] == [] and result["changed"] is False
    assert result["components"] == ["api", "workers", "db-migrate"]


@pytest.mark.parametrize("path", SPECS)
def test_repo_specs_shape(path):
    spec = load(path)
    api = spec["services"][0]
    assert spec["region"] == "nyc"
    assert (api["name"], api["http_port"], api["health_check"]["http_path"], api["routes"]) == \
        ("api", 4000, "/health", [{"path": "/"}])
    assert spec["workers"][0]["name"] == "workers"
    assert (spec["jobs"][0]["name"], spec["jobs"][0]["kind"]) == ("db-migrate", "PRE_DEPLOY")
    assert sorted(d["engine"] for d in spec["databases"]) == ["PG", "REDIS"]
    assert [e["key"] for e in spec["envs"]] == ["APP_ENV"]
    images = aps.image_components(spec)
    assert {n: (i["registry_type"], i["registry"], i["repository"], i["tag"]) for n, i in images.items()} == {
        "api": ("GHCR", "tachyonapp", "tachyon-api", "latest"),
        "workers": ("GHCR", "tachyonapp", "tachyon-workers", "latest"),
        "db-migrate": ("GHCR", "tachyonapp", "tachyon-db-migrate", "latest")}
    for _name, _path, env in aps.iter_envs(spec):
        if env.get("type") == "SECRET":
            assert aps.BINDING_RE.sub("", env.get("value", "")) == "", env["key"]


def test_schema_findings_have_path_and_hint(capsys, tmp_path):
    spec = load()
    spec["region"] = "nyc3"
    spec["services"][0]["http_prot"] = 4000
    spec["services"][0]["image"]["registry_type"] = "ghcr"
    path = write(tmp_path, spec)
    result, failed, _stdout = run(capsys, src=str(path), display_path=".do/app.yml")
    assert failed
    by_path = {f["path"]: f for f in result["findings"]}
    assert set(by_path) == {"$.region", "$.services[0].http_prot", "$.services[0].image.registry_type"}
    assert "datacenter slug" in by_path["$.region"]["hint"]
    assert by_path["$.services[0].http_prot"]["message"] == "unknown field 'http_prot'"
    assert "did you mean 'http_port'?" in by_path["$.services[0].http_prot"]["hint"]
    assert by_path["$.services[0].image.registry_type"]["hint"] == "values are case-sensitive: write 'GHCR'"
    assert result["msg"].startswith(".do/app.yml: 3 App Spec finding(s):")
    assert ".do/app.yml: $.region:" in result["msg"]


def test_env_keys_must_be_declared_and_secrets_typed(capsys, tmp_path):
    spec = load()
    leaked = "leak-" + secrets.token_hex(6)
    spec["services"][0]["envs"].append({"key": "NOT_IN_SCHEMA", "value": "1"})
    spec["envs"].append({"key": "ALSO_UNKNOWN", "value": "x"})
    password = next(e for e in spec["workers"][0]["envs"] if e["key"] == "POSTGRES_APP_PASSWORD")
    del password["type"]
    key = next(e for e in spec["jobs"][0]["envs"] if e["key"] == "POSTGRES_MIGRATE_PASSWORD")
    key["value"] = leaked
    path = write(tmp_path, spec)
    result, failed, out = run(capsys, src=str(path), env_schema=SCHEMA)
    assert failed
    found = sorted((f["check"], f["path"]) for f in result["findings"])
    assert found == [
        ("env-declared", "$.envs[1].key"),
        ("env-declared", "$.services[0].envs[%d].key" % (len(spec["services"][0]["envs"]) - 1)),
        ("env-secret-type", "$.workers[0].envs[%d].type" % spec["workers"][0]["envs"].index(password)),
        ("env-secret-value", "$.jobs[0].envs[%d].value" % spec["jobs"][0]["envs"].index(key)),
    ]
    assert "NOT_IN_SCHEMA of component 'api'" in out
    assert "ALSO_UNKNOWN of the app" in out
    assert leaked not in out


def test_collect_and_check_mode(capsys, tmp_path):
    spec = load()
    spec["region"] = "nyc3"
    path = write(tmp_path, spec)
    before = path.read_text()
    for check in (False, True):
        result, failed, _stdout = run(capsys, check=check, src=str(path), fail_on_findings=False)
        assert not failed and result["changed"] is False
        assert [f["path"] for f in result["findings"]] == ["$.region"]
    assert path.read_text() == before


def test_bad_yaml_and_missing_file(capsys, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("name: [unclosed\n")
    result, failed, _stdout = run(capsys, src=str(bad))
    assert failed and "is not valid YAML" in result["msg"]
    bad.write_text("- a list\n")
    result, failed, _stdout = run(capsys, src=str(bad))
    assert failed and "does not hold an App Spec" in result["msg"]
    result, failed, _stdout = run(capsys, src=str(tmp_path / "absent.yml"))
    assert failed and "cannot load App Spec" in result["msg"]


def test_render_tags_and_digests(capsys, tmp_path):
    spec = load()
    secret = "injected-" + secrets.token_hex(6)  # pragma: allowlist secret
    next(e for e in spec["services"][0]["envs"] if e["key"] == "STRIPE_SECRET_KEY")["value"] = secret
    path = write(tmp_path, spec)
    before = path.read_text()
    for check in (False, True):
        result, failed, out = run(capsys, check=check, src=str(path), state="rendered",
                                  images={"api": {"tag": "3f2c1ab"}, "db-migrate": {"digest": DIGEST}})
        assert not failed, result.get("msg")
        assert result["changed"] is False
        rendered = aps.image_components(result["spec"])
        assert rendered["api"]["tag"] == "3f2c1ab" and "digest" not in rendered["api"]
        assert rendered["db-migrate"]["digest"] == DIGEST and "tag" not in rendered["db-migrate"]
        assert rendered["workers"]["tag"] == "latest"
        assert secret not in out
        assert result["components"] == ["api", "workers", "db-migrate"]
    assert path.read_text() == before, "rendering must not write the file"


@pytest.mark.parametrize("images, error", [
    ({"frontend": {"tag": "x"}}, "unknown component 'frontend'"),
    ({"api": {"tag": "x", "digest": DIGEST}}, "exactly one of them"),
    ({"api": {}}, "exactly one of them"),
    ({"api": "3f2c1ab"}, "exactly one of them"),
    ({"api": {"digest": "sha256:xyz"}}, "sha256:<64 hex>"),
])
def test_render_errors(capsys, tmp_path, images, error):
    path = write(tmp_path, load())
    result, failed, _stdout = run(capsys, src=str(path), state="rendered", images=images)
    assert failed and error in result["msg"], result["msg"]


def test_render_git_component_and_unset_image():
    spec = load()
    spec["services"].append({"name": "web", "git": {"repo_clone_url": "https://example.com/x.git"}})
    with pytest.raises(ValueError, match="component 'web' has no image source"):
        aps.render_images(spec, {"web": {"tag": "x"}})
    del spec["workers"][0]["image"]["tag"]
    with pytest.raises(ValueError, match="image source of workers has neither tag nor digest"):
        aps.render_images(spec, {"api": {"tag": "x"}})
    assert aps.render_images(spec, {"workers": {"tag": "y"}})["workers"][0]["image"]["tag"] == "y"
    assert "tag" not in spec["workers"][0]["image"], "render_images must not mutate its input"


def test_rendered_requires_images(capsys):
    result, failed, _stdout = run(capsys, src=SPECS[0], state="rendered")
    assert failed and "images" in result["msg"]


def test_secret_helpers():
    spec = load()
    keys = aps.secret_env_keys(spec)
    assert ("api", "STRIPE_SECRET_KEY") in keys and ("db-migrate", "POSTGRES_MIGRATE_PASSWORD") in keys
    assert ("api", "PORT") not in keys
    spec["envs"].append({"key": "APP_TOKEN", "type": "SECRET", "value": "v"})
    assert ("", "APP_TOKEN") in aps.secret_env_keys(spec)
    original = copy.deepcopy(spec)
    redacted = aps.redact_secrets(spec, placeholder="***")
    assert spec == original
    assert {e["value"] for _n, _p, e in aps.iter_envs(redacted) if e.get("type") == "SECRET"} == {"***"}
    assert aps.redact_secrets(spec)["envs"][-1]["value"] == ""


def test_env_schema_checks_against_module_utils_schema():
    spec = load(SPECS[1])
    assert aps.check_envs(spec, Schema(SCHEMA)) == []
    assert "BULL_BOARD_PASSWORD" not in {e["key"] for _n, _p, e in aps.iter_envs(spec)}, \
        "the schema excludes the queue board from production"
