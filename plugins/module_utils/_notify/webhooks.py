# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Deploy and drift notifications: the payloads (Slack-compatible and generic JSON) and a
bounded, never-raising delivery loop.

Secrets. A webhook URL is a credential (a Slack incoming-webhook URL carries its secret in the
path, others in the query string), so it is never part of a payload, a message or a result: a
webhook is named by its ``name`` or its position and host only. Every text that goes into a
payload passes through redaction.redact_text (URL query strings, DigitalOcean tokens, Bearer
credentials), and the caller's module masks the secret values it knows (no_log). Payloads carry
what was deployed (release, SHAs, who, approver, outcome, duration, links), never env values.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time

from ansible_collections.tachyon.infra.plugins.module_utils._common.escape import slack, slack_link
from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_data, redact_text, redact_url
from ansible_collections.tachyon.infra.plugins.module_utils._common.times import utcnow

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit

EVENTS = ("started", "succeeded", "failed", "rolled_back", "frozen", "drift_found")
FORMATS = ("slack", "json")
OUTCOME = {"started": "in_progress", "succeeded": "success", "failed": "failure",
           "rolled_back": "rolled_back", "frozen": "refused", "drift_found": "drifted"}
_TITLE = {"started": "deploy started", "succeeded": "deployed", "failed": "deploy FAILED",
          "rolled_back": "deploy failed, ROLLED BACK", "frozen": "deploy refused: environment frozen",
          "drift_found": "DRIFT found"}
_EMOJI = {"started": ":rocket:", "succeeded": ":white_check_mark:", "failed": ":x:",
          "rolled_back": ":rewind:", "frozen": ":snowflake:", "drift_found": ":warning:"}
MAX_ATTEMPTS = 3
RETRY_STATUSES = (408, 429, 500, 502, 503, 504)
SOURCE = "tachyon-infra"
_URL_RE = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]{1,15}://\S*")


def webhook_label(index, webhook):
    """How a webhook is named in results and warnings: its name, else #n and the host."""
    if webhook.get("name"):
        return redact_text(str(webhook["name"]))
    try:
        host = urlsplit(str(webhook.get("url") or "")).hostname or "?"
    except ValueError:
        host = "?"
    return "webhook #%d (%s)" % (index + 1, host)


def event_data(event, environment, release=None, services=None, deployed_by=None, approved_by=None,
               deployment_id=None, duration=None, run_url=None, app_url=None, message=None, at=None):
    """The generic JSON payload (also the facts the Slack one is made of)."""
    shas = {}
    for name, svc in sorted((services or {}).items()):
        if isinstance(svc, dict):
            shas[name] = svc.get("sha") or svc.get("tag") or svc.get("digest")
        else:
            shas[name] = svc
    data = {
        "source": SOURCE,
        "event": event,
        "outcome": OUTCOME[event],
        "environment": environment,
        "release": release or None,
        "shas": shas,
        "deployed_by": deployed_by or None,
        "approved_by": approved_by or None,
        "deployment_id": deployment_id or None,
        "duration_seconds": None if duration is None else round(float(duration), 1),
        "run_url": redact_url(run_url) if run_url else None,
        "app_url": redact_url(app_url) if app_url else None,
        "message": (message or "")[:1500],
        "at": at or utcnow(),
    }
    return redact_data(data)


def slack_payload(data):
    """Slack incoming-webhook JSON: ``text`` (the fallback every client shows) and Block Kit
    ``blocks`` (https://api.slack.com/messaging/webhooks, https://api.slack.com/block-kit).
    Every value is outside text: escape.slack makes ``<!channel>``, ``<@U123>`` or a
    ``<url|label>`` in a name, a release or a message plain text."""
    event = data["event"]
    title = "%s %s: %s" % (_EMOJI[event], slack(data["environment"]), _TITLE[event])
    if data.get("release"):
        title += " (release %s)" % slack(data["release"])
    fields = []
    for label, key in (("Outcome", "outcome"), ("Deployed by", "deployed_by"), ("Approved by", "approved_by"),
                       ("Deployment", "deployment_id"), ("Duration", "duration_seconds")):
        value = data.get(key)
        if value not in (None, ""):
            fields.append({"type": "mrkdwn", "text": "*%s*\n%s" % (
                label, slack("%ss" % value if key == "duration_seconds" else value))})
    if data.get("shas"):
        fields.append({"type": "mrkdwn", "text": "*SHAs*\n" + "\n".join(
            "%s `%s`" % (slack(name), slack((sha or "?")[:12])) for name, sha in sorted(data["shas"].items()))})
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*%s*" % title}}]
    if fields:
        blocks.append({"type": "section", "fields": fields[:10]})
    message = slack(data.get("message"), multiline=True)
    if message:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": message[:2900]}})
    links = [("Run", data.get("run_url")), ("App", data.get("app_url"))]
    links = [slack_link(url, label) for label, url in links if url]
    if links:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " | ".join(links)}]})
    text = title + (": " + slack(data["message"]) if data.get("message") else "")
    return {"text": text[:3000], "blocks": blocks}


def payload_for(fmt, data):
    return slack_payload(data) if fmt == "slack" else data


def wants(webhook, event):
    events = webhook.get("events")
    return not events or event in events


def deliver(webhooks, event, data, post, sleep=time.sleep, attempts=MAX_ATTEMPTS):
    """Send ``data`` (the generic payload) to each webhook that wants ``event``, in its format.

    ``post(url, body_dict) -> (status or None, error text or None)`` does one request.
    Returns (sent, failed): lists of {"webhook", "attempts", "status"} / {"webhook", "error"}.
    Never raises for a delivery problem; errors name the webhook, never its URL."""
    sent, failed = [], []
    for index, hook in enumerate(webhooks or []):
        if not wants(hook, event):
            continue
        label = webhook_label(index, hook)
        body = payload_for(hook.get("format") or "json", data)
        status, error, tries = None, None, 0
        for tries in range(1, attempts + 1):
            try:
                status, error = post(hook["url"], body)
            except Exception as exc:  # pylint: disable=broad-except  # a notification never fails the run
                status, error = None, "%s" % exc.__class__.__name__
            if status is not None and 200 <= status < 300:
                break
            if status is not None and status not in RETRY_STATUSES:
                break
            if tries < attempts:
                sleep(0.5 * 2 ** (tries - 1))
        url = str(hook.get("url") or "")
        if status is not None and 200 <= status < 300:
            sent.append({"webhook": label, "attempts": tries, "status": status})
        else:
            reason = "HTTP %s" % status if status is not None else (error or "no response")
            if url:
                reason = reason.replace(url, "<webhook url>")
            # no URL of any kind in a reason (a webhook's secret can sit in its path)
            reason = _URL_RE.sub("<url>", redact_text(reason))
            failed.append({"webhook": label, "attempts": tries, "error": reason})
    return sent, failed
