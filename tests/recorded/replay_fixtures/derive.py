"""Write the replay cases the recordings lack, each derived from recorded bodies.

    python tests/recorded/replay_fixtures/derive.py        # rewrites the *.json beside it

Every file keeps the ``_source`` of the recorded body it starts from and says in ``_derived``
exactly what was changed and why; nothing else differs from the recording.
tests/recorded/test_replay_fixtures.py checks that the files equal what this script makes, so
they cannot drift from the recordings they come from.

``{replay}`` in a URL stands for the replay server's own address (the test substitutes it) so
a log URL points at something that answers.
"""
import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(os.path.dirname(HERE), "fixtures")

DOCTL = {"repo": "digitalocean/doctl", "commit": "168188d3e016be2768406a0b3dc615966f6555a9",
         "path": "commands/apps.go",
         "what": "logs: 'token := url.Query().Get(\"token\")' on the live_url (the log stream's credential "
                 "travels in its query string)"}
SIGV4 = ("AWS Signature Version 4 query-string authentication (presigned URL: X-Amz-Algorithm, "
         "X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature), "
         "https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html; DigitalOcean "
         "Spaces, where App Platform archives logs, is S3-compatible")
# a presigned archived-log URL: 15 minutes (900 s), the validity the issue reports
PRESIGNED = ("{replay}/app-platform-logs/8801ffe3-8afe-4d5e-a700-c2f737b81312/web/deploy.log"
             "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
             "&X-Amz-Credential=DO00EXAMPLEKEY0000000%2F20210721%2Fnyc3%2Fs3%2Faws4_request"
             "&X-Amz-Date=20210721T214907Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
             "&X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
LIVE_TOKEN = "{replay}/v1/live/8801ffe3/web/deploy?token=c2VjcmV0LWxvZy1zdHJlYW0tdG9rZW4tZXhhbXBsZQ"


def load(name):
    with open(os.path.join(FIXTURES, name + ".json")) as handle:
        return json.load(handle)


def derived(base_name, base, derived_text, body, request=None, status=None, headers=None):
    out = {"_source": dict(base["_source"], base_case="fixtures/%s.json" % base_name),
           "_derived": derived_text,
           "request": request or base["request"],
           "status": base.get("status", 200) if status is None else status}
    if headers is not None or base.get("headers"):
        out["headers"] = headers if headers is not None else base["headers"]
    out["body"] = body
    return out


def _dep(name):
    return load(name)["body"]["deployment"]


def cases():
    out = {}

    # ---- GET app after a failed *release*: the failed deployment carries a new spec
    base = load("app_get_after_failed_deployment")
    body = copy.deepcopy(base["body"])
    app = body["app"]
    for spec in (app["spec"], app["pending_deployment"]["spec"]):
        spec["services"][0]["instance_count"] = 2
    out["app_get_after_failed_release"] = derived(
        "app_get_after_failed_deployment", base,
        "app.spec and pending_deployment.spec: services[name=api].instance_count 1 -> 2 (the failed deployment "
        "brought a new spec, as a release does; the app's spec is the last one requested). Nothing else changed: "
        "pending_deployment ({id, spec}, as recorded) still names the failed deployment 29f4ab67-..., "
        "active_deployment is the ACTIVE one with the old spec.",
        body)

    # ---- a deployment replaced before it went live
    base = load("deployment_canceled")
    body = copy.deepcopy(base["body"])
    body["deployment"]["phase"] = "SUPERSEDED"
    out["deployment_superseded_before_active"] = derived(
        "deployment_canceled", base,
        "phase CANCELED -> SUPERSEDED, nothing else changed: a deployment replaced by a newer one while its "
        "deploy stage had not run (build SUCCESS, deploy PENDING; success_steps 2 of 6). Phase enum: "
        "specification/resources/apps/models/apps_deployment_phase.yml. The recorded SUPERSEDED case "
        "(fixtures/deployment_superseded.json) is the other kind: every step SUCCESS, formerly ACTIVE.",
        body)

    # ---- a deployment history for rollback without a target (newest first, as the API lists)
    base = load("deployments_list")
    history = [
        ("d5-error", "2021-07-25T10:00:00Z", _dep("deployment_error"), 4),
        ("d4-active", "2021-07-24T10:00:00Z", _dep("deployment_active_image"), 3),
        ("d3-superseded-early", "2021-07-23T10:00:00Z",
         out["deployment_superseded_before_active"]["body"]["deployment"], 5),
        ("d2-superseded-good", "2021-07-22T10:00:00Z", _dep("deployment_superseded"), 2),
        ("d1-superseded-good", "2021-07-21T10:00:00Z", _dep("deployment_superseded"), 1),
    ]
    deployments = []
    for dep_id, created, dep, instances in history:
        dep = copy.deepcopy(dep)
        dep["id"], dep["created_at"] = dep_id, created
        dep["spec"]["services"][0]["instance_count"] = instances
        deployments.append(dep)
    body = copy.deepcopy(base["body"])
    body["deployments"] = deployments
    body["meta"] = {"total": len(deployments)}
    out["deployments_history"] = derived(
        "deployments_list", base,
        "The list envelope of the OpenAPI #/deployments example (links, meta.total set to 5) holding five "
        "recorded deployment bodies, newest first: fixtures/deployment_error (d5-error), "
        "deployment_active_image (d4-active), replay_fixtures/deployment_superseded_before_active "
        "(d3-superseded-early), deployment_superseded twice (d2-superseded-good, d1-superseded-good). "
        "Changed in each: id, created_at (one day apart) and services[0].instance_count (= 4, 3, 5, 2, 1) so "
        "that every deployment carries a different spec, as successive releases do.",
        body)

    # ---- the same history with the app now on an automated rollback (cloned from d2)
    rollback = copy.deepcopy(_dep("deployment_automated_rollback"))
    active_dep = deployments[1]
    rollback.update(id="d6-rollback", created_at="2021-07-26T10:00:00Z", cloned_from=active_dep["id"],
                    cause='automated rollback after failed deployment of "d5-error"')
    rollback["spec"] = copy.deepcopy(active_dep["spec"])
    body = copy.deepcopy(out["deployments_history"]["body"])
    superseded = copy.deepcopy(active_dep)
    superseded["phase"] = "SUPERSEDED"
    body["deployments"] = [rollback, body["deployments"][0], superseded] + body["deployments"][2:]
    body["meta"] = {"total": len(body["deployments"])}
    out["deployments_history_after_rollback"] = derived(
        "deployment_automated_rollback", load("deployment_automated_rollback"),
        "replay_fixtures/deployments_history plus, newest, the recorded automated-rollback deployment "
        "(fixtures/deployment_automated_rollback: ACTIVE, cloned_from) with id d6-rollback, created_at "
        "2021-07-26T10:00:00Z, cloned_from d4-active, d4's spec, and the failed id in its cause text -> "
        "d5-error (App Platform's automated rollback re-deploys the deployment that was active when d5 "
        "failed); d4-active's phase ACTIVE -> SUPERSEDED (it was replaced by the rollback).",
        body, request={"method": "GET", "path": "/v2/apps/{app_id}/deployments"})

    # ---- the same history where every older deployment failed or never went live
    body = copy.deepcopy(out["deployments_history"]["body"])
    body["deployments"] = [d for d in body["deployments"] if d["id"] in ("d5-error", "d4-active", "d3-superseded-early")]
    body["meta"] = {"total": len(body["deployments"])}
    out["deployments_history_no_good_target"] = derived(
        "deployments_list", base,
        "replay_fixtures/deployments_history without d2 and d1: the only deployments older than the ACTIVE "
        "d4-active never went live (d3 superseded before it became ACTIVE). meta.total 3.",
        body)

    # ---- logs whose URLs carry credentials in the query string
    base = load("logs_historic_urls_app_action")
    body = copy.deepcopy(base["body"])
    body["historic_urls"] = [PRESIGNED]
    out["logs_historic_urls_presigned"] = derived(
        "logs_historic_urls_app_action", base,
        "historic_urls[0] 'http://build.com' -> a presigned archived-log URL in the form of " + SIGV4 +
        "; host {replay} (the replay server). live_url stays ''. request path type=DEPLOY.",
        body, request={"method": "GET",
                       "path": "/v2/apps/{app_id}/deployments/{deployment_id}/components/{component}/logs?type=DEPLOY"})
    base = load("logs_live_url_godo")
    body = copy.deepcopy(base["body"])
    body["live_url"] = LIVE_TOKEN
    case = derived(
        "logs_live_url_godo", base,
        "live_url 'https://live.logs.url' -> {replay}/v1/live/...?token=<base64>: doctl reads the log stream's "
        "token from the live_url query string (see _source_token). historic_urls stays null.",
        body, request={"method": "GET",
                       "path": "/v2/apps/{app_id}/deployments/{deployment_id}/components/{component}/logs?type=DEPLOY"})
    case["_source_token"] = DOCTL
    out["logs_live_url_token"] = case

    # ---- an object-storage refusal of an expired presigned URL (what a failed log read gets)
    out["spaces_access_denied"] = {
        "_source": {"repo": "digitalocean/openapi", "commit": "7c1300c479fed9c353cda9fc21cd968619552304",
                    "what": "none published for App Platform; S3 REST error response "
                            "https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html (Spaces is "
                            "S3-compatible)"},
        "_derived": "Status 403 and the S3 XML error body (Code AccessDenied) an expired presigned URL gets; "
                    "written from the S3 error-response documentation, no DigitalOcean body is published.",
        "request": {"method": "GET", "path": "/app-platform-logs/..."},
        "status": 403,
        "headers": {"Content-Type": "application/xml"},
        "body": "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code>"
                "<Message>Request has expired</Message><BucketName>app-platform-logs</BucketName>"
                "<RequestId>tx0000000000000000000-0060f8a5a3-0000-nyc3c</RequestId></Error>",
    }
    return out


def main():
    for name, data in sorted(cases().items()):
        with open(os.path.join(HERE, name + ".json"), "w") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
        print("wrote %s.json" % name)


if __name__ == "__main__":
    main()
