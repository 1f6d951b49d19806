# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Attribute support shared by the collection's modules.

Used after ``ansible.builtin.action_common_attributes``, which gives each attribute its
description (the way community collections document attributes); these fragments say how far
the modules support them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Modules that only read and report (the validate checks, the repo layout check).
    READ_ONLY = r"""
options: {}
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
attributes:
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
"""
