"""The derived replay cases are exactly what replay_fixtures/derive.py makes of the recordings,
and every case (recorded or derived) names its source."""
import glob
import importlib.util
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def _derive():
    spec = importlib.util.spec_from_file_location("derive", os.path.join(HERE, "replay_fixtures", "derive.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_derived_cases_are_up_to_date():
    made = _derive().cases()
    on_disk = {os.path.basename(p)[:-5]: json.load(open(p)) for p in glob.glob(os.path.join(HERE, "replay_fixtures", "*.json"))}
    assert sorted(on_disk) == sorted(made)
    for name, data in made.items():
        assert json.loads(json.dumps(data)) == on_disk[name], "%s.json differs from derive.py: rerun it" % name


def test_every_derived_case_says_its_source_and_what_changed():
    for name, data in _derive().cases().items():
        assert data["_source"].get("repo") and data["_derived"], name
        assert "base_case" in data["_source"] or "none published" in data["_source"].get("what", ""), name
