"""Prepare the local_stack scenario's world in DIR (MOLECULE_EPHEMERAL_DIRECTORY/local_stack), for the
Compose project PROJECT (molecule.yml's local_stack_molecule_project): prepare_stack.py DIR PROJECT

- the fixture service repos as file:// remotes (tests/fixtures/services/make_repos.py),
- their production images tagged ghcr.io/tachyonapp/<service>:<commit> (what CI would push),
- a release manifest pinning those commits,
- stack.json: the playbooks' extra vars for this run (sibling dir, repo URLs, free host
  ports, a project name of its own), read by molecule.yml's inventory and by the tests.
"""
import json
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "services"))
import make_repos  # noqa: E402  (fixture helper, not a package)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(directory: str, project: str) -> int:
    work = Path(directory).resolve()
    repos = make_repos.make_repos(work / "fixtures")
    make_repos.build_ghcr_images(work / "fixtures", repos)
    (work / "manifest.json").write_text(json.dumps(make_repos.release_manifest(repos), indent=2) + "\n")
    siblings = work / "siblings"
    stack = {
        "repos_dir": str(siblings),
        "repos_list": [{"name": name, "url": pin["url"]} for name, pin in repos.items()],
        "local_stack_repos_dir": str(siblings),
        "local_stack_project_name": project,
        "local_stack_api_port": free_port(),
        "local_stack_postgres_port": free_port(),
        "local_stack_redis_port": free_port(),
        "local_stack_manifest_path": str(work / "manifest.json"),
        "fixture_shas": {name: pin["sha"] for name, pin in repos.items()},
    }
    (work / "stack.json").write_text(json.dumps(stack, indent=2) + "\n")
    print(json.dumps(stack))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
