"""The sandbox's container registry: the ghcr.io stand-in the emulator serves at ``/_registry``.

The subset of the OCI distribution API the deploy uses, as published in
opencontainers/distribution-spec spec.md (commit 967efdc079b91785ad18c77cc4f8991a47feefbf):
  - ``GET``/``HEAD /v2/<name>/manifests/<tag-or-digest>``: 200 with the manifest,
    ``Content-Type`` its media type, ``Docker-Content-Digest`` its sha256 and ``Content-Length``
    ("Pulling manifests", "Checking if content exists"); 404 with the ``MANIFEST_UNKNOWN``
    error body ("Error Codes", code-7) when unknown;
  - ``PUT /v2/<name>/manifests/<tag>``: stores the exact bytes, 201 with ``Location`` and
    ``Docker-Content-Digest`` ("Pushing manifests"): this is how a tag is re-pushed;
  - auth as GHCR does it (the registry token flow of distribution's docs/spec/auth/token.md): an
    unauthenticated request gets 401 with ``WWW-Authenticate: Bearer realm=<base>/_registry/token,
    service=ghcr.io,scope=repository:<name>:<actions>``; the token endpoint gives a pull token to
    anyone (public packages), a push token only with the registry credentials of the seed
    (basic auth), and answers 401 to other credentials.

What the sandbox registry holds: every commit of the sandbox's repositories is taken to have
been built and pushed (the build-push workflow is not emulated), so a tag of 7-40 hex
characters, ``latest`` or ``sandbox-initial`` of a known repository answers with a
deterministic OCI image manifest generated from (repository, tag), until a PUT replaces it. The
image with a digest "reports" the tag it was built as (``image_version``): the live app's
/health says which commit runs, as the Tachyon API does.
"""
import base64
import hashlib
import hmac
import json
import re
import secrets
import threading

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
NAME = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*"
MANIFEST_PATH = re.compile(r"^/_registry/v2/(?P<name>%s)/manifests/(?P<ref>[^/]+)$" % NAME)
TAG = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
BUILT_TAG = re.compile(r"^(?:[0-9a-f]{7,40}|latest|sandbox-initial)$")


def _sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def generated_manifest(name, tag):
    """The bytes of the OCI image manifest the sandbox 'built' for name:tag."""
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Labels": {"org.opencontainers.image.revision": tag,
                                               "org.opencontainers.image.source": name}}},
                        sort_keys=True).encode()
    layer = ("%s@%s" % (name, tag)).encode()
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": _sha(config), "size": len(config)},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                            "digest": _sha(layer), "size": len(layer)}]}
    return json.dumps(manifest, indent=3, sort_keys=True).encode()


class Registry(object):
    """Manifests by (repository, tag); thread-safe. ``repositories``: the known names."""

    def __init__(self, repositories=(), username="sandbox", password=None):
        self.lock = threading.Lock()
        self.repositories = set(repositories)
        self.username = username
        self.password = password
        self.pushed = {}        # (name, tag) -> (media type, bytes)
        self.by_digest = {}     # digest -> (media type, bytes)
        self.versions = {}      # digest -> tag the image was built as
        self._tokens = {}       # token -> set of (name, action)
        self.key = secrets.token_hex(16)

    # ------------------------------------------------------------------ content
    def manifest(self, name, ref):
        """(media type, bytes, digest) or None."""
        with self.lock:
            if DIGEST.match(ref):
                found = self.by_digest.get(ref)
                return (found[0], found[1], ref) if found else None
            if (name, ref) in self.pushed:
                media, body = self.pushed[(name, ref)]
            elif name in self.repositories and BUILT_TAG.match(ref):
                media, body = OCI_MANIFEST, generated_manifest(name, ref)
            else:
                return None
            digest = _sha(body)
            self.by_digest.setdefault(digest, (media, body))
            self.versions.setdefault(digest, ref)
            return media, body, digest

    def put(self, name, tag, media, body):
        digest = _sha(body)
        with self.lock:
            self.repositories.add(name)
            self.pushed[(name, tag)] = (media, body)
            self.by_digest[digest] = (media, body)
            self.versions.setdefault(digest, tag)
        return digest

    def image_version(self, digest):
        """The tag the image with this digest was built as (what its /health reports)."""
        with self.lock:
            return self.versions.get(digest)

    def set_version(self, digest, version):
        with self.lock:
            self.versions[digest] = version

    # ------------------------------------------------------------------ auth
    def issue_token(self, authorization, scope):
        """(status, body). Pull for anyone; push only with the seed's credentials."""
        granted = set()
        name, actions = None, []
        match = re.match(r"^repository:(%s):([a-z,]+)$" % NAME, scope or "")
        if match:
            name, actions = match.group(1), match.group(2).split(",")
        if authorization:
            user, password = _basic(authorization)
            if not (self.password and user == self.username
                    and hmac.compare_digest(password or "", self.password)):
                return 401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}
            granted = {(name, a) for a in actions if a in ("pull", "push")}
        elif name:
            granted = {(name, "pull")} if "pull" in actions else set()
        token = secrets.token_urlsafe(24)
        with self.lock:
            self._tokens[token] = granted
        return 200, {"token": token, "access_token": token}

    def allowed(self, authorization, name, action):
        if not (authorization or "").lower().startswith("bearer "):
            return False
        with self.lock:
            return (name, action) in self._tokens.get(authorization[7:].strip(), set())


def _basic(header):
    if not header.lower().startswith("basic "):
        return None, None
    try:
        user, _colon, password = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None, None
    return user, password


def _errors(code, message):
    return {"errors": [{"code": code, "message": message}]}


def handle(handler, method, path, query):
    """Answer a /_registry request on the emulator's ``handler``."""
    registry = handler.server.store.registry
    base = handler.server.store.base_url + "/_registry"
    if path == "/_registry/token" and method == "GET":
        scope = (query.get("scope") or [""])[0]
        status, body = registry.issue_token(handler.headers.get("Authorization"), scope)
        return handler._send(status, body)
    if path in ("/_registry/v2", "/_registry/v2/"):
        return handler._send(200, {})
    match = MANIFEST_PATH.match(path)
    if not match:
        return handler._send(404, _errors("NAME_UNKNOWN", "repository name not known to registry"))
    name, ref = match.group("name"), match.group("ref")
    action = "push" if method == "PUT" else "pull"
    if not registry.allowed(handler.headers.get("Authorization"), name, action):
        challenge = 'Bearer realm="%s/token",service="ghcr.io",scope="repository:%s:%s"' % (
            base, name, "pull,push" if action == "push" else "pull")
        return handler._send(401, _errors("UNAUTHORIZED", "authentication required"),
                             {"WWW-Authenticate": challenge})
    if method in ("GET", "HEAD"):
        found = registry.manifest(name, ref)
        if found is None:
            return handler._send(404, _errors("MANIFEST_UNKNOWN", "manifest unknown"))
        media, body, digest = found
        return handler._send(200, body, {"Docker-Content-Digest": digest}, content_type=media)
    if method == "PUT":
        if not TAG.match(ref):
            return handler._send(400, _errors("TAG_INVALID", "manifest tag did not match URI"))
        media = (handler.headers.get("Content-Type") or OCI_MANIFEST).split(";")[0].strip()
        try:
            json.loads(handler._raw_body or b"")
        except ValueError:
            return handler._send(400, _errors("MANIFEST_INVALID", "manifest invalid"))
        digest = registry.put(name, ref, media, handler._raw_body)
        return handler._send(201, b"", {"Docker-Content-Digest": digest,
                                        "Location": "/v2/%s/manifests/%s" % (name, digest)})
    return handler._send(405, _errors("UNSUPPORTED", "the operation is unsupported"))
