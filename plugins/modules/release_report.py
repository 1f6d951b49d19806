#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: release_report
short_description: Write the one-file HTML release report - what runs where, the releases, a deployment timeline, the delivery metrics
version_added: "0.4.0"
description:
  - Writes one self-contained HTML file (inline CSS, inline SVG, a few lines of inline JS; no
    external asset, no server) from the release manifest - what runs in each environment now,
    the release list of M(tachyon.infra.release_history), a timeline of every deploy attempt per
    environment coloured by outcome, App Platform's events in the deploy windows (the newest 20
    attempts that recorded them, other parties' events marked not ours), and the delivery metrics
    of M(tachyon.infra.delivery_metrics) (same options, same definitions).
  - Every value taken from the manifest is HTML-escaped - a version or a name holding markup
    renders as text.
  - The file is replaced atomically, and only when its content changes.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.manifest
  - tachyon.infra.manifest.history
  - tachyon.infra.metrics
  - tachyon.infra.attributes.no_diff
options:
  dest:
    description: The HTML file to write (its folder is created).
    type: path
    required: true
  title:
    description: The page title.
    type: str
    default: Tachyon releases
attributes:
  check_mode:
    support: full
    details: Says whether the file would change; writes nothing.
seealso:
  - module: tachyon.infra.release_history
  - module: tachyon.infra.delivery_metrics
"""

EXAMPLES = r"""
- name: Write the release report
  tachyon.infra.release_report:
    dest: "{{ playbook_dir }}/../build/report.html"
    manifest_path: "{{ playbook_dir }}/../releases/manifest.json"
    since: 30d
"""

RETURN = r"""
dest:
  description: The report file (absolute).
  returned: success
  type: str
bytes:
  description: Its size.
  returned: success
  type: int
releases:
  description: How many releases it lists.
  returned: success
  type: int
attempts:
  description: How many deploy attempts its timeline shows.
  returned: success
  type: int
metrics_text:
  description: The delivery metrics as text (as M(tachyon.infra.delivery_metrics) prints them).
  returned: success
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tachyon.infra.plugins.module_utils._report import metrics as dm
from ansible_collections.tachyon.infra.plugins.module_utils._release import revisions as mr
from ansible_collections.tachyon.infra.plugins.module_utils._release import history as rh
from ansible_collections.tachyon.infra.plugins.module_utils._report import report as rr
from ansible_collections.tachyon.infra.plugins.module_utils._common.atomic_file import atomic_write
from ansible_collections.tachyon.infra.plugins.module_utils._release.manifest import ManifestError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            title=dict(type="str", default="Tachyon releases"),
            **dm.ARGUMENT_SPEC),
        supports_check_mode=True,
    )
    try:
        manifest, legacy, path, until, result, revs = dm.from_params(module.params)
    except (dm.MetricsError, ManifestError) as exc:
        module.fail_json(msg=str(exc))
    view = rh.history_view(manifest, path, legacy, revs)
    shown = mr.merged(manifest, revs["revisions"]) if revs else manifest
    page = rr.render(shown, view, result, until, module.params["title"]).encode("utf-8")
    dest = os.path.abspath(module.params["dest"])
    try:
        with open(dest, "rb") as handle:
            changed = handle.read() != page
    except FileNotFoundError:
        changed = True
    except OSError as exc:
        module.fail_json(msg="dest %s cannot be read: %s" % (dest, exc))
    if changed and not module.check_mode:
        try:
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            atomic_write(dest, page)
        except OSError as exc:
            module.fail_json(msg="dest %s cannot be written: %s; give a writable path (-e report_path=...)" % (dest, exc))
    module.exit_json(changed=changed, dest=dest, bytes=len(page), releases=len(view["releases"]),
                     attempts=view["attempts"], metrics_text=dm.text(result))


if __name__ == "__main__":
    main()
