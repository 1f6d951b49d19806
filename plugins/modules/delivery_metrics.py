#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: delivery_metrics
short_description: The four DORA delivery measures per environment, from the release manifest's history and the commit dates
version_added: "0.4.0"
description:
  - Reads the release manifest (legacy manifests upgraded in memory) and computes, per
    environment, over the window from O(since) to O(window_end) (both inclusive; attempts are counted
    by their recorded C(at)), each figure with the count it was computed from.
  - B(Deployment frequency) - C(deployments) = the environment's C(succeeded) attempts in the
    window, except rollbacks to a version (attempts recording C(rollback_of_version) - they
    redeployed an earlier release), counted apart in C(rollbacks_to_version); C(per_day) =
    deployments / window length in days; C(per_week) = per_day * 7.
  - B(Lead time for changes) - for each C(succeeded) attempt in the window and each service it
    deployed, the commits it brought to the environment, those reachable from the deployed SHA
    and not from the SHA the environment ran before (C(git log old..new) on a bare fetch of the
    service's remote; the deployed commit alone when the environment ran nothing known of that
    service before). What an environment runs is replayed over the whole history (a succeeded
    attempt sets it, a C(rolled_back) one or a rollback to a version sets the services it returned
    to and delivers nothing, a failed one changes nothing). A commit counts once per environment, at its first delivery. Lead time of a commit
    = the attempt's C(at) - the commit's committer date; C(median_seconds) (the DORA figure),
    C(mean_seconds), C(min_seconds), C(max_seconds) over C(commits); C(deployments) = the
    attempts that delivered at least one commit. Needs O(repos); a SHA the remote does not have
    counts in C(missing_commits).
  - B(Change failure rate) - C(failures) / C(attempts) - the environment's C(failed) or
    C(rolled_back) attempts and rollbacks to a version in the window over all its attempts in the
    window (a manual rollback is recorded as C(rolled_back) and counts as a failure). null without
    attempts.
  - B(Time to restore) - an incident starts at a C(failed) or C(rolled_back) attempt after a
    success (or at the start of the history) and ends at the environment's next C(succeeded)
    attempt (a rollback to a version included, which opens none itself); failures in between
    belong to it. Time to restore = end - start. Incidents that
    start in the window count - C(restored) ones give C(median_seconds) and C(mean_seconds),
    C(open) ones are not restored yet.
  - Remote URLs are never returned or printed (they may carry a token); errors name the service.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.manifest
  - tachyon.infra.manifest.history
  - tachyon.infra.metrics
  - tachyon.infra.attributes.no_diff
attributes:
  check_mode:
    support: full
    details: Reads only (the fetch into the cache is not a change to anything managed); the same result in check mode.
seealso:
  - module: tachyon.infra.release_history
  - module: tachyon.infra.release_report
"""

EXAMPLES = r"""
- name: Delivery metrics of the last 30 days
  tachyon.infra.delivery_metrics:
    manifest_path: "{{ playbook_dir }}/../releases/manifest.json"
    since: 30d
    repos:
      tachyon-api: https://github.com/tachyonapp/tachyon-api.git
      tachyon-workers: https://github.com/tachyonapp/tachyon-workers.git
      tachyon-db-migrate: https://github.com/tachyonapp/tachyon-db.git
  register: metrics

- name: Show them
  ansible.builtin.debug:
    msg: "{{ metrics.text }}"
"""

RETURN = r"""
metrics:
  description:
    - C(window) (C(since), C(until), C(days), C(given)) and C(environments), per environment
      C(deployment_frequency) (C(deployments), C(rollbacks_to_version), C(days), C(per_day), C(per_week)),
      C(lead_time) (C(available), C(commits), C(deployments), C(missing_commits),
      C(median_seconds), C(mean_seconds), C(min_seconds), C(max_seconds), C(reason) or
      C(problems) when not everything could be read), C(change_failure_rate) (C(attempts),
      C(failures), C(rate)), C(time_to_restore) (C(incidents), C(restored), C(open),
      C(median_seconds), C(mean_seconds)).
  returned: success
  type: dict
text:
  description: The same for a terminal, each figure with the count it was computed from.
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tachyon.infra.plugins.module_utils._report import metrics as dm
from ansible_collections.tachyon.infra.plugins.module_utils._release.manifest import ManifestError


def main():
    module = AnsibleModule(
        argument_spec=dict(dm.ARGUMENT_SPEC),
        supports_check_mode=True,
    )
    try:
        result = dm.from_params(module.params)[4]
    except (dm.MetricsError, ManifestError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, metrics=result, text=dm.text(result))


if __name__ == "__main__":
    main()
