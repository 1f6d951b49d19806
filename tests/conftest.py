"""Make the collection importable as ansible_collections.tachyon.infra from a checkout."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, ".collections")
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared"))

if not os.path.isdir(os.path.join(COLLECTIONS, "ansible_collections", "tachyon", "infra")):
    raise RuntimeError("run `make setup` first: .collections/ansible_collections/tachyon/infra is missing")
for path in (COLLECTIONS, ROOT):
    if path not in sys.path:
        sys.path.insert(0, path)
