# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see LICENSE)
"""UTC timestamps, the one way the hub reads and writes them.

Written: ``YYYY-MM-DDTHH:MM:SSZ`` (the manifest's, the lock's and the webhooks' format), or the
compact ``YYYYMMDDTHHMMSSZ`` for names (backup files, record refs). Read: any RFC 3339 / ISO 8601
timestamp Python 3.11's ``datetime.fromisoformat`` reads (``Z`` or an offset, git's ``%cI``),
including App Platform's nanosecond fractions (cut to microseconds); Go's zero time
(``0001-01-01T00:00:00Z``, App Platform's "never") and anything unreadable are None.
Standard library only.
"""
from __future__ import annotations

import datetime
import re

UTC = datetime.timezone.utc
TIME_FMT = "%Y-%m-%dT%H:%M:%SZ"
COMPACT_FMT = "%Y%m%dT%H%M%SZ"
_LONG_FRACTION_RE = re.compile(r"(\.\d{6})\d+")


def parse_utc(value):
    """``value`` (a timestamp string) as an aware UTC datetime, or None when it is empty, Go's
    zero time or not a timestamp. A timestamp without an offset is read as UTC."""
    if not value or not isinstance(value, str) or value.startswith("0001-"):
        return None
    try:
        moment = datetime.datetime.fromisoformat(_LONG_FRACTION_RE.sub(r"\1", value.strip()))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def epoch(value):
    """``value`` (a timestamp string) as epoch seconds, or None (see parse_utc)."""
    moment = parse_utc(value)
    return None if moment is None else moment.timestamp()


def format_utc(moment=None, fmt=TIME_FMT):
    """``moment`` (an aware datetime, epoch seconds, or None for now) as ``YYYY-MM-DDTHH:MM:SSZ``."""
    if moment is None:
        moment = datetime.datetime.now(UTC)
    elif not isinstance(moment, datetime.datetime):
        moment = datetime.datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).strftime(fmt)


def utcnow():
    """Now as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return format_utc()


def compact_utcnow():
    """Now as ``YYYYMMDDTHHMMSSZ`` (for file and ref names)."""
    return format_utc(fmt=COMPACT_FMT)
