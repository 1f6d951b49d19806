#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: run_guard
short_description: Refuse extra vars that would run as templates or override the inventory's environment
version_added: "0.2.0"
description:
  - The first task of C(playbooks/deploy.yml), C(playbooks/release.yml) and the rollback. It
    runs before any user-supplied variable is read, and fails, naming each variable and never
    printing a value, when
  - an extra var (C(-e key=value), C(-e JSON), C(-e @file)) holds Jinja template syntax
    (C({{), C({%), C({#)) that ansible-core would evaluate. ansible-core 2.19 trusts extra vars
    as templates; values marked C(!unsafe) (YAML) or given as a JSON object whose one key is
    C(__ansible_unsafe), values
    read through lookups (environment variables, files) and values returned by modules are not
    trusted and pass, reaching the modules verbatim. The wrappers in C(scripts/), the GitHub
    workflows and AWX (which marks launch-time variables and survey answers C(!unsafe)) pass
    their inputs that way.
  - an extra var starts with one of O(internal_prefixes) (the playbook's computed variables, such
    as the resolved services or the promotion result, which extra vars would otherwise override).
  - an extra var is one of O(inventory_vars) (the app id and token of the environment, which
    only its inventory gives).
  - the host is not in exactly one of the O(environments) inventory groups (with
    O(require_environment)), or O(environment_var) is given (extra var, host_vars, group_vars)
    with a value other than that group.
  - (with O(check_types)) an extra var does not have the type the collection's roles give it in
    their C(meta/argument_specs.yml), taken as given - a list or a number where a string belongs,
    a string where a list or a mapping belongs, a boolean that is not C(true)/C(false)/C(yes)/C(no),
    a negative or non-numeric number, a value outside C(choices) - or one of O(person_vars) is not
    one name on one line. ansible-core's own role argument validation converts such values (a
    list becomes its text), so without this a deploy could go out and only its record fail.
  - an identifier does not name what it must - C(preview_pr) a pull request (a positive whole
    number) or a branch name git accepts (C(git check-ref-format --branch)), C(tachyon_repo_branch)
    a branch name git accepts - so C(42/../1) or C(-x) never reaches an app name, a path or a ref.
  - a C(-e key=value) string left words outside any key=value (ansible-core puts them in
    C(_raw_params) and drops them) - C(-e lock_reason="incident 123") reaches ansible-core as
    C(lock_reason=incident 123) once the shell took the quotes. For a variable of O(free_text_vars)
    that is the only key of its C(-e) string, the whole text is read (returned in RV(free_text));
    anything else is refused with the quoting that works (C(-e 'key="several words"')).
  - C(--skip-tags) names C(always) or one of O(protected_tags) for the environment, or
    C(--start-at-task) is used.
  - Runs entirely in the action plugin on the controller (like M(ansible.builtin.assert)).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - tachyon.infra.attributes.controller
options:
  environments:
    description: Inventory groups that name an environment.
    type: list
    elements: str
    default: [staging, production]
  require_environment:
    description: The host must be in exactly one of O(environments).
    type: bool
    default: true
  environment_var:
    description: The variable that must agree with the host's environment group.
    type: str
    default: tachyon_environment
  internal_prefixes:
    description: Extra vars whose names start with one of these are refused.
    type: list
    elements: str
    default: []
  inventory_vars:
    description: Variables only the inventory may set; extra vars setting them are refused.
    type: list
    elements: str
    default: []
  protected_tags:
    description: Environment name to the tags that C(--skip-tags) may not skip there.
    type: dict
    default: {}
  check_types:
    description: Check the types of the extra vars against the roles' argument specs (see above).
    type: bool
    default: true
  person_vars:
    description: Extra vars that name a person (one name on one line, as the manifest records it).
    type: list
    elements: str
    default: [tachyon_deployed_by, tachyon_approved_by, release_created_by]
  free_text_vars:
    description:
      - Extra vars whose value is free text (a reason). C(-e name=several words) - what the shell
        makes of C(-e name="several words") - gives the whole text in RV(free_text) instead of
        being refused; the playbook reads it from there (extra vars cannot be overridden).
    type: list
    elements: str
    default: []
  awx_refused_vars:
    description:
      - Under AWX (C(awx_job_id) among the extra vars), these extra vars are refused - what AWX's API
        says (the production approver, tachyon.infra.awx_approval) is never typed at launch.
    type: list
    elements: str
    default: []
  role:
    description:
      - A role of this collection whose main entry point's variables are validated, once the extra
        vars passed, against its C(meta/argument_specs.yml) - what ansible-core's role argument
        validation does, folded into this task (the playbook imports the role with
        C(rolespec_validate=false)). A variable of the wrong type, or a required one missing,
        is refused naming it.
    type: str
  unless_passed:
    description:
      - The name a guard earlier in the play registered its result under. When that guard ran and
        passed in this run, this one is skipped (it prints nothing). A role repeats its guard
        untagged this way, so that C(--skip-tags always), which skips the play's guard, is still
        refused. A variable of that name given with C(-e) is never taken for a passed guard.
    type: str
attributes:
  check_mode:
    support: full
    details: Only checks; the same in check mode.
"""

EXAMPLES = r"""
- name: Check the run's inputs before anything reads them
  tachyon.infra.run_guard:
    internal_prefixes: [deploy_]
    inventory_vars: [tachyon_do_app_id, tachyon_do_token]
    protected_tags:
      production: [promotion_check]
  tags: [always]
"""

RETURN = r"""
environment:
  description: The environment of the host (its inventory group), or null.
  returned: always
  type: str
  sample: production
inputs_checked:
  description: True when every check passed (what O(unless_passed) looks for).
  returned: success
  type: bool
checked_extra_vars:
  description: Names of the extra vars that were checked.
  returned: success
  type: list
  elements: str
free_text:
  description: The whole text of each O(free_text_vars) variable ansible-core split at a space.
  returned: success
  type: dict
  sample: {lock_reason: incident 123}
"""
