"""Health: what GET <live_url>/health answers for an app's active deployment."""
import time

from emulator.common import components, iso


class HealthMixin:
    """The live URL's /health payload (and health faults); mixed into ``Store``."""

    def version_of(self, dep):
        if not dep:
            return "unknown"
        for _kind, name, comp in components(dep["spec"]):
            if name == self.health_component:
                image = comp.get("image") or {}
                if image.get("digest"):
                    # an image by digest reports the commit it was built from (emulator/registry.py)
                    return self.registry.image_version(image["digest"]) or image["digest"]
                return image.get("tag") or "unknown"
        return "unknown"

    def health(self, app_id, now=None):
        """(status_code, payload dict or None) of GET <live_url>/health."""
        now = time.time() if now is None else now
        with self.lock:
            app = self.apps.get(app_id)
            if app is None:
                return 404, None
            self._advance(app, now)
            if not app.get("active"):
                return 503, None
            active = self.deployments[app["active"]]
            since_active = now - active["active_at"]
            version = self.version_of(active)
            status, code, checks = "healthy", 200, {"postgres": "connected", "redis": "connected"}
            for fault in (self.faults.health_faults(app_id) if self.faults else []):
                if fault.get("seconds") is not None and since_active >= fault["seconds"]:
                    continue
                if fault["mode"] == "slow_start":
                    return 503, None
                if fault["mode"] == "unhealthy":
                    status, code, checks = "unhealthy", 503, {"postgres": "disconnected", "redis": "connected"}
                if fault["mode"] == "stale_version":
                    previous = app.get("previous_active")
                    version = self.version_of(self.deployments.get(previous)) if previous else "unknown"
            return code, {"status": status, "version": version, "timestamp": iso(now), "checks": checks}
