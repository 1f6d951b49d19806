"""module_utils/_release/manifest.py: format, legacy upgrade, create / record / promotion rules."""
import copy
import glob
import json
import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
import service_catalog as catalog  # noqa: E402  (fixture helper, not a package)
CORPUS = os.path.normpath(os.path.join(ROOT, "..", "shared", "corpus", "tachyon-infra",
                                       "release-manifest"))
CORPUS_FILES = sorted(glob.glob(os.path.join(CORPUS, "*.json")))
NO_CORPUS = "legacy manifest corpus ../shared/corpus/tachyon-infra/release-manifest is absent"

API, WORKERS, DB = "tachyon-api", "tachyon-workers", "tachyon-db-migrate"
SHAS = {API: "9f8e7d6", WORKERS: "1a2b3c4d5e", DB: "5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80"}
NOW = "2026-05-01T12:00:00Z"


def release(version="0.2.0", shas=None, current=None, images=None, **kw):
    """A release as roles/release creates it: the catalog's names and images (``images`` overrides)."""
    return mf.create_release(current, version, dict(shas or SHAS), now=NOW, **catalog.release_args(images=images), **kw)


def deployed(shas=None):
    return {n: {"sha": s, "tag": s, "image": "ghcr.io/tachyonapp/" + n}
            for n, s in (shas or SHAS).items()}


def staged(manifest, shas=None, verified=True, deployment_id="dep-staging-1"):
    return mf.record_deployment(
        manifest, "staging", "succeeded", version=manifest["version"],
        deployment_id=deployment_id, services=deployed(shas), deployed_by="ci",
        health_verified_at=NOW if verified else None, at=NOW)


# ----------------------------------------------------------------------------- files in repo
def test_repo_manifest_is_current_and_valid():
    manifest, legacy, _text = mf.load(os.path.join(ROOT, "releases", "manifest.json"))
    assert legacy is False
    assert all(pin["sha"] for pin in manifest["services"].values())
    assert set(manifest["services"]) == {API, WORKERS, DB}


def test_schema_file_is_generated_from_module_utils():
    with open(os.path.join(ROOT, "releases", "manifest.schema.json")) as handle:
        on_disk = json.load(handle)
    assert on_disk == mf.MANIFEST_SCHEMA, (
        "releases/manifest.schema.json is stale; regenerate it from "
        "plugins/module_utils/_release/manifest.py MANIFEST_SCHEMA")


# ----------------------------------------------------------------------------- legacy corpus
@pytest.mark.skipif(not CORPUS_FILES, reason=NO_CORPUS)
@pytest.mark.parametrize("path", CORPUS_FILES, ids=[os.path.basename(p) for p in CORPUS_FILES])
def test_every_corpus_manifest_loads_and_upgrades(path):
    with open(path) as handle:
        raw = json.load(handle)
    manifest, legacy, _text = mf.load(path)
    assert legacy is True
    assert mf.schema_errors(manifest) == []
    assert manifest["version"] == raw["version"]
    assert set(manifest["services"]) == set(raw["services"])
    for name, pin in raw["services"].items():
        expected = None if pin["sha"] in ("", "latest") else pin["sha"]
        assert manifest["services"][name]["sha"] == expected
        assert manifest["services"][name]["image"] == pin["image"]
    deployed_envs = [e for e in mf.ENVIRONMENTS if raw["environments"][e]["deployed_at"]]
    assert [h["environment"] for h in manifest["history"]] == sorted(
        deployed_envs, key=lambda e: raw["environments"][e]["deployed_at"])
    for env in mf.ENVIRONMENTS:
        assert manifest["environments"][env]["deployed_at"] == (
            raw["environments"][env]["deployed_at"] or None)
        assert manifest["environments"][env]["services"] is None
    # the upgraded form is a fixed point
    again, legacy_again = mf.normalize(json.loads(mf.to_json_text(manifest)))
    assert legacy_again is False and again == manifest


def test_legacy_variants_upgrade_field_by_field():
    legacy = {
        "version": "0.1.0", "created_at": "", "description": "stub",
        "services": {
            API: {"sha": "latest", "image": "ghcr.io/tachyonapp/tachyon-api", "tag": "latest"},
            WORKERS: {"sha": "", "image": "ghcr.io/tachyonapp/tachyon-workers", "tag": ""},
            DB: {"sha": "ABCDEF1", "image": "ghcr.io/tachyonapp/tachyon-db-migrate", "tag": "ABCDEF1"},
        },
        "environments": {
            "staging": {"deployed_at": "2026-03-05T08:07:28Z", "deployed_by": "MarcZenn"},
            "production": {"deployed_at": "", "deployed_by": "", "approved_by": ""},
        },
    }
    manifest, was_legacy = mf.normalize(legacy)
    assert was_legacy
    assert manifest["created_at"] is None
    assert manifest["services"][API] == {"sha": None, "image": legacy["services"][API]["image"],
                                         "tag": "latest"}
    assert manifest["services"][WORKERS]["sha"] is None and manifest["services"][WORKERS]["tag"] is None
    assert manifest["services"][DB]["sha"] == "abcdef1"
    assert manifest["environments"]["staging"]["deployed_by"] == "MarcZenn"
    assert manifest["environments"]["staging"]["approved_by"] is None
    assert manifest["environments"]["production"] == mf.EMPTY_ENVIRONMENT
    assert len(manifest["history"]) == 1 and manifest["history"][0]["source"] == "legacy"


def test_legacy_with_garbage_sha_names_the_path():
    legacy = {"version": "0.1.0", "services": {API: {"sha": "main", "image": "x", "tag": "main"}}}
    with pytest.raises(mf.ManifestError, match=r'services\["tachyon-api"\]\.sha .*main'):
        mf.normalize(legacy, "old.json")


# ----------------------------------------------------------------------------- reading errors
def test_malformed_json_names_the_file(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text('{"version": "0.1.0",')
    with pytest.raises(mf.ManifestError) as exc:
        mf.load(str(path))
    assert str(path) in str(exc.value) and "not valid JSON" in str(exc.value)


def test_schema_violation_names_file_and_json_path(tmp_path):
    doc = release()
    doc["services"][API]["sha"] = "zzz"
    doc["environments"]["staging"]["deployed_at"] = "yesterday"
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(mf.ManifestError) as exc:
        mf.load(str(path))
    text = str(exc.value)
    assert str(path) in text
    assert "$.services[\"tachyon-api\"].sha" in text
    assert "$.environments.staging.deployed_at" in text


def test_unknown_schema_version_is_refused():
    doc = release()
    doc["schema_version"] = 2
    with pytest.raises(mf.ManifestError, match="schema_version is 2"):
        mf.normalize(doc, "m.json")


def test_missing_file_says_create_a_release(tmp_path):
    with pytest.raises(mf.ManifestError, match="create a release first"):
        mf.load(str(tmp_path / "none.json"))


# ----------------------------------------------------------------------------- create
def test_create_pins_every_service_with_tag_equal_to_sha():
    doc = release(description="d", created_by="alice")
    assert doc["version"] == "0.2.0" and doc["created_by"] == "alice"
    assert doc["services"][API] == {"sha": "9f8e7d6", "image": "ghcr.io/tachyonapp/tachyon-api",
                                    "tag": "9f8e7d6"}
    assert doc["environments"]["production"] == mf.EMPTY_ENVIRONMENT and doc["history"] == []


@pytest.mark.parametrize("sha", ["9f8e7d", "g9f8e7d6", "9f8e7d6" * 6, "", "latest", 1234567])
def test_create_rejects_malformed_sha(sha):
    with pytest.raises(mf.ManifestError, match="services.tachyon-api"):
        release(shas=dict(SHAS, **{API: sha}))


def test_create_lowercases_sha():
    assert release(shas=dict(SHAS, **{API: "9F8E7D6"}))["services"][API]["sha"] == "9f8e7d6"


@pytest.mark.parametrize("version", ["v0.2.0", "0.2", "01.2.3", "0.2.0-", "latest", ""])
def test_create_rejects_bad_semver(version):
    with pytest.raises(mf.ManifestError, match="not a semantic version"):
        release(version=version)


def test_create_accepts_prerelease_and_build():
    assert release(version="1.0.0-rc.1+build.5")["version"] == "1.0.0-rc.1+build.5"


def test_create_rejects_unknown_service():
    with pytest.raises(mf.ManifestError, match="unknown service.*tachyon-mobile"):
        release(shas=dict(SHAS, **{"tachyon-mobile": "abcdef1"}))


def test_create_requires_every_catalog_service():
    shas = dict(SHAS)
    del shas[DB]
    with pytest.raises(mf.ManifestError, match="services.tachyon-db-migrate: missing"):
        release(shas=shas)


def test_partial_carries_other_pins_over():
    first = release()
    second = release("0.2.1", shas={API: "aaaaaaa"}, current=first, partial=True)
    assert second["services"][API]["sha"] == "aaaaaaa"
    assert second["services"][DB] == first["services"][DB]


def test_same_version_same_shas_is_no_change():
    first = release()
    assert release(current=first) is first


def test_same_version_other_shas_needs_force():
    first = release()
    other = dict(SHAS, **{API: "0000000"})
    with pytest.raises(mf.ManifestError, match="already exists.*tachyon-api 9f8e7d6 -> 0000000"):
        release(shas=other, current=first)
    assert release(shas=other, current=first, force=True)["services"][API]["sha"] == "0000000"


def test_new_version_keeps_environments_and_history():
    first = staged(release())
    second = release("0.3.0", shas=dict(SHAS, **{API: "abcabca"}), current=first)
    assert second["environments"] == first["environments"]
    assert second["history"] == first["history"]
    assert second["environments"]["staging"]["version"] == "0.2.0"


def test_images_override_and_unknown_image_name():
    doc = release(images={API: "registry.example.com/tachyon/api"})
    assert doc["services"][API]["image"] == "registry.example.com/tachyon/api"
    with pytest.raises(mf.ManifestError, match="images: unknown"):
        release(images={"nope": "x/y"})


def test_the_catalog_is_the_only_list_of_services_and_images():
    """No built-in list of services or registry: create_release takes the catalog's names, and a
    service's image from the caller (the catalog) or the release it already has, else refuses."""
    for missing in (None, []):
        with pytest.raises(mf.ManifestError, match=r"known_services: give the service catalog's names .*"
                                                   r"tachyon_services \| map\(attribute='name'\)"):
            mf.create_release(None, "0.2.0", dict(SHAS), known_services=missing, images=catalog.IMAGES)
    with pytest.raises(mf.ManifestError, match=r"images\.tachyon-workers: no image repository for "
                                               r"tachyon-workers .*tachyon_services\[\]\.image"):
        mf.create_release(None, "0.2.0", dict(SHAS), known_services=catalog.NAMES,
                          images={n: i for n, i in catalog.IMAGES.items() if n != WORKERS})
    # a later release without images keeps the images the current one pins
    first = release(images={API: "registry.example.com/tachyon/api"})
    second = mf.create_release(first, "0.3.0", dict(SHAS), known_services=catalog.NAMES, now=NOW)
    assert {n: p["image"] for n, p in second["services"].items()} == \
        dict(catalog.IMAGES, **{API: "registry.example.com/tachyon/api"})


# ----------------------------------------------------------------------------- record
def test_success_updates_environment_and_appends_history():
    doc = staged(release())
    env = doc["environments"]["staging"]
    assert env["deployment_id"] == "dep-staging-1" and env["health_verified_at"] == NOW
    assert env["services"][API]["sha"] == "9f8e7d6" and env["version"] == "0.2.0"
    assert [h["outcome"] for h in doc["history"]] == ["succeeded"]


@pytest.mark.parametrize("outcome,extra", [("failed", {}), ("rolled_back", {"rolled_back_to": "dep-0"})])
def test_failure_and_rollback_only_append_history(outcome, extra):
    before = staged(release())
    after = mf.record_deployment(before, "staging", outcome, deployment_id="dep-2",
                                 services=deployed(dict(SHAS, **{API: "bbbbbbb"})),
                                 deployed_by="ci", message="build failed", at=NOW, **extra)
    assert after["environments"] == before["environments"]
    assert after["history"][:-1] == before["history"]
    assert after["history"][-1]["outcome"] == outcome
    assert after["history"][-1]["message"] == "build failed"


def test_recording_same_attempt_twice_is_no_change():
    once = staged(release())
    assert staged(once) is once
    failed = mf.record_deployment(once, "production", "failed", at=NOW, message="PUT 500")
    assert mf.record_deployment(failed, "production", "failed", at=NOW, message="PUT 500") is failed
    later = mf.record_deployment(failed, "production", "failed", at="2026-05-01T12:05:00Z")
    assert len(later["history"]) == 3


def test_history_is_append_only_across_releases():
    doc = staged(release())
    doc = release("0.3.0", shas=dict(SHAS, **{API: "abcabca"}), current=doc)
    doc = staged(doc, shas=dict(SHAS, **{API: "abcabca"}), deployment_id="dep-staging-2")
    assert [h["deployment_id"] for h in doc["history"]] == ["dep-staging-1", "dep-staging-2"]
    assert [h["version"] for h in doc["history"]] == ["0.2.0", "0.3.0"]


def test_successful_production_record_needs_approver():
    with pytest.raises(mf.ManifestError, match="approved_by"):
        mf.record_deployment(release(), "production", "succeeded", deployment_id="d",
                             services=deployed(), deployed_by="ci", at=NOW)


def test_success_record_needs_deployment_id_and_services():
    with pytest.raises(mf.ManifestError, match="deployment_id, services"):
        mf.record_deployment(release(), "staging", "succeeded", deployed_by="ci", at=NOW)


def test_rollback_needs_target():
    with pytest.raises(mf.ManifestError, match="rolled_back_to"):
        mf.record_deployment(release(), "staging", "rolled_back", deployment_id="d", at=NOW)


def test_record_rejects_unknown_service_bad_sha_bad_timestamp():
    doc = release()
    with pytest.raises(mf.ManifestError, match="unknown service"):
        mf.record_deployment(doc, "staging", "failed", services={"x": {"sha": "abcdef1"}}, at=NOW)
    with pytest.raises(mf.ManifestError, match="services.tachyon-api.sha"):
        mf.record_deployment(doc, "staging", "failed", services={API: {"sha": "nope"}}, at=NOW)
    with pytest.raises(mf.ManifestError, match="not a UTC timestamp"):
        mf.record_deployment(doc, "staging", "failed", at="May 1st")
    with pytest.raises(mf.ManifestError, match="unknown key"):
        mf.record_deployment(doc, "staging", "failed", services={API: {"sha": "abcdef1", "token": "x"}}, at=NOW)


# ----------------------------------------------------------------------------- promotion
def test_promotion_allowed_returns_services_with_staging_digest():
    shas = dict(SHAS)
    doc = release(shas=shas)
    services = deployed(shas)
    services[API]["digest"] = "sha256:" + "a" * 64
    doc = mf.record_deployment(doc, "staging", "succeeded", deployment_id="d1", services=services,
                               deployed_by="ci", health_verified_at=NOW, at=NOW)
    result = mf.check_promotion(doc, "0.2.0", "alice")
    assert result[API] == {"sha": "9f8e7d6", "tag": "9f8e7d6",
                           "image": "ghcr.io/tachyonapp/tachyon-api", "digest": "sha256:" + "a" * 64}
    assert result[WORKERS]["digest"] is None


def test_promotion_accepts_full_sha_deployed_for_short_pin():
    doc = staged(release(), shas=dict(SHAS, **{API: "9f8e7d6" + "0" * 33}))
    # production deploys what staging ran: the full SHA (issue 17: promotion proof is exact)
    assert mf.check_promotion(doc, "0.2.0", "alice")[API]["sha"] == "9f8e7d6" + "0" * 33


def test_promotion_refused_without_staging():
    with pytest.raises(mf.ManifestError, match="staging has no successful deployment"):
        mf.check_promotion(release(), "0.2.0", "alice")


def test_promotion_refused_with_other_shas_than_staging():
    doc = staged(release(), shas=dict(SHAS, **{API: "1a2b3c4"}))
    with pytest.raises(mf.ManifestError,
                       match="staging deployed tachyon-api 1a2b3c4 but the release pins 9f8e7d6"):
        mf.check_promotion(doc, "0.2.0", "alice")


def test_promotion_refused_when_a_new_release_was_not_staged():
    doc = staged(release())
    doc = release("0.3.0", shas=dict(SHAS, **{WORKERS: "cccccccc"}), current=doc)
    with pytest.raises(mf.ManifestError, match="staging deployed tachyon-workers 1a2b3c4d5e"):
        mf.check_promotion(doc, "0.3.0", "alice")


def test_promotion_refused_on_version_mismatch():
    with pytest.raises(mf.ManifestError, match="version 0.3.0 was requested but the manifest's release is 0.2.0"):
        mf.check_promotion(staged(release()), "0.3.0", "alice")


@pytest.mark.parametrize("approver", [None, "", "   "])
def test_promotion_refused_without_approver(approver):
    with pytest.raises(mf.ManifestError, match="no approver"):
        mf.check_promotion(staged(release()), "0.2.0", approver)


def test_promotion_refused_when_staging_not_health_verified():
    with pytest.raises(mf.ManifestError, match="never health-verified"):
        mf.check_promotion(staged(release(), verified=False), "0.2.0", "alice")


def test_promotion_refused_on_staging_failure_only():
    doc = mf.record_deployment(release(), "staging", "failed", deployment_id="d", services=deployed(),
                               at=NOW)
    with pytest.raises(mf.ManifestError, match="staging has no successful deployment"):
        mf.check_promotion(doc, "0.2.0", "alice")


def test_promotion_lists_every_problem_at_once():
    with pytest.raises(mf.ManifestError) as exc:
        mf.check_promotion(release(), "9.9.9", "")
    assert str(exc.value).count("\n  - ") == 3


@pytest.mark.skipif(not CORPUS_FILES, reason=NO_CORPUS)
def test_promotion_refused_on_upgraded_legacy_proof():
    # a legacy manifest says staging was deployed but never which SHAs: not proof enough
    path = next(p for p in CORPUS_FILES if mf.load(p)[0]["services"][API]["sha"]
                and mf.load(p)[0]["environments"]["staging"]["deployed_at"])
    with pytest.raises(mf.ManifestError, match="recorded no SHAs"):
        mf.check_promotion(mf.load(path)[0], "0.1.0", "alice")


def test_operations_do_not_mutate_their_input():
    first = release()
    snapshot = copy.deepcopy(first)
    staged(first)
    release("0.3.0", current=first)
    assert first == snapshot


# ----------------------------------------------------------------------------- strict parsing
# issue 17: "A SHA `abc1234\n` is accepted ... and passes the manifest's own schema (a `$`
# anchor matches before a trailing newline). A manifest with a duplicate "history" key is
# accepted and rewritten with the history gone."
SCHEMA_FILE = os.path.join(ROOT, "releases", "manifest.schema.json")


@pytest.mark.parametrize("sha", ["abc1234\n", "abc1234\r\n", " abc1234", "abc1234 ", "\nabc1234",
                                 "abc\n1234", "abc1234\x00"])
def test_a_sha_with_a_newline_or_whitespace_is_refused_not_trimmed(sha):
    with pytest.raises(mf.ManifestError) as exc:
        release(shas=dict(SHAS, **{API: sha}))
    assert "services.%s: %r is not a git SHA" % (API, sha) in str(exc.value)


def test_the_refusal_says_to_remove_the_whitespace():
    with pytest.raises(mf.ManifestError, match="remove the whitespace around it"):
        mf.normalize_sha("abc1234\n", "services.tachyon-api")


@pytest.mark.parametrize("version", ["0.2.0\n", "0.2.0 ", "1\u0661.2.0", "0.2.1\u0663"])
def test_a_version_with_a_newline_or_non_ascii_digit_is_refused(version):
    with pytest.raises(mf.ManifestError, match="is not a semantic version"):
        release(version=version)


def _with(doc, path, value):
    doc = copy.deepcopy(doc)
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return doc


@pytest.mark.parametrize("path,value", [
    (("services", API, "sha"), "9f8e7d6\n"),
    (("services", API, "tag"), "9f8e7d6\n"),
    (("services", API, "image"), "ghcr.io/tachyonapp/tachyon-api\n"),
    (("version",), "0.2.0\n"),
    (("created_at",), NOW + "\n"),
    (("services", API + "\n"), {"sha": "9f8e7d6", "tag": "9f8e7d6", "image": "x"}),
])
def test_schema_refuses_a_trailing_newline_in_every_pattern(path, value):
    """Both the schema in module_utils and releases/manifest.schema.json, read by jsonschema
    (which applies `pattern` with re.search: `^...$` would match "abc1234\\n")."""
    import jsonschema

    doc = _with(release(), path, value)
    with open(SCHEMA_FILE) as handle:
        file_schema = json.load(handle)
    assert mf.schema_errors(doc), doc
    assert not jsonschema.Draft202012Validator(file_schema).is_valid(doc)
    assert jsonschema.Draft202012Validator(file_schema).is_valid(release())


def test_schema_patterns_are_whole_string_in_python_and_ecma_262():
    """Every pattern is ^(?:...)$(?!\\n): no \\Z (a literal "Z" in ECMA-262, JSON Schema's
    dialect) and no bare $ at the end (Python: matches before a final newline)."""
    patterns = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                patterns.append(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(mf.MANIFEST_SCHEMA)
    assert len(patterns) >= 8
    for pattern in patterns:
        assert pattern.startswith("^(?:") and pattern.endswith(")$(?!\\n)"), pattern
        assert "\\Z" not in pattern and "\\d" not in pattern, pattern


def _manifest_text_with_duplicate(key="history"):
    doc = staged(release())
    text = mf.to_json_text(doc)
    # the same key again at the end of the object: a JSON reader keeps only the last one
    return text.rstrip().rstrip("}") + ',\n  "%s": []\n}\n' % key, doc


def test_a_duplicate_history_key_is_refused_naming_it(tmp_path):
    text, doc = _manifest_text_with_duplicate("history")
    assert json.loads(text)["history"] == []  # what plain json would have read: history gone
    path = tmp_path / "manifest.json"
    path.write_text(text)
    with pytest.raises(mf.ManifestError) as exc:
        mf.load(str(path))
    message = str(exc.value)
    assert str(path) in message and 'duplicate key "history"' in message
    assert '"schema_version"' in message  # which object: its keys
    assert path.read_text() == text


def test_a_duplicate_key_in_a_nested_object_is_refused():
    text = mf.to_json_text(release()).replace('"sha": "9f8e7d6",', '"sha": "9f8e7d6", "sha": "0000000",', 1)
    assert text.count('"sha": ') == 4
    with pytest.raises(mf.ManifestError, match='duplicate key "sha"'):
        mf.parse(text, "m.json")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(constant):
    text = mf.to_json_text(release()).replace('"schema_version": 1', '"schema_version": %s' % constant)
    with pytest.raises(mf.ManifestError, match="%s is not a JSON value" % constant):
        mf.parse(text, "m.json")


def test_a_legacy_sha_with_a_newline_is_refused():
    legacy = {"version": "0.1.0", "services": {API: {"sha": "abc1234\n", "image": "x", "tag": ""}}}
    with pytest.raises(mf.ManifestError, match=r"sha 'abc1234\\n' is not a git SHA"):
        mf.normalize(legacy, "old.json")


@pytest.mark.skipif(not shutil.which("node"), reason="node (an ECMA-262 engine) is not installed")
def test_schema_patterns_mean_the_same_under_ecma_262():
    """JSON Schema's regex dialect is ECMA-262: the patterns compile there (with and without the
    u flag), accept a valid value and refuse it with a trailing newline, as under Python."""
    samples = {"sha": "abc1234", "semver": "0.2.0", "timestamp": NOW, "tag": "abc1234",
               "digest": "sha256:" + "ab" * 32, "image": "ghcr.io/tachyonapp/tachyon-api"}
    cases = [(mf.MANIFEST_SCHEMA["$defs"][name]["pattern"], value) for name, value in samples.items()]
    cases.append((mf.SERVICE_NAME_PATTERN, "tachyon-api"))
    script = ("const cases = JSON.parse(process.argv[1]); const out = [];"
              "for (const [p, v] of cases) for (const f of ['', 'u']) { const r = new RegExp(p, f);"
              " out.push([r.test(v), r.test(v + '\\n'), r.test('\\n' + v), r.test(' ' + v)]); }"
              "console.log(JSON.stringify(out));")
    proc = subprocess.run(["node", "-e", script, json.dumps(cases)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [[True, False, False, False]] * (2 * len(cases))
    import re
    for pattern, value in cases:
        assert [bool(re.search(pattern, v)) for v in (value, value + "\n", "\n" + value, " " + value)] == \
            [True, False, False, False]
