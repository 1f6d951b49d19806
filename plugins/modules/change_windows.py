#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: change_windows
short_description: Check change windows, and list the ones in force and coming
version_added: 0.5.0
description:
  - Change windows (C(tachyon_change_windows) in an environment's inventory group_vars) say when
    the environment may be deployed; the deploy plan enforces them (see
    docs/docsite/rst/change_windows.rst). This module reads them, checks them and lists them; it
    changes nothing.
  - With O(inventories), checks every C(tachyon_change_windows) written in the group_vars and
    host_vars files under it, as written (before any templating - a window is data, never a
    template), and reports each malformed window naming the file, the window and the field -
    an end before the start, an unknown zone, a bad weekday, an allow and a deny window that
    overlap with no precedence (C(make validate) runs this).
  - With O(windows), lists every window in force now and every one that opens within O(days)
    days, in its zone and in UTC, and says whether a deploy may go now.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.attributes.read_only
  - tachyon.infra.findings
options:
  windows:
    description: The windows to check and list (an environment's C(tachyon_change_windows)).
    type: list
    elements: dict
  inventories:
    description: A directory of inventories whose group_vars and host_vars files are checked.
    type: path
  display_root:
    description: Files are named relative to this directory in findings (default O(inventories)).
    type: path
  days:
    description: How many days ahead the listing looks.
    type: int
    default: 14
  enforce:
    description:
      - With O(windows), fail (naming the window, its end in its zone and in UTC) when they refuse
        a V(deploy) or a V(rollback) now; V(none) only lists. The deploy plan enforces windows
        for deploys and rollbacks to a release; C(rollback.yml)'s rollback with App Platform's
        rollback API, which has no plan, enforces them with V(rollback).
    type: str
    choices: [none, deploy, rollback]
    default: none
"""

EXAMPLES = r"""
- name: The change windows of the next 14 days
  tachyon.infra.change_windows:
    windows: "{{ tachyon_change_windows }}"
  register: windows

- name: Check every inventory's windows (make validate)
  tachyon.infra.change_windows:
    inventories: inventories
    fail_on_findings: false
  register: validate_windows
"""

RETURN = r"""
findings:
  description: Each malformed window, naming the file, the window and the field.
  returned: always
  type: list
  elements: str
report:
  description: The check or the listing as lines for a person.
  returned: always
  type: list
  elements: str
checked:
  description: Files under O(inventories) that define C(tachyon_change_windows), with their number of windows.
  returned: with O(inventories)
  type: dict
now:
  description:
    - The verdict now - C({allowed, reason, current, next, allowed_from}), as in
      M(tachyon.infra.deploy_plan)'s RV(tachyon.infra.deploy_plan#module:windows).
  returned: with O(windows)
  type: dict
upcoming:
  description: Each window occurrence in force now or opening within O(days) days, by start.
  returned: with O(windows)
  type: list
  elements: dict
msg:
  description: A summary.
  returned: always
  type: str
"""

import datetime
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tachyon.infra.plugins.module_utils._common.findings import FAIL_ON_FINDINGS_OPTION
from ansible_collections.tachyon.infra.plugins.module_utils._plan import windows

try:
    import yaml
except ImportError:  # pragma: no cover - pyyaml comes with ansible-core
    yaml = None


def _loader():
    """A safe YAML loader that reads custom tags (!vault, !unsafe) as plain values."""
    class Loader(yaml.SafeLoader):
        pass

    def other(loader, _suffix, node):
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node)
        return loader.construct_mapping(node)
    Loader.add_multi_constructor("!", other)
    return Loader


def _var_files(root):
    for top, dirs, files in os.walk(root):
        dirs.sort()
        parts = os.path.relpath(top, root).split(os.sep)
        if not any(p in ("group_vars", "host_vars") for p in parts):
            continue
        for name in sorted(files):
            if name.endswith((".yml", ".yaml", ".json")) or "." not in name:
                yield os.path.join(top, name)


def check_inventories(root, display_root, now):
    findings, checked = [], {}
    loader = _loader()
    for path in _var_files(root):
        shown = os.path.relpath(path, display_root)
        try:
            with open(path) as handle:
                data = yaml.load(handle, Loader=loader)  # nosec - SafeLoader subclass
        except (OSError, yaml.YAMLError) as exc:
            findings.append("%s: cannot be read as YAML: %s" % (shown, str(exc).splitlines()[0]))
            continue
        if not isinstance(data, dict) or windows.VAR not in data:
            continue
        items = data[windows.VAR]
        if isinstance(items, str):
            findings.append("%s: %s is a string (a template?); windows are data: write the list itself"
                            % (shown, windows.VAR))
            continue
        checked[shown] = len(items) if isinstance(items, list) else 0
        try:
            windows.parse(items, now)
        except windows.WindowError as exc:
            findings.extend("%s: %s" % (shown, problem) for problem in exc.problems)
    return findings, checked


def main():
    module = AnsibleModule(
        argument_spec=dict(
            windows=dict(type="list", elements="dict"),
            inventories=dict(type="path"),
            display_root=dict(type="path"),
            days=dict(type="int", default=windows.LISTING_DAYS),
            **FAIL_ON_FINDINGS_OPTION,
            enforce=dict(type="str", default="none", choices=["none", "deploy", "rollback"]),
        ),
        required_one_of=[("windows", "inventories")],
        supports_check_mode=True,
    )
    p = module.params
    if not 0 < p["days"] <= 366:
        module.fail_json(msg="days must be 1 to 366, got %d" % p["days"], findings=[], report=[])
    now = datetime.datetime.now(windows.UTC)
    result = {"changed": False, "findings": [], "report": []}
    if p["inventories"]:
        if not os.path.isdir(p["inventories"]):
            module.fail_json(msg="inventories %s is not a directory" % p["inventories"], findings=[], report=[])
        findings, checked = check_inventories(p["inventories"], p["display_root"] or p["inventories"], now)
        result["findings"].extend(findings)
        result["checked"] = checked
        result["report"].extend(findings or ["%d file(s) define change windows (%d windows): all well-formed"
                                             % (len(checked), sum(checked.values()))])
    if p["windows"] is not None:
        try:
            parsed = windows.parse(p["windows"], now)
        except windows.WindowError as exc:
            result["findings"].extend(exc.problems)
            result["report"].extend(exc.problems)
            parsed = None
        if parsed is not None:
            verdict = windows.evaluate(parsed, now)
            rows = windows.listing(parsed, now, p["days"])
            result["now"] = verdict
            result["upcoming"] = rows
            result["report"].append("now (%s): %s - %s" % (windows.fmt_utc(now), "deploys may go" if verdict["allowed"]
                                                           else "deploys are REFUSED", verdict["reason"]))
            result["report"].extend("%-5s '%s' %s -> %s (%s -> %s)" % (
                r["kind"], windows.shown(r["name"]), r["start_local"], r["end_local"], r["start_utc"], r["end_utc"])
                for r in rows)
            if not rows:
                result["report"].append("no window in force or opening within %d days" % p["days"])
            if p["enforce"] != "none":
                rollback = p["enforce"] == "rollback"
                verdict = windows.evaluate(parsed, now, rollback=rollback)
                result["now"] = verdict
                if not verdict["allowed"]:
                    result["msg"] = ("%s refused: %s. Nothing was changed; %s" % (
                        p["enforce"], verdict["reason"], "a rollback to a release "
                        "(-e tachyon_rollback_version=...) may go with an incident override (playbooks/override.yml)"
                        if rollback else "an incident override (playbooks/override.yml) lets one release through"))
                    module.fail_json(**result)
    result["msg"] = "; ".join(result["findings"]) if result["findings"] else "\n".join(result["report"])
    if result["findings"] and p["fail_on_findings"]:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
