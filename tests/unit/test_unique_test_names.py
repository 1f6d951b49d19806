"""pytest imports test files by basename (rootdir-relative, no packages): two test files of the
same name in different folders stop the whole collection ("import file mismatch"), which a run of
one folder does not show. Every test file's name is unique across tests/."""
import collections
import os

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_test_file_basenames_are_unique():
    seen = collections.defaultdict(list)
    for folder, _dirs, files in os.walk(TESTS):
        for name in files:
            if name.startswith("test_") and name.endswith(".py"):
                seen[name].append(os.path.relpath(os.path.join(folder, name), TESTS))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}
