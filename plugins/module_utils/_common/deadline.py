# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""An overall deadline for one outbound request (a webhook, the GitHub API, a container
registry): the one place every such request goes through.

The timeouts of urllib, ansible's fetch_url/open_url and requests bound each socket operation
(connect, one read), not the request: a server that trickles its answer a byte at a time, each
byte within the read timeout, holds the run - and the deploy lock - for as long as it likes.
``call`` runs the whole request (connect, send, every read of the answer) in a daemon thread and
stops waiting when the deadline passes; the thread is left to die with the module's process,
which ends right after. The message names the deadline and the option that sets it.
``read_capped`` bounds what is read of an answer in size (MAX_ANSWER_BYTES).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

DEFAULT_SECONDS = 10.0
# The most of an answer read (a health payload, a smoke check's JSON): a fast server sending a
# gigabyte within the deadline would otherwise be read whole into memory.
MAX_ANSWER_BYTES = 4 * 1024 * 1024


class AnswerTooLarge(Exception):
    """The answer is larger than its bound; the message names both (never a URL)."""


def read_capped(response, what, limit=MAX_ANSWER_BYTES):
    """The body of ``response`` (anything with ``read(n)``), at most ``limit`` bytes, else
    AnswerTooLarge: what is read of an answer is bounded in size as ``call`` bounds it in time."""
    data = response.read(limit + 1)
    if len(data) > limit:
        raise AnswerTooLarge("%s answered more than %d bytes (%s): it is not read further"
                             % (what, limit, "%g MiB" % (limit / 1048576.0)))
    return data


class DeadlineExceeded(Exception):
    """The request did not finish within its deadline; the message names both (never a URL)."""

    def __init__(self, what, seconds, option=None):
        self.what = what
        self.seconds = seconds
        self.option = option
        super(DeadlineExceeded, self).__init__(
            "%s did not finish within its overall deadline of %g s%s (connect, send and the whole answer; "
            "a server that answers slowly is cut off there)" % (
                what, seconds, " (%s)" % option if option else ""))


def call(fn, seconds=DEFAULT_SECONDS, what="the request", option=None, clock=time.monotonic):
    """``fn()`` if it finishes within ``seconds``; its exception if it raised one; otherwise
    DeadlineExceeded. ``seconds`` must be positive."""
    seconds = float(seconds)
    if seconds <= 0:
        raise ValueError("a deadline must be positive, got %g" % seconds)
    outcome = {}

    def run():
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # pylint: disable=broad-except  # re-raised in the caller
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="deadline: %s" % what)
    worker.daemon = True
    started = clock()
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise DeadlineExceeded(what, seconds, option)
    if "error" in outcome:
        raise outcome["error"]
    outcome.setdefault("elapsed", clock() - started)
    return outcome.get("value")
