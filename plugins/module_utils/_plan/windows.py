# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""Change windows (docs/docsite/rst/change_windows.rst): when an environment may be deployed.

A window is written once in the inventory (``tachyon_change_windows`` in the group_vars of the
environment) and read here, and only here: by the deploy plan (the ``change window`` gate), by
``make validate`` and by the ``tachyon.infra.change_windows`` listing. Each window is a dict:

``name``      what people call it (free text: data, never a template; escaped per sink).
``kind``      ``deny`` (a freeze: no deploy inside) or ``allow`` (deploys only inside the
              allow windows: outside every one of them, refused).
``zone``      an IANA time zone (``Europe/Berlin``), read with ``zoneinfo``.
``start``/``end`` one of three forms, wall-clock times in ``zone``:
              - dated: ``2026-12-19 18:00`` - ``2027-01-04 08:00`` (end after start);
              - weekly: ``Fri 15:00`` - ``Mon 08:00`` (every week; the end is the first such
                moment after the start);
              - daily: ``22:00`` - ``06:00`` with ``days: [mon, tue, ...]`` (the days the window
                starts on; an end at or before the start is on the next day).
``rollbacks`` ``allow`` (default: restoring is not changing) or ``deny`` (the window refuses
              rollbacks too).
``priority``  an integer (default 0); where an allow and a deny window overlap, the higher
              priority wins, and such an overlap at equal priority is refused as malformed.

DST: the bounds are wall-clock times, so a window across a change keeps them (``Sat 22:00`` -
``Sun 06:00`` in Europe/Berlin over the last Sunday of March is 21:00Z - 04:00Z). A bound the
clock skips (02:30 on the night it jumps from 02:00 to 03:00) is the jump's instant (the first
wall-clock minute after it); a bound the clock reads twice (02:30 when it goes from 03:00 back to
02:00) is its first reading.

Time comes in as an argument (an aware datetime), never from a variable a person sets: the plan
passes its own clock (``Facts.now``); tests pass theirs.
"""
from __future__ import annotations

import datetime
import re

try:
    import zoneinfo
except ImportError:  # pragma: no cover - Python < 3.9 (the controller is 3.11)
    zoneinfo = None

from ansible_collections.tachyon.infra.plugins.module_utils._common.escape import one_line, terminal

UTC = datetime.timezone.utc
KINDS = ("deny", "allow")
ROLLBACKS = ("allow", "deny")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
KEYS = ("name", "kind", "zone", "start", "end", "days", "rollbacks", "priority")
VAR = "tachyon_change_windows"
NAME_LIMIT = 80
# how far ahead the plan looks for the next window and for when deploys are allowed again,
# and how far the overlap check looks (a year covers every weekday against every DST state)
HORIZON = datetime.timedelta(days=400)
LISTING_DAYS = 14
_DATED_RE = re.compile(r"\A(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})\Z")
_WEEKLY_RE = re.compile(r"\A([A-Za-z]+)\s+(\d{1,2}):(\d{2})\Z")
_DAILY_RE = re.compile(r"\A(\d{1,2}):(\d{2})\Z")
_TEMPLATE_RE = re.compile(r"\{\{|\{%|\{#")


class WindowError(ValueError):
    """The windows are malformed; ``problems`` lists each (the window and the field named)."""

    def __init__(self, problems):
        super().__init__("; ".join(problems))
        self.problems = problems


def shown(name):
    """A window's name for a message: one line, bounded, terminal controls made visible."""
    return terminal(one_line(name, NAME_LIMIT))


class Window(object):
    """One parsed window (see the module docstring)."""

    def __init__(self, name, kind, zone_name, form, start, end, days=None, rollbacks="allow", priority=0):
        self.name = name
        self.kind = kind
        self.zone_name = zone_name
        self.zone = zoneinfo.ZoneInfo(zone_name)
        self.form = form          # dated | weekly | daily
        self.start = start        # dated: naive datetime; weekly: (weekday, time); daily: time
        self.end = end
        self.days = days or []    # daily: weekday numbers (0 = Monday)
        self.rollbacks = rollbacks
        self.priority = priority

    def label(self):
        return "'%s' (%s, %s)" % (shown(self.name), self.kind, self.zone_name)

    def describe(self):
        """The window as written, e.g. ``Fri 15:00 - Mon 08:00 Europe/Berlin``."""
        if self.form == "dated":
            text = "%s - %s" % (self.start.strftime("%Y-%m-%d %H:%M"), self.end.strftime("%Y-%m-%d %H:%M"))
        elif self.form == "weekly":
            text = "%s %s - %s %s" % (DAYS[self.start[0]].title(), self.start[1].strftime("%H:%M"),
                                      DAYS[self.end[0]].title(), self.end[1].strftime("%H:%M"))
        else:
            text = "%s %s - %s" % (",".join(DAYS[d].title() for d in self.days), self.start.strftime("%H:%M"),
                                   self.end.strftime("%H:%M"))
        return "%s %s" % (text, self.zone_name)

    # ----------------------------------------------------------------------- occurrences
    def _local_spans(self, first_date, last_date):
        """Naive local (start, end) pairs whose start date is in [first_date, last_date]."""
        if self.form == "dated":
            return [(self.start, self.end)]
        spans = []
        day = first_date
        while day <= last_date:
            if self.form == "weekly" and day.weekday() == self.start[0]:
                start = datetime.datetime.combine(day, self.start[1])
                ahead = (self.end[0] - self.start[0]) % 7
                end = datetime.datetime.combine(day + datetime.timedelta(days=ahead), self.end[1])
                if end <= start:
                    end += datetime.timedelta(days=7)
                spans.append((start, end))
            elif self.form == "daily" and day.weekday() in self.days:
                start = datetime.datetime.combine(day, self.start)
                end = datetime.datetime.combine(day, self.end)
                if end <= start:
                    end += datetime.timedelta(days=1)
                spans.append((start, end))
            day += datetime.timedelta(days=1)
        return spans

    def occurrences(self, begin, until):
        """The window's (open, close) UTC intervals that overlap [begin, until) (aware datetimes)."""
        first = (begin.astimezone(self.zone) - datetime.timedelta(days=8)).date()
        last = until.astimezone(self.zone).date() + datetime.timedelta(days=1)
        out = []
        for start, end in self._local_spans(first, last):
            opened, closed = to_utc(start, self.zone), to_utc(end, self.zone)
            if opened < until and closed > begin:
                out.append((opened, closed))
        return out

    def at(self, now):
        """The (open, close) interval in force at ``now``, or None."""
        for opened, closed in self.occurrences(now, now + datetime.timedelta(seconds=1)):
            if opened <= now < closed:
                return opened, closed
        return None


def to_utc(local, zone):
    """A naive wall-clock time in ``zone`` as an aware UTC datetime (see the module docstring for
    the times the clock skips or reads twice)."""
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == local:
        return first  # exists (an ambiguous time: fold=0 is its first reading)
    # skipped: fold=1 is before the jump, fold=0 after it; the jump is the first instant whose
    # wall clock reads ``local`` or later
    low, high = local.replace(tzinfo=zone, fold=1).astimezone(UTC), first
    while (high - low) > datetime.timedelta(seconds=1):
        mid = low + (high - low) / 2
        if mid.astimezone(zone).replace(tzinfo=None) >= local:
            high = mid
        else:
            low = mid
    return high.replace(microsecond=0)


# --------------------------------------------------------------------------- parsing
def _time(hour, minute):
    hour, minute = int(hour), int(minute)
    if hour > 23 or minute > 59:
        raise ValueError("%02d:%02d is not a time of day (00:00-23:59)" % (hour, minute))
    return datetime.time(hour, minute)


def _weekday(text):
    key = text.strip().lower() if isinstance(text, str) else None
    if key in DAYS:
        return DAYS.index(key)
    if key in FULL_DAYS:
        return FULL_DAYS.index(key)
    raise ValueError("%r is not a weekday (mon, tue, wed, thu, fri, sat, sun)" % (text,))


def _bound(text):
    """('dated', datetime) | ('weekly', (weekday, time)) | ('daily', time)."""
    if not isinstance(text, str):
        raise ValueError("must be a string such as '2026-12-19 18:00', 'Fri 15:00' or '22:00', got %r" % (text,))
    text = text.strip()
    match = _DATED_RE.match(text)
    if match:
        year, month, day, hour, minute = match.groups()
        try:
            date = datetime.date(int(year), int(month), int(day))
        except ValueError as exc:
            raise ValueError("%r: %s" % (text, exc))
        return "dated", datetime.datetime.combine(date, _time(hour, minute))
    match = _WEEKLY_RE.match(text)
    if match:
        return "weekly", (_weekday(match.group(1)), _time(match.group(2), match.group(3)))
    match = _DAILY_RE.match(text)
    if match:
        return "daily", _time(match.group(1), match.group(2))
    raise ValueError("%r is not 'YYYY-MM-DD HH:MM', 'Ddd HH:MM' (a weekday and a time) or 'HH:MM'" % (text,))


def _label(index, item):
    name = item.get("name") if isinstance(item, dict) else None
    return "%s[%d]%s" % (VAR, index, (" '%s'" % shown(name)) if isinstance(name, str) and name.strip() else "")


def _parse_one(index, item):
    """(Window or None, problems)."""
    if not isinstance(item, dict):
        return None, ["%s[%d]: a window is a mapping (name, kind, zone, start, end), got %s"
                      % (VAR, index, type(item).__name__)]
    where = _label(index, item)
    problems = []
    for key in sorted(set(item) - set(KEYS)):
        problems.append("%s: unknown field %r (fields: %s)" % (where, shown(str(key)), ", ".join(KEYS)))
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append("%s: name: required, a non-empty string" % where)
    elif len(name) > NAME_LIMIT:
        problems.append("%s: name: at most %d characters" % (where, NAME_LIMIT))
    for key, value in item.items():
        if isinstance(value, str) and _TEMPLATE_RE.search(value):
            problems.append("%s: %s: holds a Jinja template marker ({{, {%% or {#): a window is data, never a "
                            "template; write the value itself" % (where, shown(str(key))))
    kind = item.get("kind")
    if kind not in KINDS:
        problems.append("%s: kind: must be deny (a freeze) or allow (deploys only inside), got %r"
                        % (where, shown(str(kind))))
    rollbacks = item.get("rollbacks", "allow")
    if rollbacks not in ROLLBACKS:
        problems.append("%s: rollbacks: must be allow or deny, got %r" % (where, shown(str(rollbacks))))
    priority = item.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int):
        problems.append("%s: priority: must be an integer, got %r" % (where, shown(str(priority))))
        priority = 0
    zone_name = item.get("zone")
    if not isinstance(zone_name, str) or not zone_name:
        problems.append("%s: zone: required, an IANA time zone such as Europe/Berlin or UTC" % where)
    else:
        try:
            zoneinfo.ZoneInfo(zone_name)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            problems.append("%s: zone: %r is not an IANA time zone (such as Europe/Berlin, America/New_York, "
                            "UTC)" % (where, shown(zone_name)))
    forms = {}
    for key in ("start", "end"):
        if key not in item:
            problems.append("%s: %s: required" % (where, key))
            continue
        try:
            forms[key] = _bound(item[key])
        except ValueError as exc:
            problems.append("%s: %s: %s" % (where, key, shown(str(exc))))
    days = []
    if "days" in item:
        raw = item["days"]
        if not isinstance(raw, list) or not raw:
            problems.append("%s: days: a non-empty list of weekdays (mon ... sun)" % where)
        else:
            for day in raw:
                try:
                    days.append(_weekday(day))
                except ValueError as exc:
                    problems.append("%s: days: %s" % (where, shown(str(exc))))
    if problems or len(forms) < 2:
        return None, problems
    (start_form, start), (end_form, end) = forms["start"], forms["end"]
    if start_form != end_form:
        return None, ["%s: start and end must have the same form (both dated 'YYYY-MM-DD HH:MM', both weekly "
                      "'Ddd HH:MM', or both daily 'HH:MM' with days), got %s and %s" % (where, start_form, end_form)]
    if start_form == "dated" and end <= start:
        problems.append("%s: end: %s is not after start %s" % (where, end.strftime("%Y-%m-%d %H:%M"),
                                                               start.strftime("%Y-%m-%d %H:%M")))
    if start_form == "weekly" and start == end:
        problems.append("%s: end: equals start (an empty window; a whole week is not a window)" % where)
    if start_form == "daily":
        if not days:
            problems.append("%s: days: required with daily times (e.g. days: [mon, tue, wed, thu, fri])" % where)
        if start == end:
            problems.append("%s: end: equals start (an empty window)" % where)
    elif "days" in item:
        problems.append("%s: days: only with daily times ('HH:MM'); a %s window names its days in start and end"
                        % (where, start_form))
    if problems:
        return None, problems
    return Window(name, kind, zone_name, start_form, start, end, sorted(set(days)), rollbacks, priority), []


def parse(items, now=None):
    """Windows from the inventory's list; raises WindowError naming every malformed window and
    field (including allow/deny windows that overlap at equal priority, looked for from ``now``
    over HORIZON and over every dated window)."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise WindowError(["%s: a list of windows, got %s" % (VAR, type(items).__name__)])
    windows, problems, names = [], [], {}
    for index, item in enumerate(items):
        window, found = _parse_one(index, item)
        problems.extend(found)
        if window is not None:
            if window.name in names:
                problems.append("%s: name: also the name of %s[%d]; names are unique"
                                % (_label(index, item), VAR, names[window.name]))
            names[window.name] = index
            windows.append(window)
    # the well-formed ones are checked against each other even when others are malformed
    problems.extend(conflicts(windows, now or datetime.datetime.now(UTC)))
    if problems:
        raise WindowError(problems)
    return windows


def conflicts(windows, now):
    """An allow and a deny window that overlap at equal priority: nothing says which wins."""
    begin, until = now - datetime.timedelta(days=7), now + HORIZON
    for window in windows:
        if window.form == "dated":
            begin = min(begin, to_utc(window.start, window.zone) - datetime.timedelta(days=7))
            until = max(until, to_utc(window.end, window.zone) + datetime.timedelta(days=7))
    until = min(until, begin + datetime.timedelta(days=366 * 5))
    problems = []
    allows = [w for w in windows if w.kind == "allow"]
    denies = [w for w in windows if w.kind == "deny"]
    for allow in allows:
        spans = allow.occurrences(begin, until)
        for deny in denies:
            if allow.priority != deny.priority:
                continue
            for opened, closed in deny.occurrences(begin, until):
                hit = next(((o, c) for o, c in spans if o < closed and c > opened), None)
                if hit:
                    problems.append(
                        "%s: allow window %s and deny window %s overlap (e.g. from %s) with the same priority %d: "
                        "nothing says which wins; give the one that should win a higher priority (priority: 1)"
                        % (VAR, allow.label(), deny.label(), fmt_utc(max(opened, hit[0])), allow.priority))
                    break
    return problems


# --------------------------------------------------------------------------- deciding
def fmt_utc(moment):
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fmt_local(moment, zone):
    local = moment.astimezone(zone)
    return "%s %s" % (local.strftime("%a %Y-%m-%d %H:%M"), local.tzname())


def _verdict(windows, now):
    """(allowed, deciding window or None, interval) at ``now`` among ``windows``."""
    active = [(w, w.at(now)) for w in windows]
    active = [(w, span) for w, span in active if span]
    if active:
        top = max(w.priority for w, _span in active)
        winners = [(w, span) for w, span in active if w.priority == top]
        denies = [(w, span) for w, span in winners if w.kind == "deny"]
        if denies:
            window, span = max(denies, key=lambda item: item[1][1])
            return False, window, span
        window, span = max(winners, key=lambda item: item[1][1])
        return True, window, span
    if any(w.kind == "allow" for w in windows):
        return False, None, None
    return True, None, None


def _boundaries(windows, now):
    """Every instant after ``now`` (within HORIZON) at which a window opens or closes, in order."""
    moments = set()
    for window in windows:
        for opened, closed in window.occurrences(now, now + HORIZON):
            moments.update(m for m in (opened, closed) if m > now)
    return sorted(moments)


def evaluate(windows, now, rollback=False):
    """Whether a deploy (``rollback``: a rollback) may go now, and why. Returns a dict:
    allowed, window (the deciding window's entry, or None), reason, allowed_from (when a refused
    deploy may go: its entry, or None when not within HORIZON), current (every window in force
    now) and next (the next window to open)."""
    considered = [w for w in windows if not rollback or w.rollbacks == "deny"]
    allowed, window, span = _verdict(considered, now)
    result = {"allowed": allowed, "window": entry(window, span) if window else None, "current": [],
              "next": None, "allowed_from": None, "reason": None, "rollback": bool(rollback)}
    for item in windows:
        current = item.at(now)
        if current:
            result["current"].append(entry(item, current))
    upcoming = []
    for item in windows:
        spans = [s for s in item.occurrences(now, now + HORIZON) if s[0] > now]
        if spans:
            upcoming.append((spans[0][0], item, spans[0]))
    if upcoming:
        _start, item, first = min(upcoming, key=lambda x: (x[0], x[1].name))
        result["next"] = entry(item, first)
    what = "rollbacks" if rollback else "deploys"
    if not allowed:
        for moment in _boundaries(considered, now):
            if _verdict(considered, moment)[0]:
                result["allowed_from"] = moment_entry(moment, (window or considered[0]).zone)
                break
        if window is not None:
            result["reason"] = "change window %s is in force (%s): no %s from %s until %s" % (
                window.label(), window.describe(), what, fmt_local(span[0], window.zone), when(span[1], window.zone))
        else:
            names = ", ".join(w.label() for w in considered if w.kind == "allow")
            result["reason"] = "outside every allow window (%s): %s only inside them" % (names, what)
        if result["allowed_from"] and (window is None or result["allowed_from"]["utc"] != fmt_utc(span[1])):
            result["reason"] += "; %s are allowed again from %s (%s)" % (
                what, result["allowed_from"]["local"], result["allowed_from"]["utc"])
        elif not result["allowed_from"]:
            result["reason"] += "; no allowed moment in the next %d days" % HORIZON.days
    elif window is not None:
        result["reason"] = "inside allow window %s until %s" % (window.label(), when(span[1], window.zone))
    elif rollback and any(w.at(now) for w in windows):
        result["reason"] = "a rollback: the windows in force allow rollbacks (rollbacks: allow)"
    else:
        result["reason"] = "no change window is in force"
    return result


def when(moment, zone):
    """``Mon 2026-12-14 08:00 CET (2026-12-14T07:00:00Z)``"""
    return "%s (%s)" % (fmt_local(moment, zone), fmt_utc(moment))


def moment_entry(moment, zone):
    return {"utc": fmt_utc(moment), "local": fmt_local(moment, zone)}


def entry(window, span):
    """A window occurrence for a plan, a listing or a message."""
    return {"name": window.name, "kind": window.kind, "zone": window.zone_name, "rollbacks": window.rollbacks,
            "priority": window.priority, "definition": window.describe(),
            "start_utc": fmt_utc(span[0]), "end_utc": fmt_utc(span[1]),
            "start_local": fmt_local(span[0], window.zone), "end_local": fmt_local(span[1], window.zone)}


def listing(windows, now, days=LISTING_DAYS):
    """Every occurrence of every window that is in force or opens within ``days``, by start."""
    until = now + datetime.timedelta(days=days)
    rows = []
    for window in windows:
        for span in window.occurrences(now, until):
            rows.append((span[0], window.name, entry(window, span)))
    return [row for _start, _name, row in sorted(rows, key=lambda r: (r[0], r[1]))]
