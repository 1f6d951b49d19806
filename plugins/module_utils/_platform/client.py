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

Time. A module sets its run's deadline on the client (``set_deadline``); from then on the
retry policy (``DeadlineRetryPolicy``) never starts a request after the deadline, caps each
request's connect/read timeout by the time left, and never sleeps past the deadline: a retry
whose wait (Retry-After, ``ratelimit-reset`` or backoff) would end after it is not made and the
last answer is returned instead, so the module can say what it was waiting for.

Rate limits (https://docs.digitalocean.com/reference/api/#rate-limit): DigitalOcean sends
``Retry-After`` only with the per-minute burst limit; a 429 of the hourly limit carries only
``ratelimit-limit``/``ratelimit-remaining``/``ratelimit-reset`` (epoch seconds). A 429 without
Retry-After is waited out until ``ratelimit-reset``. 429s do not use up the retry count while a
deadline is set: they are retried for as long as the deadline allows.

Messages never carry a URL query string, signature or token (``redaction.redact_text``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
import traceback
from email.utils import parsedate_to_datetime

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
        ServiceRequestTimeoutError,
        ServiceResponseError,
        ServiceResponseTimeoutError,
    )
    from azure.core.pipeline.policies import RetryPolicy

    HAS_PYDO = True
except ImportError:  # pragma: no cover - exercised only without pydo installed
    HAS_PYDO = False
    PYDO_IMPORT_ERROR = traceback.format_exc()

    class AzureError(Exception):  # noqa: D401 - placeholder type so except clauses still parse
        """Stand-in when azure-core is missing; never raised."""

    class RetryPolicy(object):  # noqa: D401 - placeholder base so the policy class still parses
        """Stand-in when azure-core is missing; never instantiated."""

    HttpResponseError = ClientAuthenticationError = ResourceNotFoundError = AzureError
    ServiceRequestError = ServiceResponseError = AzureError
    ServiceRequestTimeoutError = ServiceResponseTimeoutError = AzureError

from ansible_collections.tachyon.infra.plugins.module_utils._common import deadline as overall
from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_text, redact_url

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
# Without a deadline (a client used outside a module run) a single rate-limit wait is capped.
RATE_LIMIT_WAIT_CAP = 60.0
# After the deadline, one clean-up request (cancel our deployment, commit a rollback) may still
# be sent, without retries and with at most this many seconds to answer.
CLEANUP_SECONDS = 10.0
# Without a run deadline, one call (its retries and every answer, read whole) ends within this:
# the connect/read timeouts bound each socket operation only, and an API (or a proxy before it)
# that trickles its answer a byte at a time would hold the run forever (_common/deadline.py).
UNBOUNDED_CALL_SECONDS = 120.0
# With a run deadline, the grace after it for a call whose answer is still being read.
CALL_GRACE_SECONDS = 1.0


def client_argument_spec():
    """Options every App Platform module takes (merge into the module's argument_spec)."""
    return dict(
        token=dict(type="str", no_log=True, fallback=(_env_fallback, [TOKEN_ENV])),
        api_endpoint=dict(type="str", default=DEFAULT_ENDPOINT),
        app_id=dict(type="str", required=True),
    )


def wait_argument_spec(timeout=600):
    """The options of a module that waits for a deployment: timeout (s) and poll_interval (s)."""
    return dict(timeout=dict(type="int", default=timeout), poll_interval=dict(type="float", default=1.0))


def check_module(module):
    """Fail ``module`` (an AnsibleModule with wait_argument_spec) when pydo is missing or a wait
    option is not a positive number; nothing has been read or changed then."""
    if not HAS_PYDO:
        from ansible.module_utils.basic import missing_required_lib

        module.fail_json(msg=missing_required_lib("pydo"), exception=PYDO_IMPORT_ERROR)
    if module.params["timeout"] <= 0 or module.params["poll_interval"] <= 0:
        module.fail_json(msg="timeout and poll_interval must be positive numbers; nothing was changed")


def _env_fallback(*names):
    # Same contract as ansible.module_utils.basic.env_fallback, imported lazily so this file
    # stays importable without ansible (unit tests of the helpers).
    from ansible.module_utils.basic import env_fallback

    return env_fallback(*names)


class DOApiError(Exception):
    """An App Platform call failed; ``str()`` is a message fit for fail_json."""

    def __init__(self, message, status=None, retryable=False, ambiguous=False, deadline=False):
        super(DOApiError, self).__init__(redact_text(message))
        self.status = status
        self.retryable = retryable
        # True when the request may have reached the server (the outcome is unknown).
        self.ambiguous = ambiguous
        # True when the run's deadline stopped the call (nothing more is tried).
        self.deadline = deadline
        # 429: seconds the API asks us to wait, and what kind of limit it was (for messages).
        self.retry_after = None
        self.waiting_for = None


class DeadlineReached(AzureError):
    """Raised by the retry policy instead of starting a request after the run's deadline."""


if HAS_PYDO:
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class _LoopbackBearer(SansIOHTTPPolicy):
        """Bearer auth without azure-core's https enforcement, used only for a loopback emulator."""

        def __init__(self, token):
            super(_LoopbackBearer, self).__init__()
            self._token = token

        def on_request(self, request):
            request.http_request.headers["Authorization"] = "Bearer %s" % self._token


class DeadlineRetryPolicy(RetryPolicy):
    """azure-core's RetryPolicy, bounded by a deadline and aware of DigitalOcean's rate limits.

    ``deadline`` (a ``clock()`` value, None = unbounded) is set per run (``set_deadline``):

    * no request starts after it (``DeadlineReached``); each request's connect and read timeout
      is capped by the time left;
    * a retry whose wait would end after it is not made: the last answer (or error) is returned;
    * a 429 waits for Retry-After, else until ``ratelimit-reset``; while a deadline is set 429s
      do not use up the retry count (only the deadline bounds them);
    * without a deadline, one rate-limit wait is capped at RATE_LIMIT_WAIT_CAP seconds.

    ``last_wait`` describes the last wait asked for (for timeout messages).

    Every call (its retries and the whole of each answer) also ends by the deadline (or within
    UNBOUNDED_CALL_SECONDS without one) through _common/deadline.call: the timeouts above bound
    each socket read, not an answer trickled a byte at a time (``DeadlineReached`` names the call).
    """

    def __init__(self, clock=time.monotonic, wall=time.time, **kwargs):
        super(DeadlineRetryPolicy, self).__init__(**kwargs)
        self.deadline = None
        self.clock = clock
        self.wall = wall
        self.last_wait = None

    def remaining(self):
        return None if self.deadline is None else self.deadline - self.clock()

    def get_retry_after(self, response):
        http = getattr(response, "http_response", None)
        if http is None:
            return None
        if http.status_code == 429:
            seconds, what = rate_limit_wait(http.headers, self.wall())
            self.last_wait = what
            if seconds is not None and self.deadline is None:
                seconds = min(seconds, RATE_LIMIT_WAIT_CAP)
            return seconds
        return super(DeadlineRetryPolicy, self).get_retry_after(response)

    def increment(self, settings, response=None, error=None):
        http = getattr(response, "http_response", None)
        rate_limited = http is not None and http.status_code == 429
        if rate_limited and self.deadline is not None and settings["total"] > 0:
            # a 429 is not a failure of the request: only the deadline bounds how often we wait
            settings["total"] += 1
            settings["status"] += 1
        if not super(DeadlineRetryPolicy, self).increment(settings, response=response, error=error):
            return False
        if self.deadline is None:
            return True
        wait = self.get_retry_after(response) if http is not None else None
        if not wait:
            wait = self.get_backoff_time(settings)
        # never sleep past the deadline: give the caller the answer we have instead
        return self.clock() + wait < self.deadline

    def send(self, request):
        remaining = self.remaining()
        if remaining is not None:
            if remaining <= 0:
                raise DeadlineReached(
                    "the run's timeout was reached before %s %s could be sent"
                    % (request.http_request.method, redact_url(request.http_request.url))
                )
            options = request.context.options
            options["timeout"] = min(options.get("timeout", self.timeout), remaining)
            config = getattr(request.context.transport, "connection_config", None)
            read = options.get("read_timeout") or getattr(config, "read_timeout", None) or remaining
            try:
                options["read_timeout"] = min(read, remaining)
            except TypeError:  # an unexpected transport setting: leave it alone
                pass
        what = "%s %s" % (request.http_request.method, redact_url(request.http_request.url))
        seconds = UNBOUNDED_CALL_SECONDS if remaining is None else round(remaining + CALL_GRACE_SECONDS, 1)
        try:
            return overall.call(lambda: super(DeadlineRetryPolicy, self).send(request), seconds, what,
                                option=None if remaining is None else "the run's timeout")
        except overall.DeadlineExceeded as exc:
            raise DeadlineReached(str(exc))


def set_deadline(client, deadline):
    """Bound every call of ``client`` (a make_client client) by ``deadline`` (a time.monotonic()
    value; None = unbounded). Returns the previous deadline."""
    policy = getattr(client, "tachyon_retry_policy", None)
    if policy is None:
        return None
    previous, policy.deadline = policy.deadline, deadline
    return previous


class cleanup_window(object):  # pylint: disable=invalid-name  # used as a context manager
    """``with cleanup_window(client):`` lets one clean-up request run after the deadline (cancel
    our deployment, commit a rollback): the deadline moves to at most CLEANUP_SECONDS from now."""

    def __init__(self, client, seconds=CLEANUP_SECONDS):
        self.client = client
        self.seconds = seconds
        self.previous = None

    def __enter__(self):
        policy = getattr(self.client, "tachyon_retry_policy", None)
        if policy is not None:
            self.previous = policy.deadline
            if policy.deadline is not None:
                policy.deadline = max(policy.deadline, policy.clock() + self.seconds)
        return self

    def __exit__(self, *exc_info):
        set_deadline(self.client, self.previous)
        return False


def make_client(token, endpoint=DEFAULT_ENDPOINT, timeout=30, deadline=None):
    """A pydo Client with bounded retries. ``token`` is never logged or echoed.

    ``deadline`` (time.monotonic() value) bounds every call and wait; ``set_deadline`` changes it.
    """
    if not token:
        raise DOApiError(
            "no DigitalOcean API token: set the module's token option (the inventory's "
            "tachyon_do_token) or the %s environment variable" % TOKEN_ENV
        )
    retry = DeadlineRetryPolicy(
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
    retry.deadline = deadline
    client = pydo.Client(
        token=token,
        endpoint=endpoint,
        retry_policy=retry,
        connection_timeout=min(timeout, 10),
        read_timeout=timeout,
        **extra
    )
    client.tachyon_retry_policy = retry
    return client


def _api_message(exc):
    """The API's own error text ({"id": ..., "message": ...}) when there is one."""
    response = getattr(exc, "response", None)
    if response is None:
        return ""
    try:
        body = response.json()
    except Exception:  # pylint: disable=broad-except  # any undecodable body: no detail
        return ""
    if isinstance(body, dict):
        return str(body.get("message") or body.get("id") or "")
    return ""


def _header(headers, name):
    if not headers:
        return None
    value = headers.get(name)
    if value is None:
        value = headers.get(name.title())
    return value


def _parse_retry_after(value, now):
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 10.2.3); None if unreadable."""
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def rate_limit_wait(headers, now=None):
    """(seconds, what) a 429 asks us to wait, from its headers; (None, what) if they say nothing.

    ``Retry-After`` (the burst limit) wins; without it, the time until ``ratelimit-reset`` (epoch
    seconds: the hourly limit). ``what`` describes the limit for messages.
    """
    now = time.time() if now is None else now
    value = _header(headers, "retry-after")
    if value:
        seconds = _parse_retry_after(value, now)
        if seconds is not None:
            return seconds, "the API's rate limit (429 with retry-after %ss)" % _fmt(seconds)
    reset = _header(headers, "ratelimit-reset")
    if reset:
        try:
            seconds = max(0.0, float(reset) - now)
        except ValueError:
            seconds = None
        if seconds is not None:
            return seconds, ("the API's hourly rate limit (429 without retry-after; ratelimit-reset at %s UTC, "
                             "in %ss)" % (time.strftime("%H:%M:%S", time.gmtime(float(reset))), _fmt(seconds)))
    return None, "the API's rate limit (429 without retry-after or ratelimit-reset)"


def _fmt(seconds):
    return ("%.1f" % seconds).rstrip("0").rstrip(".") if seconds < 10 else "%.0f" % seconds


def retry_after_seconds(exc, default=1.0, cap=None, now=None):
    """Seconds a 429 asks us to wait (Retry-After, else until ratelimit-reset); ``default`` if
    neither header says; bounded by ``cap`` when given."""
    response = getattr(exc, "response", None)
    seconds, _what = rate_limit_wait(getattr(response, "headers", None) or {}, now)
    if seconds is None:
        seconds = default
    return min(seconds, cap) if cap is not None and seconds is not None else seconds


def map_error(exc, action, app_id=None):
    """Turn a pydo/azure exception into a DOApiError with a message saying what to do."""
    what = "%s%s" % (action, " (app %s)" % app_id if app_id else "")
    if isinstance(exc, DOApiError):
        return exc
    if isinstance(exc, DeadlineReached):
        return DOApiError("%s: %s" % (what, exc), deadline=True)
    if isinstance(exc, (ServiceRequestTimeoutError, ServiceResponseTimeoutError)):
        return DOApiError(
            "%s: the API did not answer in time (%s)." % (what, getattr(exc, "message", exc)),
            retryable=True,
            ambiguous=isinstance(exc, ServiceResponseTimeoutError),
        )
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
            seconds, limit = rate_limit_wait(getattr(exc.response, "headers", None) or {})
            err = DOApiError(
                "%s: rate limited by the API (429%s): %s." % (what, detail, limit),
                status=429,
                retryable=True,
            )
            err.retry_after = seconds
            err.waiting_for = limit
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
    except Exception as exc:  # pylint: disable=broad-except  # mapped to a clear message
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
