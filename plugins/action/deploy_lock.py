# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Controller-side deploy lock (see plugins/modules/deploy_lock.py for the interface).

A deploy spans many tasks, so no single process can hold an flock for the whole run. The lock
is therefore a file created atomically (content written to a temp file, then hard-linked to
the lock path: the link fails if the lock exists) that records the holder: user, host, the pid
of the ansible-playbook process (this plugin runs in a worker forked from it, so that is our
parent pid), when, and a random lock id. A lock is stale when its holder ran on this host and
that process is gone, or when it is older than ``stale_after`` seconds; a stale lock is taken
over and the takeover is reported.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import getpass
import json
import os
import socket
import tempfile
import time
import uuid

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

ARGS = dict(
    path=dict(type="path", required=True),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    lock_id=dict(type="str"),
    owner=dict(type="str"),
    purpose=dict(type="str", default="deploy"),
    stale_after=dict(type="int", default=7200),
)


def _pid_alive(pid):
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (TypeError, ValueError):
        return False
    return True


def read_holder(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None
    except ValueError:
        return {"unreadable": True, "since_epoch": os.path.getmtime(path)}


def stale_reason(holder, stale_after, host=None, now=None):
    """Why ``holder`` is stale, or None if it is live."""
    host = host or socket.gethostname()
    now = now or time.time()
    age = now - float(holder.get("since_epoch") or 0)
    if holder.get("unreadable"):
        return "the lock file is unreadable and %ds old" % age if age > 60 else None
    if holder.get("host") == host and not _pid_alive(holder.get("pid")):
        return "its process %s on %s is gone" % (holder.get("pid"), host)
    if age > stale_after:
        return "it is %ds old (stale_after=%ds)" % (age, stale_after)
    return None


def describe(holder):
    if holder.get("unreadable"):
        return "an unknown holder (unreadable lock file)"
    return "%s (pid %s on %s, %s) since %s" % (
        holder.get("owner"), holder.get("pid"), holder.get("host"), holder.get("purpose"), holder.get("since"))


def acquire(path, owner, purpose, stale_after, pid):
    """Create the lock; returns (holder, taken_over_reason). Raises AnsibleActionFail if held."""
    directory = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(directory, exist_ok=True)
    now = time.time()
    holder = {
        "lock_id": uuid.uuid4().hex,
        "owner": owner,
        "pid": pid,
        "host": socket.gethostname(),
        "purpose": purpose,
        "since": datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "since_epoch": now,
    }
    handle, tmp = tempfile.mkstemp(dir=directory, prefix=".deploy-lock-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as out:
            json.dump(holder, out)
            out.flush()
            os.fsync(out.fileno())
        taken_over = None
        for _attempt in range(2):
            try:
                os.link(tmp, path)
                return holder, taken_over
            except FileExistsError:
                current = read_holder(path)
                if current is None:
                    continue
                reason = stale_reason(current, stale_after)
                if not reason:
                    raise AnsibleActionFail(
                        "another %s of this environment is running: the lock %s is held by %s. Wait for it "
                        "to finish; if it is dead, remove the lock file." % (purpose, path, describe(current)))
                taken_over = "took over a stale lock of %s: %s" % (describe(current), reason)
                os.unlink(path)
        raise AnsibleActionFail("could not create the lock %s (it keeps reappearing)" % path)
    finally:
        os.unlink(tmp)


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        validation = ArgumentSpecValidator(ARGS).validate(self._task.args)
        if validation.error_messages:
            raise AnsibleActionFail("deploy_lock: %s" % "; ".join(validation.error_messages))
        args = validation.validated_parameters
        path = args["path"]
        current = read_holder(path)
        result.update(changed=False, path=path)
        if args["state"] == "absent":
            if current is None:
                result["msg"] = "not locked"
                return result
            if args["lock_id"] and current.get("lock_id") != args["lock_id"]:
                result["msg"] = "lock held by %s, not by us: left in place" % describe(current)
                return result
            # lock bookkeeping is not a change of the environment: changed stays false so a
            # repeated deploy still reports no change
            if not self._task.check_mode:
                os.unlink(path)
            result["msg"] = "released"
            return result
        if self._task.check_mode:
            # a check run changes nothing, so it neither takes nor waits for the lock
            result["msg"] = "check mode: lock not taken (held by %s)" % describe(current) if current else "check mode: lock not taken"
            result["lock_id"] = None
            return result
        owner = args["owner"] or os.environ.get("USER") or getpass.getuser()
        holder, taken_over = acquire(path, owner, args["purpose"], args["stale_after"], os.getppid())
        if taken_over:
            self._display.warning(taken_over)
            result["taken_over"] = taken_over
        result.update(lock_id=holder["lock_id"], holder={k: v for k, v in holder.items() if k != "lock_id"},
                      msg="locked by %s" % describe(holder))
        return result
