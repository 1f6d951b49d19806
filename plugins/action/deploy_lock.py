# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Controller-side deploy lock and freeze (see plugins/modules/deploy_lock.py for the interface,
plugins/module_utils/_git/lock.py for the protocol).

With ``remote`` the lock is a ref in the hub's git remote, changed by compare-and-swap pushes, so
laptops, GitHub runners and AWX job pods see the same lock. Without it the lock is a file next
to the manifest on this controller (the fallback), and the result says so.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import getpass
import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.tachyon.infra.plugins.module_utils._git import lock as git_lock

ARGS = dict(
    **git_lock.STORE_OPTIONS,
    state=dict(type="str", default="present", choices=["present", "absent", "frozen", "unfrozen", "status"]),
    lock_id=dict(type="str"),
    owner=dict(type="str"),
    purpose=dict(type="str", default="deploy"),
    reason=dict(type="str"),
    run_url=dict(type="str"),
    wait=dict(type="float", default=0),
    poll_interval=dict(type="float", default=2),
    break_glass=dict(type="str"),
    fail_when_frozen=dict(type="bool", default=False),
)


def _environment(args):
    if args["environment"]:
        return args["environment"]
    if args["path"]:
        name = os.path.basename(args["path"])
        for prefix, suffix in ((".deploy-", ".lock"), (".deploy-", ".freeze")):
            if name.startswith(prefix) and name.endswith(suffix):
                return name[len(prefix):-len(suffix)]
    raise AnsibleActionFail("deploy_lock: set environment (the lock is per environment)")


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def _store(self, args):
        try:
            return git_lock.open_store(_environment(args), args["remote"], args["repo_dir"], args["path"],
                                       args["stale_after"])
        except git_lock.LockError as exc:
            raise AnsibleActionFail("deploy_lock: %s" % exc)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        validation = ArgumentSpecValidator(ARGS).validate(self._task.args)
        if validation.error_messages:
            raise AnsibleActionFail("deploy_lock: %s" % "; ".join(validation.error_messages))
        args = validation.validated_parameters
        try:
            return self._run(args, result)
        except git_lock.LockHeld as exc:
            result.update(failed=True, changed=False, msg=str(exc), holder=exc.holder)
            return result
        except git_lock.LockError as exc:
            msg = "deploy_lock: %s" % exc
            if args["state"] == "absent":
                # at the end of a deploy: what the run did stands; say what is left and what to do
                msg = ("deploy_lock: could not release the lock of %s (%s). Whatever this run deployed stands (see "
                       "its record and summary); the lock stays until it expires (tachyon_lock_stale_after) or is "
                       "released: ansible-playbook playbooks/lock.yml -i inventories/%s -e lock_action=status"
                       % (_environment(args), exc, _environment(args)))
            result.update(failed=True, changed=False, msg=msg)
            return result

    def _holder(self, args, kind):
        owner = args["owner"] or os.environ.get("USER") or getpass.getuser()
        run_url = args["run_url"] or git_lock.run_url_from_env()
        # this plugin runs in a worker forked from ansible-playbook: that process holds the lock
        return git_lock.new_holder(kind, owner, args["purpose"], args["stale_after"], run_url=run_url,
                                   pid=os.getppid(), reason=args["reason"])

    def _run(self, args, result):
        environment = git_lock.check_name(_environment(args))
        store, note = self._store(args)
        result.update(changed=False, store=store.description, where=store.where, environment=environment)
        if args["path"]:
            result["path"] = args["path"]
        if note:
            result["fallback"] = note
            if args["state"] == "present":
                # the plan says so too (its deploy lock gate); the line itself at -v
                self._display.verbose("deploy_lock: " + note)
        state = args["state"]
        if state == "status":
            info = git_lock.status(store, environment)
            result.update(info)
            parts = ["%s: %s" % (environment, "FROZEN by %s, reason: %s" % (
                git_lock.describe(info["freeze"]), info["freeze"].get("reason") or "-") if info["frozen"] else "not frozen")]
            parts.append("deploy lock held by %s%s" % (git_lock.describe(info["lock"]),
                                                       " (expired: %s)" % info["expired"] if info["expired"] else "")
                         if info["locked"] else "deploy lock free")
            result["msg"] = "; ".join(parts) + " (in %s)" % store.where
            if args["fail_when_frozen"] and info["frozen"]:
                result["failed"] = True
                result["msg"] = git_lock.freeze_message(environment, info["freeze"], store)
            return result
        if state == "absent":
            if not args["lock_id"]:
                raise AnsibleActionFail("deploy_lock: state=absent needs lock_id (the lock_id returned when it was taken)")
            if self._task.check_mode:
                result["msg"] = "check mode: lock not released"
                return result
            lost = git_lock.warn_takeover(self._display, store, environment, args["lock_id"])
            result["msg"] = git_lock.release(store, environment, args["lock_id"])
            if lost:
                result["taken_over"] = lost
            return result
        if state == "unfrozen":
            if self._task.check_mode:
                result["msg"] = "check mode: freeze not released"
                return result
            changed, old = git_lock.unfreeze(store, environment)
            result.update(changed=changed, released=old)
            result["msg"] = ("released the %s freeze of %s" % (environment, git_lock.describe(old))
                             if changed else "%s was not frozen" % environment)
            return result
        if state == "frozen":
            if self._task.check_mode:
                result["msg"] = "check mode: not frozen"
                return result
            holder = self._holder(args, "freeze")
            changed, current = git_lock.freeze(store, environment, holder)
            result.update(changed=changed, holder=current)
            result["msg"] = ("froze %s: %s, reason: %s" if changed else "%s was already frozen by %s, reason: %s") % (
                environment, git_lock.describe(current), current.get("reason") or "-")
            return result
        # present
        if self._task.check_mode:
            # a check run changes nothing, so it neither takes nor waits for the lock; a freeze
            # is still reported
            info = git_lock.status(store, environment)
            result.update(lock_id=None, frozen=info["frozen"])
            result["msg"] = "check mode: lock not taken%s" % (
                " (held by %s)" % git_lock.describe(info["lock"]) if info["locked"] else "")
            return result
        holder = self._holder(args, "lock")
        taken = git_lock.acquire(store, environment, holder, wait=args["wait"], poll=args["poll_interval"],
                                 break_glass=args["break_glass"],
                                 progress=lambda line: self._display.display("deploy_lock: " + line))
        if taken["taken_over"]:
            self._display.warning(taken["taken_over"])
            result["taken_over"] = taken["taken_over"]
        if taken["break_glass"]:
            note = ("BREAK-GLASS: %s deploys past the freeze of %s (tachyon_break_glass: %s)"
                    % (environment, git_lock.describe(taken["break_glass"]), git_lock.one_line(args["break_glass"])))
            self._display.warning(note)
            result["break_glass"] = note
        result.update(lock_id=taken["token"], holder={k: v for k, v in holder.items() if k != "lock_id"},
                      waited=taken["waited"], contended=taken["contended"], msg="locked by %s in %s" % (git_lock.describe(holder), store.where))
        return result
