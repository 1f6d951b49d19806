# tachyon-infra: one entry point for people and CI.
#   make demo      the main job on the embedded sandbox (App Platform emulator)
#   make test      everything: unit, emulator conformance, integration, sanity, molecule --all,
#                  the GitHub workflows under act (make workflows)
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV ?= .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
STAMP := $(VENV)/.installed
# A venv that already holds the pinned requirements, linked as .venv instead of making one (the
# runner image of `make workflows` sets VENV_FROM=/opt/venv; pip then finds everything installed).
VENV_FROM ?=
DEMO_STAMP := $(VENV)/.installed-demo
COLLECTION_LINK := .collections/ansible_collections/tachyon/infra
SANDBOX_PORT ?= 8480
SANDBOX_STATE ?= .sandbox
MOLECULE_ARGS ?= --all
PYTEST_ARGS ?=
# pytest runs on PYTEST_WORKERS processes (pytest-xdist; 0 = in this process). Most tests wait
# on subprocesses (ansible-playbook, the emulator's deployment phases, git, docker), so more
# workers than cores pay off (docs/docsite/rst/development.rst).
# --dist loadfile: a module's tests run on one worker, in order (module fixtures built once);
# tests/conftest.py locks the fixed-name resources some modules share (the local registry).
PYTEST_WORKERS ?= 4
PYTEST := $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=25
# ansible-test needs the collection at .../ansible_collections/<namespace>/<name>: `make sanity`
# copies the tracked and untracked-not-ignored files there (a clone can live at any path).
SANITY_ROOT := .sanity/ansible_collections/tachyon/infra
SANITY_ARGS ?=
# The images scripts/provision-docker.sh chose (the real ones, or stand-ins under their own
# names when the real ones cannot be pulled): exported to the tests and the local stack.
TACHYON_IMAGES_ENV ?= /var/lib/tachyon-docker/images.env
IMAGES := if [ -f $(TACHYON_IMAGES_ENV) ]; then set -a; . $(TACHYON_IMAGES_ENV); set +a; fi;

.PHONY: help setup setup-demo docker browser test unit sanity molecule validate lint demo sandbox bench build local clean report workflows

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# The installer: uv (pinned in requirements-dev.txt, installed from PyPI into the venv), which
# downloads and installs the same pins in parallel; pip when uv cannot be installed.
# --compile-bytecode: uv writes no .pyc by default (pip does), and where PYTHONDONTWRITEBYTECODE
# is set (this CI machine) Python never writes them either, so every ansible-playbook run and
# every module process compiled ansible-core, pydo and jsonschema from source again: a staging
# deploy's overhead 6.7-8.5 s from a clean clone, 3.8-5.5 s with the .pyc files (one-task
# playbook 1.3-1.5 s -> 0.5-0.7 s), for ~20 s of compiling once at setup.
UV_PIN = $(shell grep -m1 '^uv==' requirements-dev.txt)
PIP := $(BIN)/pip install --quiet --disable-pip-version-check
define venv_install
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	[ -x $(BIN)/uv ] || $(PIP) '$(UV_PIN)' || echo "setup: uv did not install; installing with pip"
	if [ -x $(BIN)/uv ]; then $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python $(1); else $(PIP) $(1); fi
endef

# What make demo needs first: the runtime set less the `ansible` bundle of collections (the
# demo's playbooks use ansible-core and this collection only); make setup adds the rest.
$(DEMO_STAMP): requirements.txt requirements-dev.txt
	mkdir -p $(VENV)
	grep -v '^ansible==' requirements.txt > $(VENV)/requirements-demo.txt
	$(call venv_install,-r $(VENV)/requirements-demo.txt)
	touch $(DEMO_STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	$(if $(VENV_FROM),ln -sfn $(VENV_FROM) $(VENV))
	$(call venv_install,-r requirements-dev.txt)
	touch $(STAMP)

$(COLLECTION_LINK):
	mkdir -p $(dir $(COLLECTION_LINK))
	ln -sfn ../../.. $(COLLECTION_LINK)

setup: $(STAMP) $(COLLECTION_LINK) ## create .venv with pinned tools, link the collection (idempotent)
	@echo "setup: ok ($$($(BIN)/ansible --version | head -1))"

setup-demo: $(DEMO_STAMP) $(COLLECTION_LINK) ## only what make demo needs (a subset of make setup; idempotent)

docker: ## Docker engine + Compose v2 + local base images (installs on Debian when missing; idempotent)
	bash scripts/provision-docker.sh
	bash scripts/provision-registry.sh

browser: ## Debian's chromium + chromium-driver for the HTML report's browser test (idempotent)
	bash scripts/provision-browser.sh

unit: setup ## pytest: modules, module_utils, emulator conformance, integration
	$(IMAGES) $(PYTEST) $(PYTEST_ARGS)

sanity: setup ## ansible-test sanity --python 3.11 on a copy under .sanity/ansible_collections/tachyon/infra
	rm -rf .sanity
	mkdir -p $(SANITY_ROOT)
	git ls-files -co --exclude-standard -z | tar --null -T - --ignore-failed-read -cf - | tar -xf - -C $(SANITY_ROOT)
	@# its own (empty) git repository, so that ansible-test lists the copy's files, not the clone's
	git -C $(SANITY_ROOT) init -q
	@# ansible-test bootstraps pip in each test venv with a get-pip.py from the internet, unless
	@# ~/.ansible/test/cache/get_pip_<pip version>.py exists: seed it with the ensurepip stand-in.
	pip_version=$$($(BIN)/python -c "import types; from ansible_test._internal.python_requirements import get_venv_packages; print(get_venv_packages(types.SimpleNamespace(version='3.11'))['pip'])") \
	  && mkdir -p $$HOME/.ansible/test/cache \
	  && cp scripts/ansible-test-get-pip.py $$HOME/.ansible/test/cache/get_pip_$${pip_version//./_}.py
	cd $(SANITY_ROOT) && $(BIN)/ansible-test sanity --python 3.11 --color no $(SANITY_ARGS)

molecule: setup ## molecule test over every scenario in extensions/molecule
	$(BIN)/molecule reset --all
	$(IMAGES) $(BIN)/molecule test $(MOLECULE_ARGS)

# .ci/phases.sh: pytest in one lane, sanity -> molecule (each scenario) -> workflows in the other,
# side by side (CI_LANES=1: one after the other); per phase its log in build/ci/, result, wall and
# CPU seconds and the load average; non-zero when any phase failed.
test: setup docker browser ## everything (what CI runs): pytest beside sanity, molecule (every scenario) and make workflows
	PYTEST_WORKERS=$(PYTEST_WORKERS) PYTEST_ARGS="$(PYTEST_ARGS)" bash .ci/phases.sh

WORKFLOW_CASES ?=
workflows: setup docker ## the GitHub workflows under act, offline (runner image, emulator, stand-in gh); logs in build/workflows
	bash scripts/workflows.sh $(WORKFLOW_CASES)

validate: setup ## the CI gate: yamllint, env schema, App Specs, secret scan, ansible-lint
	$(BIN)/ansible-playbook playbooks/validate.yml

lint: setup ## yamllint, ansible-lint (production profile), actionlint
	$(BIN)/yamllint --strict .
	$(BIN)/ansible-lint --profile production
	bash scripts/actionlint.sh

demo: ## the main job on the sandbox (sets up what it needs first): release, staging, notes, production
	@bash scripts/demo.sh

sandbox: setup ## run the App Platform emulator in the foreground (SANDBOX_PORT, SANDBOX_STATE)
	$(BIN)/python -m emulator serve --port $(SANDBOX_PORT) --state-dir $(SANDBOX_STATE) --seed emulator/sandbox-seed.yml

REPORT ?= build/report.html
report: setup ## the one-file HTML release report (REPORT=build/report.html; SINCE=30d; MANIFEST=releases/manifest.json)
	$(BIN)/ansible-playbook playbooks/report.yml -e report_path=$(abspath $(REPORT)) \
	  $(if $(SINCE),-e since=$(SINCE)) $(if $(MANIFEST),-e manifest_path=$(abspath $(MANIFEST)))

bench: setup ## benchmarks; writes bench/RESULTS.md
	$(BIN)/python -m bench

build: setup ## build the collection artifact
	$(BIN)/ansible-galaxy collection build --force --output-path build/

clean: ## remove the venv, caches and build output
	rm -rf $(VENV) .collections .sanity build .pytest_cache .sandbox tests/output bench/out
