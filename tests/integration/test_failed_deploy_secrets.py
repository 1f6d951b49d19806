"""A failed deploy at -vvv prints no presigned URL, signature, token or secret env value.

playbooks/deploy.yml runs against the emulator with fault injection: the build of `workers`
fails (deploy_fail), and the archived log its failing step points at cannot be read
(http_error 403 on /_logs/*, as an expired presigned URL is refused). The emulator's log URLs
are signed like presigned URLs (``?sig=``, emulator/logs.py). Everything ansible-playbook
prints at -vvv - task results, module invocations, the rescue's messages - is searched for
the log URL's query string and signature, the API token and every secret value.
"""
import re

import pytest

from playbook_run import playbook_run


@pytest.fixture()
def run(tmp_path, monkeypatch):
    with playbook_run(tmp_path, monkeypatch) as value:
        yield value


def signed_log_urls(run, dep_id):
    """The archived-log URLs the emulator hands out for the failed deployment (with their sig)."""
    client = run.client()
    urls = []
    for component in ("workers", "api"):
        for log_type in ("BUILD", "DEPLOY"):
            try:
                body = client.apps.get_logs(run.app_id, dep_id, component, type=log_type)
            except Exception:  # pylint: disable=broad-except  # a stage never reached answers 400
                continue
            urls += (body or {}).get("historic_urls") or []
            urls += [body["live_url"]] if (body or {}).get("live_url") else []
    return urls


@pytest.mark.parametrize("stage", ["build", "deploy"])
def test_failed_deploy_at_vvv_prints_no_credential(run, stage):
    run.emu.set_faults([{"kind": "deploy_fail", "stage": stage, "component": "workers", "count": 1},
                        {"kind": "http_error", "method": "GET", "path": "/_logs/*", "status": 403}])
    rc, out = run.deploy(args=["-vvv"])
    assert rc != 0, out[-3000:]
    failed = [d for d in run.deployments() if d["phase"] == "ERROR"]
    assert len(failed) == 1
    assert "failing step" in out and "workers" in out
    urls = signed_log_urls(run, failed[0]["id"])
    assert urls and all("?sig=" in url for url in urls)
    for url in urls:
        query = url.split("?", 1)[1]
        assert query not in out, "a log URL's query string was printed"
        assert query.split("=", 1)[1] not in out, "a log URL's signature was printed"
    assert not re.search(r"[?&]sig=", out)
    assert run.token not in out and run.token[len("dop_v1_"):] not in out
    for key, value in run.secrets.items():
        assert value not in out, "the value of %s was printed" % key
    # the run got as far as the log: it names the archived log it could not read, without its query
    assert "could not read the archived log %s/_logs/%s/%s/workers/%s" % (
        run.emu.url, run.app_id, failed[0]["id"], stage.upper()) in out
    # and the deploy did use them (the test would prove nothing otherwise)
    assert run.emu.secret_matches(run.app_id, "STRIPE_SECRET_KEY", run.secrets["STRIPE_SECRET_KEY"], component="api")
