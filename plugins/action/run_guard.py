# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""run_guard: refuse a run whose extra vars would be evaluated as templates, set the role's
internal variables, or override the environment the inventory gives the host.

It runs before anything reads a user-supplied variable (the first pre_task of the playbooks),
so nothing given with ``-e`` has been templated yet. It reads the extra vars as ansible-core
parsed them from the command line (``ansible.utils.vars.load_extra_vars``: the same cached
dict the variable manager uses) and asks the templar whether each string is a *trusted*
template: ansible-core 2.19 evaluates ``{{ }}``, ``{% %}`` and ``{# #}`` in extra vars (they
are trusted like playbook text), but never in a value marked ``!unsafe`` (YAML) or
``{"__ansible_unsafe": ...}`` (JSON), nor in values read through lookups or returned by
modules. Such untrusted values pass and reach the modules verbatim.

No value is ever printed: a refusal names the variable (and the key path inside it), which is
enough to fix it and cannot leak a secret.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import yaml
from ansible import context
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.parsing.splitter import parse_kv
from ansible.plugins.action import ActionBase
from ansible.utils.vars import load_extra_vars

from ansible_collections.tachyon.infra.plugins.module_utils._common.input_types import (
    identifier_problems, merge_specs, raw_params, type_problems)

# the collection's roles, whose meta/argument_specs.yml type the extra vars
ROLES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "roles")

ARGUMENT_SPEC = dict(
    environments=dict(type="list", elements="str", default=["staging", "production"]),
    require_environment=dict(type="bool", default=True),
    environment_var=dict(type="str", default="tachyon_environment"),
    internal_prefixes=dict(type="list", elements="str", default=[]),
    inventory_vars=dict(type="list", elements="str", default=[]),
    protected_tags=dict(type="dict", default={}),
    check_types=dict(type="bool", default=True),
    person_vars=dict(type="list", elements="str",
                     default=["tachyon_deployed_by", "tachyon_approved_by", "release_created_by"]),
    # variables whose value is free text: `-e lock_reason="incident 123"` (the shell took the
    # quotes) is read whole, and returned in `free_text`
    free_text_vars=dict(type="list", elements="str", default=[]),
    # under AWX (awx_job_id among the extra vars) these cannot be given at launch (a survey answer)
    awx_refused_vars=dict(type="list", elements="str", default=[]),
    # the variables of this collection role's main entry point, validated against its
    # meta/argument_specs.yml as ansible-core's role argument validation would (once the extra
    # vars passed; the playbook imports the role with rolespec_validate: false)
    role=dict(type="str"),
    # the name under which a guard earlier in the play registered its result: when that guard
    # passed in this run, this one has nothing left to check and is skipped (silently)
    unless_passed=dict(type="str"),
)

MARKERS = ("{{", "{%", "{#")


def _label(path):
    out = path[0]
    for part in path[1:]:
        out += "[%d]" % part if isinstance(part, int) else ".%s" % part
    return out


def template_paths(value, path, is_template):
    """Paths (lists of keys) of every string in ``value`` (keys included) that is a trusted
    template according to ``is_template``."""
    found = []
    if isinstance(value, str):
        if is_template(value):
            found.append(path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and is_template(key):
                found.append(path + ["<key %d>" % len(found)])
            found.extend(template_paths(item, path + [key], is_template))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found.extend(template_paths(item, path + [index], is_template))
    return found


def role_specs(roles_dir=ROLES_DIR):
    """{"roles/<role>/meta/argument_specs.yml": options of its main entry point} of every role of
    the collection."""
    specs = {}
    for role in sorted(os.listdir(roles_dir)) if os.path.isdir(roles_dir) else []:
        path = os.path.join(roles_dir, role, "meta", "argument_specs.yml")
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                # libyaml's loader when PyYAML has it: the guard reads every role's spec each run
                data = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
            options = ((data.get("argument_specs") or {}).get("main") or {}).get("options") or {}
            specs["roles/%s/meta/argument_specs.yml" % role] = options
    return specs


def _markers(value):
    return [m for m in MARKERS if m in value] if isinstance(value, str) else []


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        validation = ArgumentSpecValidator(ARGUMENT_SPEC).validate(self._task.args)
        if validation.error_messages:
            return dict(failed=True, changed=False, msg="; ".join(validation.error_messages))
        p = validation.validated_parameters
        extra = load_extra_vars(self._loader)
        earlier = p["unless_passed"] and task_vars.get(p["unless_passed"])
        if (earlier and p["unless_passed"] not in extra and isinstance(earlier, dict)
                and earlier.get("inputs_checked") and not earlier.get("failed")):
            # the play's guard (tags: always) ran and passed; this one runs only when it could not
            # (--skip-tags always), and then refuses that
            return dict(skipped=True, changed=False, skip_reason="the run's inputs were checked by the play's guard")
        problems = []

        # 1. extra vars are data: a trusted template among them is refused, unevaluated
        for name in sorted(extra):
            for path in template_paths(extra[name], [name], self._templar.is_template):
                problems.append(
                    "extra var %s holds Jinja template syntax; values given with -e are data and are "
                    "never evaluated, so the run stops here. Give the literal value, or pass it as "
                    "untrusted data (in JSON the value as {\"__ansible_unsafe\": \"...\"}, in YAML "
                    "!unsafe \"...\"), as scripts/ and the workflows do: it then reaches the modules "
                    "verbatim." % _label(path))

        # 1b. each extra var has the type its role's argument spec gives it, as given (no conversion)
        specs = role_specs() if p["check_types"] or p["role"] else {}
        if p["check_types"]:
            options, _conflicts = merge_specs(specs)
            # (templates are refused above; the environment var is checked against the group below)
            untemplated = {k: v for k, v in extra.items() if k != p["environment_var"]
                           and not template_paths(v, [k], self._templar.is_template)}
            problems.extend(type_problems(untemplated, options, p["person_vars"]))

        # 1c. identifiers name what they must (a pull request is a positive number, a branch a
        # name git accepts): they end up in app names, paths, refs and URLs
        problems.extend(identifier_problems(extra))

        # 1d. words ansible-core split off an unquoted -e value (_raw_params) are never dropped
        # silently: read whole for a free-text variable, refused otherwise
        free_text, raw_problems = raw_params(context.CLIARGS.get("extra_vars") or (), parse_kv,
                                             p["free_text_vars"])
        problems.extend(raw_problems)
        if "_raw_params" in extra and not raw_problems and not free_text:
            problems.append("extra vars hold _raw_params (words outside any key=value), and this playbook "
                            "takes no free arguments; quote the value: -e 'name=\"several words\"'.")

        # 1e. under AWX, what AWX itself knows (the approver of the approval node) is never typed at launch
        if "awx_job_id" in extra:
            for name in sorted(set(extra) & set(p["awx_refused_vars"])):
                problems.append(
                    "extra var %s: under AWX it is read from AWX's API (the AWX user who approved the promotion "
                    "workflow's approval node), never given at launch or in a survey. Remove it from the survey "
                    "and the extra vars of the job template and workflow." % name)

        # 2. the role's own variables are not inputs
        for name in sorted(extra):
            for prefix in p["internal_prefixes"]:
                if name.startswith(prefix):
                    problems.append(
                        "extra var %s: variables starting with %s are computed by the playbook (the "
                        "resolved services, the promotion proof, results); they cannot be given with "
                        "-e. Remove -e %s." % (name, prefix, name))

        # 3. the environment's identity is the inventory's: its app and token, its group
        for name in sorted(set(extra) & set(p["inventory_vars"])):
            problems.append(
                "extra var %s: %s belong to the environment and come only from its "
                "inventory (group_vars of the host's group, or the environment variables they read); "
                "they cannot be given with -e. Remove -e %s." % (
                    name, "its change windows" if name == "tachyon_change_windows" else "the app id and token",
                    name))
        # 3. the environment is the inventory group of the host
        groups = [g for g in task_vars.get("group_names", []) if g in p["environments"]]
        host = task_vars.get("inventory_hostname", "?")
        environment = groups[0] if len(groups) == 1 else None
        var = p["environment_var"]
        if p["require_environment"] and environment is None:
            problems.append(
                "host %s is in %s of the inventory groups %s; the environment a run deploys is the "
                "inventory group of its host. Use -i inventories/staging or -i inventories/production, "
                "or limit the sandbox: -i inventories/sandbox -l staging."
                % (host, "none" if not groups else "several (%s)" % ", ".join(groups),
                   ", ".join(p["environments"])))
        elif environment is not None:
            if var in extra and extra[var] != environment:
                problems.append(
                    "extra var %s=%s disagrees with the inventory: host %s is in inventory group %s, "
                    "and the environment a run deploys is decided by that group, never by -e. Remove "
                    "-e %s; to deploy another environment use its inventory (-i inventories/<env>) or "
                    "host (-l <env> in the sandbox)."
                    % (var, extra[var] if isinstance(extra[var], str) and not _markers(extra[var])
                       else "<given>", host, environment, var))
            elif var in task_vars:
                effective = self._templar.template(task_vars[var])
                if effective != environment:
                    problems.append(
                        "%s is %r for host %s, which is in inventory group %s: the variable must not "
                        "disagree with the group (remove it from host_vars/group_vars; the deploy "
                        "role derives it from the group)." % (var, effective, host, environment))

        # 4. the safety checks cannot be skipped
        skipped = set(context.CLIARGS.get("skip_tags") or ())
        protected = {"always"} | set((p["protected_tags"] or {}).get(environment or "", []) or [])
        for tag in sorted(skipped & protected):
            problems.append(
                "--skip-tags %s would skip a safety check of %s (the inventory check, the manifest read, "
                "the promotion check or the approver check); remove it from --skip-tags."
                % (tag, environment or "this run"))
        if context.CLIARGS.get("start_at_task"):
            problems.append(
                "--start-at-task would skip the checks before that task; run the playbook from the "
                "start (without --start-at-task).")

        if not problems and p["role"]:
            problems.extend(self._role_problems(p["role"], specs, task_vars))
        if problems:
            return dict(failed=True, changed=False, environment=environment,
                        msg="refused before deploying or writing anything:\n  - " + "\n  - ".join(problems))
        return dict(changed=False, environment=environment, checked_extra_vars=sorted(extra), free_text=free_text,
                    inputs_checked=True,
                    msg="inputs checked: %d extra var(s), environment %s from the inventory"
                        % (len(extra), environment or "-"))

    def _role_problems(self, role, specs, task_vars):
        """ansible-core's role argument validation (validate_argument_spec) of the role's main
        entry point: its variables as the play sees them (templated, now that the extra vars are
        known to be data), against roles/<role>/meta/argument_specs.yml."""
        spec = specs.get("roles/%s/meta/argument_specs.yml" % role)
        if spec is None:
            return ["run_guard: role %s has no meta/argument_specs.yml in this collection" % role]
        given = self._templar.template({name: task_vars[name] for name in spec if name in task_vars})
        result = ArgumentSpecValidator(spec).validate(given, validate_role_argument_spec=True)
        return ["role %s: %s (roles/%s/meta/argument_specs.yml)" % (role, message, role)
                for message in result.error_messages]
