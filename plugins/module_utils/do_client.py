# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""DigitalOcean API client factory and error mapping shared by the App Platform modules.

Every App Platform call goes through pydo (DigitalOcean's official client). pydo is built on
azure-core, whose RetryPolicy already does what we need for reads: it retries 408/429/5xx and
connection/read errors with exponential backoff bounded by ``retry_backoff_max`` and honours
``Retry-After`` on 429/503. We only configure it (bounded) here.

Writes that create a deployment (PUT /v2/apps/{id}, POST rollback) are NOT retried by the
pipeline (``NO_RETRY``): App Platform creates one deployment per accepted request, so a blind
retry after an ambiguous failure could start a second deployment. The modules retry those calls
themselves, after checking whether the first attempt took effect.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
import traceback

try:
    from urllib.parse import urlparse
except ImportError:  # pragma: no cover - Python 2 controllers are not supported
    from urlparse import urlparse

PYDO_IMPORT_ERROR = None
try:
    import pydo
    from azure.core.exceptions import (
        AzureError,
        ClientAuthenticationError,
        HttpResponseError,
        ResourceNotFoundError,
        ServiceRequestError,
        ServiceResponseError,
    )
    from azure.core.pipeline.policies import RetryPolicy

    HAS_PYDO = True
except ImportError:  # pragma: no cover - exercised only without pydo installed
    HAS_PYDO = False
    PYDO_IMPORT_ERROR = traceback.format_exc()

    class AzureError(Exception):  # noqa: D401 - placeholder type so except clauses still parse
        """Stand-in when azure-core is missing; never raised."""

    HttpResponseError = ClientAuthenticationError = ResourceNotFoundError = AzureError
    ServiceRequestError = ServiceResponseError = AzureError

DEFAULT_ENDPOINT = "https://api.digitalocean.com"
TOKEN_ENV = "DIGITALOCEAN_ACCESS_TOKEN"
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")

# Pipeline-level retries for reads. Bounded: at most RETRY_TOTAL attempts, backoff
# 0.25 s doubling up to RETRY_BACKOFF_MAX; Retry-After is honoured as sent.
RETRY_TOTAL = 6
RETRY_BACKOFF = 0.25
RETRY_BACKOFF_MAX = 8.0
# Per-request kwargs that switch pipeline retries off (azure-core reads them per call).
NO_RETRY = {"retry_total": 0}


def client_argument_spec():
    """Options every App Platform module takes (merge into the module's argument_spec)."""
    return dict(
        token=dict(type="str", no_log=True, fallback=(_env_fallback, [TOKEN_ENV])),
        api_endpoint=dict(type="str", default=DEFAULT_ENDPOINT),
        app_id=dict(type="str", required=True),
    )


def _env_fallback(*names):
    # Same contract as ansible.module_utils.basic.env_fallback, imported lazily so this file
    # stays importable without ansible (unit tests of the helpers).
    from ansible.module_utils.basic import env_fallback

    return env_fallback(*names)


class DOApiError(Exception):
    """An App Platform call failed; ``str()`` is a message fit for fail_json."""

    def __init__(self, message, status=None, retryable=False, ambiguous=False):
        super(DOApiError, self).__init__(message)
        self.status = status
        self.retryable = retryable
        # True when the request may have reached the server (the outcome is unknown).
        self.ambiguous = ambiguous
        self.retry_after = None


if HAS_PYDO:
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class _LoopbackBearer(SansIOHTTPPolicy):
        """Bearer auth without azure-core's https enforcement, used only for a loopback emulator."""

        def __init__(self, token):
            super(_LoopbackBearer, self).__init__()
            self._token = token

        def on_request(self, request):
            request.http_request.headers["Authorization"] = "Bearer %s" % self._token


def make_client(token, endpoint=DEFAULT_ENDPOINT, timeout=30):
    """A pydo Client with bounded retries. ``token`` is never logged or echoed."""
    if not token:
        raise DOApiError(
            "no DigitalOcean API token: set the module's token option (the inventory's "
            "tachyon_do_token) or the %s environment variable" % TOKEN_ENV
        )
    retry = RetryPolicy(
        retry_total=RETRY_TOTAL,
        retry_connect=RETRY_TOTAL,
        retry_read=RETRY_TOTAL,
        retry_status=RETRY_TOTAL,
        retry_backoff_factor=RETRY_BACKOFF,
        retry_backoff_max=RETRY_BACKOFF_MAX,
    )
    endpoint = (endpoint or DEFAULT_ENDPOINT).rstrip("/")
    parsed = urlparse(endpoint)
    extra = {}
    if parsed.scheme == "http":
        # azure-core refuses bearer tokens over plain http; we allow it only for a loopback
        # endpoint (the App Platform emulator of the sandbox and the tests).
        if parsed.hostname not in LOOPBACK_HOSTS:
            raise DOApiError(
                "api_endpoint %s: plain http is only accepted for a local emulator (localhost); "
                "use https for a remote API so the token is not sent in clear" % endpoint
            )
        extra["authentication_policy"] = _LoopbackBearer(token)
    elif parsed.scheme != "https" or not parsed.hostname:
        raise DOApiError("api_endpoint %r is not an http(s) URL, e.g. %s" % (endpoint, DEFAULT_ENDPOINT))
    return pydo.Client(
        token=token,
        endpoint=endpoint,
        retry_policy=retry,
        connection_timeout=min(timeout, 10),
        read_timeout=timeout,
        **extra
    )


def _api_message(exc):
    """The API's own error text ({"id": ..., "message": ...}) when there is one."""
    response = getattr(exc, "response", None)
    if response is None:
        return ""
    try:
        body = response.json()
    except Exception:  # pylint: disable=broad-except - any undecodable body: no detail
        return ""
    if isinstance(body, dict):
        return str(body.get("message") or body.get("id") or "")
    return ""


def retry_after_seconds(exc, default=1.0, cap=60.0):
    """Seconds a 429 asks us to wait (Retry-After, else ratelimit-reset), bounded by ``cap``."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    for name in ("retry-after", "Retry-After"):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, min(float(value), cap))
            except ValueError:
                break
    return default


def map_error(exc, action, app_id=None):
    """Turn a pydo/azure exception into a DOApiError with a message saying what to do."""
    what = "%s%s" % (action, " (app %s)" % app_id if app_id else "")
    if isinstance(exc, DOApiError):
        return exc
    if isinstance(exc, ServiceRequestError):
        return DOApiError(
            "%s: cannot reach the DigitalOcean API (%s). Check api_endpoint and the network."
            % (what, exc.message if hasattr(exc, "message") else exc),
            retryable=True,
        )
    if isinstance(exc, ServiceResponseError):
        return DOApiError(
            "%s: the connection dropped before the API answered (%s)."
            % (what, getattr(exc, "message", exc)),
            retryable=True,
            ambiguous=True,
        )
    if isinstance(exc, HttpResponseError):
        status = exc.status_code
        detail = _api_message(exc)
        detail = ": %s" % detail if detail else ""
        if status == 401 or isinstance(exc, ClientAuthenticationError) and status in (None, 401):
            return DOApiError(
                "%s: the API rejected the token (401%s). Set a valid token for this "
                "environment (tachyon_do_token / %s)." % (what, detail, TOKEN_ENV),
                status=401,
            )
        if status == 403:
            return DOApiError(
                "%s: the token may not do this (403%s). It needs the app:read and app:update "
                "scopes for this app." % (what, detail),
                status=403,
            )
        if status == 404 or isinstance(exc, ResourceNotFoundError):
            return DOApiError(
                "%s: not found (404%s). Check the app id (tachyon_do_app_id) and that the token "
                "belongs to the team owning the app." % (what, detail),
                status=404,
            )
        if status == 429:
            err = DOApiError(
                "%s: rate limited by the API (429%s) and retries were exhausted; wait and rerun."
                % (what, detail),
                status=429,
                retryable=True,
            )
            err.retry_after = retry_after_seconds(exc)
            return err
        if status is not None and status >= 500:
            return DOApiError(
                "%s: the API failed (%s%s) after bounded retries; rerun later or check "
                "https://status.digitalocean.com." % (what, status, detail),
                status=status,
                retryable=True,
                ambiguous=True,
            )
        return DOApiError("%s: the API refused the request (%s%s)." % (what, status, detail), status=status)
    if isinstance(exc, AzureError):
        return DOApiError("%s: %s" % (what, exc), retryable=True, ambiguous=True)
    return DOApiError("%s: unexpected error %s: %s" % (what, type(exc).__name__, exc))


def checked(result, action, app_id=None):
    """pydo returns 404 bodies instead of raising for some operations: raise for them."""
    if isinstance(result, dict) and set(result) >= {"id", "message"} and len(result) <= 3:
        raise DOApiError(
            "%s%s: not found (404: %s). Check the app id (tachyon_do_app_id) and that the token "
            "belongs to the team owning the app."
            % (action, " (app %s)" % app_id if app_id else "", result.get("message")),
            status=404,
        )
    return result


def call(action, func, *args, **kwargs):
    """Run one pydo call; any failure becomes a DOApiError naming ``action``."""
    app_id = kwargs.pop("_app_id", None)
    try:
        return checked(func(*args, **kwargs), action, app_id)
    except DOApiError:
        raise
    except Exception as exc:  # pylint: disable=broad-except - mapped to a clear message
        raise map_error(exc, action, app_id)


class Backoff:
    """Poll intervals: quick first polls, doubling up to ``cap`` (bounded exponential)."""

    def __init__(self, first=0.25, cap=5.0, factor=2.0):
        self.first = first
        self.cap = max(cap, first)
        self.factor = factor
        self.current = first

    def next(self):
        value = self.current
        self.current = min(self.cap, self.current * self.factor)
        return value


def sleep_until(deadline, seconds, clock=time.monotonic, sleep=time.sleep):
    """Sleep ``seconds`` but never past ``deadline``; returns False if the deadline passed."""
    remaining = deadline - clock()
    if remaining <= 0:
        return False
    sleep(max(0.0, min(seconds, remaining)))
    return True
