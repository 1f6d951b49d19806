"""plugins/module_utils/_notify/github_deployments.py: the request bodies GitHub's REST API takes, and
the answers that are not a created deployment/status named as such."""
import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._notify import github_deployments as ghd


def recorder(*answers):
    calls = []
    answers = list(answers)

    def post(path, body):
        calls.append((path, body))
        return answers.pop(0)
    return post, calls


def test_in_progress_creates_the_deployment_then_its_status():
    post, calls = recorder((201, {"id": 7}), (201, {"id": 8}))
    assert ghd.record(post, "o/r", "in_progress", "production", ref="abc", production=True) == (7, 8)
    assert calls[0] == ("/repos/o/r/deployments", {
        "ref": "abc", "environment": "production", "auto_merge": False, "required_contexts": [],
        "production_environment": True, "transient_environment": False,
        "description": "tachyon-infra deploy of production"})
    assert calls[1] == ("/repos/o/r/deployments/7/statuses",
                        {"state": "in_progress", "environment": "production", "description": "in_progress"})


def test_success_sets_the_app_url_without_its_query_and_retires_older_deployments():
    post, calls = recorder((201, {"id": 9}))
    ghd.record(post, "o/r", "success", "staging", deployment_id=7,
               environment_url="https://app.example/?token=abc", log_url="https://github.com/o/r/actions/runs/1",
               description="x" * 200)
    body = calls[0][1]
    assert body["environment_url"] == "https://app.example/" and body["auto_inactive"] is True
    assert len(body["description"]) == 140


@pytest.mark.parametrize("answer,text", [
    ((202, {"message": "Auto-merged master into topic-branch on deployment."}), "answered 202"),
    ((409, {"message": "Conflict merging master into topic-branch."}), "HTTP 409: Conflict merging"),
    ((422, {"message": "Validation Failed"}), "HTTP 422: Validation Failed"),
    ((None, {}), "HTTP None"),
])
def test_an_answer_without_a_created_deployment_is_an_error(answer, text):
    post, _calls = recorder(answer)
    with pytest.raises(ghd.GitHubError, match=text):
        ghd.record(post, "o/r", "in_progress", "staging", ref="abc")


def test_a_final_status_needs_the_deployment():
    with pytest.raises(ghd.GitHubError, match="needs the deployment_id"):
        ghd.record(lambda p, b: (201, {"id": 1}), "o/r", "failure", "staging")
