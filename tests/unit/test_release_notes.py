"""module_utils/_release/notes.py: pins from the manifest, commits from file:// fixture remotes
(make_repos.py + advance_repos.py: three commits in tachyon-api, two in tachyon-db with a
migration, none in tachyon-workers), the text and markdown renderings."""
import os
import sys

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.module_utils._release import migrations
from ansible_collections.tachyon.infra.plugins.module_utils._release import notes as rn
from ansible_collections.tachyon.infra.plugins.module_utils._release import pins as rp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures", "services"))
import advance_repos  # noqa: E402  (fixture helpers, not a package)
import make_repos  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
import service_catalog as catalog  # noqa: E402  (fixture helper, not a package)

SERVICES = make_repos.SERVICES  # fixture repo -> service
MIGRATIONS = {"tachyon-db-migrate": ["src/migrations.js", "migrations"]}
WEB = {s: "https://github.com/tachyonapp/" + r for r, s in SERVICES.items()}
NOW = "2026-02-01T00:00:00Z"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    dest = tmp_path_factory.mktemp("repos")
    first = make_repos.make_repos(dest)
    second = advance_repos.advance(dest)
    repos = {service: first[repo]["url"] for repo, service in SERVICES.items()}
    old = {service: first[repo]["sha"] for repo, service in SERVICES.items()}
    new = dict(old, **{SERVICES[repo]: pin["sha"] for repo, pin in second.items()})
    return {"dest": dest, "repos": repos, "old": old, "new": new}


def manifest_with_history(world):
    """0.1.9 deployed (staging and production), then release 0.2.0 created and on staging."""
    doc = mf.create_release(None, "0.1.9", world["old"], now=NOW, **catalog.RELEASE_ARGS)
    for env in ("staging", "production"):
        doc = mf.record_deployment(doc, env, "succeeded", deployment_id="dep-%s-1" % env,
                                   services={n: {"sha": s, "tag": s, "digest": "sha256:" + "a" * 64}
                                             for n, s in world["old"].items()},
                                   deployed_by="tester", approved_by="boss" if env == "production" else None,
                                   health_verified_at=NOW, at=NOW)
    doc = mf.create_release(doc, "0.2.0", world["new"], now=NOW, **catalog.RELEASE_ARGS)
    return mf.record_deployment(doc, "staging", "succeeded", deployment_id="dep-staging-2",
                                services={n: {"sha": s} for n, s in world["new"].items()},
                                deployed_by="tester", health_verified_at=NOW, at=NOW)


def notes_between(world, tmp_path, old, new, **kw):
    cache = rn.GitCache(str(tmp_path / "cache"))

    def side(shas, version):
        return {"label": "release", "version": version, "source": "test",
                "services": {n: {"sha": s} for n, s in shas.items()}}
    notes = rn.build_notes(side(old, "0.1.9"), side(new, "0.2.0"), kw.pop("repos", world["repos"]), cache,
                           MIGRATIONS, WEB, order=list(SERVICES.values()),
                           migrate_service=migrations.migrate_service(catalog.CATALOG)["name"])
    return notes, cache


def by_name(notes):
    return {s["service"]: s for s in notes["services"]}


def test_the_commits_between_the_pins_per_service_exactly(world, tmp_path):
    notes, cache = notes_between(world, tmp_path, world["old"], world["new"])
    svc = by_name(notes)
    assert [c["subject"] for c in svc["tachyon-api"]["commits"]] == [
        "Report the build SHA in /health (#45)", "Log the request id on errors", "Rate-limit the login endpoint (#42)"]
    assert [c["subject"] for c in svc["tachyon-db-migrate"]["commits"]] == [
        "Document the migrate user", "Add job_runs.duration_ms (#7)"]
    assert svc["tachyon-workers"]["status"] == "no change" and svc["tachyon-workers"]["commits"] == []
    assert svc["tachyon-api"]["status"] == "changed" and svc["tachyon-api"]["removed_commits"] == []
    first = svc["tachyon-api"]["commits"][0]
    assert first["sha"] == world["new"]["tachyon-api"] and first["short_sha"] == first["sha"][:7]
    assert first["author"] == "Ada Lovelace" and first["date"].startswith("2026-01-07T16:45:00")
    assert first["pull_requests"] == [{"number": 45, "url": "https://github.com/tachyonapp/tachyon-api/pull/45"}]
    assert svc["tachyon-api"]["commits"][1]["pull_requests"] == []
    assert notes["commit_count"] == 5 and notes["changed_services"] == ["tachyon-api", "tachyon-db-migrate"]
    assert cache.fetches == 2  # one fetch per changed service; none for the unchanged one


def test_migration_files_changed_only_with_the_migration_commit(world, tmp_path):
    notes, _cache = notes_between(world, tmp_path, world["old"], world["new"])
    db = by_name(notes)["tachyon-db-migrate"]
    assert db["migrations_changed"] is True and db["migration_files"] == ["src/migrations.js"]
    assert notes["migrations_changed"] is True
    # between the migration commit and the head only the README changed: no migration change
    mid = db["commits"][1]["sha"]
    later, _cache = notes_between(world, tmp_path, dict(world["new"], **{"tachyon-db-migrate": mid}), world["new"])
    db = by_name(later)["tachyon-db-migrate"]
    assert [c["subject"] for c in db["commits"]] == ["Document the migrate user"]
    assert db["migrations_changed"] is False and later["migrations_changed"] is False
    # the image-based flag (the deploy plan's): the db-migrate pin differs either way
    assert notes["carries_migration"]["carries"] is True and later["carries_migration"]["carries"] is True


def test_an_unchanged_db_migrate_pin_carries_no_migration(world, tmp_path):
    new = dict(world["new"], **{"tachyon-db-migrate": world["old"]["tachyon-db-migrate"]})
    notes, _cache = notes_between(world, tmp_path, world["old"], new)
    assert notes["carries_migration"]["carries"] is False
    assert "MIGRATION:" not in rn.render_text(notes) and "Carries a migration" not in rn.render_markdown(notes)


def test_going_back_lists_the_commits_taken_out(world, tmp_path):
    notes, _cache = notes_between(world, tmp_path, world["new"], world["old"])
    api = by_name(notes)["tachyon-api"]
    assert api["status"] == "rolled back" and api["commits"] == [] and len(api["removed_commits"]) == 3
    assert by_name(notes)["tachyon-db-migrate"]["migrations_changed"] is True
    assert "3 commits taken out (rolls back)" in rn.render_text(notes)


def test_the_cache_answers_without_fetching_the_second_time(world, tmp_path):
    notes_between(world, tmp_path, world["old"], world["new"])
    _notes, cache = notes_between(world, tmp_path, world["old"], world["new"])
    assert cache.fetches == 0


def test_an_unreachable_remote_is_an_error_of_that_service_only(world, tmp_path):
    repos = dict(world["repos"], **{"tachyon-api": "https://user:hunter2@127.0.0.1:9/nowhere.git"})  # pragma: allowlist secret
    notes, _cache = notes_between(world, tmp_path, world["old"], world["new"], repos=repos)
    api = by_name(notes)["tachyon-api"]
    assert api["status"] == "error" and "https://127.0.0.1:9/nowhere.git" in api["error"]
    assert "hunter2" not in api["error"] and "hunter2" not in rn.render_text(notes)
    assert by_name(notes)["tachyon-db-migrate"]["status"] == "changed" and notes["errors"] == [api["error"]]


def test_a_commit_the_remote_does_not_have_is_named(world, tmp_path):
    ghost = "0123456789abcdef0123456789abcdef01234567"
    notes, _cache = notes_between(world, tmp_path, world["old"], dict(world["new"], **{"tachyon-api": ghost}))
    assert "commit(s) %s are not in" % ghost in by_name(notes)["tachyon-api"]["error"]


def test_pins_of_the_current_release_a_recorded_version_and_an_environment(world):
    doc = manifest_with_history(world)
    pins, source = rn.version_pins(doc, "0.2.0")
    assert {n: p["sha"] for n, p in pins.items()} == world["new"] and "current release" in source
    pins, source = rn.version_pins(doc, "0.1.9", "production")
    assert {n: p["sha"] for n, p in pins.items()} == world["old"]
    assert pins["tachyon-api"]["digest"] == "sha256:" + "a" * 64 and "production deployment dep-production-1" in source
    services, version, source = rn.environment_pins(doc, "production")
    assert version == "0.1.9" and {n: p["sha"] for n, p in services.items()} == world["old"]
    with pytest.raises(rn.NotesError, match=r"release 0\.1\.8 is not in the manifest.*deployments of 0\.1\.9"):
        rn.version_pins(doc, "0.1.8")
    assert rn.environment_pins(mf.create_release(None, "0.1.0", world["old"], now=NOW, **catalog.RELEASE_ARGS), "staging")[0] is None


def test_rendered_text_and_markdown(world, tmp_path):
    notes, _cache = notes_between(world, tmp_path, world["old"], world["new"])
    text = rn.render_text(notes)
    short = world["new"]["tachyon-api"][:7]
    assert "tachyon-workers: no change (%s)" % world["old"]["tachyon-workers"][:7] in text
    assert "  %s 2026-01-07 Ada Lovelace: Report the build SHA in /health (#45)  " \
           "https://github.com/tachyonapp/tachyon-api/pull/45" % short in text
    assert "MIGRATIONS CHANGED: src/migrations.js" in text
    assert text.splitlines()[3].startswith("MIGRATION: tachyon-db-migrate pin ")
    assert text.splitlines()[3].endswith(": the release carries a migration")
    assert text.splitlines()[-1] == "5 commits in 2 of 3 services; migrations changed"
    md = rn.render_markdown(notes)
    assert "[#45](https://github.com/tachyonapp/tachyon-api/pull/45)" in md
    assert "| `%s` | 2026-01-07 | Ada Lovelace |" % short in md and "**Migrations changed**" in md
    assert "**Carries a migration**: tachyon-db-migrate pin" in md


@pytest.mark.parametrize("url,web", [
    ("https://github.com/tachyonapp/tachyon-db.git", "https://github.com/tachyonapp/tachyon-db"),
    ("git@github.com:tachyonapp/tachyon-api.git", "https://github.com/tachyonapp/tachyon-api"),
    ("https://x-access-token:abc@github.com/o/r", "https://github.com/o/r"),  # pragma: allowlist secret
    ("file:///tmp/remotes/tachyon-api.git", None),
    ("https://gitlab.com/o/r.git", None),
])
def test_web_base(url, web):
    assert rn.web_base(url) == web


def test_pull_requests_in_subjects():
    assert rn.pull_requests("Fix (#12) and (#13)", "https://github.com/o/r") == [
        {"number": 12, "url": "https://github.com/o/r/pull/12"}, {"number": 13, "url": "https://github.com/o/r/pull/13"}]
    assert rn.pull_requests("Merge pull request #7 from o/branch", None) == [{"number": 7, "url": None}]
    assert rn.pull_requests("Issue #7 mentioned", "https://github.com/o/r") == []


# ----------------------------------------------------------------------------- rollback pins
def test_rollback_pins_come_from_the_environments_own_verified_deployment(world):
    doc = manifest_with_history(world)
    pins, source, running = rp.rollback_pins(doc, "0.1.9", "staging", list(world["old"]))
    assert {n: p["sha"] for n, p in pins.items()} == world["old"] and running == "0.2.0"
    assert pins["tachyon-api"]["digest"] == "sha256:" + "a" * 64 and "staging deployment dep-staging-1" in source
    # production never ran 0.2.0: not a rollback target for it (that is a promotion)
    with pytest.raises(rp.PinsError, match=r"production rolls back only to a release it ran itself\); it records 0\.1\.9"):
        rp.rollback_pins(doc, "0.2.0", "production")
    # staging may go to what production ran
    fresh = mf.create_release(None, "0.1.9", world["old"], now=NOW, **catalog.RELEASE_ARGS)
    fresh = mf.record_deployment(fresh, "production", "succeeded", deployment_id="p1", approved_by="boss",
                                 services={n: {"sha": s} for n, s in world["old"].items()}, deployed_by="t",
                                 health_verified_at=NOW, at=NOW)
    assert "production deployment p1" in rp.rollback_pins(fresh, "0.1.9", "staging")[1]
    with pytest.raises(rp.PinsError, match=r"recorded no pin for tachyon-extra"):
        rp.rollback_pins(doc, "0.1.9", "staging", list(world["old"]) + ["tachyon-extra"])


def test_a_failed_or_unverified_deployment_is_no_rollback_target(world):
    doc = mf.create_release(None, "0.1.9", world["old"], now=NOW, **catalog.RELEASE_ARGS)
    doc = mf.record_deployment(doc, "staging", "failed", deployment_id="f1",
                               services={n: {"sha": s} for n, s in world["old"].items()}, at=NOW)
    doc = mf.record_deployment(doc, "staging", "succeeded", deployment_id="s1", deployed_by="t",
                               services={n: {"sha": s} for n, s in world["old"].items()}, at=NOW)
    with pytest.raises(rp.PinsError, match=r"no health-verified staging or production deployment.*current release"):
        rp.rollback_pins(doc, "0.1.9", "staging")


def test_a_rollback_is_recorded_with_the_version_it_replaced(world):
    doc = manifest_with_history(world)
    after = mf.record_deployment(doc, "staging", "succeeded", version="0.1.9", deployment_id="dep-staging-3",
                                 services={n: {"sha": s} for n, s in world["old"].items()}, deployed_by="t",
                                 health_verified_at=NOW, rollback_of_version="0.2.0", at=NOW)
    assert after["history"][-1]["rollback_of_version"] == "0.2.0" and after["environments"]["staging"]["version"] == "0.1.9"
    assert "rollback_of_version" not in after["history"][0]
    with pytest.raises(mf.ManifestError, match="rollback_of_version"):
        mf.record_deployment(doc, "staging", "succeeded", version="0.1.9", deployment_id="x", deployed_by="t",
                             services={n: {"sha": s} for n, s in world["old"].items()}, rollback_of_version="latest")
