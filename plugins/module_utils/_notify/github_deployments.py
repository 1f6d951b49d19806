# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""GitHub Deployments for a deploy: one deployment per environment and run, and its statuses.

REST endpoints (GitHub's REST API description, github/rest-api-description, operations
``repos/create-deployment`` and ``repos/create-deployment-status``; API version 2022-11-28):

* ``POST /repos/{owner}/{repo}/deployments`` - ``ref`` (required), ``environment``,
  ``description``, ``auto_merge``, ``required_contexts``, ``production_environment``,
  ``transient_environment``; 201 returns the deployment (``id``), 202 means GitHub merged the
  default branch into the ref first and created nothing ("Auto-merged ... "), 409 a merge
  conflict, 422 a failed validation.
* ``POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses`` - ``state`` (required:
  error, failure, inactive, in_progress, queued, pending, success), ``log_url``,
  ``environment_url``, ``description`` (at most 140 characters), ``environment``,
  ``auto_inactive``; 201 returns the status.

The token only goes in the Authorization header; no URL here carries a credential, and every
text returned passes through redaction.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_text, redact_url

STATES = ("in_progress", "success", "failure")
EVENT_STATE = {"started": "in_progress", "succeeded": "success", "failed": "failure", "rolled_back": "failure"}
API_VERSION = "2022-11-28"


class GitHubError(Exception):
    pass


def headers(token):
    return {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION,
            "Authorization": "Bearer %s" % token, "Content-Type": "application/json"}


def deployment_body(ref, environment, description=None, production=False):
    return {"ref": ref, "environment": environment, "auto_merge": False, "required_contexts": [],
            "production_environment": bool(production), "transient_environment": False,
            "description": (description or "tachyon-infra deploy of %s" % environment)[:140]}


def status_body(state, environment, environment_url=None, log_url=None, description=None):
    body = {"state": state, "environment": environment, "description": (description or state)[:140]}
    if environment_url:
        body["environment_url"] = redact_url(environment_url)
    if log_url:
        body["log_url"] = redact_url(log_url)
    if state == "success":
        body["auto_inactive"] = True
    return body


def _check(what, status, body):
    if status == 201 and isinstance(body, dict) and body.get("id") is not None:
        return body
    if status == 202:
        raise GitHubError("%s: GitHub answered 202 (it merged the default branch into the ref instead "
                          "of creating a deployment); deploy from a ref that contains the default branch" % what)
    message = body.get("message") if isinstance(body, dict) else None
    raise GitHubError(redact_text("%s: HTTP %s%s" % (what, status, ": %s" % message if message else "")))


def record(post, repo, state, environment, ref=None, deployment_id=None, environment_url=None, log_url=None,
           description=None, production=False):
    """Create the deployment (state in_progress without a deployment_id) and set its status.

    ``post(path, body) -> (status, parsed body)``. Returns (deployment_id, status id)."""
    if state not in STATES:
        raise GitHubError("state %r: use one of %s" % (state, ", ".join(STATES)))
    if deployment_id is None:
        if state != "in_progress":
            raise GitHubError("a %s status needs the deployment_id the in_progress step returned" % state)
        if not ref:
            raise GitHubError("creating a deployment needs ref (the commit the run deploys from)")
        status, body = post("/repos/%s/deployments" % repo, deployment_body(ref, environment, description, production))
        deployment_id = _check("create deployment", status, body)["id"]
    status, body = post("/repos/%s/deployments/%s/statuses" % (repo, deployment_id),
                        status_body(state, environment, environment_url, log_url, description))
    return deployment_id, _check("create deployment status", status, body)["id"]
