# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Keep credentials that travel inside URLs and API text out of messages, log lines and results.

App Platform hands out read credentials inside URLs: the ``historic_urls`` of the logs
endpoints are presigned object-storage URLs (``X-Amz-Signature``/``X-Amz-Credential`` in the
query string, valid about 15 minutes) and a ``live_url`` can carry a ``token`` parameter. Any
text the modules print or return is passed through :func:`redact_text` (or :func:`redact_data`
for a whole result), which

* reduces every URL to ``scheme://host[:port]/path`` (no user info, query string or fragment),
* masks DigitalOcean token formats (``dop_v1_``, ``doo_v1_``, ``dor_v1_`` + 64 hex) and
  ``Bearer`` credentials,
* masks ``name=value`` pairs whose name says signature, token, credential, password or secret
  when they appear outside a URL (e.g. an error text quoting part of a query string).

Pure functions on str/dict/list, no dependency beyond the standard library.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    from urllib.parse import urlsplit, urlunsplit
except ImportError:  # pragma: no cover - Python 2 controllers are not supported
    from urlparse import urlsplit, urlunsplit

MASK = "********"
# scheme://... up to whitespace or a character that ends a URL in prose/JSON/reprs
_URL_CHARS = r"[^\s'\"<>()\[\]{}\\]"
_URL_RE = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]{1,15}://%s*(?<![.,:;!?])" % _URL_CHARS)
_DO_TOKEN_RE = re.compile(r"\bdo[opr]_v1_[0-9a-fA-F]{64}\b")
_BEARER_RE = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=\-]{8,}")
_SENSITIVE_PAIR_RE = re.compile(
    r"(?i)\b((?:x-amz-)?(?:signature|sig|token|access_token|auth|credential|security-token|"
    r"password|passwd|secret|api_key|apikey|key-pair-id|policy))=([^&\s'\"]+)"
)


_URL_CREDENTIALS_RE = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


def mask_url_credentials(text):
    """Hide credentials embedded in URLs (the user and token before ``@`` become ``***``); the
    rest of the text (path, query) stays, for git's messages about a remote."""
    return _URL_CREDENTIALS_RE.sub(r"\g<scheme>***@", text or "")


def redact_url(url):
    """``url`` reduced to ``scheme://host[:port]/path``: no user info, query string or fragment.

    A value that is not an absolute URL is returned with its query string and fragment cut
    (``/path?x=1`` -> ``/path``), so nothing after a ``?`` survives either way.
    """
    if url is None:
        return None
    text = str(url)
    try:
        parts = urlsplit(text)
    except ValueError:
        return text.split("?", 1)[0].split("#", 1)[0]
    if not parts.scheme or not parts.netloc:
        return text.split("?", 1)[0].split("#", 1)[0]
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = "[%s]" % host
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = "%s:%d" % (host, port) if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def redact_text(text):
    """``text`` with every URL reduced (see :func:`redact_url`) and known credentials masked."""
    if text is None:
        return None
    if not isinstance(text, str):
        text = str(text)
    text = _URL_RE.sub(lambda m: redact_url(m.group(0)), text)
    text = _DO_TOKEN_RE.sub(MASK, text)
    text = _BEARER_RE.sub(lambda m: "%s %s" % (m.group(1), MASK), text)
    return _SENSITIVE_PAIR_RE.sub(lambda m: "%s=%s" % (m.group(1), MASK), text)


def redact_data(value):
    """A copy of ``value`` (dicts, lists, tuples, strings) with every string passed through
    :func:`redact_text`; other scalars are returned unchanged. Keys are kept as they are."""
    if isinstance(value, dict):
        return dict((key, redact_data(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return type(value)(redact_data(item) for item in value)
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_module_results(module):
    """Make ``module.exit_json`` / ``module.fail_json`` pass every result through
    :func:`redact_data`, so no message or return value of the module carries a URL query
    string or a token, whichever code path ends the run. Returns ``module``."""
    exit_json, fail_json = module.exit_json, module.fail_json

    def _exit(**result):
        exit_json(**redact_data(result))

    def _fail(msg=None, **result):
        fail_json(msg=redact_text(msg), **redact_data(result))

    module.exit_json, module.fail_json = _exit, _fail
    return module
