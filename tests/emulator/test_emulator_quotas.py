"""The account quota App Platform publishes for app create/update: the Managed Database limit
(emulator/quotas.py), refused with the recorded 400 (tests/emulator/fixtures/
error_databases_limit_exceeded.json: the message DigitalOcean sent, quoted in
pulumi/pulumi-digitalocean#249). Fixtures here use the tests/recorded/fixtures/ file format
(_source, _derived, _notes, request, status, body); they live apart because their source is a
report of DigitalOcean's answer, not a DigitalOcean repository."""
import json
import os
import re

import pytest
from azure.core.exceptions import HttpResponseError

from emulator_helpers import conforms, conforms_error

HERE = os.path.dirname(os.path.abspath(__file__))
LIMIT_MESSAGE = re.compile(r"^error validating databases field \"databases\.limit_exceeded\": \((\d+)\) new databases "
                           r"were requested but the account's Managed Database limit only allows for up to \((\d+)\) "
                           r"new databases$")


def _recorded():
    with open(os.path.join(HERE, "fixtures", "error_databases_limit_exceeded.json"), encoding="utf-8") as handle:
        return json.load(handle)


def _spec(name, dev=0, clusters=()):
    dbs = [{"name": "dev%d" % i, "engine": "PG", "production": False} for i in range(dev)]
    dbs += [{"name": "prod%d" % i, "engine": "PG", "production": True, "cluster_name": c} for i, c in enumerate(clusters)]
    spec = {"name": name, "region": "nyc", "services": [{
        "name": "api", "http_port": 4000, "instance_count": 1, "instance_size_slug": "apps-s-1vcpu-0.5gb",
        "image": {"registry_type": "GHCR", "registry": "tachyonapp", "repository": "tachyon-api", "tag": "v1"}}]}
    if dbs:
        spec["databases"] = dbs
    return spec


def test_recorded_message_matches_the_published_form():
    recorded = _recorded()
    assert recorded["status"] == 400 and recorded["request"] == {"method": "POST", "path": "/v2/apps"}
    assert LIMIT_MESSAGE.match(recorded["body"]["message"]).groups() == ("3", "2")
    assert "pulumi-digitalocean/issues/249" in recorded["_source"]["issue"]


def test_dev_databases_beyond_the_limit_are_refused_and_nothing_is_created(emu):
    client = emu.client("staging", retry_total=0)
    assert emu.configure(quotas={"databases": 4})["quotas"] == {"databases": 4}
    # one app on an existing cluster (1 in use) and one with a dev database (1 more): 2 of 4 used
    client.apps.create({"spec": _spec("uses-cluster", clusters=["pg-main"])})
    client.apps.create({"spec": _spec("has-dev-db", dev=1)})
    before = [a["spec"]["name"] for a in client.apps.list()["apps"]]
    with pytest.raises(HttpResponseError) as err:
        client.apps.create({"spec": _spec("too-many", dev=3)})
    body = conforms_error(err.value.response, 400)
    assert body["id"] == _recorded()["body"]["id"]
    assert LIMIT_MESSAGE.match(body["message"]).groups() == ("3", "2"), body["message"]
    assert [a["spec"]["name"] for a in client.apps.list()["apps"]] == before
    # two fit
    created = conforms(client.apps.create({"spec": _spec("fits", dev=2)}), "new_app")["app"]
    # an update counts only the dev databases the app does not have yet: none left now
    client.apps.update(created["id"], {"spec": _spec("fits", dev=2, clusters=["pg-main"])})
    with pytest.raises(HttpResponseError) as err:
        client.apps.update(created["id"], {"spec": _spec("fits", dev=3)})
    assert LIMIT_MESSAGE.match(conforms_error(err.value.response, 400)["message"]).groups() == ("1", "0")
    # deleting an app frees its dev databases
    client.apps.delete(created["id"])
    conforms(client.apps.create({"spec": _spec("again", dev=2)}), "new_app")


def test_the_limit_is_per_account_and_defaults_to_ten(emu):
    staging = emu.client("staging", retry_total=0)
    production = emu.client("production", retry_total=0)
    assert emu.state() and emu.configure()["quotas"] == {"databases": 10}
    staging.apps.create({"spec": _spec("ten-dev", dev=10)})
    with pytest.raises(HttpResponseError) as err:
        staging.apps.create({"spec": _spec("eleventh", dev=1)})
    assert LIMIT_MESSAGE.match(err.value.response.json()["message"]).groups() == ("1", "0")
    production.apps.create({"spec": _spec("other-account", dev=1)})
    with pytest.raises(ValueError):
        emu.configure(quotas={"apps": 3})
