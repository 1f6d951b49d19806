"""execution-environment.yml: a valid ansible-builder v3 definition whose build context
carries the collection's Python requirements, its Galaxy collections and the collection
artifact itself. `ansible-builder create` runs for real (no image is built)."""
import os
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EE_FILE = os.path.join(ROOT, "execution-environment.yml")
BIN = os.path.dirname(sys.executable)


def _load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _tool(name):
    path = os.path.join(BIN, name)
    return path if os.path.exists(path) else shutil.which(name)


@pytest.fixture(scope="module")
def definition():
    return _load(EE_FILE)


@pytest.fixture(scope="module")
def build_context(tmp_path_factory):
    """Copy the EE definition and what it references into a scratch dir with a freshly built
    collection artifact, then run `ansible-builder create` there."""
    work = tmp_path_factory.mktemp("ee")
    ee = _load(EE_FILE)
    deps = ee["dependencies"]
    for rel in (deps["python"], deps["galaxy"], deps["system"]):
        dest = work / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(os.path.join(ROOT, rel), dest)
    shutil.copy(EE_FILE, work / "execution-environment.yml")
    build = subprocess.run(
        [_tool("ansible-galaxy"), "collection", "build", "--force", "--output-path",
         str(work / "build"), ROOT],
        capture_output=True, text=True, check=False, cwd=ROOT)
    assert build.returncode == 0, build.stdout + build.stderr
    context = work / "context"
    create = subprocess.run(
        [_tool("ansible-builder"), "create", "-f", "execution-environment.yml", "-c", str(context),
         "--output-filename", "Containerfile"],
        capture_output=True, text=True, check=False, cwd=work)
    assert create.returncode == 0, create.stdout + create.stderr
    return context, create.stdout + create.stderr


def test_definition_is_v3_with_a_real_base_image(definition):
    assert definition["version"] == 3
    image = definition["images"]["base_image"]["name"]
    assert image.startswith(("quay.io/ansible/awx-ee:", "quay.io/ansible/creator-ee:",
                             "ghcr.io/ansible/community-ansible-dev-tools:")), image
    assert not image.endswith(":latest"), "pin the base image to a release tag"


def test_definition_validates_against_the_builder_schema(definition):
    from ansible_builder.ee_schema import validate_schema
    validate_schema(definition)  # raises DefinitionError when invalid


def test_definition_uses_the_collection_requirement_files(definition):
    deps = definition["dependencies"]
    assert deps["python"] == "requirements.txt"
    assert deps["galaxy"] == "requirements.yml"
    assert os.path.isfile(os.path.join(ROOT, deps["system"]))


def test_ansible_core_and_runner_match_the_pinned_requirements(definition):
    pins = {}
    for name in ("requirements.txt", "requirements-dev.txt"):
        with open(os.path.join(ROOT, name), encoding="utf-8") as handle:
            for line in handle:
                line = line.split("#")[0].strip()
                if "==" in line:
                    pkg, version = line.split("==", 1)
                    pins[pkg.strip().lower()] = version.strip()
    deps = definition["dependencies"]
    assert deps["ansible_core"]["package_pip"] == f"ansible-core=={pins['ansible-core']}"
    assert deps["ansible_runner"]["package_pip"] == f"ansible-runner=={pins['ansible-runner']}"


def test_build_context_carries_requirements_collections_and_the_collection(build_context):
    context, output = build_context
    assert "Complete!" in output
    build = context / "_build"
    with open(os.path.join(ROOT, "requirements.txt"), encoding="utf-8") as handle:
        assert (build / "requirements.txt").read_text(encoding="utf-8") == handle.read()
    galaxy = yaml.safe_load((build / "requirements.yml").read_text(encoding="utf-8"))
    names = {c["name"] for c in galaxy["collections"]}
    assert {"community.docker", "awx.awx"} <= names
    assert "git" in (build / "bindep.txt").read_text(encoding="utf-8")
    artifacts = list((build / "collection").glob("tachyon-infra-*.tar.gz"))
    assert len(artifacts) == 1, "the tachyon.infra collection artifact must be in the context"


def test_containerfile_installs_everything(build_context):
    context, _output = build_context
    text = (context / "Containerfile").read_text(encoding="utf-8")
    assert "FROM $EE_BASE_IMAGE AS base" in text
    assert "ansible-core==2.19.14" in text and "ansible-runner==2.4.3" in text
    assert "-r requirements.yml" in text  # Galaxy collections
    assert "introspect" in text and "requirements.txt" in text  # Python requirements
    assert "collection install" in text and "/build/collection/tachyon-infra-" in text
