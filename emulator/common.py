"""Shared pieces of the emulator's state modules: the error type, time rendering, the
component walk and the App Spec checks App Platform adds to the schema."""
import datetime
import re

from ansible_collections.tachyon.infra.plugins.module_utils._spec.rules import validate_app_spec

TERMINAL = ("ACTIVE", "ERROR", "CANCELED", "SUPERSEDED")
COMPONENT_KINDS = (("services", "service"), ("workers", "worker"), ("jobs", "job"),
                   ("static_sites", "static site"), ("functions", "functions"))
ENCRYPTED = re.compile(r"^EV\[1:[A-Za-z0-9+/=_-]+:[A-Za-z0-9+/=_-]+\]$")
LOG_TYPES = ("BUILD", "DEPLOY", "RUN")
# label, flag, continent, data centers: the OpenAPI regions example
# (specification/resources/apps/responses/examples.yml#/regions); syd is not in the example.
REGIONS = {
    "nyc": ("New York", "usa", "North America", ["nyc1", "nyc3"]),
    "ams": ("Amsterdam", "netherlands", "Europe", ["ams3"]),
    "sfo": ("San Francisco", "usa", "North America", ["sfo3"]),
    "sgp": ("Singapore", "singapore", "Asia", ["sgp1"]),
    "lon": ("London", "uk", "Europe", ["lon1"]),
    "fra": ("Frankfurt", "germany", "Europe", ["fra1"]),
    "tor": ("Toronto", "canada", "North America", ["tor1"]),
    "blr": ("Bangalore", "india", "Asia", ["blr1"]),
    "syd": ("Sydney", "australia", "Australia", ["syd1"]),
}
# Go's zero time.Time as App Platform returns it on steps that carry no time of their own
# (component steps of a finished deployment, tests/recorded/fixtures/deployment_active_image.json)
ZERO_TIME = "0001-01-01T00:00:00Z"


class ApiError(Exception):
    def __init__(self, status, error_id, message):
        super().__init__(message)
        self.status = status
        self.error_id = error_id
        self.message = message


def not_found():
    return ApiError(404, "not_found", "The resource you requested could not be found.")


def iso(ts):
    """Epoch seconds -> RFC 3339 UTC with milliseconds (archived log lines, /health)."""
    if ts is None:
        return None
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.") + "%03dZ" % int((ts % 1) * 1000)


def iso_s(ts):
    """Epoch seconds -> RFC 3339 UTC in whole seconds, like the API's created_at, updated_at,
    phase_last_updated_at ("2021-07-08T08:11:07Z")."""
    if ts is None:
        return None
    return datetime.datetime.fromtimestamp(int(ts), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ns(ts):
    """Epoch seconds -> RFC 3339 UTC with nanoseconds, trailing zeros trimmed as Go's
    RFC3339Nano does ("2021-07-08T08:11:16.50496129Z"): progress step times."""
    if ts is None:
        return None
    nanos = int(round(ts * 1e9))
    secs, frac = divmod(nanos, 1000000000)
    text = datetime.datetime.fromtimestamp(secs, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    digits = ("%09d" % frac).rstrip("0")
    return text + ("." + digits if digits else "") + "Z"


def components(spec):
    """[(kind, name, component_spec)] in spec order: services, workers, jobs, ..."""
    out = []
    for key, kind in COMPONENT_KINDS:
        for comp in spec.get(key) or []:
            out.append((kind, comp.get("name"), comp))
    return out


def image_ref(comp):
    """'ghcr.io/org/repo:tag' (or @digest) of an image-sourced component, else None."""
    image = comp.get("image")
    if not image:
        return None
    hosts = {"GHCR": "ghcr.io", "DOCR": "registry.digitalocean.com", "DOCKER_HUB": "docker.io"}
    host = hosts.get(image.get("registry_type"), image.get("registry_type", "registry"))
    path = "/".join(p for p in (image.get("registry"), image.get("repository")) if p)
    if image.get("digest"):
        return "%s/%s@%s" % (host, path, image["digest"])
    return "%s/%s:%s" % (host, path, image.get("tag") or "latest")


def spec_findings(spec):
    """Schema findings (vendored AppSpec + overlay) plus the checks App Platform adds."""
    if not isinstance(spec, dict):
        return [{"path": "$.spec", "message": "spec must be an object", "hint": "send {\"spec\": {...}}"}]
    findings = list(validate_app_spec(spec))
    if findings:
        return findings
    seen = {}
    for kind, name, _comp in components(spec):
        if name in seen:
            findings.append({"path": "$", "message": "component name %r is used by a %s and a %s"
                             % (name, seen[name], kind),
                             "hint": "component names must be unique within an app"})
        seen[name] = kind
    return findings
