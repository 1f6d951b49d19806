"""spec_diff: redacted compare, server defaults ignored, secret injection and fingerprint."""
import copy

from ansible_collections.tachyon.infra.plugins.module_utils._spec import diff as spec_diff

SPEC = {
    "name": "tachyon-staging",
    "region": "nyc",
    "services": [
        {
            "name": "api",
            "image": {"registry_type": "GHCR", "registry": "tachyonapp", "repository": "tachyon-api", "tag": "a" * 40},
            "envs": [
                {"key": "NODE_ENV", "value": "staging"},
                {"key": "DATABASE_URL", "value": "", "type": "SECRET"},
                {"key": "VALKEY_PASSWORD", "value": "${cache.PASSWORD}", "type": "SECRET"},
            ],
        }
    ],
    "workers": [{"name": "workers", "envs": [{"key": "DATABASE_URL", "type": "SECRET"}]}],
    "envs": [{"key": "APP_ENV", "value": "staging"}],
}


def live_of(spec):
    """What the API gives back: secrets as EV[...] ciphertext plus server defaults."""
    live = copy.deepcopy(spec)
    for _comp, envs in spec_diff._iter_env_lists(live):
        for env in envs:
            if env.get("type") == "SECRET":
                env["value"] = "EV[1:abc:def]"
            env.setdefault("scope", "RUN_AND_BUILD_TIME")
    live["services"][0]["instance_count"] = 1
    live["ingress"] = {"rules": []}
    return live


def test_equal_when_only_ciphertext_and_defaults_differ():
    changed, before, after = spec_diff.compare(SPEC, live_of(SPEC))
    assert changed is False
    assert before == after


def test_tag_change_is_a_change_with_path():
    desired = copy.deepcopy(SPEC)
    desired["services"][0]["image"]["tag"] = "b" * 40
    changed, before, after = spec_diff.compare(desired, live_of(SPEC))
    assert changed is True
    assert spec_diff.changed_paths(before, after) == ["$.services[name=api].image.tag"]


def test_secret_type_change_and_removal_count():
    desired = copy.deepcopy(SPEC)
    desired["services"][0]["envs"][1]["type"] = "GENERAL"
    assert spec_diff.compare(desired, live_of(SPEC))[0] is True
    desired = copy.deepcopy(SPEC)
    del desired["workers"][0]["envs"][0]
    assert spec_diff.compare(desired, live_of(SPEC))[0] is True


def test_live_extra_component_or_env_counts():
    live = live_of(SPEC)
    live["services"][0]["envs"].append({"key": "DEBUG", "value": "1"})
    assert spec_diff.compare(SPEC, live)[0] is True
    live = live_of(SPEC)
    live["services"].append({"name": "old"})
    assert spec_diff.compare(SPEC, live)[0] is True


def test_reordering_named_lists_is_no_change():
    live = live_of(SPEC)
    live["services"][0]["envs"].reverse()
    assert spec_diff.compare(SPEC, live)[0] is False


def test_diff_text_never_carries_secret_values():
    with_secrets = spec_diff.inject_secrets(SPEC, {"DATABASE_URL": "postgres://u:hunter2@db/x"})
    _changed, before, after = spec_diff.compare(with_secrets, live_of(SPEC))
    text = spec_diff.to_text(before) + spec_diff.to_text(after)
    assert "hunter2" not in text and "EV[" not in text
    assert spec_diff.REDACTED in text


def test_missing_and_unused_secrets():
    assert spec_diff.missing_secrets(SPEC, {}) == {"DATABASE_URL": ["api", "workers"]}
    assert spec_diff.missing_secrets(SPEC, {"DATABASE_URL": "x"}) == {}
    assert spec_diff.unused_secrets(SPEC, {"DATABASE_URL": "x", "NOPE": "y"}) == ["NOPE"]


def test_inject_keeps_bindings_and_does_not_touch_input():
    out = spec_diff.inject_secrets(SPEC, {"DATABASE_URL": "s3cr3t"})
    assert out["services"][0]["envs"][1]["value"] == "s3cr3t"
    assert out["services"][0]["envs"][2]["value"] == "${cache.PASSWORD}"
    assert out["workers"][0]["envs"][0]["value"] == "s3cr3t"
    assert SPEC["services"][0]["envs"][1]["value"] == ""


def test_fingerprint_detects_rotation_and_depends_on_key():
    a = spec_diff.inject_secrets(SPEC, {"DATABASE_URL": "one"})
    b = spec_diff.inject_secrets(SPEC, {"DATABASE_URL": "two"})
    assert spec_diff.fingerprint(a, "k") == spec_diff.fingerprint(copy.deepcopy(a), "k")
    assert spec_diff.fingerprint(a, "k") != spec_diff.fingerprint(b, "k")
    assert spec_diff.fingerprint(a, "k") != spec_diff.fingerprint(a, "other")
    assert "one" not in spec_diff.fingerprint(a, "k")
    live = spec_diff.set_fingerprint(live_of(SPEC), spec_diff.fingerprint(a, "k"))
    desired_same = spec_diff.set_fingerprint(spec_diff.redact(a), spec_diff.fingerprint(a, "k"))
    desired_rotated = spec_diff.set_fingerprint(spec_diff.redact(b), spec_diff.fingerprint(b, "k"))
    assert spec_diff.compare(desired_same, live)[0] is False
    changed, before, after = spec_diff.compare(desired_rotated, live)
    assert changed is True
    assert spec_diff.changed_paths(before, after) == ["$.envs[key=%s].value" % spec_diff.FINGERPRINT_KEY]


def test_empty_live_is_all_new():
    changed, before, _after = spec_diff.compare(SPEC, {})
    assert changed is True and before == {}
