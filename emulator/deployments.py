"""Deployments: the time-driven phase schedule, creation, cancellation and rendering.

What a rendered deployment looks like follows the recorded DigitalOcean bodies in
tests/recorded/fixtures/ (see its README):

- ``progress.steps`` is the real tree: ``build`` -> ``initialize``, ``components`` -> one step
  per component (``message_base`` "Building service|worker|static site|job|functions");
  ``deploy`` -> ``initialize``, ``components`` -> one step per service/worker/job with the
  children ``deploy`` ("Deploying service") and ``wait`` ("Waiting for service"), ``finalize``.
  Static sites and functions have a build step only (deployment_automated_rollback.json).
- Stage-level steps carry nanosecond ``started_at``/``ended_at``; component-level steps of a
  finished stage carry Go's zero time ``0001-01-01T00:00:00Z`` (the real ACTIVE deployments);
  PENDING steps carry no times (the OpenAPI PENDING_BUILD example).
- A component build that did not run is SUCCESS with a ``reason``: ``PreviousBuildReused``
  ("Your previous build was reused.") when an earlier deployment of the app already built
  the same component at the same source revision, else ``PreBuiltImage`` ("Your build job
  was skipped because you specified a pre-built image.", doctl issue #1071) for an image.
- The progress counts count the leaf steps and leave out zero counts, as the API does.
- Failed steps (``deploy_fail`` fault) are ERROR without a ``reason``: DigitalOcean publishes no
  failure reason codes, so the emulator invents none.
- ``cause_details`` uses godo's ``DeploymentCauseDetails`` (apps.gen.go): MANUAL with a
  ``digitalocean_user_action`` (CREATE_DEPLOYMENT, UPDATE_SPEC), MANUAL_ROLLBACK
  (ROLLBACK_APP, REVERT_APP_ROLLBACK), AUTO_ROLLBACK, MAINTENANCE.

App Platform's own deployments are options: the ``auto_rollback`` fault makes a deployment
that fails at the deploy stage trigger an automated rollback (a new deployment cloned from
the last ACTIVE one, cause ``automated rollback after failed deployment of "<id>"``, as in
deployment_automated_rollback.json); ``maintenance_deployment()`` (admin endpoint
``POST /_emulator/maintenance``, seed ``maintenance: true``) redeploys the active spec with
cause_details type MAINTENANCE.
"""
import copy
import hashlib
import time
import uuid

from emulator.common import COMPONENT_KINDS, TERMINAL, ZERO_TIME, ApiError, components, iso_ns, iso_s, not_found
from emulator.faults import PHASES_TIMED

REASON_REUSED = {"code": "PreviousBuildReused", "message": "Your previous build was reused."}
REASON_PREBUILT = {"code": "PreBuiltImage",
                   "message": "Your build job was skipped because you specified a pre-built image."}
DEPLOYED_KINDS = ("service", "worker", "job")
MAINTENANCE_CAUSE = "App Platform maintenance"
# share of a stage's time taken by its initialize (and, in deploy, finalize) step
INIT_SHARE = 0.1


def auto_rollback_cause(failed_id):
    return 'automated rollback after failed deployment of "%s"' % failed_id


class DeploymentsMixin:
    """Deployment records, their timeline and progress steps; mixed into ``Store``."""

    def deployment_for(self, app, deployment_id):
        dep = self.deployments.get(deployment_id)
        if dep is None or dep["app_id"] != app["id"]:
            raise not_found()
        return dep

    # ----------------------------------------------------------------- timeline
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
        """Finalize the in-progress deployment of ``app`` if its schedule ended before now;
        an automated rollback it triggers is created at its end and advanced in turn."""
        while True:
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
            elif natural == "ERROR" and dep.get("auto_rollback") and app.get("active") \
                    and (dep.get("fail") or {}).get("stage") == "deploy":
                target = self.deployments[app["active"]]
                app["spec"] = copy.deepcopy(target["spec"])
                app["updated_at"] = end
                self._new_deployment(app, app["spec"], auto_rollback_cause(dep_id), end,
                                     cloned_from=target["id"], use_faults=False,
                                     cause_details={"type": "AUTO_ROLLBACK"})
            self.save()

    # ----------------------------------------------------------------- creation
    def _user_action(self, app, name, kind="MANUAL"):
        account = self.accounts[app["account"]]
        user = {"uuid": account["uuid"], "email": account.get("email") or "%s@sandbox.invalid" % account["name"],
                "full_name": account.get("full_name") or account["name"]}
        return {"digitalocean_user_action": {"user": user, "name": name}, "type": kind}

    def _reused_builds(self, app, spec, source_rev):
        """Components an earlier deployment of the app already built at this source revision."""
        reused = []
        for _kind, name, comp in components(spec):
            for dep_id in app["deployments"]:
                old = self.deployments.get(dep_id)
                if not old or old.get("source_rev") != source_rev:
                    continue
                built = (old.get("fail") or {}).get("stage") != "build" and (
                    old.get("active_at") or (old.get("final") or {}).get("phase") == "ERROR")
                if built and any(n == name and c == comp for _kind, n, c in components(old["spec"])):
                    reused.append(name)
                    break
        return reused

    def _new_deployment(self, app, spec, cause, now, cloned_from=None, update_sources=False,
                        use_faults=True, cause_details=None, force_build=False):
        self._advance(app, now)
        running = app.get("in_progress")
        if running:
            old = self.deployments[running]
            old["final"] = {"phase": "SUPERSEDED", "at": now}
            old["updated_at"] = now
        durations = dict(self.phase_seconds)
        fail = None
        auto_rollback = False
        stale = []
        unhealthy = {}
        scale = []
        for fault in (self.faults.take_deployment_faults(app["id"]) if self.faults and use_faults else []):
            if fault["kind"] == "slow_phase":
                durations[fault["phase"]] = float(fault["seconds"])
            elif fault["kind"] == "deploy_fail" and fail is None:
                names = [name for _kind, name, _comp in components(spec)]
                fail = {"stage": fault["stage"], "component": fault.get("component") or (names[0] if names else "")}
            elif fault["kind"] == "auto_rollback":
                auto_rollback = True
            elif fault["kind"] == "stale_image":
                stale.append(fault["component"])
            elif fault["kind"] == "component_health":
                unhealthy[fault["component"]] = fault["state"]
            elif fault["kind"] == "autoscale":
                scale.append(fault)
        app["revision"] = app.get("revision", 0) + 1
        source_rev = app["revision"] if update_sources else app.get("source_rev", 1)
        if cloned_from in self.deployments:
            # a rollback redeploys the target's sources (and reuses its builds)
            source_rev = self.deployments[cloned_from]["source_rev"]
        dep = {
            "id": str(uuid.uuid4()), "app_id": app["id"], "spec": copy.deepcopy(spec),
            "cause": cause, "cause_details": cause_details, "cloned_from": cloned_from,
            "created_at": now, "updated_at": now,
            "durations": durations, "fail": fail, "final": None, "active_at": None,
            "source_rev": source_rev, "auto_rollback": auto_rollback,
            "reused": [] if force_build else self._reused_builds(app, spec, source_rev),
            "unhealthy": unhealthy,
        }
        if update_sources:
            app["source_rev"] = app["revision"]
        self._keep_old_images(app, dep, stale)
        for fault in scale:
            # App Platform autoscales the running deployment while ours starts (emulator/signals.py)
            try:
                self.autoscale(app["id"], fault["component"], fault["to"], fault["triggering_metric"], now=now)
            except ValueError:
                pass  # nothing running to scale (a first deployment) or no such component: no event
        self.deployments[dep["id"]] = dep
        app["deployments"].insert(0, dep["id"])
        app["in_progress"] = dep["id"]
        app["last_created_at"] = now
        return dep

    def _keep_old_images(self, app, dep, names):
        """The ``stale_image`` fault: these components keep the active deployment's image."""
        active = self.deployments.get(app.get("active") or "")
        if not names or not active:
            return
        old = {name: comp.get("image") for _kind, name, comp in components(active["spec"])}
        for _kind, name, comp in components(dep["spec"]):
            if name in names and old.get(name) is not None:
                comp["image"] = copy.deepcopy(old[name])

    def create_deployment(self, account, app_id, force_build=False, now=None):
        now = time.time() if now is None else now
        with self.lock:
            app = self.app_for(account, app_id)
            self._refuse_if_pinned(app)
            dep = self._new_deployment(app, app["spec"], "manual", now, force_build=bool(force_build),
                                       cause_details=self._user_action(app, "CREATE_DEPLOYMENT"))
            self.save()
            return dep

    def maintenance_deployment(self, app_id, now=None):
        """App Platform's own maintenance redeploy of the app's current spec."""
        now = time.time() if now is None else now
        with self.lock:
            app = self.apps.get(app_id)
            if app is None:
                raise not_found()
            dep = self._new_deployment(app, app["spec"], MAINTENANCE_CAUSE, now, use_faults=False,
                                       cause_details={"internal": True, "type": "MAINTENANCE"})
            self.save()
            return dep

    def cancel_deployment(self, account, app_id, deployment_id, now=None):
        now = time.time() if now is None else now
        with self.lock:
            app = self.app_for(account, app_id)
            dep = self.deployment_for(app, deployment_id)
            self._advance(app, now)
            phase, _since = self.phase_of(dep, now)
            if phase in TERMINAL:
                raise ApiError(400, "failed_precondition",
                               "deployment %s is %s and can no longer be canceled" % (dep["id"], phase))
            dep["final"] = {"phase": "CANCELED", "at": now}
            dep["updated_at"] = now
            app["in_progress"] = None
            self.save()
            return dep

    def latest_not_canceled(self, app, now):
        """GET /v2/apps/{id}'s pending_deployment: the most recent deployment that was not
        cancelled (godo PR #601); after a failure that is the failed deployment."""
        for dep_id in app["deployments"]:
            dep = self.deployments[dep_id]
            if self.phase_of(dep, now)[0] != "CANCELED":
                return dep
        return None

    # ----------------------------------------------------------------- rendering
    def stage_windows(self, dep):
        """{'build': (start, end), 'deploy': (start, end)} of the stages the schedule reaches."""
        schedule = {p: (s, e) for p, s, e in self._schedule(dep)}
        out = {}
        if "BUILDING" in schedule:
            out["build"] = schedule["BUILDING"]
        if "DEPLOYING" in schedule:
            out["deploy"] = schedule["DEPLOYING"]
        return out

    def _steps(self, dep, now):
        """The progress tree of ``dep`` at ``now`` (see the module docstring)."""
        windows = self.stage_windows(dep)
        fail = dep.get("fail") or {}
        final = dep.get("final") or {}
        cut = final.get("at") if final.get("phase") in ("CANCELED", "SUPERSEDED") and final.get("at") <= now else None
        comps = components(dep["spec"])
        reused = set(dep.get("reused") or ())

        def status_of(start, end, failing=False):
            if start is None or now < start or (cut is not None and cut < start):
                return "PENDING"
            if cut is not None and cut < end:
                return "ERROR"  # interrupted by a cancel or a newer deployment
            if now < end:
                return "RUNNING"
            return "ERROR" if failing else "SUCCESS"

        def node(name, start, end, failing=False, children=None, extra=None, component_level=False):
            status = status_of(start, end, failing)
            if children:
                statuses = set(c["status"] for c in children)
                if "ERROR" in statuses:
                    status = "ERROR"
                elif "RUNNING" in statuses:
                    status = "RUNNING"
                elif len(statuses) == 1:
                    status = statuses.pop()
                else:
                    status = "RUNNING"  # some children done, the next not started yet
            out = {"name": name, "status": status}
            if children:
                out["steps"] = children
            if status != "PENDING":
                if component_level:
                    if status in ("SUCCESS", "ERROR"):
                        out["started_at"] = out["ended_at"] = ZERO_TIME
                else:
                    if start is not None:
                        out["started_at"] = iso_ns(start)
                    if status in ("SUCCESS", "ERROR"):
                        out["ended_at"] = iso_ns(min(end, cut) if cut is not None else end)
            out.update(extra or {})
            return out

        def split(window, first, last=0.0):
            start, end = window if window else (None, None)
            if start is None:
                return (None, None), (None, None), (None, None)
            span = end - start
            a, b = start + span * first, end - span * last
            return (start, a), (a, b), (b, end)

        # build stage
        b_init, b_comps, _b_tail = split(windows.get("build"), INIT_SHARE)
        build_children = []
        for kind, name, comp in comps:
            failing = fail.get("stage") == "build" and fail.get("component") == name
            extra = {}
            step = node(name, *b_comps, failing=failing, component_level=True)
            if step["status"] == "SUCCESS":
                if name in reused:
                    extra["reason"] = dict(REASON_REUSED)
                elif comp.get("image"):
                    extra["reason"] = dict(REASON_PREBUILT)
            extra.update(component_name=name, message_base="Building %s" % kind)
            step.update(extra)
            build_children.append(step)
        build_start, build_end = windows.get("build", (None, None))
        build = node("build", build_start, build_end, children=[
            node("initialize", *b_init),
            node("components", *b_comps, children=build_children)])

        # deploy stage: PRE_DEPLOY jobs run first, like on App Platform
        deployed = [c for c in comps if c[0] in DEPLOYED_KINDS]
        deployed.sort(key=lambda c: 0 if c[2].get("kind") == "PRE_DEPLOY" else 1)
        deploy_fails = fail.get("stage") == "deploy"
        d_init, d_comps, d_final = split(windows.get("deploy"), INIT_SHARE, 0.0 if deploy_fails else INIT_SHARE)
        deploy_children = []
        for kind, name, comp in deployed:
            failing = deploy_fails and fail.get("component") == name
            children = [
                dict(node("deploy", *d_comps, component_level=True),
                     component_name=name, message_base="Deploying %s" % kind),
                dict(node("wait", *d_comps, failing=failing, component_level=True),
                     component_name=name, message_base="Waiting for %s" % kind),
            ]
            deploy_children.append(dict(node(name, *d_comps, children=children, component_level=True),
                                        component_name=name))
        deploy_start, deploy_end = windows.get("deploy", (None, None))
        deploy_steps = [node("initialize", *d_init),
                        node("components", *d_comps, children=deploy_children or None)]
        deploy_steps.append(node("finalize", None, None) if deploy_fails else node("finalize", *d_final))
        deploy = node("deploy", deploy_start, deploy_end, children=deploy_steps)
        steps = [build, deploy]

        leaves = []

        def walk(step):
            if step.get("steps"):
                for child in step["steps"]:
                    walk(child)
            else:
                leaves.append(step["status"])
        for step in steps:
            walk(step)
        progress = {}
        for key, status in (("pending_steps", "PENDING"), ("running_steps", "RUNNING"),
                            ("success_steps", "SUCCESS"), ("error_steps", "ERROR")):
            count = leaves.count(status)
            if count:
                progress[key] = count
        progress["total_steps"] = len(leaves)
        progress["steps"] = steps
        return progress

    def render_deployment(self, dep, now=None):
        now = time.time() if now is None else now
        phase, since = self.phase_of(dep, now)
        body = {"id": dep["id"], "spec": copy.deepcopy(dep["spec"])}
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
        body.update({
            # a deployment still in its first phase has never changed phase: Go's zero time,
            # as in the OpenAPI PENDING_BUILD example
            "phase_last_updated_at": iso_s(since) if since > dep["created_at"] else ZERO_TIME,
            "created_at": iso_s(dep["created_at"]),
            "updated_at": iso_s(max(since, dep["created_at"])),
            "cause": dep["cause"],
        })
        if dep.get("cloned_from"):
            body["cloned_from"] = dep["cloned_from"]
        body.update({"progress": self._steps(dep, now), "phase": phase, "tier_slug": "basic"})
        if dep.get("cause_details"):
            body["cause_details"] = copy.deepcopy(dep["cause_details"])
        return body
