#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: release_notes
short_description: Per service, the commits between two releases (or what an environment runs and a release)
version_added: "0.3.0"
description:
  - Reads the pins of both sides from the release manifest. O(from_version) and O(to_version)
    name releases; a release other than the manifest's current one is known from its history (the
    newest health-verified deployment of it, O(environment)'s first). Without O(from_version), the
    C(from) side is what O(environment) runs now; without O(to_version), the C(to) side is the
    manifest's current release (the candidate).
  - For each service pinned to another commit on the two sides, fetches its git remote into a bare
    cache repository under O(cache_dir) (only when a commit is missing there) and lists the commits
    between the two pins (subject, author, date, short SHA, the pull requests the subject names,
    linked to the repository's GitHub pull URL). Commits the C(to) side no longer has (a rollback)
    are listed apart.
  - A service pinned to the same commit on both sides is C(no change). A service whose O(services)
    entry has C(migration_paths) (the paths of its repository that hold migrations) gets
    C(migrations_changed) when a file under them differs between the pins.
  - C(carries_migration) says whether the image of the service that runs the database migrations
    (the entry of O(services) whose C(migrations) is true) differs between the two sides.
  - A service whose commits cannot be read (unreachable remote, unknown commit) is reported with
    its error; the other services are still listed. Remote URLs are shown without credentials.
  - Reads only; the manifest is not changed and nothing of the notes is written into it.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.manifest
  - tachyon.infra.attributes.no_diff
options:
  environment:
    description:
      - The environment whose running release is the C(from) side when O(from_version) is not
        given; also preferred when looking up an earlier release's pins in the history.
    type: str
    choices: [staging, production]
  from_version:
    description: The release to compare from.
    type: str
  to_version:
    description: The release to compare to (default the manifest's current release).
    type: str
  repos:
    description: Service name to its git remote URL (C(https://), C(ssh://), C(file://)...).
    type: dict
    required: true
  services:
    description:
      - The service catalog (C(tachyon_services)), each C({name, component, ...}). The entry whose
        C(migrations) is true is the service whose image runs the database migrations; without one
        (or without O(services)) no release carries a migration. Two such entries fail.
      - An entry's C(migration_paths), a list of files or directories of its repository, are where
        its migrations live (C(migrations_changed)).
      - The services are listed in its order unless O(order) is given.
    type: list
    elements: dict
    default: []
  order:
    description: Service names in the order to list them (others follow). Default the order of O(services).
    type: list
    elements: str
    default: []
  cache_dir:
    description: Directory of the bare cache repositories (one per service).
    type: path
    required: true
  web_urls:
    description:
      - Service name to its repository's web URL (C(https://github.com/<owner>/<repo>), a GitHub
        clone URL is turned into it), for pull request links. Default, for a GitHub remote, the
        remote's web URL; none otherwise (the numbers are listed without links).
    type: dict
    default: {}
  timeout:
    description: Seconds per git command.
    type: int
    default: 120
attributes:
  check_mode:
    support: full
    details: Read-only (the cache repositories are refreshed in check mode too; they are a cache).
notes:
  - Runs the git CLI; see C(plugins/module_utils/_release/notes.py) for why no git library.
"""

EXAMPLES = r"""
- name: What production would get with the candidate release
  tachyon.infra.release_notes:
    manifest_path: releases/manifest.json
    environment: production
    repos:
      tachyon-api: https://github.com/tachyonapp/tachyon-api.git
      tachyon-db-migrate: https://github.com/tachyonapp/tachyon-db.git
    cache_dir: ~/.cache/tachyon-infra/repos
  register: notes

- name: Between two releases
  tachyon.infra.release_notes:
    manifest_path: releases/manifest.json
    from_version: 0.1.9
    to_version: 0.2.0
    repos: "{{ tachyon_services | tachyon.infra.deploy_repo_urls(tachyon_repo_base_url, tachyon_repo_urls) }}"
    services: "{{ tachyon_services }}"
    cache_dir: /var/cache/tachyon/repos
"""

RETURN = r"""
notes:
  description: The release notes.
  returned: success
  type: dict
  contains:
    from:
      description: The C(from) side (C(label), C(version), C(source)).
      type: dict
    to:
      description: The C(to) side (C(label), C(version), C(source)).
      type: dict
    services:
      description:
        - Per service C(service), C(status) (C(changed), C(no change), C(rolled back), C(diverged),
          C(new), C(removed), C(error)), C(from_sha), C(to_sha), C(from_digest), C(to_digest),
          C(commits) and C(removed_commits) (each C(sha), C(short_sha), C(author), C(date),
          C(subject), C(pull_requests)), C(migrations_changed) (null without migration paths),
          C(migration_files), C(error).
      type: list
      elements: dict
    changed_services:
      description: Services whose pin differs.
      type: list
      elements: str
    commit_count:
      description: Commits in all services.
      type: int
    migrations_changed:
      description: A migration file changed in some service.
      type: bool
    carries_migration:
      description: C(carries), C(service), C(pinned), C(running), C(reason) - whether the image of the
        service that runs the migrations (the O(services) entry whose C(migrations) is true) differs
        between the sides.
      type: dict
    errors:
      description: Services whose commits could not be read, with why.
      type: list
      elements: str
text:
  description: The notes as printed in a terminal.
  returned: success
  type: str
markdown:
  description: The notes as GitHub markdown (job summaries).
  returned: success
  type: str
fetches:
  description: git fetches made (0 when the cache held every commit).
  returned: success
  type: int
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.module_utils._release import migrations
from ansible_collections.tachyon.infra.plugins.module_utils._release import notes as rn
from ansible_collections.tachyon.infra.plugins.module_utils._release.catalog import CatalogError, migration_paths


def sides(manifest, params):
    environment = params["environment"]
    if params["from_version"]:
        services, source = rn.version_pins(manifest, params["from_version"], environment)
        old = {"label": "release", "version": params["from_version"], "source": source, "services": services}
    elif environment:
        services, version, source = rn.environment_pins(manifest, environment)
        old = {"label": environment, "version": version, "source": source, "services": services}
    else:
        raise rn.NotesError("name the from side: from_version (-e from_version=<release>) or the "
                            "environment whose running release to compare with")
    to_version = params["to_version"] or manifest["version"]
    services, source = rn.version_pins(manifest, to_version, environment)
    label = "release" if params["to_version"] else "candidate"
    new = {"label": label, "version": to_version, "source": source, "services": services}
    return old, new


def main():
    module = AnsibleModule(
        argument_spec=dict(
            **mf.MANIFEST_PATH_OPTION,
            environment=dict(type="str", choices=["staging", "production"]),
            from_version=dict(type="str"),
            to_version=dict(type="str"),
            repos=dict(type="dict", required=True),
            services=dict(type="list", elements="dict", default=[]),
            order=dict(type="list", elements="str", default=[]),
            cache_dir=dict(type="path", required=True),
            web_urls=dict(type="dict", default={}),
            timeout=dict(type="int", default=120),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        manifest = mf.read(params["manifest_path"])["manifest"]
        for key in ("from_version", "to_version"):
            if params[key]:
                mf.check_semver(params[key], key)
        paths = migration_paths(params["services"])
        migrate = migrations.migrate_service(params["services"])
        order = params["order"] or [entry.get("name") for entry in params["services"]]
        old, new = sides(manifest, params)
        cache = rn.GitCache(params["cache_dir"], timeout=params["timeout"])
        notes = rn.build_notes(old, new, params["repos"], cache, paths, params["web_urls"], order,
                               migrate_service=migrate["name"] if migrate else None)
    except (mf.ManifestError, rn.NotesError, CatalogError) as exc:
        module.fail_json(msg=str(exc))
    for error in notes["errors"]:
        module.warn(error)
    module.exit_json(changed=False, notes=notes, text=rn.render_text(notes),
                     markdown=rn.render_markdown(notes), fetches=cache.fetches)


if __name__ == "__main__":
    main()
