"""What the modules read from the service catalog (playbooks/group_vars/all/services.yml,
tachyon_services): the one entry a flag marks (migrations: true, health_version: true) and the
entries' migration_paths (_release/catalog.py), checked on the real catalog and on broken copies."""
import os
import sys

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._release import migrations
from ansible_collections.tachyon.infra.plugins.module_utils._release.catalog import (
    CatalogError, health_version_service, migration_paths)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
import service_catalog  # noqa: E402  (fixture helper, not a package)

CATALOG = service_catalog.CATALOG


def test_the_catalog_says_which_service_runs_the_migrations_and_which_tag_health_reports():
    """migrations: true on one catalog entry names the service whose image runs the migrations,
    health_version: true the one whose tag /health reports; none marked is none; two, or a value
    that is not a boolean, fail naming the entries."""
    assert health_version_service(CATALOG)["name"] == "tachyon-api"
    assert health_version_service([dict(s, health_version=False) for s in CATALOG]) is None
    with pytest.raises(CatalogError, match="tachyon-api, tachyon-workers all have health_version: true"):
        health_version_service([dict(s, health_version=s["name"] != "tachyon-db-migrate") for s in CATALOG])
    assert migrations.migrate_service(CATALOG)["name"] == "tachyon-db-migrate"
    assert migrations.migrate_service(CATALOG)["component"] == "db-migrate"
    assert migrations.migrate_service([dict(s, migrations=False) for s in CATALOG]) is None
    assert migrations.migrate_service([]) is None and migrations.migrate_service(None) is None
    with pytest.raises(CatalogError, match="tachyon-api, tachyon-db-migrate all have migrations: true; one service may"):
        migrations.migrate_service([dict(s, migrations=s["name"] != "tachyon-workers") for s in CATALOG])
    with pytest.raises(CatalogError, match="tachyon-api has migrations: 'yes'; use true"):
        migrations.migrate_service([dict(CATALOG[0], migrations="yes")] + CATALOG[1:])


def test_migration_paths_come_from_the_catalog_entries():
    assert migration_paths(CATALOG) == {"tachyon-db-migrate": ["src/migrations.js", "src/migrations", "migrations"]}
    assert migration_paths([dict(CATALOG[0], migration_paths="db/migrate")]) == {"tachyon-api": ["db/migrate"]}
    assert migration_paths(None) == {}
    for bad in ([], [""], [["src"]], {"path": "src"}, 3):
        with pytest.raises(CatalogError, match="tachyon-api has migration_paths: .*give a list of paths"):
            migration_paths([dict(CATALOG[0], migration_paths=bad)])
