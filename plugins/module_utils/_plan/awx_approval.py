# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""The production approver under AWX, read from AWX's API, never typed at launch.

A production job under AWX (it has ``awx_job_id``) must have been launched by the promotion
workflow (``awx_job_launch_type`` ``workflow`` and an ``awx_workflow_job_id``: the meta variables
AWX gives every job, awx/main/models/unified_jobs.py ``awx_meta_vars``) after that workflow job's
approval node was approved. The approver is the AWX user AWX recorded as having approved it: the
workflow approval's ``summary_fields.approved_or_denied_by.username`` (GET
/api/v2/workflow_approvals/?unified_job_node__workflow_job=<id>), and must differ from the user
who launched the workflow (``awx_user_name``). Anything else refuses the deploy, saying why.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

APPROVALS_PATH = "/api/v2/workflow_approvals/"


class ApprovalRefused(Exception):
    """The production deploy has no AWX approval it may rely on; the message says why and what to do."""


def launch_problem(meta):
    """Why this AWX job was not launched by a workflow (None when it was)."""
    if (meta or {}).get("awx_job_launch_type") != "workflow" or not (meta or {}).get("awx_workflow_job_id"):
        return ("deploy-production runs under AWX only as a node of the promotion workflow "
                "(release-staging-to-production), after its approval node was approved; this job was launched "
                "%s. Launch the workflow instead." % (
                    "by itself (launch type %s)" % (meta or {}).get("awx_job_launch_type", "unknown")))
    return None


def query(workflow_job_id):
    """The API path and query that lists the approvals of ``workflow_job_id``."""
    return APPROVALS_PATH, {"unified_job_node__workflow_job": int(workflow_job_id), "order_by": "-finished",
                            "page_size": 50}


def _who(approval):
    return ((approval.get("summary_fields") or {}).get("approved_or_denied_by") or {}).get("username")


def approver(meta, approvals):
    """``{approved_by, approval_id, workflow_job_id, approved_at}`` or ApprovalRefused.

    ``meta``: the job's AWX meta variables; ``approvals``: the workflow approval records AWX
    lists for its workflow job (what the API answers, ``results``)."""
    problem = launch_problem(meta)
    if problem:
        raise ApprovalRefused(problem)
    workflow = int(meta["awx_workflow_job_id"])
    mine = [a for a in approvals or []
            if ((a.get("summary_fields") or {}).get("source_workflow_job") or {}).get("id") == workflow]
    if not mine:
        raise ApprovalRefused("workflow job %d has no approval node that ran: AWX lists no workflow approval of it. "
                              "Production deploys only after the workflow's approval node is approved."
                              % workflow)
    approved = [a for a in mine if a.get("status") == "successful" and not a.get("timed_out") and _who(a)]
    if not approved:
        last = sorted(mine, key=lambda a: a.get("finished") or "")[-1]
        if last.get("timed_out"):
            why = "timed out (%s)" % (last.get("job_explanation") or "no one approved it in time")
        elif _who(last):
            why = "was DENIED by %s" % _who(last)
        else:
            why = "is %s, not approved" % (last.get("status") or "unknown")
        raise ApprovalRefused("the approval node %s (%s) of workflow job %d %s; nothing is deployed without an "
                              "approval." % (last.get("name") or "?", last.get("id"), workflow, why))
    chosen = sorted(approved, key=lambda a: a.get("finished") or "")[-1]
    who = _who(chosen)
    launcher = meta.get("awx_user_name")
    if launcher and who == launcher:
        raise ApprovalRefused("the production deploy was approved by %s, who launched the workflow: the approver "
                              "must be another person. Have someone else approve the approval node (deny this one "
                              "and relaunch)." % who)
    return {"approved_by": who, "approval_id": chosen.get("id"), "workflow_job_id": workflow,
            "approved_at": chosen.get("finished"), "launched_by": launcher or None}
