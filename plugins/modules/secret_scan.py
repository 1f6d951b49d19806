#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see LICENSE)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: secret_scan
short_description: Scan a source tree for committed secrets (detect-secrets)
version_added: 0.1.0
description:
  - Scans the files a pull request would commit with detect-secrets' default plugins plus
    the collection's own detectors for DigitalOcean tokens (C(dop_v1_), C(doo_v1_),
    C(dor_v1_) + 64 hex) and GitHub fine-grained tokens (C(github_pat_) + 82 word
    characters).
  - In a git work tree the files are the tracked ones plus untracked files that are not
    ignored (C(git ls-files --cached --others --exclude-standard)); elsewhere every file
    under O(path). Virtualenvs, C(.collections), build output and O(exclude) are skipped.
  - A detect-secrets baseline (O(baseline)) allowlists known findings by file and hashed
    secret; a line may also carry the inline comment C(pragma allowlist secret) (with a colon after C(pragma)).
  - Findings name the file, the line and the kind of secret. The secret text is never
    returned or printed.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.attributes.read_only
  - tachyon.infra.findings
options:
  path:
    description: Root of the tree to scan.
    type: path
    default: .
  baseline:
    description:
      - detect-secrets baseline file (C(detect-secrets scan > .secrets.baseline)). Relative
        paths are taken from O(path). A missing file allowlists nothing.
    type: path
    default: .secrets.baseline
  exclude:
    description:
      - Extra paths (relative to O(path), a directory excludes everything below it) or
        directory names to skip, on top of the defaults.
    type: list
    elements: str
    default: []
  cache_dir:
    description:
      - Directory of a cache (C(secret-scan.json)) of files scanned clean. A file whose path
        and content are unchanged since a clean scan by the same detect-secrets version,
        plugins and module code is not scanned again. Only sha256 digests of clean files are
        stored; files with findings, also allowlisted ones, are scanned every time.
      - Omit it (the default) to scan every file, as CI on a fresh clone does.
    type: path
requirements:
  - detect-secrets
  - git (to list the files of a work tree; without it every file is scanned)
seealso:
  - module: tachyon.infra.env_schema
  - name: detect-secrets
    description: The scanner and its baseline format.
    link: https://github.com/Yelp/detect-secrets
"""

EXAMPLES = r"""
- name: Fail the pull request on any committed secret
  tachyon.infra.secret_scan:
    path: "{{ playbook_dir }}/.."

- name: Collect findings of another checkout without failing
  tachyon.infra.secret_scan:
    path: /srv/checkout
    exclude: [fixtures/generated]
    fail_on_findings: false
  register: scan
"""

RETURN = r"""
findings:
  description: Every finding, sorted by file and line. Never contains the secret.
  returned: always
  type: list
  elements: dict
  contains:
    file: {description: File relative to O(path)., type: str, sample: config/app.yml}
    line: {description: Line number., type: int, sample: 12}
    type: {description: detect-secrets secret type., type: str, sample: DigitalOcean Token}
report:
  description: One readable line per finding.
  returned: always
  type: list
  elements: str
scanned:
  description: Number of files scanned (including those the cache spared).
  returned: always
  type: int
  sample: 120
cached:
  description: Number of files not scanned again because the cache holds them as clean.
  returned: always
  type: int
  sample: 0
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import detect_secrets  # noqa: F401  pylint: disable=unused-import
    HAS_DETECT_SECRETS = True
except ImportError:
    HAS_DETECT_SECRETS = False

from ansible_collections.tachyon.infra.plugins.module_utils._common.findings import FAIL_ON_FINDINGS_OPTION, finish
from ansible_collections.tachyon.infra.plugins.module_utils._validate import secret_scan as ss


def run(params):
    """The module's logic: (result dict, failure message or None)."""
    root = os.path.abspath(params.get("path") or ".")
    if not os.path.isdir(root):
        return None, "%s is not a directory: pass path: (the root of the tree to scan)" % root
    baseline = params.get("baseline") or ""
    if baseline and not os.path.isabs(baseline):
        baseline = os.path.join(root, baseline)
    excludes = tuple(ss.DEFAULT_EXCLUDES) + tuple(params.get("exclude") or ())
    stats = {}
    try:
        findings, scanned = ss.scan(root, baseline=baseline, excludes=excludes,
                                    cache_dir=params.get("cache_dir") or None, stats=stats)
    except ValueError as exc:
        return None, "bad baseline: %s (regenerate it with `detect-secrets scan`)" % exc
    except OSError as exc:
        return None, "cannot use the cache directory %s: %s (pass a writable cache_dir or omit it)" % (
            params.get("cache_dir"), exc)
    report = ss.format_findings(findings)
    result = {"changed": False, "findings": findings, "report": report, "scanned": scanned,
              "cached": stats.get("cached", 0)}
    msg = None
    if findings:
        msg = "%d possible secret(s) in %s:\n%s" % (len(findings), root, "\n".join(report))
    return result, msg


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default="."),
            baseline=dict(type="path", default=".secrets.baseline"),
            exclude=dict(type="list", elements="str", default=[]),
            **FAIL_ON_FINDINGS_OPTION,
            cache_dir=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    if not HAS_DETECT_SECRETS:
        module.fail_json(msg=missing_required_lib("detect-secrets"))
    result, msg = run(module.params)
    finish(module, result, msg)


if __name__ == "__main__":
    main()
