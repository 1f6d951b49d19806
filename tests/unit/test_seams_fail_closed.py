"""Hardening class 3 (issue 26) at the seams of maintenance mode (issue 30): turning maintenance
off deletes the marker that records it may be on (``.maintenance-<env>.json``: the next plan
reads it). That delete is decided from an answer that shows the app's running spec, or not at
all: an answer without one (an empty app, an app object without its spec, garbage), or an API
error, deletes nothing and fails naming why; the marker stays for the next plan."""
import os

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._platform import maintenance
from ansible_collections.tachyon.infra.plugins.module_utils._platform.client import DOApiError

SPEC = {"name": "tachyon", "services": [{"name": "api", "image": {"registry_type": "GHCR", "tag": "1"}}]}


class _Apps(object):
    def __init__(self, answer):
        self.answer = answer
        self.updates = []

    def get(self, app_id):
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    def update(self, app_id, body, **kwargs):
        self.updates.append(body)
        raise AssertionError("nothing may be changed on an answer that does not show the spec")


def _off(tmp_path, answer):
    marker = str(tmp_path / ".maintenance-production.json")
    maintenance.write_marker(marker, "production", release="0.2.0", by="alice")
    client = type("Client", (), {})()
    client.apps = _Apps(answer)
    return marker, client


@pytest.mark.parametrize("answer", [{}, {"app": {}}, {"app": {"id": "a", "active_deployment": {"id": "d"}}},
                                    {"app": {"active_deployment": {"spec": "x"}}}, {"app": "x"}, [],
                                    DOApiError("get app: the API failed (500)", status=500)],
                         ids=["empty", "empty-app", "no-spec", "spec-a-string", "app-a-string", "a-list", "api-500"])
def test_maintenance_off_deletes_its_marker_only_from_an_answer_that_shows_the_spec(tmp_path, answer):
    marker, client = _off(tmp_path, answer)
    with pytest.raises(DOApiError) as err:
        maintenance.switch(client, "app-1", False, marker)
    assert os.path.exists(marker) and maintenance.read_marker(marker)["by"] == "alice"
    assert client.apps.updates == []
    assert "500" in str(err.value) or "holds no app spec" in str(err.value)


def test_an_answer_that_shows_the_spec_without_maintenance_deletes_the_marker(tmp_path):
    marker, client = _off(tmp_path, {"app": {"id": "app-1", "active_deployment": {"id": "d", "spec": SPEC}}})
    result = maintenance.switch(client, "app-1", False, marker)
    assert not os.path.exists(marker) and result["changed"] and result["before"]["enabled"] is False
