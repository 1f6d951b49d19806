"""plugins/module_utils/_common/input_types.py and run_guard's type check: the extra vars are checked
against the roles' argument specs as given (no conversion), and every variable a role's
defaults define is declared in its argument spec (so a new variable cannot escape the check)."""
import os

import pytest
import yaml

from ansible_collections.tachyon.infra.plugins.action.run_guard import ROLES_DIR, role_specs
from ansible_collections.tachyon.infra.plugins.module_utils._common.input_types import merge_specs, type_problems, value_problem


@pytest.mark.parametrize("kind,value", [
    ("str", "alice"), ("str", ""), ("str", 42), ("path", "/tmp/x"), ("bool", True), ("bool", "yes"), ("bool", "false"),
    ("int", 30), ("int", "30"), ("int", 0), ("float", 0.5), ("float", "2.5"), ("float", 3),
    ("list", []), ("list", ["a"]), ("dict", {}), ("dict", {"a": 1}), ("str", None),
])
def test_values_that_fit(kind, value):
    assert value_problem(value, {"type": kind}) is None


@pytest.mark.parametrize("kind,value,problem", [
    ("str", ["a", "b"], "a list"), ("str", 1.10, "a number"), ("str", 0.1, "a number"), ("str", {"a": 1}, "a mapping"), ("str", True, "a boolean"),
    ("bool", "maybe", "a string that is not true or false"), ("bool", 2, "a number"),
    ("int", "soon", "a string that is not a whole number"), ("int", -1, "a negative number"), ("int", True, "a boolean"),
    ("int", 2.5, "a number that is not a whole number"),
    ("float", "-0.5", "a negative number"), ("list", "a,b", "a string"), ("list", {"a": 1}, "a mapping"),
    ("dict", "a=1", "a string"), ("dict", ["a"], "a list"),
])
def test_values_that_do_not_fit(kind, value, problem):
    assert value_problem(value, {"type": kind}) == problem


def test_list_elements_and_choices():
    assert value_problem([{"url": "x"}, "y"], {"type": "list", "elements": "dict"}) == \
        "a list whose element 1 is a string"
    assert value_problem("qa", {"type": "str", "choices": ["staging", "production"]}) == "another value"
    assert value_problem("staging", {"type": "str", "choices": ["staging", "production"]}) is None


def test_messages_name_the_variable_and_never_the_value():
    options, _conflicts = merge_specs({"roles/x/meta/argument_specs.yml": {"token": {"type": "str"}, "hooks": {"type": "list"}}})
    problems = type_problems({"token": ["s3cr3t-value-1"], "hooks": "https://h/s3cr3t-value-2", "other": [1]},
                             options)
    assert len(problems) == 2  # "other" is no role's variable: not checked here
    assert problems[0].startswith("extra var hooks must be a list (roles/x/meta/argument_specs.yml), but it is a string")
    assert problems[1].startswith("extra var token must be a string")
    assert "s3cr3t" not in " ".join(problems)


def test_person_vars_are_one_name_on_one_line():
    options, _conflicts = merge_specs({"s": {"tachyon_deployed_by": {"type": "str"}}})
    assert type_problems({"tachyon_deployed_by": "alice"}, options, ["tachyon_deployed_by"]) == []
    problems = type_problems({"tachyon_deployed_by": "bob\n"}, options, ["tachyon_deployed_by"])
    assert problems and "is not a name; give one name on one line" in problems[0]


def test_merge_specs_drops_a_variable_two_roles_type_differently():
    options, conflicts = merge_specs({"a": {"x": {"type": "str"}, "y": {"type": "int"}}, "b": {"x": {"type": "list"}}})
    assert conflicts == ["x"] and set(options) == {"y"}


def test_the_collection_roles_agree_on_every_type():
    specs = role_specs()
    assert {"roles/deploy/meta/argument_specs.yml", "roles/drift/meta/argument_specs.yml",
            "roles/release/meta/argument_specs.yml"} <= set(specs)
    _options, conflicts = merge_specs(specs)
    assert conflicts == []


@pytest.mark.parametrize("role", sorted(r for r in os.listdir(ROLES_DIR)
                                        if os.path.isfile(os.path.join(ROLES_DIR, r, "meta", "argument_specs.yml"))
                                        and os.path.isfile(os.path.join(ROLES_DIR, r, "defaults", "main.yml"))))
def test_every_default_of_a_role_is_typed_by_its_argument_spec(role):
    defaults = os.path.join(ROLES_DIR, role, "defaults", "main.yml")
    with open(defaults, encoding="utf-8") as handle:
        names = set(yaml.safe_load(handle) or {})
    declared = set(role_specs()["roles/%s/meta/argument_specs.yml" % role])
    assert sorted(names - declared) == []
