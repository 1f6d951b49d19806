# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""The types of the extra vars a run is given, checked against the roles' argument specs
before anything reads them (tachyon.infra.run_guard).

ansible-core validates a role's ``meta/argument_specs.yml`` when the role starts, but with the
conversions AnsibleModule makes for module options: a list given where a string belongs passes
as its text (``-e '{"tachyon_deployed_by": ["a", "b"]}'`` would deploy, then be recorded as
"['a', 'b']"), a string where a list belongs becomes a one-element list, and a value nobody
checked (a new variable missing from the spec) is whatever its first reader makes of it. Here
the same specs are applied strictly, to the extra vars only (what people and workflows type):

- ``str``/``path``: a string (``-e k=v`` always gives one; JSON and YAML can give other types)
  or a whole number (its text, without loss);
- ``bool``: a boolean or one of the strings ansible-core reads as one (``yes``, ``false``, ...);
- ``int``/``float``: a number, or a string that is one (``-e k=30``), never negative (every
  number the roles take is a duration, an interval or a count);
- ``list``/``dict``: a list / a mapping as such (never a string ansible-core would split or
  parse), with ``elements`` checked;
- ``choices``: one of them.

A problem names the variable, what it must be and what it is, never its value (an extra var
may be a secret). Values of ``person_vars`` must also be one name on one line.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess

from ansible.module_utils.common.validation import check_type_bool, check_type_float, check_type_int

from ansible_collections.tachyon.infra.plugins.module_utils._common.patterns import person_problem

KINDS = {"str": "a string", "path": "a string (a path)", "bool": "a boolean (true or false)",
         "int": "a whole number", "float": "a number", "list": "a list", "dict": "a mapping"}
PLURALS = {"str": "strings", "path": "paths", "bool": "booleans", "int": "whole numbers", "float": "numbers",
           "list": "lists", "dict": "mappings"}
CHECKED_TYPES = tuple(KINDS)


def type_name(value):
    """How a message names the type of ``value``."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, (list, tuple)):
        return "list"
    return "null" if value is None else type(value).__name__


def merge_specs(specs_by_source):
    """One table {name: (option, source)} from several argument specs ({source: {name: option}});
    a variable that two sources type differently is left out (not checked) and returned in the
    second value so that the caller can say so."""
    merged, conflicts = {}, set()
    for source, options in sorted(specs_by_source.items()):
        for name, option in (options or {}).items():
            if name in merged and merged[name][0].get("type", "str") != option.get("type", "str"):
                conflicts.add(name)
            merged.setdefault(name, (option, source))
    for name in conflicts:
        merged.pop(name, None)
    return merged, sorted(conflicts)


def _number_problem(value, kind):
    if isinstance(value, bool):
        return "a boolean"
    try:
        number = (check_type_int if kind == "int" else check_type_float)(value)
    except (TypeError, ValueError):
        return "a %s that is not %s" % (type_name(value), "a whole number" if kind == "int" else "a number")
    if number < 0:
        return "a negative number"
    return None


def value_problem(value, option):
    """What is wrong with ``value`` for the argument-spec ``option`` (None when it fits)."""
    kind = option.get("type", "str")
    if kind not in CHECKED_TYPES:
        return None
    if value is None:
        return None
    problem = None
    if kind in ("str", "path"):
        # a whole number is its text without loss (-e '{"preview_pr": 42}'); a float is not (1.10
        # would become "1.1"), nor a list, a mapping or a boolean
        whole = isinstance(value, int) and not isinstance(value, bool)
        problem = None if isinstance(value, str) or whole else "a %s" % type_name(value)
    elif kind == "bool":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            problem = "a number"
        else:
            try:
                check_type_bool(value)
            except TypeError:
                problem = "a %s that is not true or false" % type_name(value)
    elif kind in ("int", "float"):
        problem = _number_problem(value, kind)
    elif kind == "list":
        if not isinstance(value, (list, tuple)):
            problem = "a %s" % type_name(value)
        elif option.get("elements"):
            element = dict(option, type=option["elements"])
            element.pop("elements", None)
            for index, item in enumerate(value):
                inner = value_problem(item, element)
                if inner:
                    return "a list whose element %d is %s" % (index, inner.split(" (")[0])
    elif kind == "dict":
        problem = None if isinstance(value, dict) else "a %s" % type_name(value)
    if problem is None and option.get("choices") and isinstance(value, (str, int, float)):
        if value not in option["choices"]:
            problem = "another value"
    return problem


def type_problems(extra_vars, options, person_vars=()):
    """Messages for every extra var whose value does not fit its option in ``options`` (the
    table of merge_specs), or, in ``person_vars``, is not one name on one line."""
    problems = []
    for name in sorted(extra_vars):
        value = extra_vars[name]
        option, source = options.get(name, (None, None))
        if option is not None:
            problem = value_problem(value, option)
            if problem:
                kind = option.get("type", "str")
                what = KINDS.get(kind, kind)
                if option.get("elements"):
                    what += " of %s" % PLURALS.get(option["elements"], option["elements"])
                if option.get("choices"):
                    what = "one of %s" % ", ".join(str(c) for c in option["choices"])
                problems.append(
                    "extra var %s must be %s (%s), but it is %s. %s"
                    % (name, what, source, problem, hint(name, kind, option)))
                continue
        if name in person_vars and isinstance(value, str):
            problem = person_problem(value, "extra var %s" % name)
            if problem:
                problems.append(problem)
    return problems


def hint(name, kind, option):
    """How to give ``name`` right."""
    if option.get("choices"):
        return "Give one of: %s." % ", ".join(str(c) for c in option["choices"])
    if kind in ("str", "path"):
        return ("Give one string: -e %s=<value> (in JSON or YAML a quoted string; a list or a decimal number "
                "would be stored as its text)." % name)
    if kind == "bool":
        return "Give -e %s=true or -e %s=false." % (name, name)
    if kind in ("int", "float"):
        return "Give 0 or more: -e %s=30." % name
    if kind == "list":
        return "Give a JSON list: -e '{\"%s\": [...]}' (a string is not split into one)." % name
    return "Give a JSON object: -e '{\"%s\": {...}}'." % name


# ---------------------------------------------------------------------------------------------
# identifiers: a value that names something (a pull request, a branch) is checked by what it
# names, not only by its type; it ends up in app names, paths, refs and URLs
# ---------------------------------------------------------------------------------------------
# the extra vars that are identifiers, and what they identify
IDENTIFIERS = {"preview_pr": "pr_or_branch", "tachyon_repo_branch": "branch"}
_DIGITS = "0123456789"


def pr_problem(value):
    """Why ``value`` is not a pull request number (a positive whole number), or None."""
    if isinstance(value, bool):
        return "a boolean, not a pull request number"
    if isinstance(value, int):
        return None if value > 0 else "%d, not a positive number" % value
    if not isinstance(value, str) or not value or any(c not in _DIGITS for c in value):
        return "not a pull request number (a positive whole number such as 42)"
    if value.startswith("0"):
        return "not a pull request number (a positive whole number without leading zeros)"
    return None


def branch_problem(value, runner=None):
    """Why ``value`` is not a branch name by git's own rules (``git check-ref-format --branch``,
    the same check ``git branch`` makes), or None. No ``@{-N}`` shorthand, no leading ``-``."""
    if not isinstance(value, str) or not value:
        return "not a branch name (a non-empty string)"
    if value.startswith("-") or "@{" in value or value != value.strip():
        return "not a branch name by git's rules (git check-ref-format --branch)"
    try:
        proc = (runner or subprocess.run)(["git", "check-ref-format", "--branch", value], capture_output=True,
                                          text=True, timeout=10, check=False)
    except FileNotFoundError:
        return "not checked: git is not installed on the controller (it is needed to check branch names)"
    if proc.returncode != 0 or proc.stdout.strip() != value:
        return "not a branch name by git's rules (git check-ref-format --branch)"
    return None


def identifier_problem(value, kind):
    """Why ``value`` is not an identifier of ``kind`` (``pr``, ``branch``, ``pr_or_branch``: a
    number is a pull request, anything else must be a branch name), or None."""
    if kind == "pr":
        return pr_problem(value)
    if kind == "branch":
        return branch_problem(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return pr_problem(value)
    if isinstance(value, str) and value[:1] in tuple(_DIGITS) and all(c in _DIGITS for c in value):
        return pr_problem(value)
    problem = branch_problem(value)
    return problem and "neither a pull request number (a positive whole number) nor a branch name by git's rules"


IDENTIFIER_HINTS = {"pr": "a positive whole number: -e %s=42",
                    "branch": "a branch name git accepts (`git check-ref-format --branch <name>`): -e %s=main",
                    "pr_or_branch": "the pull request number (-e %s=42) or a branch name git accepts "
                                    "(`git check-ref-format --branch <name>`)"}


def identifier_problems(extra_vars, identifiers=None):
    """Messages for every extra var of ``identifiers`` ({name: kind}) that does not name what it
    must; the value is not repeated (it may be anything)."""
    problems = []
    for name, kind in sorted((identifiers or IDENTIFIERS).items()):
        if name in extra_vars and extra_vars[name] is not None:
            problem = identifier_problem(extra_vars[name], kind)
            if problem:
                problems.append("extra var %s is %s. Give %s." % (name, problem, IDENTIFIER_HINTS[kind] % name))
    return problems


# ---------------------------------------------------------------------------------------------
# -e key=value strings ansible-core splits: the rest of an unquoted value becomes _raw_params
# ---------------------------------------------------------------------------------------------
def raw_params(raw_extra_vars, parse_kv, free_text=()):
    """Read the ``-e`` strings as typed (``context.CLIARGS['extra_vars']``) for words ansible-core
    puts in ``_raw_params`` and would drop: ``-e lock_reason="incident 123"`` reaches ansible as
    ``lock_reason=incident 123`` (the shell took the quotes), which it reads as
    ``lock_reason=incident`` plus ``_raw_params=123``. ``parse_kv``: ansible-core's own
    (ansible.parsing.splitter.parse_kv, controller side: the caller passes it).

    Returns (repaired, problems): for a variable of ``free_text`` that is the only key of its
    ``-e`` string, its whole text (``{"lock_reason": "incident 123"}``); anything else that left
    words behind is a problem saying which quoting works (never the value)."""
    repaired, problems = {}, []
    for raw in raw_extra_vars or ():
        text = raw.strip() if isinstance(raw, str) else ""
        if not text or text[0] in "@{[":
            continue  # a file, JSON or YAML: no key=value splitting
        try:
            parsed = parse_kv(text)
        except Exception:  # pylint: disable=broad-except  # ansible-core reports its own parse errors
            continue
        if "_raw_params" not in parsed:
            continue
        keys = [k for k in parsed if k != "_raw_params"]
        first = keys[0] if len(keys) == 1 else None
        rest = text[len(first) + 1:] if first else ""
        # only a plain "key=several words" is read whole: no quote, backslash or second "=" that
        # would make what the person meant ambiguous
        if first in free_text and text.startswith(first + "=") and not any(c in rest for c in "'\"\\="):
            repaired[first] = rest
            continue
        names = ", ".join(keys) if keys else "(no key)"
        example = keys[0] if keys else "name"
        problems.append(
            "an -e value (keys: %s) has words outside any key=value: ansible-core splits -e key=value at "
            "spaces and drops the rest (_raw_params), and this playbook takes no free arguments. Quote the "
            "value inside the argument: -e '%s=\"several words\"', or give JSON: "
            "-e '{\"%s\": \"several words\"}'." % (names, example, example))
    return repaired, problems
