"""Deployments: the time-driven phase schedule, creation, cancellation and rendering."""
import copy
import hashlib
import time
import uuid

from emulator.common import COMPONENT_KINDS, TERMINAL, ApiError, components, image_ref, iso, not_found
from emulator.faults import PHASES_TIMED


class DeploymentsMixin:
    """Deployment records, their timeline and progress steps; mixed into ``Store``."""

    def deployment_for(self, app, deployment_id):
        dep = self.deployments.get(deployment_id)
        if dep is None or dep["app_id"] != app["id"]:
            raise not_found()
        return dep

    def _schedule(self, dep):
        """[(phase, start, end)] of the timed phases, then (final_phase, end, None)."""
        out, t = [], dep["created_at"]
        fail = dep.get("fail") or {}
        for phase in PHASES_TIMED:
            end = t + dep["durations"][phase]
            out.append((phase, t, end))
            t = end
            if phase == "BUILDING" and fail.get("stage") == "build":
                return out + [("ERROR", t, None)]
        return out + [("ERROR" if fail.get("stage") == "deploy" else "ACTIVE", t, None)]

    def phase_of(self, dep, now):
        """(phase, since) at time ``now``."""
        final = dep.get("final")
        if final and final["at"] <= now:
            return final["phase"], final["at"]
        for phase, start, end in self._schedule(dep):
            if end is None or now < end:
                return phase, start
        raise AssertionError("unreachable")

    def _advance(self, app, now):
        """Finalize the in-progress deployment of ``app`` if its schedule ended before now."""
        dep_id = app.get("in_progress")
        if not dep_id:
            return
        dep = self.deployments[dep_id]
        natural, end = self._schedule(dep)[-1][:2]
        if now < end:
            return
        dep["final"] = {"phase": natural, "at": end}
        dep["updated_at"] = end
        app["in_progress"] = None
        if natural == "ACTIVE":
            dep["active_at"] = end
            previous = app.get("active")
            if previous and previous != dep_id:
                prev = self.deployments[previous]
                prev["final"] = {"phase": "SUPERSEDED", "at": end}
                prev["updated_at"] = end
            app["previous_active"] = previous
            app["active"] = dep_id
            app["last_active_at"] = end
        self.save()

    def _new_deployment(self, app, spec, cause, now, cloned_from=None, update_sources=False,
                        use_faults=True):
        self._advance(app, now)
        running = app.get("in_progress")
        if running:
            old = self.deployments[running]
            old["final"] = {"phase": "SUPERSEDED", "at": now}
            old["updated_at"] = now
        durations = dict(self.phase_seconds)
        fail = None
        for fault in (self.faults.take_deployment_faults(app["id"]) if self.faults and use_faults else []):
            if fault["kind"] == "slow_phase":
                durations[fault["phase"]] = float(fault["seconds"])
            elif fault["kind"] == "deploy_fail" and fail is None:
                names = [name for _, name, _ in components(spec)]
                fail = {"stage": fault["stage"], "component": fault.get("component") or (names[0] if names else "")}
        app["revision"] = app.get("revision", 0) + 1
        dep = {
            "id": str(uuid.uuid4()), "app_id": app["id"], "spec": copy.deepcopy(spec),
            "cause": cause, "cloned_from": cloned_from, "created_at": now, "updated_at": now,
            "durations": durations, "fail": fail, "final": None, "active_at": None,
            "source_rev": app["revision"] if update_sources else app.get("source_rev", 1),
        }
        if update_sources:
            app["source_rev"] = app["revision"]
        self.deployments[dep["id"]] = dep
        app["deployments"].insert(0, dep["id"])
        app["in_progress"] = dep["id"]
        app["last_created_at"] = now
        return dep

    def create_deployment(self, account, app_id, force_build=False, now=None):
        now = time.time() if now is None else now
        with self.lock:
            app = self.app_for(account, app_id)
            self._refuse_if_pinned(app)
            cause = "manual (force build)" if force_build else "manual"
            dep = self._new_deployment(app, app["spec"], cause, now)
            self.save()
            return dep

    def cancel_deployment(self, account, app_id, deployment_id, now=None):
        now = time.time() if now is None else now
        with self.lock:
            app = self.app_for(account, app_id)
            dep = self.deployment_for(app, deployment_id)
            self._advance(app, now)
            phase, _ = self.phase_of(dep, now)
            if phase in TERMINAL:
                raise ApiError(400, "failed_precondition",
                               "deployment %s is %s and can no longer be canceled" % (dep["id"], phase))
            dep["final"] = {"phase": "CANCELED", "at": now}
            dep["updated_at"] = now
            app["in_progress"] = None
            self.save()
            return dep

    def _steps(self, dep, now):
        """Progress steps: 'build' and 'deploy', each with one child step per component."""
        schedule = {p: (s, e) for p, s, e in self._schedule(dep)}
        fail = dep.get("fail") or {}
        final = dep.get("final") or {}
        cut = final.get("at") if final.get("phase") in ("CANCELED", "SUPERSEDED") else None
        comps = components(dep["spec"])
        # PRE_DEPLOY jobs run first in the deploy stage, like on App Platform
        deploy_order = sorted(comps, key=lambda c: 0 if c[2].get("kind") == "PRE_DEPLOY" else 1)

        def stage(name, timed_phase, stage_key, entries, verb):
            start, end = schedule.get(timed_phase, (None, None))
            if start is None:
                # the deployment failed before this stage
                return {"name": name, "status": "PENDING", "steps": [
                    {"name": c[1], "component_name": c[1], "status": "PENDING",
                     "message_base": "%s %s" % (verb(c), c[0])} for c in entries]}
            children = []
            stage_status = "SUCCESS"
            for kind, comp_name, comp in entries:
                step = {"name": comp_name, "component_name": comp_name,
                        "message_base": "%s %s" % (verb((kind, comp_name, comp)), kind)}
                failing = fail.get("stage") == stage_key and fail.get("component") == comp_name
                if cut is not None and cut < end and now >= cut:
                    status = "ERROR" if cut >= start else "PENDING"
                    if status == "ERROR":
                        step["reason"] = {"code": final["phase"].lower(),
                                          "message": "deployment was %s" % final["phase"].lower()}
                elif now < start:
                    status = "PENDING"
                elif now < end:
                    status = "RUNNING"
                elif failing:
                    status = "ERROR"
                    step["reason"] = ({"code": "BuildJobFailed",
                                       "message": "failed to pull image %s: manifest unknown"
                                                  % (image_ref(comp) or comp_name)}
                                      if stage_key == "build" else
                                      {"code": "DeployContainerHealthChecksFailed",
                                       "message": "component %s failed its health checks: container "
                                                  "exited with code 1" % comp_name})
                else:
                    status = "SUCCESS"
                if status in ("RUNNING", "ERROR", "SUCCESS") and now >= start:
                    step["started_at"] = iso(start)
                if status in ("ERROR", "SUCCESS"):
                    step["ended_at"] = iso(min(end, cut) if cut is not None else end)
                step["status"] = status
                children.append(step)
            statuses = [c["status"] for c in children]
            for candidate in ("ERROR", "RUNNING", "PENDING"):
                if candidate in statuses:
                    stage_status = candidate
                    break
            node = {"name": name, "status": stage_status, "steps": children}
            if now >= start and stage_status != "PENDING":
                node["started_at"] = iso(start)
            if stage_status in ("SUCCESS", "ERROR"):
                node["ended_at"] = iso(min(end, cut) if cut is not None else end)
            return node

        build = stage("build", "BUILDING", "build", comps,
                      lambda c: "Pulling image for" if c[2].get("image") else "Building")
        deploy = stage("deploy", "DEPLOYING", "deploy", deploy_order,
                       lambda c: "Running pre-deploy" if c[2].get("kind") == "PRE_DEPLOY" else "Deploying")
        steps = [build, deploy]
        summary = [child for top in steps for child in top["steps"]]
        count = {s: sum(1 for c in summary if c["status"] == s) for s in ("PENDING", "RUNNING", "SUCCESS", "ERROR")}
        return {"pending_steps": count["PENDING"], "running_steps": count["RUNNING"],
                "success_steps": count["SUCCESS"], "error_steps": count["ERROR"],
                "total_steps": len(summary), "steps": steps, "summary_steps": summary}

    def render_deployment(self, dep, now=None):
        now = time.time() if now is None else now
        phase, since = self.phase_of(dep, now)
        body = {"id": dep["id"], "cause": dep["cause"], "spec": copy.deepcopy(dep["spec"]),
                "phase": phase, "phase_last_updated_at": iso(since),
                "created_at": iso(dep["created_at"]), "updated_at": iso(max(since, dep["created_at"])),
                "progress": self._steps(dep, now), "tier_slug": "basic"}
        if dep.get("cloned_from"):
            body["cloned_from"] = dep["cloned_from"]
        for key, kind in COMPONENT_KINDS:
            if key == "functions":
                continue
            items = []
            for comp in dep["spec"].get(key) or []:
                item = {"name": comp.get("name")}
                source = comp.get("github") or comp.get("gitlab") or comp.get("git") or comp.get("bitbucket")
                if source:
                    item["source_commit_hash"] = hashlib.sha1(
                        ("%s@%s#%s" % (source.get("repo") or source.get("repo_clone_url"),
                                       source.get("branch"), dep["source_rev"])).encode()).hexdigest()
                items.append(item)
            if items:
                body[key] = items
        return body
