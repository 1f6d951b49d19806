#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: deploy_summary
short_description: The summary of a deploy run, as markdown for a GitHub job summary and as data for AWX artifacts
version_added: "0.3.0"
description:
  - Builds the summary of one deploy run - release, environment, outcome, deployment id, the SHA
    and digest of every service, the health result, the link to the app, who deployed and
    approved - and renders it as GitHub markdown, with the release notes (the markdown
    C(playbooks/release_notes.yml -e format=markdown) wrote) appended when O(release_notes_path)
    names a file.
  - With O(path) (C($GITHUB_STEP_SUMMARY) in GitHub Actions) the markdown is appended to that
    file. RV(summary) is what the deploy role hands to M(ansible.builtin.set_stats), so AWX shows
    the same as job artifacts.
  - The failure reason is redacted (URLs reduced to scheme, host and path; tokens masked); the
    app link has no query string or user info.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.attributes.no_diff
options:
  environment:
    description: The environment deployed.
    type: str
    required: true
    choices: [staging, production]
  outcome:
    description: How the run ended.
    type: str
    required: true
    choices: [succeeded, failed, rolled_back]
  version:
    description: The release deployed.
    type: str
  services:
    description: Service name to C({sha, tag, digest, image}) as deployed (or attempted).
    type: dict
    default: {}
  deployment_id:
    description: The App Platform deployment of the run.
    type: str
  live_url:
    description: The app's live URL.
    type: str
  health:
    description:
      - The health check's result (C(status), C(elapsed), C(attempts), C(payload)).
      - With C(platform) (component -> C({state, cpu, memory, replicas}), App Platform's own
        component health) and C(timeline) (the app's events of the deploy window, as
        M(tachyon.infra.app_deploy) returns them), the summary shows a component table with CPU and
        memory and the events, those this run did not make marked C(not ours).
    type: dict
    default: {}
  failure:
    description: Why the run failed (redacted before use).
    type: str
  rolled_back_to:
    description: The deployment an automatic rollback went back to.
    type: str
  rollback_of_version:
    description: The release the environment ran before, for a rollback to a version.
    type: str
  deployed_by:
    description: Who ran the deploy.
    type: str
  approved_by:
    description: Who approved it (production).
    type: str
  run_url:
    description: Where the run can be seen.
    type: str
  restarted:
    description: For a rolling restart (C(playbooks/restart.yml)) - the components restarted; the title says so and that the release is kept.
    type: list
    elements: str
    default: []
  release_notes_path:
    description: A markdown file with the release notes to append; a file that cannot be read is a warning (the summary goes on without the notes).
    type: path
  path:
    description:
      - A file to append the markdown to (C($GITHUB_STEP_SUMMARY)); none, only returned.
      - GitHub drops a step summary over 1 MiB, so what is appended is capped under it (counting
        what the file already holds), cut at a line with a closing line that says how much was
        left out and where the full summary is (O(full_path)).
    type: path
  warnings:
    description: What the run must not keep silent though it did not fail it (our deploy lock taken
      over or removed during the run, a lock that could not be released), shown under C(Warnings).
    type: list
    elements: str
    default: []
  override:
    description: The incident override a change window let this deploy through with (the plan's
      RV(tachyon.infra.deploy_plan#module:override) text), shown as a row of its own.
    type: str
  full_path:
    description: Where the full summary is written when it had to be cut (the run uploads it as an
      artifact); default O(path) with C(.full.md) appended.
    type: path
attributes:
  check_mode:
    support: full
    details: In check mode the markdown is returned, not appended to O(path).
"""

EXAMPLES = r"""
- name: Job summary of the deploy
  tachyon.infra.deploy_summary:
    environment: production
    outcome: succeeded
    version: 0.2.0
    services: "{{ deploy_services }}"
    deployment_id: "{{ deploy_result.deployment_id }}"
    live_url: "{{ deploy_result.live_url }}"
    health: "{{ deploy_health }}"
    release_notes_path: "{{ lookup('ansible.builtin.env', 'RUNNER_TEMP') }}/release-notes.md"
    path: "{{ lookup('ansible.builtin.env', 'GITHUB_STEP_SUMMARY') }}"
  register: summary
"""

RETURN = r"""
cut:
  description: When the summary was cut to fit GitHub's limit - C(kept_bytes), C(total_bytes),
    C(full_path); null otherwise.
  returned: success
  type: dict
summary:
  description: The summary as data (environment, outcome, version, rollback_of_version,
    deployment_id, rolled_back_to, live_url, services, health, failure, deployed_by, approved_by,
    run_url, release_notes).
  returned: success
  type: dict
markdown:
  description: The summary as GitHub markdown.
  returned: success
  type: str
path:
  description: The file the markdown was appended to (null without O(path)).
  returned: success
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tachyon.infra.plugins.module_utils._report import summary as ds


def main():
    module = AnsibleModule(
        argument_spec=dict(
            environment=dict(type="str", required=True, choices=["staging", "production"]),
            outcome=dict(type="str", required=True, choices=list(ds.OUTCOMES)),
            version=dict(type="str"),
            services=dict(type="dict", default={}),
            deployment_id=dict(type="str"),
            live_url=dict(type="str"),
            health=dict(type="dict", default={}),
            failure=dict(type="str"),
            rolled_back_to=dict(type="str"),
            rollback_of_version=dict(type="str"),
            deployed_by=dict(type="str"),
            approved_by=dict(type="str"),
            run_url=dict(type="str"),
            release_notes_path=dict(type="path"),
            path=dict(type="path"),
            full_path=dict(type="path"),
            warnings=dict(type="list", elements="str", default=[]),
            restarted=dict(type="list", elements="str", default=[]),
            override=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    notes = None
    if p["release_notes_path"]:
        try:
            with open(p["release_notes_path"]) as handle:
                notes = handle.read()
        except (IOError, OSError) as exc:
            module.warn("release notes not added: %s cannot be read (%s)" % (p["release_notes_path"], exc.strerror))
    keys = ("version", "services", "deployment_id", "live_url", "health", "failure", "rolled_back_to",
            "rollback_of_version", "deployed_by", "approved_by", "run_url", "warnings", "restarted", "override")
    summary = ds.build(p["environment"], p["outcome"], release_notes=notes, **dict((k, p[k]) for k in keys))
    markdown = ds.render(summary, notes)
    changed = False
    cut = None
    if p["path"] and not module.check_mode:
        try:
            already = os.path.getsize(p["path"]) if os.path.exists(p["path"]) else 0
            full_path = p["full_path"] or p["path"] + ".full.md"
            text, cut = ds.cap(markdown, already=already, full_path=os.path.abspath(full_path))
            if cut:
                # the whole summary, for the run's artifact; the step summary says where it is
                with open(full_path, "w") as handle:
                    handle.write(markdown + "\n")
                module.warn("the job summary was cut to %d of %d bytes (GitHub drops step summaries over 1 MiB); "
                            "the full summary is in %s" % (cut["kept_bytes"], cut["total_bytes"], cut["full_path"]))
            with open(p["path"], "a") as handle:
                handle.write(text + "\n")
            changed = True
        except (IOError, OSError) as exc:
            module.fail_json(msg="cannot append the summary to %s: %s (the deploy itself is not affected)"
                             % (p["path"], exc.strerror), summary=summary, markdown=markdown)
    module.exit_json(changed=changed, summary=summary, markdown=markdown, cut=cut,
                     path=os.path.abspath(p["path"]) if p["path"] else None)


if __name__ == "__main__":
    main()
