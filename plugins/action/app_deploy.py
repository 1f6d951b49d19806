# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Controller-side wrapper for app_deploy and app_rollback: prints progress lines live.

The module appends secret-free progress lines to a file the action plugin names; a thread
tails that file and prints each line with Display while the module runs. This only works when
the module runs on the controller (connection local, which is how these modules are used: they
talk to an HTTP API). On any other connection the module runs unchanged and its lines are
printed when it returns.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import tempfile
import threading

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.tachyon.infra.plugins.module_utils._git import lock as git_lock

display = Display()

# "deployment <id>: <PHASE>" as _platform.deployments.wait_for_deployment reports it
_PHASE_LINE = re.compile(r"^deployment (\S+): ([A-Z_]+)$")
# the phases between a deployment's first line and its outcome: shown at -v
_PASSING_PHASES = ("PENDING_BUILD", "BUILDING", "PENDING_DEPLOY", "DEPLOYING")


def _default_verbosity(line, seen):
    """True when ``line`` is shown at default verbosity: a deployment's first phase and its
    outcome, any other line that is not a step (indented); ``seen`` holds the deployments
    already announced."""
    if line.startswith("  "):
        return False
    match = _PHASE_LINE.match(line)
    if not match:
        return True
    first = match.group(1) not in seen
    seen.add(match.group(1))
    return first or match.group(2) not in _PASSING_PHASES


class _Tail(threading.Thread):
    def __init__(self, path, prefix):
        super(_Tail, self).__init__(daemon=True)
        self.path = path
        self.prefix = prefix
        self.stop = threading.Event()
        self.printed = 0
        self.seen = set()

    def _drain(self, handle):
        for line in handle.readlines():
            # a deployment's first phase and its outcome at default verbosity; the phases
            # between and its steps (indented lines) at -v
            text = line.rstrip("\n")
            if _default_verbosity(text, self.seen):
                display.display("%s%s" % (self.prefix, text))
            else:
                display.verbose("%s%s" % (self.prefix, text))
            self.printed += 1

    def run(self):
        with open(self.path) as handle:
            while not self.stop.wait(0.2):
                self._drain(handle)
            self._drain(handle)


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        # the deploy plan's table (tachyon.infra.deploy_plan), shown as the first lines of the
        # deploy it describes; display only, never sent to the module
        for line in args.pop("plan", None) or []:
            display.display("  %s" % line)
        # the deploy lock this deploy holds (controller-side, never sent to the module): checked
        # to be still ours once the deploy went live, before the caller records it
        lock = args.pop("lock", None)
        local = self._play_context.connection in ("local", "ansible.builtin.local")
        tail = None
        path = None
        if local and not self._task.check_mode:
            handle, path = tempfile.mkstemp(prefix="tachyon-progress-", suffix=".log")
            os.close(handle)
            args["progress_file"] = path
            tail = _Tail(path, "  [%s] " % self._task.action.split(".")[-1])
            tail.start()
        try:
            result.update(self._execute_module(module_name=self._task.action, module_args=args, task_vars=task_vars))
        finally:
            if tail:
                tail.stop.set()
                tail.join(timeout=5)
            if path:
                os.unlink(path)
        if not tail:
            for line in result.get("progress_lines") or []:
                display.display("  %s" % line)
        if lock and lock.get("lock_id") and not self._task.check_mode and not result.get("failed"):
            self._lock_still_ours(lock, result)
        return result

    def _lock_still_ours(self, lock, result):
        """Right after the deploy went live and before it is recorded: is the deploy lock
        (``lock``: the deploy_lock task's store options and its lock_id) still ours? A takeover
        is warned here and returned as ``lock_taken_over`` for the record and the summary; a
        lock store that cannot be read is warned (the release at the end says it again and
        fails the run after the summary): the deployment stands either way."""
        environment = lock.get("environment")
        try:
            store, _note = git_lock.open_store(environment, lock.get("remote"), lock.get("repo_dir"),
                                               lock.get("path"), int(lock.get("stale_after") or 7200))
            lost = git_lock.warn_takeover(self._display, store, environment, lock["lock_id"])
        except git_lock.LockError as exc:
            self._display.warning("app_deploy: could not check that the %s deploy lock is still ours: %s"
                                  % (environment, exc))
            return
        if lost:
            result["lock_taken_over"] = lost
