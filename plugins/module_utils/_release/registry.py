# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image digests from a container registry (OCI distribution API).

What it does: ``HEAD /v2/<name>/manifests/<tag>`` with the manifest media types of an OCI
image index, a Docker manifest list, an OCI image manifest and a Docker v2 manifest in
``Accept`` (so a multi-arch image answers with its index, and the digest is the index's), and
reads ``Docker-Content-Digest``. A registry that omits the header on HEAD is asked with GET and
the digest is computed from the body's bytes, as the distribution spec defines it.

Auth, as registries do it (distribution spec "token authentication"; GHCR, Docker Hub, the CNCF
distribution registry): the first request is anonymous; a 401 carries ``WWW-Authenticate``:
  - ``Bearer realm=...,service=...,scope=...``: GET the realm with service and scope (basic auth
    with the username and password/PAT when given: GHCR takes any username with a PAT or
    GITHUB_TOKEN as the password), take ``token`` (or ``access_token``), repeat the request with
    ``Authorization: Bearer``;
  - ``Basic realm=...`` (a distribution registry with htpasswd auth): repeat with basic auth.

Library choice: ``requests`` (already a pinned dependency of this collection), with the small
challenge handling above written here. Looked at: the Docker SDK's
``APIClient.inspect_distribution`` returns the same descriptor digest, but asks a running Docker
daemon to do it (AWX execution environments and most CI controllers have none, and the daemon's
own credentials would be used); oras-py (``oras.provider.Registry``) carries the same token flow
but fetches whole manifests (GET) and validates them as OCI manifests, which is more than a digest
needs and adds a dependency; the ``www-authenticate`` parser on PyPI has not been released since
2015. The challenge parser below handles the quoted ``key="value"`` lists of RFC 7235 that
registries send.

Secrets: the password/token is used only in request headers; no message here includes it, a
URL query string or a response body.
"""
import hashlib
import re
import time

from ansible_collections.tachyon.infra.plugins.module_utils._common import deadline
from ansible_collections.tachyon.infra.plugins.module_utils._common.patterns import same_commit

try:
    import requests
    HAS_REQUESTS = True
except ImportError:  # pragma: no cover - requests is a pinned runtime dependency
    HAS_REQUESTS = False

ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}\Z")
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")
DOCKER_HUB = "registry-1.docker.io"
_CHALLENGE = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


class RegistryError(Exception):
    """A digest could not be resolved; the message names image and tag, never a secret."""


def split_image(image):
    """'ghcr.io/org/repo' -> ('ghcr.io', 'org/repo'); Docker Hub names get their defaults."""
    if not isinstance(image, str) or not image or image != image.strip() or "@" in image:
        raise RegistryError("image %r: expected a repository like ghcr.io/<org>/<name> (no tag, "
                            "no digest)" % (image,))
    first, _slash, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        host, name = first, rest
    else:
        host, name = DOCKER_HUB, image
        if "/" not in name:
            name = "library/" + name
    if ":" in name.rsplit("/", 1)[-1]:
        raise RegistryError("image %r: give the repository without a tag; the tag is a separate "
                            "value" % image)
    return host, name


def parse_challenge(header):
    """'Bearer realm="x",service="y"' -> ('bearer', {'realm': 'x', 'service': 'y'})."""
    scheme, _space, params = (header or "").strip().partition(" ")
    values = {}
    for key, quoted, bare in _CHALLENGE.findall(params):
        values[key.lower()] = re.sub(r"\\(.)", r"\1", quoted) if quoted else bare
    return scheme.lower(), values


class Resolver(object):
    """Resolves ``image:tag`` to a digest. ``endpoints`` maps a registry host to the base URL
    that serves it (a mirror, the local registry standing in for ghcr.io, the sandbox's
    emulator); other hosts are reached at https://<host>. ``credentials`` maps a registry host to
    ``{username, password}`` (or one such dict for every host)."""

    def __init__(self, endpoints=None, credentials=None, timeout=deadline.DEFAULT_SECONDS, session=None):
        if not HAS_REQUESTS:  # pragma: no cover
            raise RegistryError("the Python library requests is required (pip install requests)")
        self.endpoints = dict(endpoints or {})
        self.credentials = credentials or {}
        self.timeout = timeout
        self.session = session or requests.Session()
        self._tokens = {}
        self._auth = {}
        self.requests_made = 0

    def _creds(self, host):
        creds = self.credentials
        if creds and isinstance(creds.get(host), dict):
            creds = creds[host]
        elif creds and not ("username" in creds or "password" in creds):
            creds = {}
        user, password = (creds or {}).get("username"), (creds or {}).get("password")
        return (user or "token", password) if password else None

    def base_url(self, host):
        return (self.endpoints.get(host) or "https://%s" % host).rstrip("/")

    def _send(self, method, url, headers, what):
        self.requests_made += 1
        try:
            # timeout bounds each socket read; the deadline bounds the whole request
            return deadline.call(lambda: self.session.request(method, url, headers=headers, timeout=self.timeout,
                                                              allow_redirects=True),
                                 self.timeout, "%s: the registry request" % what, "image_digest timeout")
        except deadline.DeadlineExceeded as exc:
            raise RegistryError(str(exc))
        except requests.RequestException as exc:
            # the exception text may carry the URL; name the host only
            raise RegistryError("%s: the registry could not be reached (%s); check the registry "
                                "endpoint and the network" % (what, type(exc).__name__))

    def _authorize(self, host, name, challenge, what):
        scheme, params = parse_challenge(challenge)
        creds = self._creds(host)
        if scheme == "basic":
            if not creds:
                raise RegistryError("%s: the registry %s asks for credentials (basic auth) and none "
                                    "were given: set tachyon_registry_username and "
                                    "tachyon_registry_password" % (what, host))
            return requests.auth._basic_auth_str(*creds)
        if scheme != "bearer" or not params.get("realm"):
            raise RegistryError("%s: the registry %s answered 401 with an authentication scheme "
                                "this client does not speak (%s)" % (what, host, scheme or "none"))
        query = {"service": params.get("service"),
                 "scope": params.get("scope") or "repository:%s:pull" % name}
        key = (host, query["scope"])
        if key in self._tokens:
            return self._tokens[key]
        self.requests_made += 1
        try:
            resp = deadline.call(lambda: self.session.get(params["realm"], params={k: v for k, v in query.items() if v},
                                                          auth=creds, timeout=self.timeout),
                                 self.timeout, "%s: the token service request" % what, "image_digest timeout")
        except deadline.DeadlineExceeded as exc:
            raise RegistryError(str(exc))
        except requests.RequestException as exc:
            raise RegistryError("%s: the token service of %s could not be reached (%s)"
                                % (what, host, type(exc).__name__))
        if resp.status_code in (401, 403):
            raise RegistryError("%s: the registry %s refused the credentials (token service "
                                "answered %d): check tachyon_registry_username and "
                                "tachyon_registry_password (for GHCR a PAT with read:packages, or "
                                "the workflow's GITHUB_TOKEN with packages: read)"
                                % (what, host, resp.status_code))
        try:
            body = resp.json()
            token = body.get("token") or body.get("access_token")
        except ValueError:
            token = None
        if resp.status_code != 200 or not token:
            raise RegistryError("%s: the token service of %s answered %d without a token"
                                % (what, host, resp.status_code))
        self._tokens[key] = "Bearer " + token
        return self._tokens[key]

    def _request(self, method, host, name, ref, what):
        url = "%s/v2/%s/manifests/%s" % (self.base_url(host), name, ref)
        headers = {"Accept": ACCEPT}
        if (host, name) in self._auth:  # a token (or basic auth) this repository took before
            headers["Authorization"] = self._auth[(host, name)]
        resp = self._send(method, url, headers, what)
        if resp.status_code == 401:
            self._auth.pop((host, name), None)
            headers["Authorization"] = self._authorize(host, name, resp.headers.get("WWW-Authenticate"), what)
            resp = self._send(method, url, headers, what)
            if resp.status_code in (401, 403):
                raise RegistryError("%s: the registry %s refused the credentials (%d): check "
                                    "tachyon_registry_username and tachyon_registry_password, and "
                                    "that they may pull %s" % (what, host, resp.status_code, name))
        if "Authorization" in headers and resp.status_code == 200:
            self._auth[(host, name)] = headers["Authorization"]
        if resp.status_code == 403:
            raise RegistryError("%s: the registry %s denied access (403); the credentials may not "
                                "pull %s" % (what, host, name))
        if resp.status_code == 404:
            raise RegistryError("%s: not found in the registry %s (no manifest for tag %s): was "
                                "the image built and pushed for this commit? (build-push workflow)"
                                % (what, host, ref))
        if resp.status_code != 200:
            raise RegistryError("%s: the registry %s answered %d to %s of the manifest"
                                % (what, host, resp.status_code, method))
        return resp

    def resolve(self, image, tag):
        """Digest (sha256:<64 hex>) of ``image:tag``, the index's for a multi-arch image."""
        host, name = split_image(image)
        what = "%s:%s" % (image, tag)
        if not isinstance(tag, str) or not TAG_RE.match(tag):
            raise RegistryError("%s: %r is not a valid image tag" % (what, tag))
        resp = self._request("HEAD", host, name, tag, what)
        digest = resp.headers.get("Docker-Content-Digest")
        if not digest:
            resp = self._request("GET", host, name, tag, what)
            digest = resp.headers.get("Docker-Content-Digest") or \
                "sha256:" + hashlib.sha256(resp.content).hexdigest()
        if not DIGEST_RE.match(digest):
            raise RegistryError("%s: the registry %s answered a digest that is not sha256:<64 hex>"
                                % (what, host))
        return digest


def resolve_all(resolver, images):
    """{name: {image, tag}} -> ({name: digest}, seconds taken). Stops at the first error."""
    started = time.monotonic()
    out = {}
    for name in sorted(images):
        item = images[name]
        out[name] = resolver.resolve(item["image"], item["tag"])
    return out, round(time.monotonic() - started, 3)


def compare_digests(environment, services, resolved, release=None, allow_tag_only=False, given=None):
    """Decide the digest each service deploys with. Returns (services with digest set, notes).

    ``services``: {name: {sha, tag, image, digest}} as the deploy resolved them; in production
    ``digest`` is what staging verified and recorded (null for staging);
    ``resolved``: {name: digest the registry's tag points at now} (absent when not resolved);
    ``release``: the release's pins {name: {sha, digest}}; a pinned digest counts for a service
    deployed at the pinned commit;
    ``given``: {name: digest} the caller was handed (the build-push workflow's output), which the
    registry must still answer.
    Raises RegistryError listing every refused service, naming it and both digests: the
    registry's tag now points elsewhere than what was verified (a re-pushed tag), or staging
    verified another digest than the release pinned. A service left without a digest (a
    tag-only release that the registry cannot resolve, or staging deployed it by tag) is refused
    unless ``allow_tag_only``; then it is deployed by tag and the notes say so.
    """
    problems, notes, out = [], [], {}
    release = release or {}
    for name in sorted(services):
        svc = dict(services[name])
        ref = "%s:%s" % (svc.get("image"), svc.get("tag"))
        pin = release.get(name) or {}
        pinned = pin.get("digest") if same_commit(pin.get("sha"), svc.get("sha")) else None
        verified = svc.get("digest") if environment == "production" else None
        got = resolved.get(name)
        if verified and pinned and verified != pinned:
            problems.append("%s: staging verified %s, but the release pinned %s for %s: the release "
                            "was re-created after staging deployed it; deploy staging again"
                            % (name, verified, pinned, ref))
            continue
        handed = (given or {}).get(name)
        if handed and not DIGEST_RE.match(str(handed)):
            problems.append("%s: tachyon_digests.%s is not sha256:<64 hex>" % (name, name))
            continue
        if handed and (verified or pinned) and handed != (verified or pinned):
            problems.append("%s: tachyon_digests gives %s, but %s verified %s for %s"
                            % (name, handed, "staging" if verified else "the release",
                               verified or pinned, ref))
            continue
        if verified:
            want, source = verified, "staging"
        elif handed:
            want, source = handed, "the build (tachyon_digests)"
        else:
            want, source = pinned, "the release"
        if want and got and want != got:
            problems.append("%s: %s verified %s, but the registry's tag %s now points at %s (the tag "
                            "was re-pushed): push the verified image back under its tag, or make a "
                            "new release from a new build" % (name, source, want, ref, got))
            continue
        digest = want or got
        if environment == "production" and not verified:
            digest = None
        if not digest:
            if not allow_tag_only:
                why = ("staging deployed it by tag and recorded no digest" if environment == "production"
                       else "the registry gave no digest")
                problems.append("%s: no verified digest for %s (%s); %s deploys by digest only: deploy "
                                "staging again to record digests, or set tachyon_allow_tag_only=true to "
                                "deploy the tag as it is now" % (name, ref, why, environment))
                continue
            notes.append("%s deploys %s by TAG (tachyon_allow_tag_only=true): it runs whatever the "
                         "tag points at when App Platform pulls it" % (name, ref))
        svc["digest"] = digest or None
        out[name] = svc
    if problems:
        raise RegistryError("%s deploy refused; nothing was deployed:\n  - %s"
                            % (environment, "\n  - ".join(problems)))
    return out, notes
