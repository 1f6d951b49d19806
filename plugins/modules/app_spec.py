#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see LICENSE)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: app_spec
short_description: Validate a DigitalOcean App Spec, or render its image tags
version_added: 0.1.0
description:
  - O(state=validated) validates an App Spec file against DigitalOcean's vendored AppSpec
    schema plus a small local overlay of the fields and enum values godo's C(apps.gen.go)
    defines and the vendored OpenAPI lacks (app-level C(envs), C(alerts), C(features);
    component C(alerts); C(SCHEDULED) jobs with C(schedule); C(inactivity_sleep); domain
    C(certificate); log destination C(endpoint), C(headers), C(tls_insecure); ...).
    Objects are closed, so a misspelt key is a finding.
  - Also checks the cross-field rules App Platform enforces (unique component names, one
    source per component, C(instance_count) not with C(autoscaling), image C(tag) not with
    C(digest), alert rules only where they apply).
  - "With O(env_schema), also checks every env key of every component and of the app is
    declared in the env schema, that variables the schema marks C(@secret) are
    C(type: SECRET), and that SECRET envs hold no literal value."
  - Each finding gives the JSON path of the offending field (C($.services[0].image.registry_type),
    C($.services[0].http_prot) for an unknown key), what is wrong and, where one applies, a
    hint how to fix it; one finding per defect. Env values and credentials are never echoed,
    whatever the shape of C(envs).
  - O(state=rendered) sets C(image.tag) or C(image.digest) of the listed components (the
    other one is removed) and returns the rendered spec with every SECRET env value
    blanked. It does not write any file.
  - Never changes anything on disk or remotely (C(changed) is always V(false)).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.attributes.read_only
  - tachyon.infra.findings
options:
  src:
    description: Path of the App Spec YAML file.
    type: path
    required: true
    aliases: [path]
  state:
    description:
      - V(validated) checks the spec and fails on findings (see O(fail_on_findings)).
      - V(rendered) returns the spec with the image references of O(images) applied.
    type: str
    choices: [validated, rendered]
    default: validated
  env_schema:
    description:
      - Path of the master env schema (C(env/.env.example)). When given, env keys must be
        declared there. Only with O(state=validated).
    type: path
  images:
    description:
      - "For O(state=rendered), component name to C({tag: <tag>}) or C({digest: sha256:<hex>})."
      - A component that is unknown, has no image source, or is left with neither a tag nor
        a digest is an error naming it.
    type: dict
  display_path:
    description: How findings name the file (default O(src) as given).
    type: str
requirements:
  - jsonschema
  - PyYAML
  - python-dotenv (with O(env_schema))
seealso:
  - module: tachyon.infra.env_schema
  - name: App Spec reference
    description: DigitalOcean's App Spec documentation.
    link: https://docs.digitalocean.com/products/app-platform/reference/app-spec/
"""

EXAMPLES = r"""
- name: Validate the staging spec and its env keys
  tachyon.infra.app_spec:
    src: .do/app.staging.yml
    env_schema: env/.env.example

- name: Render image tags for a deploy (nothing is written)
  tachyon.infra.app_spec:
    src: .do/app.staging.yml
    state: rendered
    images:
      api: {tag: 3f2c1ab}
      workers: {tag: 9e8d7c6}
      db-migrate: {digest: "sha256:{{ '0' * 64 }}"}
  register: rendered
"""

RETURN = r"""
findings:
  description: Validation findings (O(state=validated)).
  returned: always
  type: list
  elements: dict
  contains:
    path: {description: JSON path of the offending node., type: str, sample: "$.region"}
    message: {description: What is wrong (never a secret value)., type: str}
    hint: {description: How to fix it (empty when no hint applies)., type: str}
    check:
      description: >-
        C(schema), C(rule:<id>) (C(rule:unique-names), C(rule:one-source),
        C(rule:count-autoscaling), C(rule:tag-digest), C(rule:alert-scope)), C(env-declared),
        C(env-secret-type) or C(env-secret-value).
      type: str
report:
  description: "One readable line per finding: C(file: path: message (hint: ...))."
  returned: always
  type: list
  elements: str
spec:
  description: The rendered spec, every SECRET env value replaced by an empty string.
  returned: when O(state=rendered)
  type: dict
components:
  description: Names of the spec's components (services, workers, jobs, ...).
  returned: always
  type: list
  elements: str
  sample: [api, workers, db-migrate]
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import yaml  # noqa: F401  pylint: disable=unused-import
    HAS_YAML = True
except ImportError:
    HAS_YAML = False

from ansible_collections.tachyon.infra.plugins.module_utils._common.findings import FAIL_ON_FINDINGS_OPTION, finish
from ansible_collections.tachyon.infra.plugins.module_utils._spec import app_spec as aps


def has_jsonschema():
    """Validation needs jsonschema; rendering does not, so it is imported only to validate."""
    try:
        import jsonschema  # noqa: F401  pylint: disable=unused-import
    except ImportError:
        return False
    return True


def run(params):
    """The module's logic: (result dict, failure message or None)."""
    src = params["src"]
    display = params.get("display_path") or src
    if params.get("state", "validated") == "rendered":
        try:
            rendered = aps.render_file(src, params.get("images") or {}, display)
        except ValueError as exc:
            return None, str(exc)
        return {"changed": False, "findings": [], "report": [], "components": aps.component_names(rendered),
                "spec": rendered}, None
    try:
        spec = aps.load_spec(src)
    except (OSError, ValueError) as exc:
        return None, "cannot load App Spec: %s" % exc
    result = {"changed": False, "findings": [], "report": [],
              "components": aps.component_names(spec)}
    schema = None
    if params.get("env_schema"):
        from ansible_collections.tachyon.infra.plugins.module_utils._validate.env_schema import Schema
        try:
            schema = Schema(params["env_schema"])
        except OSError as exc:
            return None, "cannot read env schema: %s" % exc
    result["findings"] = aps.validate(spec, schema)
    result["report"] = [aps.format_finding(display, f) for f in result["findings"]]
    msg = None
    if result["findings"]:
        msg = "%s: %d App Spec finding(s):\n%s" % (display, len(result["findings"]),
                                                   "\n".join(result["report"]))
    return result, msg


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="path", required=True, aliases=["path"]),
            state=dict(type="str", default="validated", choices=["validated", "rendered"]),
            env_schema=dict(type="path"),
            images=dict(type="dict"),
            display_path=dict(type="str"),
            **FAIL_ON_FINDINGS_OPTION,
        ),
        required_if=[("state", "rendered", ["images"])],
        mutually_exclusive=[("env_schema", "images")],
        supports_check_mode=True,
    )
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    if module.params["state"] == "validated" and not has_jsonschema():
        module.fail_json(msg=missing_required_lib("jsonschema"))
    result, msg = run(module.params)
    finish(module, result, msg)


if __name__ == "__main__":
    main()
