"""plugins/module_utils/_release/registry.py and plugins/modules/image_digest.py against real HTTP servers:
the emulator's registry (GHCR's bearer-token flow) and a small basic-auth registry scripted here
(multi-arch index, a registry that omits Docker-Content-Digest on HEAD)."""
import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from ansible_collections.tachyon.infra.plugins.module_utils._release import registry
from ansible_collections.tachyon.infra.plugins.modules import image_digest
from emulator.bootstrap import build_server
from emulator.registry import generated_manifest

API = "ghcr.io/tachyonapp/tachyon-api"
SHA = "4a09142"
A, B = "sha256:" + "a" * 64, "sha256:" + "b" * 64


@pytest.fixture(scope="module")
def emulator():
    server = build_server("emulator/sandbox-seed.yml")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def endpoints(server):
    return {"ghcr.io": server.url + "/_registry"}


INDEX = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": [{"digest": A, "platform": {"architecture": "amd64"}},
                                  {"digest": B, "platform": {"architecture": "arm64"}}]}).encode()


class BasicRegistry(BaseHTTPRequestHandler):
    """htpasswd-style registry: Basic challenge; 'multi:1' is an index; 'nohead:1' answers HEAD
    without Docker-Content-Digest (older registries)."""
    protocol_version = "HTTP/1.1"
    seen_accept = []

    def log_message(self, *args):
        pass

    def _answer(self, status, body=b"", headers=None):
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):  # noqa: N802
        self.do_GET()

    def do_GET(self):  # noqa: N802
        BasicRegistry.seen_accept.append(self.headers.get("Accept"))
        good = "Basic " + base64.b64encode(b"ci:s3cret-password").decode()
        if self.headers.get("Authorization") != good:
            return self._answer(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                                {"WWW-Authenticate": 'Basic realm="Registry Realm"'})
        digest = "sha256:" + hashlib.sha256(INDEX).hexdigest()
        if self.path == "/v2/org/multi/manifests/1":
            return self._answer(200, INDEX, {"Docker-Content-Digest": digest,
                                             "Content-Type": "application/vnd.oci.image.index.v1+json"})
        if self.path == "/v2/org/nohead/manifests/1":
            return self._answer(200, INDEX, {} if self.command == "HEAD" else {"Content-Type": "x"})
        return self._answer(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')


@pytest.fixture(scope="module")
def basic():
    server = ThreadingHTTPServer(("127.0.0.1", 0), BasicRegistry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"registry.local:5000": "http://127.0.0.1:%d" % server.server_address[1]}
    server.shutdown()
    server.server_close()


def test_ghcr_bearer_flow_resolves_the_manifest_digest_and_reuses_the_token(emulator):
    resolver = registry.Resolver(endpoints=endpoints(emulator))
    digest = resolver.resolve(API, SHA)
    assert digest == "sha256:" + hashlib.sha256(generated_manifest("tachyonapp/tachyon-api", SHA)).hexdigest()
    assert resolver.requests_made == 3  # HEAD 401, token, HEAD 200
    assert resolver.resolve(API, SHA) == digest and resolver.requests_made == 4


def test_a_missing_tag_names_image_and_tag(emulator):
    with pytest.raises(registry.RegistryError, match=r"ghcr.io/tachyonapp/tachyon-api:deadbee0x: not found "
                                                     r"in the registry ghcr.io \(no manifest for tag deadbee0x\)"):
        registry.Resolver(endpoints=endpoints(emulator)).resolve(API, "deadbee0x")


def test_refused_credentials_say_so_and_never_show_the_password(emulator):
    resolver = registry.Resolver(endpoints=endpoints(emulator),
                                 credentials={"username": "sandbox", "password": "wrong-password-123"})  # pragma: allowlist secret
    with pytest.raises(registry.RegistryError) as err:
        resolver.resolve(API, SHA)
    assert "refused the credentials" in str(err.value) and "wrong-password-123" not in str(err.value)
    assert "ghcr.io/tachyonapp/tachyon-api:4a09142" in str(err.value)


def test_basic_auth_multi_arch_index_digest_and_accept_header(basic):
    resolver = registry.Resolver(endpoints=basic, credentials={"username": "ci", "password": "s3cret-password"})
    assert resolver.resolve("registry.local:5000/org/multi", "1") == "sha256:" + hashlib.sha256(INDEX).hexdigest()
    accept = BasicRegistry.seen_accept[-1]
    for media in ("application/vnd.oci.image.index.v1+json",
                  "application/vnd.docker.distribution.manifest.list.v2+json",
                  "application/vnd.oci.image.manifest.v1+json",
                  "application/vnd.docker.distribution.manifest.v2+json"):
        assert media in accept


def test_a_registry_without_the_digest_header_on_head_is_asked_with_get(basic):
    resolver = registry.Resolver(endpoints=basic, credentials={"username": "ci", "password": "s3cret-password"})
    assert resolver.resolve("registry.local:5000/org/nohead", "1") == "sha256:" + hashlib.sha256(INDEX).hexdigest()


def test_basic_challenge_without_credentials_says_which_variables(basic):
    with pytest.raises(registry.RegistryError, match="tachyon_registry_username and tachyon_registry_password"):
        registry.Resolver(endpoints=basic).resolve("registry.local:5000/org/multi", "1")


@pytest.mark.parametrize("image, host, name", [
    ("ghcr.io/org/app", "ghcr.io", "org/app"),
    ("127.0.0.1:5000/org/app", "127.0.0.1:5000", "org/app"),
    ("postgres", registry.DOCKER_HUB, "library/postgres"),
    ("bitnami/redis", registry.DOCKER_HUB, "bitnami/redis"),
])
def test_split_image(image, host, name):
    assert registry.split_image(image) == (host, name)


@pytest.mark.parametrize("image", ["ghcr.io/org/app:1", "ghcr.io/org/app@" + A, "", " ghcr.io/x"])
def test_split_image_refuses_tags_digests_and_blanks(image):
    with pytest.raises(registry.RegistryError):
        registry.split_image(image)


def test_parse_challenge():
    assert registry.parse_challenge('Bearer realm="https://ghcr.io/token",service="ghcr.io",'
                                    'scope="repository:o/n:pull"') == (
        "bearer", {"realm": "https://ghcr.io/token", "service": "ghcr.io", "scope": "repository:o/n:pull"})


SERVICES = {"tachyon-api": {"sha": SHA, "tag": SHA, "image": API, "digest": None, "component": "api"}}


def staged(digest):
    return {"tachyon-api": dict(SERVICES["tachyon-api"], digest=digest)}


def test_compare_refuses_a_re_pushed_tag_naming_the_service_and_both_digests():
    with pytest.raises(registry.RegistryError) as err:
        registry.compare_digests("production", staged(A), {"tachyon-api": B})
    msg = str(err.value)
    assert "production deploy refused; nothing was deployed" in msg
    assert "tachyon-api: staging verified %s, but the registry's tag %s:%s now points at %s" % (A, API, SHA, B) in msg


def test_compare_refuses_staging_digest_other_than_the_release_pin():
    with pytest.raises(registry.RegistryError, match="staging verified %s, but the release pinned %s" % (A, B)):
        registry.compare_digests("production", staged(A), {"tachyon-api": A},
                                 {"tachyon-api": {"sha": SHA + "0" * 33, "digest": B}})


def test_staging_deploys_the_release_pin_and_refuses_a_tag_moved_since_the_release():
    release = {"tachyon-api": {"sha": SHA, "digest": A}}
    out, _notes = registry.compare_digests("staging", SERVICES, {"tachyon-api": A}, release)
    assert out["tachyon-api"]["digest"] == A
    with pytest.raises(registry.RegistryError, match="the release verified %s, but the registry's tag" % A):
        registry.compare_digests("staging", SERVICES, {"tachyon-api": B}, release)
    # another commit than the release pins: the registry's digest, no release check
    other = {"tachyon-api": {"sha": "1234567", "digest": A}}
    assert registry.compare_digests("staging", SERVICES, {"tachyon-api": B}, other)[0]["tachyon-api"]["digest"] == B


def test_given_digest_must_still_be_the_registry_s_and_agree_with_the_release():
    out, _notes = registry.compare_digests("staging", SERVICES, {"tachyon-api": A}, given={"tachyon-api": A})
    assert out["tachyon-api"]["digest"] == A
    with pytest.raises(registry.RegistryError, match=r"the build \(tachyon_digests\) verified %s, but the "
                                                     r"registry's tag .* now points at %s" % (A, B)):
        registry.compare_digests("staging", SERVICES, {"tachyon-api": B}, given={"tachyon-api": A})
    with pytest.raises(registry.RegistryError, match="tachyon_digests gives %s, but the release verified %s" % (B, A)):
        registry.compare_digests("staging", SERVICES, {"tachyon-api": A}, {"tachyon-api": {"sha": SHA, "digest": A}},
                                 given={"tachyon-api": B})
    with pytest.raises(registry.RegistryError, match="is not sha256:<64 hex>"):
        registry.compare_digests("staging", SERVICES, {"tachyon-api": A}, given={"tachyon-api": A + "\n"})


def test_compare_deploys_the_verified_digest_and_tag_only_needs_the_opt_out():
    out, notes = registry.compare_digests("production", staged(A), {"tachyon-api": A})
    assert out["tachyon-api"]["digest"] == A and notes == []
    with pytest.raises(registry.RegistryError, match="staging deployed it by tag.*tachyon_allow_tag_only=true"):
        registry.compare_digests("production", staged(None), {"tachyon-api": A})
    out, notes = registry.compare_digests("production", staged(None), {"tachyon-api": A}, allow_tag_only=True)
    assert out["tachyon-api"]["digest"] is None and "by TAG" in notes[0]


def test_module_resolves_and_refuses(emulator):
    params = {"images": SERVICES, "release": {}, "given": {}, "environment": "staging", "endpoints": endpoints(emulator),
              "username": None, "password": None, "allow_tag_only": False, "timeout": 5}
    result = image_digest.run(params)
    digest = result["digests"]["tachyon-api"]
    assert result["services"]["tachyon-api"]["digest"] == digest and result["services"]["tachyon-api"]["component"] == "api"
    # re-push the tag with other content (the seed's push credentials), then the check refuses
    token = requests.get(emulator.url + "/_registry/token", auth=("sandbox", "sandbox-registry-password"),
                         params={"scope": "repository:tachyonapp/tachyon-api:pull,push"}).json()["token"]
    put = requests.put(emulator.url + "/_registry/v2/tachyonapp/tachyon-api/manifests/" + SHA,
                       data=b'{"schemaVersion": 2, "other": true}',
                       headers={"Authorization": "Bearer " + token,
                                "Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    assert put.status_code == 201 and put.headers["Docker-Content-Digest"] != digest
    params.update(environment="production", images=staged(digest))
    with pytest.raises(registry.RegistryError, match="now points at %s" % put.headers["Docker-Content-Digest"]):
        image_digest.run(params)


def test_module_unresolvable_image_fails_unless_tag_only_is_allowed(emulator):
    images = {"tachyon-api": dict(SERVICES["tachyon-api"], tag="nosuchtag")}
    params = {"images": images, "release": {}, "given": {}, "environment": "staging", "endpoints": endpoints(emulator),
              "username": None, "password": None, "allow_tag_only": False, "timeout": 5}
    with pytest.raises(registry.RegistryError, match="tachyon-api: .*nosuchtag.*Nothing was deployed"):
        image_digest.run(params)
    params["allow_tag_only"] = True
    result = image_digest.run(params)
    assert result["services"]["tachyon-api"]["digest"] is None and len(result["notes"]) == 2
