"""Apps: create, update, delete, look up and render (GET /v2/apps/{id})."""
import copy
import time
import uuid

from emulator.common import REGIONS, ApiError, iso_s, not_found, spec_findings


class AppsMixin:
    """App records and their rendering; mixed into ``Store``."""

    def app_for(self, account, app_id):
        app = self.apps.get(app_id)
        if app is None or app["account"] != account["name"]:
            raise not_found()
        return app

    def _refuse_if_pinned(self, app):
        if app.get("pinned"):
            raise ApiError(400, "failed_precondition",
                           "app is pinned to rollback deployment %s: new deployments are disabled "
                           "until the rollback is committed (POST /v2/apps/%s/rollback/commit) or "
                           "reverted (POST /v2/apps/%s/rollback/revert)"
                           % (app["pinned"], app["id"], app["id"]))

    @staticmethod
    def _refuse_spec(findings):
        parts = []
        for finding in findings:
            field = finding["path"][2:] if finding["path"].startswith("$.") else "(the spec itself)"
            text = "error validating app spec field %s: %s" % (field, finding["message"])
            if finding.get("hint"):
                text += " (%s)" % finding["hint"]
            parts.append(text)
        raise ApiError(400, "invalid_argument", "; ".join(parts) or "invalid app spec")

    def _check_name(self, account, spec, app_id=None):
        for other in self.apps.values():
            if other["account"] == account["name"] and other["id"] != app_id \
                    and other["spec"].get("name") == spec.get("name"):
                raise ApiError(409, "already_exists",
                               "an app named %r already exists in this account" % spec.get("name"))

    def create_app(self, account, spec, app_id=None, now=None, initial_active=False, maintenance=False):
        """A new app and its first deployment. ``initial_active`` (seed apps): that deployment
        already ran to ACTIVE; ``maintenance`` (seed option, with initial_active): App Platform
        then redeployed it for maintenance, which is ACTIVE now."""
        now = time.time() if now is None else now
        with self.lock:
            findings = spec_findings(spec)
            if findings:
                self._refuse_spec(findings)
            self._check_name(account, spec)
            self.check_quotas(account, spec)
            app_id = app_id or str(uuid.uuid4())
            if app_id in self.apps:
                raise ApiError(409, "already_exists", "app id %s already exists" % app_id)
            app = {"id": app_id, "account": account["name"], "spec": self._encrypt_spec(spec),
                   "created_at": now, "updated_at": now, "deployments": [], "in_progress": None,
                   "active": None, "previous_active": None, "pinned": None, "pre_rollback_spec": None,
                   "last_active_at": None, "last_created_at": None}
            self.apps[app_id] = app
            created_by = self._user_action(app, "CREATE_DEPLOYMENT")
            if initial_active:
                total = sum(self.phase_seconds.values())
                start = now - total * (2 if maintenance else 1)
                dep = self._new_deployment(app, app["spec"], "manual", start, use_faults=False,
                                           cause_details=created_by)
                if maintenance:
                    self._advance(app, start + total)
                    dep = self.maintenance_deployment(app_id, now=start + total)
                self._advance(app, now)
                assert app["active"] == dep["id"]
            else:
                dep = self._new_deployment(app, app["spec"], "manual", now, cause_details=created_by)
            self.save()
            return app, dep

    def update_app(self, account, app_id, spec, update_all_source_versions=False, now=None):
        now = time.time() if now is None else now
        with self.lock:
            app = self.app_for(account, app_id)
            findings = spec_findings(spec)
            if findings:
                self._refuse_spec(findings)
            self._refuse_if_pinned(app)
            self._check_name(account, spec, app_id)
            self.check_quotas(account, spec, app_id)
            new_spec = self._encrypt_spec(spec)
            dep = None
            if new_spec != app["spec"] or update_all_source_versions:
                app["spec"] = new_spec
                app["updated_at"] = now
                dep = self._new_deployment(app, new_spec, "manual", now,
                                           update_sources=bool(update_all_source_versions),
                                           cause_details=self._user_action(app, "UPDATE_SPEC"))
            self.save()
            return app, dep

    def delete_app(self, account, app_id):
        with self.lock:
            app = self.app_for(account, app_id)
            for dep_id in app["deployments"]:
                self.deployments.pop(dep_id, None)
            del self.apps[app_id]
            self.save()
            return app_id

    def live_url(self, app):
        return "%s/_live/%s" % (self.base_url, app["id"])

    @staticmethod
    def render_pending(dep):
        """``pending_deployment`` as the OpenAPI app example shows it: the deployment's id
        and spec (tests/recorded/fixtures/app_get_with_pending_deployment.json)."""
        return {"id": dep["id"], "spec": copy.deepcopy(dep["spec"])}

    def render_app(self, app, now=None, pending=None):
        """The App object. ``pending``: the deployment a create/update call just started (the
        API guarantees pending_deployment reflects it); otherwise pending_deployment is the
        most recent deployment that was not cancelled (after a failure: the failed one)."""
        now = time.time() if now is None else now
        self._advance(app, now)
        account = self.accounts[app["account"]]
        region = app["spec"].get("region") or "nyc"
        label, flag, continent, dcs = REGIONS.get(region, (region, region, "", []))
        body = {"id": app["id"], "owner_uuid": account["uuid"], "spec": copy.deepcopy(app["spec"])}
        if app.get("last_active_at"):
            body["last_deployment_active_at"] = iso_s(app["last_active_at"])
        live = self.live_url(app) if app.get("active") else None
        if live:
            body["default_ingress"] = live
        body.update({"created_at": iso_s(app["created_at"]), "updated_at": iso_s(app["updated_at"])})
        if app.get("active"):
            body["active_deployment"] = self.render_deployment(self.deployments[app["active"]], now)
        if app.get("in_progress"):
            body["in_progress_deployment"] = self.render_deployment(self.deployments[app["in_progress"]], now)
        pending = pending if pending is not None else self.latest_not_canceled(app, now)
        if pending is not None:
            body["pending_deployment"] = self.render_pending(pending)
        if app.get("last_created_at"):
            body["last_deployment_created_at"] = iso_s(app["last_created_at"])
        if live:
            body["live_url"] = live
        body["region"] = {"slug": region, "label": label, "flag": flag, "continent": continent,
                          "data_centers": dcs}
        body["tier_slug"] = "basic"
        if live:
            body.update({"live_url_base": live, "live_domain": live.split("://", 1)[1].split("/", 1)[0]})
        if app.get("pinned"):
            body["pinned_deployment"] = self.render_deployment(self.deployments[app["pinned"]], now)
        return body
