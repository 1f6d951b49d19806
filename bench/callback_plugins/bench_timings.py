"""Ansible callback for the deploy benchmark: task start/end times as JSON lines.

Enabled only by bench/deploy.py (ANSIBLE_CALLBACK_PLUGINS=bench/callback_plugins,
ANSIBLE_CALLBACKS_ENABLED=bench_timings, BENCH_TIMINGS_FILE=<path>). It writes nothing
but task names and times.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: bench_timings
type: aggregate
short_description: task timings for bench/ (JSON lines in BENCH_TIMINGS_FILE)
description: Appends {"event", "task", "t"} lines (epoch seconds) to the file named by BENCH_TIMINGS_FILE.
requirements: [enable in ANSIBLE_CALLBACKS_ENABLED]
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timings"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.path = os.environ.get("BENCH_TIMINGS_FILE")

    def _write(self, event, task=None):
        if self.path:
            with open(self.path, "a") as handle:
                handle.write(json.dumps({"event": event, "task": task, "t": time.time()}) + "\n")

    def v2_playbook_on_start(self, playbook):
        self._write("playbook_start")

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._write("task_start", task.get_name())

    def v2_playbook_on_handler_task_start(self, task):
        self._write("task_start", task.get_name())

    def _end(self, result):
        self._write("task_end", result._task.get_name())

    v2_runner_on_ok = v2_runner_on_failed = v2_runner_on_skipped = v2_runner_on_unreachable = _end

    def v2_playbook_on_stats(self, stats):
        self._write("playbook_end")
