"""Rollback: validate, roll back (pinning), commit and revert."""
import copy
import time

from emulator.common import TERMINAL, ApiError, components


class RollbackMixin:
    """POST /v2/apps/{id}/rollback[/validate|/commit|/revert]; mixed into ``Store``."""

    def _rollback_conditions(self, app, dep, now):
        """(error or None, warnings) like POST /rollback/validate."""
        self._advance(app, now)
        warnings = []
        missing = [name for _, name, comp in components(dep["spec"])
                   if comp.get("image") and not comp["image"].get("digest")]
        if missing:
            warnings.append({"code": "image_source_missing_digest", "components": missing,
                             "message": "one or more components are missing an image digest and "
                                        "are not guaranteed rollback to the old version."})
        if app.get("pinned"):
            return ({"code": "app_pinned", "message": "app is already pinned to rollback deployment %s"
                     % app["pinned"]}, warnings)
        phase, _ = self.phase_of(dep, now)
        if phase not in TERMINAL:
            return ({"code": "incompatible_phase",
                     "message": "deployment phase %s is unsuitable for rollback" % phase}, warnings)
        if not dep.get("active_at"):
            return ({"code": "incompatible_result",
                     "message": 'deployment result "%s" is unsuitable for rollback'
                                % ("failed" if phase == "ERROR" else phase.lower())}, warnings)
        if dep["id"] == app.get("active"):
            return ({"code": "incompatible_result",
                     "message": "deployment %s is the app's active deployment" % dep["id"]}, warnings)
        return None, warnings

    def validate_rollback(self, account, app_id, deployment_id, now=None):
        now = time.time() if now is None else now
        with self.lock:
            app = self.app_for(account, app_id)
            dep = self.deployment_for(app, deployment_id)
            error, warnings = self._rollback_conditions(app, dep, now)
            body = {"valid": error is None}
            if error:
                body["error"] = error
            if warnings:
                body["warnings"] = warnings
            return body

    def rollback(self, account, app_id, deployment_id, skip_pin=False, now=None):
        now = time.time() if now is None else now
        with self.lock:
            app = self.app_for(account, app_id)
            target = self.deployment_for(app, deployment_id)
            error, _ = self._rollback_conditions(app, target, now)
            if error:
                raise ApiError(400, "failed_precondition", "rollback is not possible: %s (%s)"
                               % (error["message"], error["code"]))
            previous_spec = app["spec"]
            app["spec"] = copy.deepcopy(target["spec"])
            app["updated_at"] = now
            dep = self._new_deployment(app, app["spec"], "rollback to deployment %s" % target["id"], now,
                                       cloned_from=target["id"],
                                       cause_details=self._user_action(app, "ROLLBACK_APP", "MANUAL_ROLLBACK"))
            if not skip_pin:
                app["pinned"] = dep["id"]
                app["pre_rollback_spec"] = previous_spec
            self.save()
            return dep

    def _require_pinned(self, app):
        if not app.get("pinned"):
            raise ApiError(400, "failed_precondition",
                           "app %s has no rollback in progress: it is not pinned" % app["id"])

    def commit_rollback(self, account, app_id, now=None):
        with self.lock:
            app = self.app_for(account, app_id)
            self._require_pinned(app)
            app["pinned"] = None
            app["pre_rollback_spec"] = None
            self.save()

    def revert_rollback(self, account, app_id, now=None):
        now = time.time() if now is None else now
        with self.lock:
            app = self.app_for(account, app_id)
            self._require_pinned(app)
            app["spec"] = app["pre_rollback_spec"]
            app["pinned"] = None
            app["pre_rollback_spec"] = None
            app["updated_at"] = now
            dep = self._new_deployment(app, app["spec"], "rollback reverted", now,
                                       cause_details=self._user_action(app, "REVERT_APP_ROLLBACK"))
            self.save()
            return dep
