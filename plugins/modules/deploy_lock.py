#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: deploy_lock
short_description: Take or release the per-environment deploy lock on the controller
version_added: "0.1.0"
description:
  - Stops a second concurrent deploy (or rollback) of the same environment. The lock is a file
    created atomically on the controller that names its holder (user, host, pid of the
    ansible-playbook process, purpose, since when); a contender fails with a message naming it.
  - A lock is stale, and taken over with a warning, when its holder ran on this host and its
    process is gone, or when it is older than O(stale_after) seconds.
  - Runs entirely in the action plugin on the controller (like M(ansible.builtin.debug)).
  - Taking or releasing the lock reports C(changed=false) - it is bookkeeping, not a change of
    the environment - so a repeated deploy still reports no change.
author:
  - Tachyon platform team (@tachyonapp)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
options:
  path:
    description: The lock file, e.g. C(releases/.deploy-staging.lock) (keep it out of the manifest).
    type: path
    required: true
  state:
    description: V(present) takes the lock, V(absent) releases it.
    type: str
    choices: [present, absent]
    default: present
  lock_id:
    description:
      - With V(absent), release only if the lock carries this id (the RV(lock_id) returned when
        it was taken); a lock taken over by someone else is left alone.
    type: str
  owner:
    description: Who holds the lock. Defaults to C($USER).
    type: str
  purpose:
    description: What the holder does (shown to contenders).
    type: str
    default: deploy
  stale_after:
    description: Seconds after which any lock is considered stale.
    type: int
    default: 7200
attributes:
  check_mode:
    support: full
    details: In check mode the lock is neither taken nor waited for (a check run changes nothing).
  diff_mode:
    support: none
  platform:
    platforms: posix
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
"""

EXAMPLES = r"""
- name: Lock the environment
  tachyon.infra.deploy_lock:
    path: "{{ playbook_dir }}/../releases/.deploy-{{ tachyon_environment }}.lock"
    owner: "{{ tachyon_deployed_by }}"
  register: lock

- name: Release it (in an always block)
  tachyon.infra.deploy_lock:
    path: "{{ lock.path }}"
    state: absent
    lock_id: "{{ lock.lock_id }}"
"""

RETURN = r"""
lock_id:
  description: Id of the lock taken (pass it back when releasing).
  returned: state=present, not in check mode
  type: str
holder:
  description: user, pid, host, purpose, since of the new lock.
  returned: state=present, not in check mode
  type: dict
taken_over:
  description: Set when a stale lock was replaced, saying whose and why.
  returned: when a stale lock was taken over
  type: str
"""
