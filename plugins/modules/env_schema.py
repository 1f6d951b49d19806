#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see LICENSE)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: env_schema
short_description: Validate environment files against the master env schema
version_added: 0.1.0
description:
  - Checks the master schema (C(env/.env.example)) and every environment file against it,
    parsing each with python-dotenv's parser.
  - "Schema annotations, on the comment lines directly above a variable: C(@secret) (a
    credential), C(@exclude <env>, ...) (must not be defined in those environments); and
    once in the header C(@environments <env>, ...) (the known environment names, default
    C(local, staging, production)). Every schema variable must be documented by a comment."
  - "Findings: syntax errors, duplicate keys, keys missing from an environment file, keys
    unknown to the schema, keys defined in an environment that excludes them, secret
    variables holding a literal (or, in development environments, real-looking) value in
    example files, undocumented variables and bad annotations."
  - Every finding names the file, the line and the key. No value is ever returned or
    printed.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.attributes.read_only
  - tachyon.infra.findings
options:
  schema:
    description: Path of the master schema.
    type: path
    default: env/.env.example
  files:
    description:
      - Environment files to check. Default, every C(.env.<environment>.example) next to
        the schema.
    type: list
    elements: dict
    suboptions:
      path:
        description: Path of the environment file.
        type: path
        required: true
      environment:
        description:
          - Environment the file describes. Default, taken from the file name
            (C(.env.staging.example) is C(staging)).
        type: str
      example:
        description:
          - Whether the file is a committed example (secret values are checked) rather
            than a real C(.env) file.
        type: bool
        default: true
  dev_environments:
    description:
      - Environments whose example file may hold throwaway development credentials (for
        the local Docker Compose stack). Their secret variables still may not hold
        real-looking values (known token formats or high-entropy strings).
    type: list
    elements: str
    default: [local]
  root:
    description:
      - Findings show file paths relative to this directory. Default, the current
        directory.
    type: path
requirements:
  - python-dotenv
  - detect-secrets
notes:
  - The upstream bash tooling kept per-environment exclusions in C(validate-env.sh);
    here they are C(@exclude) annotations in the schema itself.
seealso:
  - module: tachyon.infra.app_spec
  - module: tachyon.infra.secret_scan
"""

EXAMPLES = r"""
- name: Validate env/ (schema and every .env.*.example beside it)
  tachyon.infra.env_schema:
    schema: env/.env.example

- name: Collect findings without failing
  tachyon.infra.env_schema:
    schema: env/.env.example
    fail_on_findings: false
  register: env_check

- name: Check a real .env file of the staging environment
  tachyon.infra.env_schema:
    schema: env/.env.example
    files:
      - path: ../tachyon-api/.env
        environment: staging
        example: false
"""

RETURN = r"""
findings:
  description: Every finding, sorted by file and line. Never contains a value.
  returned: always
  type: list
  elements: dict
  contains:
    file: {description: File the finding is in., type: str, sample: env/.env.staging.example}
    line: {description: Line number (null when the key is missing from the file)., type: int, sample: 12}
    key: {description: Variable name (null when the line has none)., type: str, sample: REDIS_HOST}
    check:
      description: Kind of finding.
      type: str
      sample: missing
    message: {description: What is wrong and how to fix it., type: str}
report:
  description: "One readable line per finding: C(file:line: KEY: message)."
  returned: always
  type: list
  elements: str
files:
  description: The files checked with their environment.
  returned: always
  type: list
  elements: dict
  sample: [{path: env/.env.local.example, environment: local}]
variables:
  description: The schema's variables (names and annotations only).
  returned: always
  type: list
  elements: dict
  sample: [{name: REDIS_PASSWORD, secret: true, exclude: []}]
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import dotenv  # noqa: F401  pylint: disable=unused-import
    HAS_DOTENV = True
except ImportError:
    HAS_DOTENV = False
try:
    import detect_secrets  # noqa: F401  pylint: disable=unused-import
    HAS_DETECT_SECRETS = True
except ImportError:
    HAS_DETECT_SECRETS = False

from ansible_collections.tachyon.infra.plugins.module_utils._common.findings import FAIL_ON_FINDINGS_OPTION, finish
from ansible_collections.tachyon.infra.plugins.module_utils._validate import env_schema as es


def _rel(path, root):
    rel = os.path.relpath(os.path.abspath(path), root)
    return path if rel.startswith("..") else rel


def run(params):
    """The module's logic: (result dict, failure message or None)."""
    root = os.path.abspath(params.get("root") or os.getcwd())
    schema_path = params["schema"]
    if not os.path.isfile(schema_path):
        return None, ("env schema %s not found: pass schema: (path of the master "
                      "env/.env.example)" % schema_path)
    schema = es.Schema(schema_path, display=_rel(schema_path, root))
    findings = list(schema.findings)
    checked = []
    files = params.get("files")
    if files is None:
        files = [dict(f, example=True) for f in es.discover(schema_path)]
    for item in files:
        path = item["path"]
        display = _rel(path, root)
        environment = item.get("environment") or es.environment_of(path)
        if not environment:
            return None, ("cannot tell the environment of %s from its name: name it "
                          ".env.<environment>.example or give files[].environment" % display)
        if not os.path.isfile(path):
            findings.append(es.finding(display, None, None, "missing-file",
                                       "%s does not exist: create it from %s"
                                       % (display, schema.display)))
            continue
        checked.append({"path": display, "environment": environment})
        findings.extend(es.check_file(schema, path, environment, display=display,
                                      example=item.get("example", True) is not False,
                                      dev_environments=params.get("dev_environments", ["local"])))
    findings = es.sort_findings(findings)
    result = {
        "changed": False,
        "findings": findings,
        "report": [es.format_finding(f) for f in findings],
        "files": checked,
        "variables": [{"name": n, "secret": schema.variables[n]["secret"],
                       "exclude": schema.variables[n]["exclude"]} for n in schema.order],
    }
    msg = None
    if findings:
        msg = "%d env schema finding(s):\n%s" % (len(findings), "\n".join(result["report"]))
    return result, msg


def main():
    module = AnsibleModule(
        argument_spec=dict(
            schema=dict(type="path", default="env/.env.example"),
            files=dict(type="list", elements="dict", options=dict(
                path=dict(type="path", required=True),
                environment=dict(type="str"),
                example=dict(type="bool", default=True),
            )),
            dev_environments=dict(type="list", elements="str", default=["local"]),
            root=dict(type="path"),
            **FAIL_ON_FINDINGS_OPTION,
        ),
        supports_check_mode=True,
    )
    if not HAS_DOTENV:
        module.fail_json(msg=missing_required_lib("python-dotenv"))
    if not HAS_DETECT_SECRETS:
        module.fail_json(msg=missing_required_lib("detect-secrets"))
    try:
        result, msg = run(module.params)
    except (OSError, UnicodeDecodeError) as exc:
        module.fail_json(msg="cannot read an env file: %s" % exc)
    finish(module, result, msg)


if __name__ == "__main__":
    main()
