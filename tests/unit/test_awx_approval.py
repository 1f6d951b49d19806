"""Hardening class 9 (issue 26): under AWX the production approver is the AWX user who approved
the promotion workflow's approval node, read from AWX's API (tachyon.infra.awx_approval,
module_utils/_plan/awx_approval.py), never a survey answer; the approver differs from the
launcher; a deploy-production job launched alone refuses.

AWX's answers are recorded from AWX's own tests, cited next to them:
- tests/fixtures/awx/workflow_approvals.json: two GET /api/v2/workflow_approvals/ results from
  ansible/awx awx/ui/src/screens/WorkflowApproval/WorkflowApprovalList/WorkflowApprovalList.test.js
  (approval 6 of workflow job 5, approved by admin; approval 221 of workflow job 220, timed out);
- the meta variables of a job a workflow launched (awx_job_launch_type "workflow",
  awx_workflow_job_id, awx_user_name = the workflow's creator), as ansible/awx
  awx/main/tests/functional/models/test_unified_job.py (test_workflow_job_metavars,
  test_scheduled_workflow_job_node_metavars) asserts them; launch types from AWX's
  UnifiedJob.LAUNCH_TYPE_CHOICES (manual, relaunch, callback, scheduled, dependency, workflow, ...)."""
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.tachyon.infra.plugins.module_utils._plan import awx_approval
from ansible_collections.tachyon.infra.plugins.modules import awx_approval as awx_module

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(ROOT, "tests", "fixtures", "awx", "workflow_approvals.json")) as _handle:
    APPROVALS = json.load(_handle)


def meta(workflow, user="alice", launch_type="workflow"):
    """A job's AWX meta variables (test_scheduled_workflow_job_node_metavars' keys)."""
    return {"awx_job_id": 42, "awx_job_launch_type": launch_type, "awx_workflow_job_id": workflow,
            "awx_workflow_job_name": "release-staging-to-production", "awx_user_name": user}


def test_the_approver_is_who_approved_the_node_of_this_workflow_job():
    found = awx_approval.approver(meta(5), APPROVALS["results"])
    assert found == {"approved_by": "admin", "approval_id": 6, "workflow_job_id": 5,
                     "approved_at": "2020-10-05T20:17:41.200738Z", "launched_by": "alice"}


def test_the_launcher_cannot_approve_their_own_production_deploy():
    # AWX's own test: admin created the workflow job, and admin approved approval 6
    with pytest.raises(awx_approval.ApprovalRefused) as err:
        awx_approval.approver(meta(5, user="admin"), APPROVALS["results"])
    assert "approved by admin, who launched the workflow" in str(err.value)


def test_a_timed_out_approval_refuses():
    with pytest.raises(awx_approval.ApprovalRefused) as err:
        awx_approval.approver(meta(220), APPROVALS["results"])
    assert "timed out" in str(err.value) and "expired after 30 seconds" in str(err.value)


def test_a_denied_approval_refuses():
    # AWX's deny sets status failed and approved_or_denied_by (approval 6, denied instead)
    denied = dict(APPROVALS["results"][1], status="failed", failed=True)
    with pytest.raises(awx_approval.ApprovalRefused) as err:
        awx_approval.approver(meta(5), [denied])
    assert "DENIED by admin" in str(err.value)


@pytest.mark.parametrize("launch_type", ["manual", "relaunch", "scheduled", "callback"])
def test_deploy_production_launched_alone_refuses(launch_type):
    with pytest.raises(awx_approval.ApprovalRefused) as err:
        awx_approval.approver(meta(None, launch_type=launch_type), APPROVALS["results"])
    assert "only as a node of the promotion workflow" in str(err.value)


def test_an_approval_of_another_workflow_job_does_not_count():
    with pytest.raises(awx_approval.ApprovalRefused) as err:
        awx_approval.approver(meta(99), APPROVALS["results"])
    assert "workflow job 99 has no approval node that ran" in str(err.value)


# ------------------------------------------------------------- the module against an AWX API
class FakeAwx(BaseHTTPRequestHandler):
    """Answers GET /api/v2/workflow_approvals/ with the recorded results of the workflow job asked."""

    def do_GET(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path != "/api/v2/workflow_approvals/" or self.headers.get("Authorization") != "Bearer awx-token":
            self.send_response(401 if url.path == "/api/v2/workflow_approvals/" else 404)
            self.end_headers()
            return
        job = int(query["unified_job_node__workflow_job"][0])
        results = [a for a in APPROVALS["results"] if a["summary_fields"]["source_workflow_job"]["id"] == job]
        body = json.dumps({"count": len(results), "next": None, "previous": None, "results": results}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def awx():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAwx)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()


def run(capsys, monkeypatch, awx_url, job_meta):
    monkeypatch.setenv("CONTROLLER_HOST", awx_url)
    monkeypatch.setenv("CONTROLLER_OAUTH_TOKEN", "awx-token")
    with patch_module_args({"meta": job_meta}), pytest.raises(SystemExit):
        awx_module.main()
    return json.loads(capsys.readouterr().out)


def test_the_module_reads_the_approver_from_awx(capsys, monkeypatch, awx):
    result = run(capsys, monkeypatch, awx, meta(5))
    assert not result.get("failed") and result["approved_by"] == "admin" and result["approval_id"] == 6
    assert "awx-token" not in json.dumps(result)


@pytest.mark.parametrize("job_meta,expected", [(meta(220), "timed out"), (meta(5, user="admin"), "must be another person"),
                                               (meta(None, launch_type="manual"), "launched by itself")])
def test_the_module_refuses_without_an_approval_it_may_rely_on(capsys, monkeypatch, awx, job_meta, expected):
    result = run(capsys, monkeypatch, awx, job_meta)
    assert result["failed"] and expected in result["msg"] and "Nothing was deployed" in result["msg"]
