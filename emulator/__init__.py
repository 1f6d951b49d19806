"""DigitalOcean App Platform emulator (offline stand-in for api.digitalocean.com).

An HTTP server that speaks the subset of the App Platform API the project uses, with
DigitalOcean's paths, bodies, status codes and error body ``{id, message, request_id}``,
validated against the vendored OpenAPI description (``../shared/vendor/digitalocean-openapi``).

* ``python -m emulator serve --port 8480 --state-dir .sandbox --seed emulator/sandbox-seed.yml``
  runs it (``make sandbox``); see ``emulator/__main__.py`` for every option.
* ``emulator.testing.running_emulator()`` starts one for a pytest test (in a thread or a
  subprocess) and gives the URL, tokens, app ids and fault controls.

Modules: ``store`` (accounts, apps, deployments, phases, rollback, secrets, logs, health),
``faults`` (fault injection and rate limiting), ``server`` (HTTP routing), ``bootstrap``
(seed file loading), ``testing`` (test helper).
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, ".collections")


def ensure_import_path():
    """Put the repo's .collections (ansible_collections.tachyon.infra) and root on sys.path."""
    if not os.path.isdir(os.path.join(COLLECTIONS, "ansible_collections", "tachyon", "infra")):
        raise RuntimeError("%s/ansible_collections/tachyon/infra is missing; run `make setup` first" % COLLECTIONS)
    for path in (COLLECTIONS, ROOT):
        if path not in sys.path:
            sys.path.insert(0, path)
