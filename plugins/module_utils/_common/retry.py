# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see LICENSE)
"""Pauses between retries: jitter (so that runs waiting on the same thing do not retry in step)
and a jittered exponential backoff. Pure functions returning seconds; the caller sleeps.
Standard library only.
"""
from __future__ import annotations

import random


def jitter(seconds, rng=random.random):
    """``seconds`` jittered to 0.5x-1.5x."""
    return seconds * (0.5 + rng())


def backoff(attempt, first=0.1, cap=4.0, rng=random.random):
    """The pause before retry ``attempt`` (1, 2, ...): ``first`` doubled per attempt, at most
    ``cap``, jittered (0.5x-1.5x)."""
    return jitter(min(cap, first * 2 ** max(0, attempt - 1)), rng)
