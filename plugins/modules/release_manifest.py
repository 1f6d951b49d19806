#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: release_manifest
short_description: Create, read, record and promote the Tachyon release manifest
version_added: 0.1.0
description:
  - Manages C(releases/manifest.json), the record of which image SHAs form a release, what
    is deployed in each environment, and an append-only history of every deploy attempt.
    The format is documented in C(releases/README.md) and C(releases/manifest.schema.json).
  - Every read and every write is validated against the manifest JSON Schema.
  - Writes are atomic (temporary file in the same directory, fsync, rename, fsync of the
    directory) and done under an exclusive lock (C(.manifest.json.lock) next to the file), so
    a killed run leaves the previous file intact and concurrent runs never interleave.
  - When O(path) is a symbolic link, its final target is written (atomically, in the target's
    directory, the lock beside the target) and the link is kept.
  - Reading is strict (see "Strict reading" in C(releases/README.md)). A duplicate JSON key, a
    value with a trailing newline or surrounding whitespace, or a non-string given for a text
    option (an approver list) fails naming it; nothing is trimmed or converted.
  - Legacy manifests (the bash-era format without C(schema_version)) are read and upgraded in
    memory; O(state=upgraded) rewrites one in the current format.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.attributes
options:
  path:
    description: Path of the manifest file.
    type: path
    default: releases/manifest.json
  state:
    description:
      - C(created) pins a new release (O(version), O(services)). Creating the same version
        with the same SHAs again changes nothing. Environments and history are kept.
      - C(read) returns the manifest normalized to the current format and whether the file
        is legacy. Never changes anything.
      - C(recorded) records a deploy attempt. Every attempt appends to C(history); only
        O(outcome=succeeded) also updates C(environments.<environment>).
      - C(promotable) checks that O(version) may be deployed to production and returns the
        services to deploy; fails naming every gap. Never changes anything.
      - C(upgraded) rewrites a legacy manifest in the current format, keeping a backup.
      - C(restarted) records a rolling restart (C(playbooks/restart.yml)) in the manifest's
        C(restarts) list, apart from C(history) - a restart is not a release, so release lists and
        delivery metrics never count it. Uses O(environment), O(outcome) (C(succeeded) or
        C(failed)), O(components), O(deployment_id) (the restart's deployment, required when it
        succeeded), O(restart_of), O(deployed_by) (who restarted), O(note) and O(at). The same
        restart recorded again changes nothing.
    type: raw
    choices: [created, read, recorded, promotable, upgraded, restarted]
    default: read
  version:
    description:
      - Semantic version (MAJOR.MINOR.PATCH[-pre][+build]).
      - Required for O(state=created) and O(state=promotable). For O(state=recorded) the
        version deployed (default the manifest's).
    type: raw
  services:
    description:
      - For O(state=created), a dict of service name to git SHA (7-40 hex characters;
        upper case is lowered). Every service in O(known_services) is required unless
        O(partial=true).
      - For O(state=recorded), a dict of service name to C({sha, tag, digest, image}) as
        actually deployed (C(sha) required; a plain SHA string is accepted too).
    type: dict
  known_services:
    description:
      - The service names of the catalog (playbooks pass C(tachyon_services | map(attribute='name'))).
        Unknown names in O(services) fail.
      - Required for O(state=created) (the service catalog is the only list of services).
    type: list
    elements: raw
  images:
    description: Image repository per service for O(state=created) (playbooks pass the catalog's
      C(image) of each service). Default the one already in the manifest; a service with neither
      fails.
    type: dict
  digests:
    description: For O(state=created), service name to the registry digest (C(sha256:<64 hex>)) of
      its C(image:sha), as M(tachyon.infra.image_digest) resolved it. Services without one are
      pinned by tag only.
    type: dict
  description:
    description: Free-text description of the release (O(state=created)).
    type: raw
  created_by:
    description: Who created the release (O(state=created)).
    type: raw
  partial:
    description: With O(state=created), services missing from O(services) keep the SHA of
      the current release instead of failing.
    type: bool
    default: false
  force:
    description: With O(state=created), allow re-pinning an existing version to other SHAs
      (normally refused, because a version must not change meaning).
    type: bool
    default: false
  environment:
    description: Target environment for O(state=recorded) and O(state=promotable)
      (promotion is defined for C(production) only).
    type: raw
    choices: [staging, production]
  outcome:
    description: Result of the attempt (O(state=recorded)).
    type: raw
    choices: [succeeded, failed, rolled_back]
  deployment_id:
    description:
      - App Platform deployment id of the attempt (O(state=recorded)); required for
        C(succeeded). Identifies the attempt, with O(environment) and O(outcome), so recording
        it again changes nothing. Without it the attempt is identified by O(at).
    type: raw
  deployed_by:
    description: Who ran the deployment (O(state=recorded)); required for C(succeeded).
    type: raw
  approved_by:
    description:
      - O(state=recorded) who approved it (required for a successful production deployment).
      - O(state=promotable) the approver; required, non-empty.
    type: raw
  health_verified_at:
    description: UTC timestamp (C(YYYY-MM-DDTHH:MM:SSZ)) when the health check passed
      (O(state=recorded)). Promotion requires staging's to be set.
    type: raw
  rolled_back_to:
    description: Deployment id the app was rolled back to; required for O(outcome=rolled_back).
    type: raw
  rollback_of_version:
    description:
      - The release the environment ran before, when O(state=recorded) records a rollback to
        release O(version) that redeployed its recorded pins (C(playbooks/rollback.yml -e
        tachyon_rollback_version=...)). Stored in the history entry (an optional field);
        omitted, the entry has none.
    type: raw
  after_migration:
    description:
      - O(state=recorded) of a failed attempt after its migration job ran - C(rollback) (the code
        was rolled back, the schema stays migrated) or C(freeze) (not rolled back; the environment
        was frozen). Stored as the history entry's optional C(after_migration).
    type: str
    choices: [rollback, freeze]
  note:
    description:
      - What happened, in a sentence (O(state=recorded)); e.g. the failing step. Stored as the
        history entry's C(message).
      - Formerly C(message), a name ansible-core reserves (not accepted as an alias either).
    type: raw
  events:
    description:
      - O(state=recorded) - App Platform's events in the deploy window, oldest first, as
        M(tachyon.infra.app_deploy) returns them in RV(ignore:health.timeline) (C(at), C(type),
        C(deployment_id), C(what), C(ours)). Stored as the history entry's optional C(events)
        (text on one line, redacted, the newest 50); the release report shows them.
    type: list
    elements: dict
  at:
    description: UTC timestamp of the attempt (O(state=recorded), O(state=restarted)); default now.
    type: raw
  components:
    description: O(state=restarted) - the App Platform components restarted (e.g. C([api, workers])).
    type: list
    elements: raw
  restart_of:
    description: O(state=restarted) - the deployment that ran before the restart (its images are kept).
    type: raw
  lock_timeout:
    description: Seconds to wait for another run holding the manifest lock.
    type: float
    default: 30
notes:
  - Secrets never belong in the manifest; it only holds SHAs, tags, digests, image names,
    people, timestamps and deployment ids.
  - A lock file C(.<name>.lock) is created beside the manifest.
  - On a local connection without become, async or a task C(environment), an action plugin of
    the same name runs the module's code (module_utils) in the Ansible worker process instead of
    starting a module process, which saves about half a second per task; anywhere else the
    module runs as usual. Arguments, results and failures are the same either way.
seealso:
  - module: tachyon.infra.health_check
  - module: tachyon.infra.manifest_publish
attributes:
  check_mode:
    support: full
    details: Reports what would change (with O(state=created), O(state=recorded),
      O(state=upgraded)) and writes nothing.
  diff_mode:
    support: full
    details: Before and after JSON text of the manifest.
requirements:
  - jsonschema
"""

EXAMPLES = r"""
- name: Record a rolling restart (not a release; kept apart from the history)
  tachyon.infra.release_manifest:
    state: restarted
    environment: staging
    outcome: succeeded
    components: [api, workers]
    deployment_id: 5f0c6a0e-2c2b-4b7e-9d55-1c2a3b4c5d6e
    restart_of: 1b2c3d4e-0000-4000-8000-000000000001
    deployed_by: alice

- name: Pin release 0.2.0
  tachyon.infra.release_manifest:
    state: created
    version: 0.2.0
    services:
      tachyon-api: 9f8e7d6
      tachyon-workers: 1a2b3c4
      tachyon-db-migrate: 5d6e7f8
    known_services: "{{ tachyon_services | map(attribute='name') | list }}"
    images: "{{ dict(tachyon_services | map(attribute='name') | zip(tachyon_services | map(attribute='image'))) }}"
    created_by: "{{ lookup('ansible.builtin.env', 'USER') }}"

- name: Read the manifest
  tachyon.infra.release_manifest:
    state: read
  register: release

- name: Check that 0.2.0 may go to production
  tachyon.infra.release_manifest:
    state: promotable
    environment: production
    version: 0.2.0
    approved_by: alice
  register: promotion

- name: Record a successful staging deployment
  tachyon.infra.release_manifest:
    state: recorded
    environment: staging
    outcome: succeeded
    version: 0.2.0
    deployment_id: 3aa4d20e-8a87-4a8e-a3a1-7c0ed4e3b9f1
    services:
      tachyon-api: {sha: 9f8e7d6, tag: 9f8e7d6, image: ghcr.io/tachyonapp/tachyon-api}
      tachyon-workers: {sha: 1a2b3c4, tag: 1a2b3c4, image: ghcr.io/tachyonapp/tachyon-workers}
      tachyon-db-migrate: {sha: 5d6e7f8, tag: 5d6e7f8, image: ghcr.io/tachyonapp/tachyon-db-migrate}
    deployed_by: ci
    health_verified_at: "2026-05-01T12:00:00Z"

- name: Record a rollback
  tachyon.infra.release_manifest:
    state: recorded
    environment: production
    outcome: rolled_back
    deployment_id: 8c1f0d4e-5b1c-4f4e-9d43-2f0a8e5b7c11
    rolled_back_to: 3aa4d20e-8a87-4a8e-a3a1-7c0ed4e3b9f1
    deployed_by: ci
    note: health never reported version 9f8e7d6 within 300s

- name: Rewrite a legacy manifest in the current format
  tachyon.infra.release_manifest:
    state: upgraded
"""

RETURN = r"""
manifest:
  description: The manifest in the current format (after the change; for C(read) and
    C(promotable) as on disk, legacy upgraded in memory).
  returned: always
  type: dict
legacy:
  description: Whether the file on disk is in the legacy format (before any upgrade).
  returned: always
  type: bool
version:
  description: The release version of the manifest.
  returned: always
  type: str
  sample: 0.2.0
services:
  description:
    - C(promotable) the services production must deploy, name to C({sha, tag, image, digest})
      (digest as staging deployed it, else null).
    - Other states, the release's pins, name to C({sha, image, tag}).
  returned: always
  type: dict
  sample: {"tachyon-api": {"sha": "9f8e7d6", "tag": "9f8e7d6", "image": "ghcr.io/tachyonapp/tachyon-api"}}
environments:
  description: C(environments) of the manifest (what runs where).
  returned: always
  type: dict
history_entry:
  description: The history entry appended (or already present) for C(recorded).
  returned: when state=recorded
  type: dict
restart_entry:
  description: The restart recorded (or already present) for C(restarted).
  returned: when state=restarted
  type: dict
backup_file:
  description: Backup of the legacy file written by C(upgraded).
  returned: when state=upgraded and changed
  type: str
  sample: releases/manifest.json.legacy-20260501T120000Z.bak
manifest_path:
  description: Absolute path of the manifest.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.module_utils._release.manifest_task import ARGUMENT_SPEC, REQUIRED_IF, execute


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, required_if=REQUIRED_IF, supports_check_mode=True)
    if not mf.HAS_JSONSCHEMA:
        module.fail_json(msg=missing_required_lib("jsonschema"), exception=str(mf.JSONSCHEMA_IMPORT_ERROR))
    failed, result = execute(module.params, module.check_mode, module._diff)
    if failed:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
