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

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.tachyon.infra.plugins.module_utils._common.escape import terminal
from ansible_collections.tachyon.infra.plugins.module_utils._git import lock as git_lock
from ansible_collections.tachyon.infra.plugins.module_utils._common.times import utcnow
from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest_task

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


def show_plan(lines):
    """The plan's lines on the terminal: they carry outside text (window names, an override's
    reason, a lock holder), made visible, never obeyed (escape.terminal)."""
    for line in lines or []:
        display.display("  %s" % terminal(line))


def _validated(params, spec, **rules):
    """(validated parameters, None) or (None, the errors in one line): ``params`` checked against
    an argument spec the way AnsibleModule checks a module's."""
    validation = ArgumentSpecValidator(spec, **rules).validate(params)
    if validation.error_messages:
        return None, "; ".join(validation.error_messages)
    return validation.validated_parameters, None


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
        show_plan(args.pop("plan", None))
        # the deploy lock this deploy holds (controller-side, never sent to the module): checked
        # to be still ours once the deploy went live, before the caller records it
        lock, error = self._lock_params(args.pop("lock", None))
        if error:
            result.update(failed=True, changed=False, msg="app_deploy: %s; nothing was deployed" % error)
            return result
        # the manifest record of a verified deployment (controller-side, like the lock: the hub's
        # checkout): written here, after the lock check, so a deployment that went live is recorded
        # by the call that made it live (no second module run, no task in between to lose it)
        record = args.pop("record", None)
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
        if record and not self._task.check_mode and not result.get("failed"):
            self._record(record, result)
        return result

    # what the task's record option may hold: release_manifest's options of the record, and two
    # texts for its note; the rest (state, outcome, deployment id, time, note) is this deploy's
    RECORD_KEYS = ("path", "environment", "version", "services", "deployed_by", "approved_by",
                   "rollback_of_version", "lock_timeout")
    NOTE_KEYS = ("break_glass", "override")

    @classmethod
    def _record_params(cls, record, result):
        """(params, error): release_manifest state=recorded parameters, validated by its argument
        spec, for the verified deployment in ``result``; ``record`` is the task's record option."""
        unknown = sorted(set(record) - set(cls.RECORD_KEYS) - set(cls.NOTE_KEYS))
        if unknown:
            return None, "record: unsupported key(s) %s; supported: %s" % (
                ", ".join(unknown), ", ".join(cls.RECORD_KEYS + cls.NOTE_KEYS))
        health = result.get("health") or {}
        note = "%s; healthy after %ss (%s polls)" % (
            "deployed" if result.get("changed") else "already live",
            health.get("elapsed", "?"), health.get("attempts", "?"))
        for label, text in (("", record.get("break_glass")), ("LOCK: ", result.get("lock_taken_over")),
                            ("OVERRIDE: ", record.get("override"))):
            if text and label != "OVERRIDE: ":
                # outside text (a break-glass reason, another run's lock record) never forges the
                # label the delivery metrics count deploys under an override by (metrics.OVERRIDE_RE)
                text = text.replace("OVERRIDE:", "override:")
            if text:
                note += "; %s%s" % (label, text)
        params = dict((name, record[name]) for name in cls.RECORD_KEYS if record.get(name) is not None)
        # App Platform's events in the deploy window (verify.platform_health) go into the history entry
        params.update(state="recorded", outcome="succeeded", note=note, deployment_id=result.get("deployment_id"),
                      health_verified_at=utcnow(), events=health.get("timeline") or None)
        return _validated(params, manifest_task.ARGUMENT_SPEC, required_if=manifest_task.REQUIRED_IF)

    def _record(self, record, result):
        """Record the verified deployment in the manifest (release_manifest state=recorded's own
        code). A record that cannot be written fails the task with went_live, like a failed
        verification: the caller's rescue rolls back and records the failed attempt."""
        params, error = self._record_params(record, result)
        failed = bool(error)
        if params:
            failed, recorded = manifest_task.execute(params)
            error = recorded.get("msg")
        if failed:
            result.update(failed=True, went_live=True,
                          msg="deployment %s is live and verified, but recording it in the manifest failed: %s"
                          % (result.get("deployment_id"), error))
            return
        # a record the manifest did not hold yet is a change even when the deployment was live already
        result["changed"] = bool(result.get("changed") or recorded.get("changed"))
        result["recorded"] = dict((key, recorded[key]) for key in ("changed", "manifest_path", "history_entry")
                                  if key in recorded)

    # the task's lock option: deploy_lock's store options (its argument spec) and the lock_id it returned
    LOCK_SPEC = dict(git_lock.STORE_OPTIONS, lock_id=dict(type="str", no_log=False))

    @classmethod
    def _lock_params(cls, lock):
        """(params, error): the task's ``lock`` option validated (None when not given)."""
        if lock is None:
            return None, None
        if not isinstance(lock, dict):
            return None, "lock: expected a dict of deploy_lock's store options and lock_id, got %s" % type(lock).__name__
        params, error = _validated(lock, cls.LOCK_SPEC)
        return params, error and "lock: %s" % error

    def _lock_still_ours(self, lock, result):
        """Right after the deploy went live and before it is recorded: is the deploy lock
        (``lock``: the deploy_lock task's store options and its lock_id) still ours? A takeover
        is warned here and returned as ``lock_taken_over`` for the record and the summary; a
        lock store that cannot be read is warned (the release at the end says it again and
        fails the run after the summary): the deployment stands either way."""
        environment = lock.get("environment")
        try:
            store, _note = git_lock.open_store(environment, lock["remote"], lock["repo_dir"], lock["path"],
                                               lock["stale_after"])
            lost = git_lock.warn_takeover(self._display, store, environment, lock["lock_id"])
        except git_lock.LockError as exc:
            self._display.warning("app_deploy: could not check that the %s deploy lock is still ours: %s"
                                  % (environment, exc))
            return
        if lost:
            result["lock_taken_over"] = lost
