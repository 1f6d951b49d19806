"""playbooks/drift.yml (and scripts/drift.sh) against the App Platform emulator: a freshly
deployed app is in sync (exit 0); after an env var is changed out of band (a PUT by another
client, as from the control panel or doctl) the report names the field and the deployment,
exits 2, and shows no secret value."""
import json
import os
import subprocess
import time

from playbook_run import ROOT, playbook_run


def _out_of_band_change(run, key, value, api_tag):
    """One PUT by another client: env ``key`` of the api set to ``value``, its image to ``api_tag``."""
    client = run.client()
    spec = client.apps.get(run.app_id)["app"]["active_deployment"]["spec"]
    for comp in spec["services"]:
        if comp["name"] == "api":
            comp["image"].pop("digest", None)  # staging deploys by digest; App Platform refuses tag + digest
            comp["image"]["tag"] = api_tag
        for env in comp.get("envs") or []:
            if env["key"] == key:
                env["value"] = value
    client.apps.update(run.app_id, {"spec": spec})
    # the emulator's phases take 0.05 s each: wait until the new deployment is the active one
    for _attempt in range(100):
        if client.apps.get(run.app_id)["app"]["active_deployment"]["spec"] == spec or _active_env(run, key) == value:
            return
        time.sleep(0.1)
    raise AssertionError("the out-of-band deployment never became active")


def _active_env(run, key):
    spec = run.client().apps.get(run.app_id)["app"]["active_deployment"]["spec"]
    return [e.get("value") for c in spec["services"] for e in c.get("envs") or [] if e["key"] == key][0]


def test_drift_in_sync_then_env_changed_out_of_band(tmp_path, monkeypatch):
    with playbook_run(tmp_path, monkeypatch) as run:
        rc, out = run.deploy()
        assert rc == 0, out
        rc, out = run.playbook("drift.yml")
        assert rc == 0, out
        assert "IN SYNC" in out and "fingerprint matches" in out

        _out_of_band_change(run, "LOG_LEVEL", "debug", "f" * 40)
        reports = tmp_path / "reports"
        reports.mkdir()
        rc, out = run.playbook("drift.yml", extra={"drift_report_dir": str(reports)}, args=["--check"])
        assert rc == 2, out
        report = json.loads((reports / "staging.json").read_text())
        assert report["status"] == "drifted"
        kinds = sorted((f["kind"], f.get("path")) for f in report["findings"])
        # each change once: the deployment, the env var, the image (not also as a spec change)
        assert kinds == [("deployment", None), ("image", None), ("spec", "services[name=api].envs[key=LOG_LEVEL].value")]
        image = [f for f in report["findings"] if f["kind"] == "image"][0]
        assert (image["component"], image["running"]) == ("api", "tag " + "f" * 40)
        assert "services[name=api].envs[key=LOG_LEVEL].value changed: live" in out
        assert "playbooks/deploy.yml -i inventories/sandbox -l tachyon-staging" in report["fix_command"]
        for secret in list(run.secrets.values()) + [run.token]:
            assert secret not in out and secret not in json.dumps(report)

        # the wrapper: exit 2 for drift, JSON on stdout
        proc = subprocess.run([os.path.join(ROOT, "scripts", "drift.sh"), "-i", "inventories/sandbox", "-l", "staging",
                               "-e", json.dumps({"manifest_path": str(run.manifest)}), "-e", "format=json"],
                              cwd=ROOT, env=run.env, capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert [r["status"] for r in json.loads(proc.stdout)] == ["drifted"]
        # a report that cannot be made (here: no manifest) is an error, not drift: exit 1
        proc = subprocess.run([os.path.join(ROOT, "scripts", "drift.sh"), "-i", "inventories/sandbox", "-l", "staging",
                               "-e", json.dumps({"manifest_path": str(tmp_path / "missing.json")})],
                              cwd=ROOT, env=run.env, capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "the drift report could not be made" in proc.stderr
