# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Who maintains the collection's modules and how far they support the common attributes.

Every module lists exactly one of these fragments, after
``ansible.builtin.action_common_attributes`` (which gives each attribute its description, the way
community collections document attributes): the author list is written here once, not in each
module. ``tachyon.infra.attributes`` alone says the author and the platform; the module then
says itself how it supports check and diff mode.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Each fragment is one string literal (ansible-test's yamllint sanity test reads the literals; an
# expression such as AUTHOR + r"""...""" makes it fail), so the author and platform lines stand in each.


class ModuleDocFragment(object):
    # Modules that say themselves how they support check and diff mode.
    DOCUMENTATION = r"""
options: {}
author:
  - Tachyon platform team (@tachyonapp)
attributes:
  platform:
    platforms: posix
"""

    # Modules that only read and report (the validate checks, the repo layout check).
    READ_ONLY = r"""
options: {}
author:
  - Tachyon platform team (@tachyonapp)
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

    # Modules that do not report a diff and run on any POSIX controller (most of them): each
    # module still says how it supports check mode.
    NO_DIFF = r"""
options: {}
author:
  - Tachyon platform team (@tachyonapp)
attributes:
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
"""

    # Modules that run wholly in their action plugin on the controller (the deploy lock, the run
    # guard; after ``ansible.builtin.action_common_attributes.flow``): no diff, no async, per host.
    CONTROLLER = r"""
options: {}
author:
  - Tachyon platform team (@tachyonapp)
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
"""
