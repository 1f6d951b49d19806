"""env_schema and app_spec over every real file of the replaced system (../shared/corpus).

The corpus holds one file per upstream version, named by the short commit that introduced
it. Each App Spec is checked against the master env schema of the same commit or, when
that commit did not touch env/.env.example, the nearest earlier schema version.
"""
import glob
import json
import os
import re

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.tachyon.infra.plugins.module_utils._spec import app_spec as aps
from ansible_collections.tachyon.infra.plugins.module_utils._validate import env_schema as es
from ansible_collections.tachyon.infra.plugins.modules import app_spec, env_schema

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# ../shared beside the checkout; TACHYON_SHARED overrides it (a git worktree elsewhere)
SHARED = os.environ.get("TACHYON_SHARED") or os.path.join(ROOT, "..", "shared")
CORPUS = os.path.normpath(os.path.join(SHARED, "corpus", "tachyon-infra"))
pytestmark = pytest.mark.skipif(not os.path.isdir(CORPUS),
                                reason="real-world corpus ../shared/corpus/tachyon-infra is absent")

# Upstream history order (oldest first) of the corpus commits. The corpus does not carry
# dates; the order follows the content: Redis -> Valkey, one DB user -> app/migrate users,
# POSTGRES_* -> DATABASE_URL, Sentry and queue board, Auth0 -> Clerk, AI, Stripe.
ORDER = ["17c03c3", "1c44e06", "ed6cb2c", "dfa6dbc", "9bb9429", "7143a51",
         "025e4f2", "5f65030", "039cd8b", "b374286", "fa665cb", "3d25784", "9befab9",
         "2c4036e", "52f1e74", "985b24e", "634f9a4", "7b9d58b", "18c4776", "8928963",
         "99301bb", "08c709a", "0f685aa", "1b26a03", "90a38ea", "b898e88"]
ENV_KINDS = ("env-local", "env-staging", "env-production")
SPEC_KINDS = ("app-spec-staging", "app-spec-prod", "app-spec-legacy")


def files(kind):
    return sorted(glob.glob(os.path.join(CORPUS, kind, "*")))


def commit(path):
    return os.path.splitext(os.path.basename(path))[0]


def schema_for(sha):
    """The master schema of ``sha`` or of the nearest earlier commit that has one."""
    have = {commit(p): p for p in files("env-schema")}
    for candidate in reversed(ORDER[:ORDER.index(sha) + 1]):
        if candidate in have:
            return have[candidate]
    return None


def run(module, capsys, **args):
    with patch_module_args(args), pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def test_order_covers_the_corpus():
    shas = {commit(p) for kind in ("env-schema",) + ENV_KINDS + SPEC_KINDS for p in files(kind)}
    assert shas <= set(ORDER), "add new corpus commits to ORDER: %s" % sorted(shas - set(ORDER))


@pytest.mark.parametrize("path", files("env-schema"), ids=commit)
def test_every_schema_version_is_processed(capsys, path):
    result = run(env_schema, capsys, schema=path, files=[], fail_on_findings=False)
    assert "findings" in result, result.get("msg")
    for finding in result["findings"]:
        assert set(finding) == {"file", "line", "key", "check", "message"}


@pytest.mark.parametrize("path", [p for kind in ENV_KINDS for p in files(kind)],
                         ids=lambda p: "%s/%s" % (os.path.basename(os.path.dirname(p)), commit(p)))
def test_every_env_file_is_processed(capsys, path):
    environment = os.path.basename(os.path.dirname(path))[len("env-"):]
    result = run(env_schema, capsys, schema=schema_for(commit(path)), fail_on_findings=False,
                 files=[{"path": path, "environment": environment}])
    assert "findings" in result, result.get("msg")
    values = [b.split("=", 1)[1].split("#")[0].strip() for b in open(path).read().splitlines()
              if re.match(r"^[A-Z_]+=", b)]
    output = json.dumps(result)
    for value in values:
        if len(value) >= 12:
            assert value not in output, "a value leaked into the findings"


def test_upstream_real_findings_in_env_files(capsys):
    """The production templates never defined the queue board the schema declared (the
    upstream excluded it in its shell script); one local example committed a Clerk key."""
    prod = os.path.join(CORPUS, "env-production", "90a38ea.example")
    result = run(env_schema, capsys, schema=schema_for("90a38ea"), fail_on_findings=False,
                 files=[{"path": prod, "environment": "production"}])
    assert sorted((f["key"], f["check"]) for f in result["findings"] if f["file"] == prod) == [
        ("BULL_BOARD_PASSWORD", "missing"), ("BULL_BOARD_USERNAME", "missing")]


def spec_paths():
    return [p for kind in SPEC_KINDS for p in files(kind)]


def spec_id(path):
    return "%s/%s" % (os.path.basename(os.path.dirname(path)), commit(path))


@pytest.mark.parametrize("path", spec_paths(), ids=spec_id)
def test_app_spec_schema_findings_are_the_real_ones(capsys, path):
    spec = aps.load_spec(path)
    result = run(app_spec, capsys, src=path, fail_on_findings=False)
    assert "findings" in result, result.get("msg")
    expected = set()
    if spec["region"] == "nyc3":
        expected.add("$.region")
    for kind in ("services", "workers", "jobs"):
        for index, component in enumerate(spec.get(kind) or []):
            if component.get("image", {}).get("registry_type") == "ghcr":
                expected.add("$.%s[%d].image.registry_type" % (kind, index))
    assert {f["path"] for f in result["findings"]} == expected
    for finding in result["findings"]:
        assert finding["hint"], finding


def declared_names(schema_path):
    # upstream's validate-env.sh used grep '^[A-Z_]+=', which misses names with digits
    # (AUTH0_DOMAIN); a name is declared when a line assigns it
    return {line.split("=", 1)[0] for line in open(schema_path).read().splitlines()
            if re.match(r"^[A-Z][A-Z0-9_]*=", line)}


@pytest.mark.parametrize("path", [p for p in spec_paths() if schema_for(commit(p))], ids=spec_id)
def test_env_keys_used_without_declaring_them(capsys, path):
    schema_path = schema_for(commit(path))
    result = run(app_spec, capsys, src=path, env_schema=schema_path, fail_on_findings=False)
    reported = {f["message"].split()[1] for f in result["findings"] if f["check"] == "env-declared"}
    declared = declared_names(schema_path)
    used = {env["key"] for _name, _path, env in aps.iter_envs(aps.load_spec(path))}
    assert reported == used - declared


def test_undeclared_keys_at_commits_with_their_own_schema(capsys):
    seen = {}
    for sha in ("025e4f2", "634f9a4"):
        spec = os.path.join(CORPUS, "app-spec-staging", sha + ".yml")
        result = run(app_spec, capsys, src=spec, env_schema=os.path.join(CORPUS, "env-schema", sha + ".example"),
                     fail_on_findings=False)
        seen[sha] = sorted({f["message"].split()[1] for f in result["findings"] if f["check"] == "env-declared"})
    assert seen == {"025e4f2": ["APP_ENV", "GIT_COMMIT_SHA"],
                    "634f9a4": ["APP_ENV", "DATABASE_URL", "GIT_COMMIT_SHA"]}


def test_schema_parser_agrees_with_upstream_extraction():
    for path in files("env-schema"):
        assert set(es.Schema(path).variables) == declared_names(path), path
