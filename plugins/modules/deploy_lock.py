#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: deploy_lock
short_description: Take or release the deploy lock of an environment, freeze it, or show both
version_added: "0.1.0"
description:
  - Stops a second concurrent deploy (or rollback) of the same environment, wherever it runs.
  - With O(remote) the lock is a ref of the hub's git remote (the remote the manifest is
    published to), C(refs/tachyon/locks/<environment>), pointing at a commit whose trailers
    record holder, host, pid, purpose, run URL (the GitHub Actions run from C(GITHUB_SERVER_URL),
    C(GITHUB_REPOSITORY), C(GITHUB_RUN_ID), or O(run_url), e.g. the AWX job), started and
    expires-at. It is created and deleted with compare-and-swap pushes
    (C(git push --force-with-lease=<ref>:<expected>), an empty expected value when creating), so
    of two runners racing exactly one wins; laptops, GitHub runners and AWX job pods all see it.
  - Without O(remote) the lock is the file O(path) on the controller (the fallback; it protects
    only runs on this controller, and the result says so in RV(fallback)).
  - A held lock fails the task at once, naming the holder and what it does, unless O(wait)
    seconds are given; then it polls (jittered, every about O(poll_interval) seconds) printing a
    progress line, until the lock is free or the wait ends.
  - A lock is expired, and taken over with a warning naming the old holder, after its
    expires-at (taken + O(stale_after) seconds), so a killed run's lock does not block for ever;
    a file lock also when its holder ran on this host and its process is gone.
  - A freeze (O(state=frozen)) is a second ref, C(refs/tachyon/freezes/<environment>) (or the
    file O(path) with C(.lock) replaced by C(.freeze)), that never expires; while it exists
    O(state=present) fails naming who froze the environment, why and since when, and how to
    release it, unless O(break_glass) gives a reason (the override is returned in
    RV(break_glass) so the run can record it).
  - Runs entirely in the action plugin on the controller (like M(ansible.builtin.debug)); git
    runs with C(GIT_TERMINAL_PROMPT=0), and credentials in a remote URL are masked in messages.
  - Taking or releasing the lock reports C(changed=false) - it is bookkeeping, not a change of
    the environment - so a repeated deploy still reports no change. Freezing and releasing a
    freeze report C(changed).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - tachyon.infra.attributes.controller
options:
  remote:
    description:
      - The hub's git remote (a remote name of O(repo_dir), such as C(origin), or a URL). Unset
        or empty, the local file O(path) is used.
    type: str
  repo_dir:
    description: The hub checkout git runs in (it knows O(remote)). Default the current directory.
    type: path
  environment:
    description: The environment the lock is for (names the ref). Default taken from O(path) (C(.deploy-<env>.lock)).
    type: str
  path:
    description: The local lock file, e.g. C(releases/.deploy-staging.lock), used when O(remote) is not set.
    type: path
  state:
    description:
      - V(present) takes the deploy lock, V(absent) releases it, V(frozen) freezes the
        environment, V(unfrozen) releases the freeze, V(status) shows lock and freeze.
      - With V(absent), a lock another holder took over (or removed) during the run is reported
        as a warning and in RV(taken_over), never silently (M(tachyon.infra.app_deploy) checks
        the same once the deployment is live, before the record).
    type: str
    choices: [present, absent, frozen, unfrozen, status]
    default: present
  lock_id:
    description:
      - With V(absent), the RV(lock_id) returned when the lock was taken; a lock taken over by
        someone else is left alone.
    type: str
  owner:
    description: Who holds the lock. Defaults to C($USER).
    type: str
  purpose:
    description: What the holder does (shown to contenders).
    type: str
    default: deploy
  reason:
    description: Why (recorded with a freeze and shown by V(status)).
    type: str
  run_url:
    description: Where the run can be seen (an AWX job URL). Default the GitHub Actions run, when in one.
    type: str
  stale_after:
    description: Seconds after which a lock expires.
    type: int
    default: 7200
  wait:
    description: Seconds to wait for a held lock (0 fails at once). A freeze is never waited for.
    type: float
    default: 0
  poll_interval:
    description: Mean seconds between two looks at a held lock while waiting (jittered 0.5x-1.5x).
    type: float
    default: 2
  break_glass:
    description: A reason to deploy past a freeze; empty refuses a frozen environment.
    type: str
  fail_when_frozen:
    description: With V(status), fail when the environment is frozen (a check before a run that takes no lock).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: In check mode nothing is taken, released or waited for (a check run changes nothing).
requirements:
  - git (with O(remote))
"""

EXAMPLES = r"""
- name: Lock the environment in the hub's git remote
  tachyon.infra.deploy_lock:
    remote: origin
    repo_dir: "{{ playbook_dir }}/.."
    environment: staging
    path: "{{ playbook_dir }}/../releases/.deploy-staging.lock"
    owner: "{{ tachyon_deployed_by }}"
    purpose: deploy of staging
    wait: 300
  register: lock

- name: Release it (in an always block)
  tachyon.infra.deploy_lock:
    remote: origin
    repo_dir: "{{ playbook_dir }}/.."
    environment: staging
    state: absent
    lock_id: "{{ lock.lock_id }}"

- name: Freeze production during an incident
  tachyon.infra.deploy_lock:
    remote: origin
    environment: production
    state: frozen
    reason: incident 123, database failover
"""

RETURN = r"""
lock_id:
  description: Id of the lock taken (the lock commit, or the lock file's lock id); pass it back when releasing.
  returned: state=present, not in check mode
  type: str
holder:
  description: holder, host, pid, purpose, run_url, started, expires_at (and reason) of the new lock or freeze.
  returned: state=present or frozen, not in check mode
  type: dict
taken_over:
  description:
    - With V(present), set when an expired lock was replaced, naming its holder and why.
    - With V(absent), what happened to our lock when another holder took it over or removed it
      during the run (naming the holder); absent when it was still ours.
  returned: when a lock was taken over
  type: str
break_glass:
  description: The freeze overridden by O(break_glass), as a sentence to record in the history.
  returned: when a freeze was overridden
  type: str
fallback:
  description: Says that the local lock file is used because no remote is configured.
  returned: without O(remote)
  type: str
waited:
  description: Seconds spent waiting for the lock.
  returned: state=present, not in check mode
  type: float
contended:
  description: Whether another run held the lock meanwhile (it was waited for, or its stale lock taken over).
  returned: state=present, not in check mode
  type: bool
locked:
  description: Whether the deploy lock is held (V(status)).
  returned: state=status
  type: bool
frozen:
  description: Whether the environment is frozen (V(status)).
  returned: state=status
  type: bool
lock:
  description: The deploy lock's holder (V(status)).
  returned: state=status
  type: dict
freeze:
  description: The freeze's holder, with reason and since when (V(status)).
  returned: state=status
  type: dict
where:
  description: Where the lock lives (the remote, URL credentials masked, or this controller's directory).
  returned: always
  type: str
"""
