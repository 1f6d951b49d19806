"""Translate the `spec { ... }` block of a terraform-provider-digitalocean acceptance test
config (HCL) into an App Spec (YAML), for the real-spec corpus.

Those configs are applied against the real App Platform API by the provider's acceptance
tests (digitalocean/app/resource_app_test.go), so App Platform accepted them. The provider
maps its schema 1:1 onto godo's AppSpec: a repeated block `service { }` is the list
`services`, a single block `health_check { }` the object `health_check`. This translation
decides singular/plural from godo's types (tests/specs/godo/apps_gen_types.json) and
refuses any key godo does not know, so nothing is invented. Zero values (0, false, "") of
godo's omitempty fields are dropped, as godo's JSON encoding drops them: App Platform
never receives them (e.g. `http_port = 0` of the internal-only service).

Usage: tf_acc_to_spec.py RESOURCE_APP_TEST_GO VAR_NAME APP_NAME [EXTRA_%s_VALUE...]
"""
import json
import os
import re
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "..", "godo", "apps_gen_types.json"), encoding="utf-8") as _handle:
    GODO = json.load(_handle)
GODO["structs"] = {name: dict(fields) for name, fields in GODO["structs"].items()}
TOKEN = re.compile(r'\s*(?:(#[^\n]*|//[^\n]*)|("(?:[^"\\]|\\.)*")|([{}\[\]=,])|([A-Za-z0-9_.\-+]+))')


def tokens(text):
    pos = 0
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            if text[pos:].strip():
                raise ValueError("cannot tokenize at %r" % text[pos:pos + 30])
            break
        pos = match.end()
        comment, string, punct, word = match.groups()
        if comment:
            continue
        if string is not None:
            yield ("str", json.loads(string))
        elif punct:
            yield ("p", punct)
        elif word is not None:
            yield ("word", word)


def parse_body(toks):
    """[(key, value or ('block', [...]))] until '}'."""
    items = []
    while True:
        kind, value = next(toks)
        if (kind, value) == ("p", "}"):
            return items
        key = value
        kind, value = next(toks)
        if (kind, value) == ("p", "="):
            items.append((key, parse_value(toks)))
        elif kind == "str":  # resource "type" "name" {
            _kind, _name = next(toks)
            assert next(toks) == ("p", "{")
            items.append((key, ("block", parse_body(toks))))
        elif (kind, value) == ("p", "{"):
            items.append((key, ("block", parse_body(toks))))
        else:
            raise ValueError("unexpected %r after %r" % (value, key))


def parse_value(toks):
    kind, value = next(toks)
    if kind == "str":
        return value
    if (kind, value) == ("p", "["):
        out = []
        while True:
            kind, value = next(toks)
            if (kind, value) == ("p", "]"):
                return out
            if (kind, value) == ("p", ","):
                continue
            out.append(value if kind == "str" else scalar(value))
    return scalar(value)


def scalar(word):
    if word in ("true", "false"):
        return word == "true"
    if re.match(r"^-?\d+$", word):
        return int(word)
    if re.match(r"^-?\d+\.\d+$", word):
        return float(word)
    raise ValueError("unsupported value %r (a reference?)" % word)


def to_spec(items, struct):
    fields = GODO["structs"][struct]
    out = {}
    for key, value in items:
        if key in fields:
            name = key
        elif key + "s" in fields and fields[key + "s"].startswith("[]"):
            name = key + "s"
        else:
            raise ValueError("%s has no field %r" % (struct, key))
        go_type = fields[name]
        base = go_type.lstrip("[]*")
        if value in (0, False, "") and value is not None and name not in GODO["required"].get(struct, []):
            continue  # godo marshals with omitempty: a zero value never reaches App Platform
        if isinstance(value, tuple):
            converted = to_spec(value[1], base)
            if go_type.startswith("[]"):
                out.setdefault(name, []).append(converted)
            else:
                out[name] = converted
        else:
            out[name] = value
    return out


def convert(go_source, var_name, app_name, extras):
    match = re.search(r"var %s = `(.*?)`" % re.escape(var_name), go_source, re.S)
    if not match:
        raise ValueError("no config %s" % var_name)
    text = match.group(1).replace("%s", "\x00", 1)
    for extra in extras:
        text = text.replace("%s", extra, 1)
    if "%s" in text:
        raise ValueError("%s has more %%s placeholders than values given" % var_name)
    text = text.replace("\x00", app_name)
    toks = tokens("{" + text + "}")
    assert next(toks) == ("p", "{")
    top = parse_body(toks)
    resource = dict(top)["resource"][1]
    spec = dict(resource)["spec"][1]
    return to_spec(spec, "AppSpec")


def main(argv):
    with open(argv[0], encoding="utf-8") as handle:
        source = handle.read()
    spec = convert(source, argv[1], argv[2], argv[3:])
    sys.stdout.write(yaml.safe_dump(spec, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
