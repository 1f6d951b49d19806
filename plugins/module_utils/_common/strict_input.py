# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""Strict readers for input the collection parses itself.

- ``string_options_error``: for options that must be ONE string. Ansible's ``type='str'``
  converts anything to text, so a list given as an approver would be recorded as the string
  ``"['alice', 'bob']"``; such options are ``type='raw'`` and this refuses every non-string.
- ``StrictSafeLoader`` / ``load_yaml``: PyYAML's safe loader (libyaml's when PyYAML was built
  with it) that refuses a key repeated in one mapping, naming the key and both lines. Plain
  ``yaml.safe_load`` keeps the last value and silently drops the others. Merge keys (``<<``)
  still override as YAML defines.

JSON is read strictly by ``manifest.strict_json_loads`` (duplicate keys, NaN/Infinity).
"""
from __future__ import annotations

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    HAS_YAML = False


def type_name(value):
    """The plain type name of ``value`` for messages (ansible-core's tagged containers, such as
    _AnsibleTaggedList, are named as the builtin type they extend)."""
    for kind in (bool, int, float, list, tuple, dict, set):
        if isinstance(value, kind):
            return kind.__name__
    return type(value).__name__


def strict_str(value):
    """``value`` itself when it is a string, else TypeError saying what to give instead."""
    if isinstance(value, str):
        return value
    raise TypeError("give one string, not a %s (%r would be stored as the text %r)"
                    % (type_name(value), value, str(value)))


def string_options_error(params, names, list_names=()):
    """The message refusing the first option of ``names`` (or element of a list option of
    ``list_names``) that was given but is not a string; None when all are strings.

    The options are ``type='raw'`` in the argument_spec so AnsibleModule hands them over as
    given (``type='str'`` would already have turned a list into its text); the documentation
    says ``type: raw`` and each description says "one string". The message keeps
    AnsibleModule's own wording for a type it cannot convert.
    """
    for name in names:
        value = params.get(name)
        if value is None:
            continue
        try:
            strict_str(value)
        except TypeError as exc:
            return ("argument '%s' is of type %s and we were unable to convert to str: %s"
                    % (name, type_name(value), exc))
    for name in list_names:
        for index, value in enumerate(params.get(name) or []):
            try:
                strict_str(value)
            except TypeError as exc:
                return ("Elements value for option '%s' is of type %s and we were unable to "
                        "convert to str (element %d): %s" % (name, type_name(value), index, exc))
    return None


if HAS_YAML:
    _BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class StrictSafeLoader(_BASE_LOADER):  # pylint: disable=too-many-ancestors
        """Safe loader refusing duplicate mapping keys (a ``yaml.constructor.ConstructorError``,
        so callers handling ``yaml.YAMLError`` report it as any other YAML error)."""

        def construct_mapping(self, node, deep=False):
            if isinstance(node, yaml.MappingNode):
                seen = {}
                for key_node, _value_node in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        continue
                    key = self.construct_object(key_node, deep=True)
                    try:
                        first = seen.get(key)
                    except TypeError:  # an unhashable key: SafeConstructor refuses it below
                        continue
                    if first is not None:
                        raise yaml.constructor.ConstructorError(
                            "while constructing a mapping (first %r at line %d)"
                            % (key, first.start_mark.line + 1), node.start_mark,
                            "found duplicate key %r; a YAML reader would keep only one of its "
                            "values. Keep the key once" % (key,), key_node.start_mark)
                    seen[key] = key_node
            return super().construct_mapping(node, deep=deep)

    def load_yaml(stream):
        """``yaml.safe_load`` refusing duplicate keys (``stream``: text, bytes or a file)."""
        return yaml.load(stream, Loader=StrictSafeLoader)  # nosec B506 - a safe loader
