# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""Strict readers for input the collection parses itself.

- ``strict_str``: an argument_spec ``type`` for options that must be ONE string. Ansible's
  ``type='str'`` converts anything to text, so a list given as an approver would be recorded
  as the string ``"['alice', 'bob']"``; this refuses every non-string instead.
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


def strict_str(value):
    """argument_spec type: ``value`` itself when it is a string, else TypeError.

    AnsibleModule reports the error as "argument 'X' is of type list and we were unable to
    convert to str: <this message>".
    """
    if isinstance(value, str):
        return value
    raise TypeError("give one string, not a %s (%r would be stored as the text %r)"
                    % (type(value).__name__, value, str(value)))


# the name AnsibleModule prints in its message ("unable to convert to str")
strict_str.__name__ = "str"


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
