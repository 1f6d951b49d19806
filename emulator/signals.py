"""App Platform's own signals: component health, the app's events, a rolling restart and
maintenance mode. Each answer follows what DigitalOcean published (the vendored OpenAPI,
/work/shared/vendor/digitalocean-openapi/specification/resources/apps/):

- ``GET /v2/apps/{id}/health`` (``apps_get_health.yml``, ``models/app_health_response.yml``,
  ``models/app_component_health.yml``, the ``app_health`` example in
  ``responses/examples.yml``): ``{"app_health": {"components": [{name, cpu_usage_percent,
  memory_usage_percent, replicas_desired, replicas_ready, state}]}}``, ``state`` one of
  UNKNOWN / HEALTHY / UNHEALTHY. The running components of the active deployment (services
  and workers: jobs and static sites run no replicas); ``replicas_desired`` is the spec's
  ``instance_count`` (default 1). CPU and memory are a fixed figure per deployment and
  component (the emulator runs nothing to measure), in the range of the example (5.555 %,
  20.32 %). No active deployment: every component UNKNOWN with 0 replicas ready. The
  ``component_health`` fault makes a deployment run a component UNHEALTHY (0 ready).
- ``GET /v2/apps/{id}/events`` (``apps_list_events.yml``, ``models/app_events.yml``,
  ``models/app_event.yml``): ``{"events": [...], "links": {...}, "meta": {"total"}}``, newest
  first like the deployments list; one DEPLOYMENT event per deployment (``deployment_id``
  and the deployment object), AUTOSCALING events with ``autoscaling: {phase, components:
  {name: {from, to, triggering_metric}}}``; ``event_types`` filters. An autoscaling event is
  made by the admin endpoint ``POST /_emulator/autoscale`` ({app_id, component, to,
  triggering_metric}), the platform acting on its own.
- ``GET /v2/apps/{id}/events/{event_id}/logs`` (``apps_get_event_logs.yml``, responses
  ``list_logs.yml``): ``{"live_url", "historic_urls"}`` like the deployment logs.
- ``POST /v2/apps/{id}/restart`` (``apps_restart.yml``, ``models/apps_restart_request.yml``,
  answer ``responses/new_app_deployment.yml``): ``{"components": [names]}`` (absent or
  empty: all) starts a deployment of the app's current spec (builds reused: the images do not
  change) whose cause_details carry godo's user action ``RESTART``
  (``DeploymentCauseDetailsDigitalOceanUserActionName_Restart``, apps.gen.go at godo 3fce660,
  also in tests/recorded/test_emulator_vs_recorded.py GODO_USER_ACTIONS). DigitalOcean does not
  publish what an unknown component name answers; the emulator refuses it with 400
  ``invalid_argument`` naming it (the gRPC-gateway mapping of a bad argument, as for specs).
- Maintenance mode (``models/app_maintenance_spec.yml``: ``enabled``, ``archive``,
  ``offline_page_url``, "a custom offline page to display when maintenance mode is enabled"):
  while the active deployment's spec has ``maintenance.enabled`` (or ``archive``), every path
  of the live URL answers 503 with the offline page (the ``offline_page_url`` it names), and
  no request reaches the app.
"""
import hashlib
import html
import time
import uuid

from emulator.common import ApiError, components, iso_s, not_found

RUNNING_KINDS = ("service", "worker")
OFFLINE_PAGE = ("<!doctype html><title>Offline for maintenance</title>"
                "<h1>This app is offline for maintenance</h1>%s\n")


def _figure(seed, low, high):
    """A fixed number in [low, high) with two decimals, from ``seed`` (per deployment/component)."""
    value = int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16) / float(0xFFFFFFFF)
    return round(low + (high - low) * value, 2)


def event_id(app_id, what):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "event:%s:%s" % (app_id, what)))


class SignalsMixin:
    """Component health, events, restart and maintenance mode; mixed into ``Store``."""

    # ----------------------------------------------------------------- health
    def app_health(self, account, app_id, now=None):
        now = time.time() if now is None else now
        with self.lock:
            app = self.app_for(account, app_id)
            self._advance(app, now)
            active = self.deployments.get(app.get("active") or "")
            spec = active["spec"] if active else app["spec"]
            unhealthy = (active or {}).get("unhealthy") or {}
            out = []
            for kind, name, comp in components(spec):
                if kind not in RUNNING_KINDS:
                    continue
                desired = int(comp.get("instance_count") or 1)
                if not active:
                    state, ready = "UNKNOWN", 0
                elif name in unhealthy:
                    state, ready = unhealthy[name], 0
                else:
                    state, ready = "HEALTHY", desired
                seed = "%s/%s" % (active["id"] if active else app["id"], name)
                out.append({"name": name, "cpu_usage_percent": _figure(seed + "/cpu", 2, 40),
                            "memory_usage_percent": _figure(seed + "/mem", 10, 60),
                            "replicas_desired": desired, "replicas_ready": ready, "state": state})
            return {"app_health": {"components": out}}

    # ----------------------------------------------------------------- events
    def _events(self, app, now):
        self._advance(app, now)
        out = []
        for dep_id in app["deployments"]:
            dep = self.deployments[dep_id]
            out.append({"id": event_id(app["id"], dep_id), "type": "DEPLOYMENT", "created_at": iso_s(dep["created_at"]),
                        "deployment_id": dep_id, "deployment": self.render_deployment(dep, now),
                        "_at": dep["created_at"]})
        for scaled in app.get("autoscaling") or []:
            out.append({"id": scaled["id"], "type": "AUTOSCALING", "created_at": iso_s(scaled["at"]),
                        "deployment_id": scaled["deployment_id"],
                        "autoscaling": {"phase": "SUCCEEDED", "components": {scaled["component"]: {
                            "from": scaled["from"], "to": scaled["to"],
                            "triggering_metric": scaled["triggering_metric"]}}},
                        "_at": scaled["at"]})
        out.sort(key=lambda e: e["_at"], reverse=True)
        for event in out:
            del event["_at"]
        return out

    def list_events(self, account, app_id, event_types=None, now=None):
        now = time.time() if now is None else now
        with self.lock:
            app = self.app_for(account, app_id)
            events = self._events(app, now)
        if event_types:
            events = [e for e in events if e["type"] in event_types]
        return events

    def event_for(self, account, app_id, wanted):
        with self.lock:
            app = self.app_for(account, app_id)
            for event in self._events(app, time.time()):
                if event["id"] == wanted:
                    return app, event
        raise not_found()

    def autoscale(self, app_id, component, to, triggering_metric="cpu", now=None):
        """App Platform scales a component on its own (admin ``POST /_emulator/autoscale``)."""
        now = time.time() if now is None else now
        with self.lock:
            app = self.apps.get(app_id)
            if app is None:
                raise not_found()
            self._advance(app, now)
            active = self.deployments.get(app.get("active") or "")
            if not active:
                raise ValueError("autoscale: app %s has no active deployment to scale" % app_id)
            comps = {name: comp for kind, name, comp in components(active["spec"]) if kind in RUNNING_KINDS}
            if component not in comps:
                raise ValueError("autoscale: %r is not a service or worker of app %s (%s)"
                                 % (component, app_id, ", ".join(sorted(comps))))
            if not isinstance(to, int) or to < 0:
                raise ValueError("autoscale: to must be a replica count >= 0")
            record = {"id": event_id(app_id, "autoscale:%d" % len(app.get("autoscaling") or [])), "at": now,
                      "deployment_id": active["id"], "component": component,
                      "from": int(comps[component].get("instance_count") or 1), "to": to,
                      "triggering_metric": str(triggering_metric)}
            app.setdefault("autoscaling", []).append(record)
            self.save()
            return record

    # ----------------------------------------------------------------- restart
    def restart(self, account, app_id, names=None, now=None):
        now = time.time() if now is None else now
        with self.lock:
            app = self.app_for(account, app_id)
            self._refuse_if_pinned(app)
            known = [name for _kind, name, _comp in components(app["spec"])]
            unknown = [n for n in names or () if n not in known]
            if unknown:
                raise ApiError(400, "invalid_argument", "components %s are not part of app %s (its components: %s)"
                               % (", ".join(unknown), app_id, ", ".join(known)))
            dep = self._new_deployment(app, app["spec"], "restart %s" % (", ".join(names) if names else "all components"),
                                       now, cause_details=self._user_action(app, "RESTART"))
            dep["restarted"] = list(names or known)
            self.save()
            return dep

    # ----------------------------------------------------------------- maintenance mode
    def offline_page(self, app_id, now=None):
        """The offline page's HTML when the app's active deployment is in maintenance, else None."""
        now = time.time() if now is None else now
        with self.lock:
            app = self.apps.get(app_id)
            if app is None:
                return None
            self._advance(app, now)
            active = self.deployments.get(app.get("active") or "")
            maintenance = ((active or {}).get("spec") or {}).get("maintenance") or {}
            if not (maintenance.get("enabled") or maintenance.get("archive")):
                return None
            url = maintenance.get("offline_page_url")
            link = html.escape(url, quote=True) if url else ""
            return OFFLINE_PAGE % ('<p>Offline page: <a href="%s">%s</a></p>' % (link, link) if url else "")
