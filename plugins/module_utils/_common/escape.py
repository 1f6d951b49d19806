# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""One escaping function per sink: the only place outside text (people's names, commit
subjects, lock records, webhook answers, manifest values) is made safe for where it goes.

Every writer to a sink calls the function of that sink, and no other code escapes for it:

=====================  ==========================================================================
sink                   function
=====================  ==========================================================================
Slack mrkdwn           ``slack(text)``: ``& < >`` as entities (Slack's "Escaping text" rules:
                       https://api.slack.com/reference/surfaces/formatting#escaping), so
                       ``<!channel>`` or ``<https://x|y>`` stay text; control characters but
                       newline become spaces
Markdown (GitHub)      ``md(text)``: one line (every line break, CR, U+2028/U+2029, NEL and other
                       control character becomes a space, so nothing breaks out of a table row or
                       starts a heading), GFM punctuation backslash-escaped; ``md_code(text)`` the
                       same for a code span (a fence longer than any backtick run, ``|`` escaped)
HTML                   ``html_text(text)``: ``& < > " '`` escaped (text and attribute values), control
                       characters but newline and tab dropped
terminal / ANSI        ``terminal(text)``: ESC, the other C0/C1 controls, DEL and the bidi overrides
                       shown as visible ``\\x1b``-style escapes (newline kept with multiline=True)
JSON                   ``json_text(data)``: ASCII-only JSON, ``< > &`` and U+2028/U+2029 as
                       ``\\uXXXX`` (safe inside HTML and JavaScript too)
git commit messages    ``git_line(text)`` for a subject or a trailer value (one line, no NUL, bounded);
                       ``git_message(subject, body)`` for a whole message; ``git_ident(name)`` for
                       an author/committer name (git refuses one of only ``. , : ; < > " \\ '``)
=====================  ==========================================================================

In every rendered sink (Slack, markdown, HTML) the bidirectional overrides and isolates are shown
as their code (``\\u202e``), as on the terminal: they would show the text after them reversed.

Git output is parsed from NUL-separated formats (``git log -z``, ``--format`` fields split by
``%x00``), never by characters a commit subject can carry (see _git/cache.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import html
import json
import re

# C0 controls, DEL, C1 controls (NEL U+0085 among them), the line and paragraph separators
_CONTROL = u"\x00-\x1f\x7f-\x9f\u2028\u2029"
_CONTROL_RE = re.compile(u"[%s]" % _CONTROL)
_CONTROL_RUN_RE = re.compile(u"[%s]+" % _CONTROL)
# what a terminal acts on: controls, DEL, C1, and the bidirectional overrides/isolates
# ("Trojan Source", CVE-2021-42574) that reorder what is shown
_TERMINAL_RE = re.compile(u"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_TERMINAL_ONE_LINE_RE = re.compile(u"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
# GitHub-flavoured markdown's ASCII punctuation that can start or end an inline construct
# (emphasis, code, links, strikethrough), a cell (|), an HTML tag or an entity (< > &); block
# constructs (headings, lists) need a line start, which one_line() never leaves inside a value
_MD_RE = re.compile(r"([\\`*_\[\]<>|~&])")
_SAFE_URL_RE = re.compile(r"\Ahttps?://[^\s<>`|\\\x00-\x1f\x7f-\x9f]+\Z")
# the bidirectional overrides and isolates ("Trojan Source", CVE-2021-42574): a rendered page
# (a job summary, a Slack message, the HTML report) would show the text after one reversed, so
# "DESSAP :weiver ytiruceS" reads "Security review: PASSED"; every sink shows them as their code
_BIDI_RE = re.compile(u"[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _bidi_visible(text):
    return _BIDI_RE.sub(lambda match: u"\\u%04x" % ord(match.group(0)), text)


def _text(value):
    return u"" if value is None else (value if isinstance(value, str) else str(value))


def one_line(value, limit=None):
    """``value`` on one line: every run of control characters (CR, LF, tab, ESC, NUL, U+2028...)
    becomes one space; stripped; at most ``limit`` characters."""
    text = _CONTROL_RUN_RE.sub(u" ", _text(value)).strip()
    return text[:limit] if limit else text


def slack(value, multiline=False):
    """Text for Slack mrkdwn (a section, a field, a context element, the fallback ``text``)."""
    text = _text(value)
    if multiline:
        text = re.sub(u"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]+", u" ", text.replace(u"\r\n", u"\n"))
    else:
        text = one_line(text)
    return _bidi_visible(text).replace(u"&", u"&amp;").replace(u"<", u"&lt;").replace(u">", u"&gt;")


def slack_link(url, label):
    """A Slack link ``<url|label>``: the label escaped, the URL refused when it could break out."""
    url = one_line(url)
    if not url or any(c in url for c in u"<>| "):
        return slack(label)
    return u"<%s|%s>" % (url.replace(u"&", u"&amp;"), slack(label).replace(u"|", u"\u2758"))


def md(value):
    """Text for GitHub markdown, in a paragraph or a table cell: one line, punctuation escaped."""
    return _MD_RE.sub(r"\\\1", _bidi_visible(one_line(value)))


def md_url(value):
    """A URL as a markdown autolink ``<url>`` when it is a plain http(s) URL, else as text."""
    text = one_line(value)
    return u"<%s>" % text if _SAFE_URL_RE.match(text) else md(text)


def md_code(value):
    """A markdown code span holding ``value`` verbatim (one line): backticks in it cannot end it,
    a ``|`` cannot split a table cell."""
    text = _bidi_visible(one_line(value)).replace(u"|", u"\\|")
    runs = [len(run) for run in re.findall(u"`+", text)]
    fence = u"`" * (max(runs) + 1 if runs else 1)
    pad = u" " if text.startswith(u"`") or text.endswith(u"`") or not text else u""
    return u"%s%s%s%s%s" % (fence, pad, text, pad, fence)


def html_text(value):
    """Text (or an attribute value) for HTML: ``& < > " '`` escaped, controls but LF/tab dropped."""
    text = re.sub(u"[\x00-\x08\x0b-\x1f\x7f-\x9f]", u"", _bidi_visible(_text(value)))
    return html.escape(text, quote=True)


def terminal(value, multiline=False):
    """Text for a terminal: every control character a terminal would act on (ESC sequences, CR
    that overwrites the line, BEL, backspace, C1 CSI, bidi overrides) shown as a visible escape
    (``\\x1b``, ``\\u202e``); newlines kept when ``multiline``, tab kept."""
    def visible(match):
        char = match.group(0)
        return u"\\x%02x" % ord(char) if ord(char) < 0x100 else u"\\u%04x" % ord(char)
    text = _text(value)
    if multiline:
        return _TERMINAL_RE.sub(visible, text.replace(u"\r\n", u"\n"))
    return _TERMINAL_ONE_LINE_RE.sub(visible, text.replace(u"\r\n", u"\n").replace(u"\n", u" ").replace(u"\t", u" "))


def json_text(data, indent=None, sort_keys=False):
    """JSON for any consumer (a webhook, a file an HTML page embeds): ASCII only, with ``< > &``
    and the line separators as ``\\uXXXX``, so no sink that reads it as text mis-parses it."""
    text = json.dumps(data, indent=indent, sort_keys=sort_keys, ensure_ascii=True)
    return text.replace(u"<", u"\\u003c").replace(u">", u"\\u003e").replace(u"&", u"\\u0026")


def git_line(value, limit=300):
    """A commit subject or a trailer value: one line (no LF that could add a trailer or a body,
    no NUL that git refuses), at most ``limit`` characters."""
    return one_line(value, limit)


def git_message(subject, body=None):
    """A whole commit message: the subject via ``git_line``, the body with CRLF as LF, NUL and
    other controls (but LF and tab) as spaces."""
    message = git_line(subject) or u"(no subject)"
    if body:
        text = re.sub(u"[\x00-\x08\x0b-\x1f\x7f-\x9f]", u" ", _text(body).replace(u"\r\n", u"\n").replace(u"\r", u"\n"))
        message += u"\n\n" + text.strip(u"\n")
    return message + u"\n"


# the characters git strips from the ends of an identity ("crud", git's ident.c); a name of only
# these (and spaces) is refused: "fatal: name consists only of disallowed characters"
_GIT_IDENT_CRUD = u".,:;<>\"\\' "


def git_ident(value, fallback=u"tachyon"):
    """An author or committer name git accepts: ``value`` on one line (``git_line``), or
    ``fallback`` when nothing of it would be left (empty, or only the characters git strips:
    ``.``, ``<>``, quotes...); the name as given still goes where the record keeps it (a trailer)."""
    text = git_line(value, 200)
    return text if text.strip(_GIT_IDENT_CRUD) else fallback
