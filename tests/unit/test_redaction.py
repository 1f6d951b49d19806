"""module_utils/_common/redaction: URLs cut to scheme://host/path, tokens and signatures masked."""
import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._common.retry import backoff, jitter
from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import (
    mask_url_credentials,
    redact_data, redact_module_results, redact_text, redact_url)

PRESIGNED = ("https://nyc3.digitaloceanspaces.com/app-platform-logs/d1/web/build.log?X-Amz-Algorithm=AWS4-HMAC-SHA256"
             "&X-Amz-Credential=DO00KEY%2F20210721%2Fnyc3%2Fs3%2Faws4_request&X-Amz-Signature=5d672d79c15b")


@pytest.mark.parametrize("url,expect", [
    (PRESIGNED, "https://nyc3.digitaloceanspaces.com/app-platform-logs/d1/web/build.log"),
    ("wss://proxy.example:8443/live/d1?token=abc#frag", "wss://proxy.example:8443/live/d1"),
    ("https://user:pw@host/p", "https://host/p"),  # pragma: allowlist secret
    ("http://[::1]:8080/x?y=1", "http://[::1]:8080/x"),
    ("/relative/path?sig=1", "/relative/path"),
    ("https://app.ondigitalocean.app", "https://app.ondigitalocean.app"),
])
def test_redact_url(url, expect):
    assert redact_url(url) == expect


def test_redact_text_finds_urls_tokens_and_signature_pairs():
    text = ("(could not read %s: HTTP Error 403). live: wss://x.y/live?token=123. "
            "token dop_v1_%s, header Bearer abcdefghijkl, stray X-Amz-Signature=deadbeef&sig=cafe" % (PRESIGNED, "f" * 64))
    out = redact_text(text)
    assert "(could not read https://nyc3.digitaloceanspaces.com/app-platform-logs/d1/web/build.log: HTTP Error 403)" in out
    assert "wss://x.y/live." in out
    for secret in ("5d672d79c15b", "DO00KEY", "token=123", "f" * 64, "abcdefghijkl", "deadbeef", "cafe"):  # pragma: allowlist secret
        assert secret not in out


def test_redact_data_walks_results_and_keeps_other_values():
    result = {"msg": PRESIGNED, "n": 3, "ok": True, "lines": [PRESIGNED, None], "nested": {"url": PRESIGNED}}
    out = redact_data(result)
    assert out["n"] == 3 and out["ok"] is True and out["lines"][1] is None
    assert "?" not in str(out) and result["msg"] == PRESIGNED  # the input is not changed


def test_redact_module_results_wraps_exit_and_fail():
    seen = []

    class Module(object):
        def exit_json(self, **kw):
            seen.append(("exit", kw))

        def fail_json(self, **kw):
            seen.append(("fail", kw))

    module = redact_module_results(Module())
    module.exit_json(url=PRESIGNED)
    module.fail_json(msg="see " + PRESIGNED, failure={"log_tail": [PRESIGNED]})
    assert "?" not in str(seen) and seen[1][1]["msg"].startswith("see https://nyc3")


def test_mask_url_credentials():
    message = "fatal: https://u:tok@github.com/x.git"  # pragma: allowlist secret
    assert mask_url_credentials(message) == "fatal: https://***@github.com/x.git"
    assert mask_url_credentials("git@github.com:x/y.git") == "git@github.com:x/y.git"
    assert mask_url_credentials(None) == ""


def test_backoff_doubles_up_to_the_cap_with_jitter():
    assert [backoff(n, first=0.2, cap=1.0, rng=lambda: 0.5) for n in (1, 2, 3, 4)] == [0.2, 0.4, 0.8, 1.0]
    assert backoff(1, first=0.2, rng=lambda: 0.0) == 0.1 and abs(backoff(1, first=0.2, rng=lambda: 1.0) - 0.3) < 1e-9
    assert jitter(2.0, rng=lambda: 0.0) == 1.0
