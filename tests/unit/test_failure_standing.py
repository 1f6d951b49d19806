"""Hardening class 2 (issue 26): every failure after the platform was touched names what the app
runs now (deployment id, the image of each component: the commits), whether a rollback pins it,
and the command that continues (module_utils/_platform/standing.py, used by app_rollback). The
issue's examples were a failed rollback and a rollback whose commit answers 500; here also: a
rollback deployment that times out, a rollback whose deployment is CANCELED, and a commit that
answers 503 - each against App Platform's app object as GET /v2/apps/{id} returns it (the
``active_deployment``/``pinned_deployment`` fields of the vendored OpenAPI apps_get response,
/work/shared/vendor/digitalocean-openapi: specification/resources/apps/models/app.yml)."""
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.tachyon.infra.plugins.module_utils._platform import standing
from ansible_collections.tachyon.infra.plugins.modules import app_rollback

API = "4a091424887308027935eb247097d4ffd77c8f99"


def _deployment(dep_id, phase, tag, cause="manual"):
    return {"id": dep_id, "phase": phase, "cause": cause, "created_at": "2026-01-01T00:00:00Z",
            "spec": {"name": "tachyon", "services": [{"name": "api", "image": {"registry_type": "GHCR", "tag": tag}}],
                     "workers": [{"name": "workers", "image": {"registry_type": "GHCR",
                                                               "digest": "sha256:" + "ab" * 32}}]},
            "progress": {"steps": []}}


class Answer(dict):
    """What pydo returns: a JSON mapping."""


class FakeApps(object):
    """App Platform's apps API for one app: dep-2 (bad) runs, dep-1 (good) is the target."""

    def __init__(self, rollback_phase="ACTIVE", commit_status=None):
        self.active = _deployment("dep-2", "ACTIVE", "bad0000")
        self.pinned = None
        self.rollback_phase = rollback_phase
        self.commit_status = commit_status

    def get(self, app_id, **_kw):
        app = {"id": app_id, "active_deployment": self.active}
        if self.pinned:
            app["pinned_deployment"] = {"id": self.pinned}
        return Answer(app=app)

    def list_deployments(self, app_id, page=1, per_page=20, **_kw):
        return Answer(deployments=[self.active, _deployment("dep-1", "SUPERSEDED", API)], links={})

    def validate_rollback(self, app_id, body, **_kw):
        return Answer(valid=True, warnings=[])

    def create_rollback(self, app_id, body, **_kw):
        self.pinned = "dep-3"
        if self.rollback_phase == "ACTIVE":
            self.active = _deployment("dep-3", "ACTIVE", API, cause="rollback")
        return Answer(deployment=_deployment("dep-3", "PENDING_DEPLOY", API, cause="rollback"))

    def get_deployment(self, app_id, dep_id, **_kw):
        dep = _deployment(dep_id, self.rollback_phase, API, cause="rollback")
        if self.rollback_phase in ("ERROR", "CANCELED"):
            dep["progress"] = {"steps": [{"name": "deploy", "status": "ERROR", "reason": {"code": "x", "message": "boom"}}]}
        return Answer(deployment=dep)

    def commit_rollback(self, app_id, **_kw):
        if self.commit_status:
            from azure.core.exceptions import HttpResponseError
            error = HttpResponseError(message="Service Unavailable")
            error.status_code = self.commit_status
            raise error
        self.pinned = None
        return Answer()


class FakeClient(object):
    def __init__(self, apps):
        self.apps = apps


def run(apps, capsys, monkeypatch, timeout=30):
    monkeypatch.setattr(app_rollback, "make_client", lambda token, endpoint: FakeClient(apps))
    monkeypatch.setattr(app_rollback, "HAS_PYDO", True)
    with patch_module_args(dict(app_id="app-1", token="dop_v1_" + "0" * 64, environment="production", deployment_id="dep-1",
                                timeout=timeout, poll_interval=0.01)), pytest.raises(SystemExit):
        app_rollback.main()
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("status", [500, 503])
def test_a_rollback_whose_commit_fails_says_the_app_runs_it_pinned_and_how_to_commit(capsys, monkeypatch, status):
    result = run(FakeApps(commit_status=status), capsys, monkeypatch)
    msg = result["msg"]
    assert result["failed"] and result["changed"] and result["rollback_failed"] is False
    assert "The app runs deployment dep-3" in msg and "api %s" % API[:12] in msg and "workers sha256:abab" in msg
    assert "PINNED by a rollback (deployment dep-3)" in msg
    assert "Next: ansible-playbook playbooks/rollback.yml -i inventories/production -e tachyon_rollback_to=dep-1" in msg
    assert result["standing"]["pinned"] is True and result["rollback_deployment_id"] == "dep-3"


@pytest.mark.parametrize("phase", ["ERROR", "CANCELED"])
def test_a_failed_rollback_deployment_says_what_runs_now(capsys, monkeypatch, phase):
    result = run(FakeApps(rollback_phase=phase), capsys, monkeypatch)
    msg = result["msg"]
    assert result["failed"] and result["rollback_failed"] is True and result["rollback_deployment_id"] == "dep-3"
    assert "rollback deployment dep-3 ended %s" % phase in msg
    assert "The app runs deployment dep-2" in msg and "api bad0000" in msg and "PINNED" in msg
    assert "Next: ansible-playbook playbooks/rollback.yml -i inventories/production" in msg


def test_a_rollback_that_times_out_says_what_runs_now(capsys, monkeypatch):
    result = run(FakeApps(rollback_phase="DEPLOYING"), capsys, monkeypatch, timeout=1)
    msg = result["msg"]
    assert result["failed"] and "not ACTIVE within 1s" in msg and "The app runs deployment dep-2" in msg
    assert result["next_command"].startswith("ansible-playbook playbooks/rollback.yml")


def test_describe_without_an_active_deployment():
    assert "no known deployment" in standing.describe(standing.standing({}), "x")
    assert standing.describe(standing.standing({"active_deployment": {"id": "d", "phase": "ACTIVE"}})).endswith(
        "not pinned.")
