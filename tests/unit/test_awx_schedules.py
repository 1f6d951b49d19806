"""AWX as code, the drift reports (awx/schedules.yml): each report template runs the drift
playbook against its own environment's inventory with that environment's credentials and the
notification webhooks, each schedule starts an existing report template with an RRULE AWX
takes, both environments are reported, and roles/awx applies them."""
import glob
import os
import re

import pytest
from ansible.parsing.dataloader import DataLoader

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# AWX's schedule format (awx.awx.schedule docs: "DTSTART:20191219T130551Z RRULE:FREQ=...")
RRULE = re.compile(r"^DTSTART:\d{8}T\d{6}Z RRULE:FREQ=(MINUTELY|HOURLY|DAILY|WEEKLY)(;INTERVAL=[1-9]\d*)?"
                   r"(;BY[A-Z]+=[A-Z0-9,]+)*$")


@pytest.fixture(scope="module")
def data():
    merged = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "awx", "*.yml"))):
        merged.update(DataLoader().load_from_file(path))
    return merged


def test_each_report_runs_the_drift_playbook_on_its_own_environment(data):
    inv_path = {inv["name"]: inv["source_path"] for inv in data["tachyon_awx_inventories"]}
    creds = {c["name"]: c for c in data["tachyon_awx_credentials"]}
    reports = {t["name"]: t for t in data["tachyon_awx_report_templates"]}
    assert set(reports) == {"drift-staging", "drift-production"}
    for env in ("staging", "production"):
        template = reports["drift-" + env]
        assert template["playbook"] == "playbooks/drift.yml"
        assert os.path.isfile(os.path.join(ROOT, template["playbook"]))
        assert inv_path[template["inventory"]] == "inventories/" + env
        assert set(template["credentials"]) <= set(creds)
        assert {"tachyon-do-" + env, "tachyon-app-secrets-" + env, "tachyon-notify"} == set(template["credentials"])
        assert template["allow_simultaneous"] is False


def test_reports_get_every_variable_their_inventory_reads(data):
    ctypes = {c["name"]: c for c in data["tachyon_awx_credential_types"]}
    creds = {c["name"]: c for c in data["tachyon_awx_credentials"]}
    inv_path = {inv["name"]: inv["source_path"] for inv in data["tachyon_awx_inventories"]}
    for template in data["tachyon_awx_report_templates"]:
        env = {}
        for name in template["credentials"]:
            env.update(ctypes[creds[name]["credential_type"]]["injectors"]["env"])
        text = ""
        for path in glob.glob(os.path.join(ROOT, inv_path[template["inventory"]], "**", "*.yml"), recursive=True):
            with open(path, encoding="utf-8") as handle:
                text += handle.read()
        wanted = set(re.findall(r"lookup\('ansible.builtin.env', '([A-Z_]+)'\)", text))
        assert {"TACHYON_NOTIFY_SLACK_URL", "TACHYON_NOTIFY_JSON_URL"} <= wanted
        assert wanted <= set(env), (template["name"], wanted - set(env))


def test_webhook_urls_are_secret_fields(data):
    (ctype,) = [c for c in data["tachyon_awx_credential_types"] if c["name"] == "Tachyon notification webhooks"]
    assert all(f.get("secret") for f in ctype["inputs"]["fields"])


def test_schedules_start_report_templates_with_an_rrule_awx_takes(data):
    reports = {t["name"] for t in data["tachyon_awx_report_templates"]}
    schedules = data["tachyon_awx_schedules"]
    assert {s["unified_job_template"] for s in schedules} == reports
    for schedule in schedules:
        assert RRULE.match(schedule["rrule"]), schedule["rrule"]
        assert schedule["enabled"] is True
    assert len({s["name"] for s in schedules}) == len(schedules)
    assert not RRULE.match("RRULE:FREQ=DAILY"), "the check itself: DTSTART is required"


def test_the_awx_role_applies_report_templates_and_schedules():
    with open(os.path.join(ROOT, "roles", "awx", "tasks", "schedules.yml"), encoding="utf-8") as handle:
        tasks = DataLoader().load(handle.read())
    modules = {next(k for k in task if k.startswith("awx.awx.")): task["loop"] for task in tasks}
    assert modules == {"awx.awx.job_template": "{{ tachyon_awx_report_templates }}",
                       "awx.awx.schedule": "{{ tachyon_awx_schedules }}"}
    with open(os.path.join(ROOT, "roles", "awx", "tasks", "main.yml"), encoding="utf-8") as handle:
        main = DataLoader().load(handle.read())
    assert any(t.get("ansible.builtin.include_tasks") == "schedules.yml" for t in main)
