"""env_schema: module_utils parsing and checks, and the module driven in-process."""
import json
import os
import secrets
import textwrap

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.tachyon.infra.plugins.module_utils._validate import env_schema as es
from ansible_collections.tachyon.infra.plugins.modules import env_schema

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SCHEMA = textwrap.dedent("""\
    # Test schema
    # @environments local, staging, production

    # Database host.
    DB_HOST=localhost

    # Database password.
    # @secret
    DB_PASSWORD=

    # Queue dashboard user, not served in production.
    # @exclude production
    BOARD_USER=
    """)


def run(capsys, check=False, **args):
    """Run the module in-process; return (result, failed, raw stdout)."""
    if check:
        args["_ansible_check_mode"] = True
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        env_schema.main()
    out = capsys.readouterr().out
    return json.loads(out), exc.value.code != 0, out


@pytest.fixture
def envdir(tmp_path):
    (tmp_path / ".env.example").write_text(SCHEMA)
    (tmp_path / ".env.local.example").write_text("DB_HOST=db\nDB_PASSWORD=devpass\nBOARD_USER=\n")
    (tmp_path / ".env.staging.example").write_text(
        "DB_HOST=${db.HOSTNAME}\nDB_PASSWORD=${db.PASSWORD}\nBOARD_USER=\n")
    (tmp_path / ".env.production.example").write_text("DB_HOST=${db.HOSTNAME}\nDB_PASSWORD=\n")
    return tmp_path


def checks(result):
    return sorted(((f["file"], f["line"], f["key"], f["check"]) for f in result["findings"]),
                  key=lambda f: (f[0], f[1] or 0, f[2] or "", f[3]))


def test_repo_env_files_are_clean(capsys):
    result, failed, _stdout = run(capsys, schema=os.path.join(ROOT, "env", ".env.example"), root=ROOT)
    assert not failed, result.get("msg")
    assert result["findings"] == [] and result["changed"] is False
    assert sorted(f["environment"] for f in result["files"]) == ["local", "production", "staging"]
    names = {v["name"]: v for v in result["variables"]}
    assert names["POSTGRES_APP_PASSWORD"]["secret"] is True
    assert names["BULL_BOARD_PASSWORD"]["exclude"] == ["production"]
    assert {"APP_ENV", "REDIS_HOST", "PORT", "POSTGRES_MIGRATE_USER", "ANTHROPIC_API_KEY",
            "TACHYON_BRAIN_DAILY_CAP", "CLERK_SECRET_KEY", "STRIPE_SECRET_KEY",
            "SENTRY_DSN"} <= set(names)
    assert not any(n.startswith("VALKEY") for n in names), "the seed says Redis"


def test_good_files(capsys, envdir):
    result, failed, _stdout = run(capsys, schema=str(envdir / ".env.example"), root=str(envdir))
    assert not failed and result["findings"] == []
    assert [f["path"] for f in result["files"]] == [
        ".env.local.example", ".env.production.example", ".env.staging.example"]


def test_missing_unknown_excluded_duplicate(capsys, envdir):
    marker = secrets.token_hex(4)
    (envdir / ".env.staging.example").write_text(
        "DB_HOST=${db.HOSTNAME}\nEXTRA=1\nDB_HOST=h0st-%s\nBOARD_USER=\n" % marker)
    (envdir / ".env.production.example").write_text(
        "DB_HOST=${db.HOSTNAME}\nDB_PASSWORD=\nBOARD_USER=admin\n")
    result, failed, _stdout = run(capsys, schema=str(envdir / ".env.example"), root=str(envdir))
    assert failed
    assert checks(result) == [
        (".env.production.example", 3, "BOARD_USER", "excluded"),
        (".env.staging.example", None, "DB_PASSWORD", "missing"),
        (".env.staging.example", 2, "EXTRA", "unknown"),
        (".env.staging.example", 3, "DB_HOST", "duplicate"),
    ]
    assert "env schema finding" in result["msg"]
    assert ".env.staging.example:2: EXTRA:" in result["msg"]
    assert ".env.staging.example:-: DB_PASSWORD: DB_PASSWORD is missing" in result["msg"]
    assert marker not in json.dumps(result) and "admin" not in json.dumps(result)


def test_syntax_errors_name_line_and_key(capsys, envdir):
    value = secrets.token_hex(8)
    (envdir / ".env.local.example").write_text(
        'DB_HOST=db\nDB_PASSWORD="%s\nBOARD_USER\n9BAD=1\n' % value)
    result, failed, out = run(capsys, schema=str(envdir / ".env.example"), root=str(envdir))
    assert failed
    found = {(f["line"], f["key"], f["check"]) for f in result["findings"]
             if f["file"] == ".env.local.example"}
    assert (2, "DB_PASSWORD", "syntax") in found
    assert (3, "BOARD_USER", "syntax") in found
    assert (4, "9BAD", "syntax") in found
    assert value not in out


def test_secret_values_never_printed(capsys, envdir):
    token = "dop_v1_" + secrets.token_hex(32)
    literal = "s3cr3t-" + secrets.token_hex(3)
    (envdir / ".env.local.example").write_text(
        "DB_HOST=db\nDB_PASSWORD=%s\nBOARD_USER=\n" % token)
    (envdir / ".env.staging.example").write_text(
        "DB_HOST=${db.HOSTNAME}\nDB_PASSWORD=%s\nBOARD_USER=\n" % literal)
    result, failed, out = run(capsys, schema=str(envdir / ".env.example"), root=str(envdir))
    assert failed
    assert checks(result) == [(".env.local.example", 2, "DB_PASSWORD", "secret-value"),
                              (".env.staging.example", 2, "DB_PASSWORD", "secret-value")]
    local = [f for f in result["findings"] if f["file"] == ".env.local.example"][0]
    assert "DigitalOcean Token" in local["message"]
    assert token not in out and literal not in out


def test_placeholders_and_bindings_are_not_secrets(envdir):
    schema = es.Schema(str(envdir / ".env.example"))
    for value in ("", "${db.PASSWORD}", "<set-in-do-secrets>", "sk_test_...",
                  "redis://:${redis.PASSWORD}@${redis.HOSTNAME}"):
        path = envdir / ".env.production.example"
        path.write_text("DB_HOST=x\nDB_PASSWORD=%s\n" % value)
        assert es.check_file(schema, str(path), "production") == [], value


def test_real_env_files_may_hold_secrets(capsys, envdir):
    real = envdir / "staging.env"
    real.write_text("DB_HOST=h\nDB_PASSWORD=%s\nBOARD_USER=u\n" % secrets.token_hex(16))
    result, failed, _stdout = run(capsys, schema=str(envdir / ".env.example"), root=str(envdir),
                                  files=[{"path": str(real), "environment": "staging", "example": False}])
    assert not failed and result["findings"] == []


def test_schema_problems(capsys, tmp_path):
    (tmp_path / ".env.example").write_text(textwrap.dedent("""\
        # @environments local

        A=1

        # Documented.
        # @secret
        B=value
        # Documented too.
        # @exclude staging
        # @secrt
        C=
        """))
    result, failed, _stdout = run(capsys, schema=str(tmp_path / ".env.example"), root=str(tmp_path),
                                  files=[])
    assert failed
    assert checks(result) == [(".env.example", 3, "A", "undocumented"),
                              (".env.example", 7, "B", "secret-value"),
                              (".env.example", 9, "C", "annotation"),
                              (".env.example", 10, "C", "annotation")]


def test_environment_from_name_or_error(capsys, envdir):
    odd = envdir / "values.txt"
    odd.write_text("DB_HOST=x\n")
    result, failed, _stdout = run(capsys, schema=str(envdir / ".env.example"),
                                  files=[{"path": str(odd)}])
    assert failed and "cannot tell the environment" in result["msg"]
    assert es.environment_of("env/.env.staging.example") == "staging"
    assert es.environment_of(".env.local") == "local"
    assert es.environment_of("env/.env.example") is None


def test_missing_file_and_missing_schema(capsys, envdir):
    result, failed, _stdout = run(capsys, schema=str(envdir / ".env.example"), root=str(envdir),
                                  files=[{"path": str(envdir / ".env.qa.example")}])
    assert failed
    assert [f["check"] for f in result["findings"]] == ["missing-file"]
    result, failed, _stdout = run(capsys, schema=str(envdir / "nope"))
    assert failed and "env schema" in result["msg"] and "not found" in result["msg"]


def test_collect_without_failing_and_check_mode(capsys, envdir):
    (envdir / ".env.staging.example").write_text("DB_HOST=x\nBOARD_USER=\n")
    before = {p.name: p.read_text() for p in envdir.iterdir()}
    for check in (False, True):
        result, failed, _stdout = run(capsys, check=check, schema=str(envdir / ".env.example"),
                                      root=str(envdir), fail_on_findings=False)
        assert not failed and result["changed"] is False
        assert [f["key"] for f in result["findings"]] == ["DB_PASSWORD"]
        assert result["report"] == [
            ".env.staging.example:-: DB_PASSWORD: DB_PASSWORD is missing (declared in "
            ".env.example line 9): add DB_PASSWORD=, or mark it '@exclude staging' in the schema"]
    assert before == {p.name: p.read_text() for p in envdir.iterdir()}


def test_parse_keeps_docs_and_lines():
    entries, header, findings = es.parse("# @environments a, b\n\n# doc one\n# @secret\n\n"
                                         "# doc two\nexport K=v # inline\n\n\nL='x y'\n")
    assert findings == []
    # an annotation followed by a blank line belongs to no variable (Schema reports it)
    assert header == [("environments", "a, b", 1), ("secret", "", 4)]
    assert [(e.key, e.line, e.doc, e.annotations) for e in entries] == [
        ("K", 7, ["doc two", "inline"], []), ("L", 10, [], [])]
