# shiprail: the two commands are `make demo` and `make test`; both set up what they need.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV        := .venv
PY          := $(VENV)/bin/python
BIN         := $(VENV)/bin
DEMO_PORT   ?= 8000
DEMO_DB     ?= .shiprail/demo.db
FAULT_MATRIX ?= full
export PATH := $(CURDIR)/.tools/bin:$(CURDIR)/$(BIN):$(PATH)

.PHONY: help demo serve test test-app test-shiprail lint fmt image bench tools services clean lock
.PHONY: drill slo-check monitoring-images
.PHONY: k8s-check k8s-demo
.PHONY: scan bench-scan
.PHONY: bench-deploy
.PHONY: test-faults
.PHONY: bench-build
.PHONY: terraform-check

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.lock app/pyproject.toml shiprail/pyproject.toml
	@command -v uv >/dev/null || python3 -m pip install -q uv
	uv venv -q --seed --allow-existing --python python3 $(VENV)
	uv pip sync -q --python $(PY) requirements.lock
	uv pip install -q --python $(PY) --no-deps -e app -e shiprail
	@touch $@

lock: ## re-resolve requirements.lock and app/requirements.lock from the pyproject files (uv)
	uv pip compile -q --universal --python-version 3.11 --all-extras app/pyproject.toml shiprail/pyproject.toml -o requirements.lock
	uv pip compile -q --universal --python-version 3.11 app/pyproject.toml -o app/requirements.lock

tools: ## install the external tools pinned in tools.lock into .tools/ (idempotent)
	scripts/install-tools.sh
	scripts/fetch-data.sh

services: tools ## start Docker Engine and a private PostgreSQL on loopback
	scripts/services.sh start

demo: $(VENV)/.installed ## build, scan, sign, publish to the local registry, verify, deploy dev (TLS edge)
	scripts/install-tools.sh docker.io debootstrap openssl trivy cosign docker-registry apache2-utils
	scripts/fetch-data.sh advisory-db
	scripts/services.sh docker
	@mkdir -p .shiprail/demo
	@[ -s .shiprail/demo/api-token ] || (umask 077; $(PY) -c 'import secrets; print(secrets.token_urlsafe(32))' > .shiprail/demo/api-token)
	@$(BIN)/workorders hash-token < .shiprail/demo/api-token > .shiprail/demo/api-token.sha256
	scripts/demo.sh
	@echo "write token for the API: .shiprail/demo/api-token (only its SHA-256 reaches the service)" >&2
	@echo "commit a change and run 'make demo' again to ship a new release with blue/green; 'shiprail status' shows both" >&2

serve: $(VENV)/.installed ## serve workorders from the source tree on 127.0.0.1:$(DEMO_PORT) (SQLite, no container)
	@mkdir -p .shiprail
	@WORKORDERS_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/workorders migrate
	@echo "workorders API:  http://127.0.0.1:$(DEMO_PORT)/api/v1/workorders   docs: http://127.0.0.1:$(DEMO_PORT)/docs" >&2
	@WORKORDERS_DATABASE_URL=sqlite:///$(DEMO_DB) exec $(BIN)/workorders serve --host 127.0.0.1 --port $(DEMO_PORT)

test: $(VENV)/.installed services ## everything: lint, unit, API, PostgreSQL, container and engine tests
	$(MAKE) lint
	$(MAKE) terraform-check
	$(MAKE) scan
	$(MAKE) test-app
	$(MAKE) test-shiprail
	$(MAKE) k8s-check

test-app: $(VENV)/.installed
	set -a; source .cache/services.env; set +a; \
	SHIPRAIL_REQUIRE_INTEGRATION=1 $(BIN)/pytest -q app/tests -p no:cacheprovider \
	  --cov=workorders --cov-report=term --cov-fail-under=90 -rfEs

slo-check: $(VENV)/.installed ## fail when monitoring/prometheus/slo-rules.yaml is stale
	$(BIN)/shiprail slo generate --check

drill: $(VENV)/.installed ## incident drill: real workorders, Prometheus, Alertmanager; prints the timeline
	$(BIN)/shiprail drill

monitoring-images: $(VENV)/.installed ## Prometheus and Alertmanager images from Debian packages (for compose/)
	$(BIN)/shiprail monitoring images

scan: $(VENV)/.installed ## security gate over this repository (SARIF, JSON, JUnit, Markdown, HTML in reports/)
	$(BIN)/shiprail scan --reports-dir reports

bench-scan: $(VENV)/.installed ## time shiprail scan: this repository cold/warm/sequential; a dependency tree cold/warm/one-file/--changed-since
	$(PY) bench/scan.py

k8s-check: $(VENV)/.installed ## Rego unit tests, then render every environment and check it (helm, schemas, Rego, checkov)
	opa test policies/kubernetes
	$(BIN)/shiprail k8s check --output reports/kubernetes.json

k8s-demo: demo ## (root) make demo, then the local Kubernetes cluster and the same release on it by the same engine: shiprail deploy dev-k8s (docs/kubernetes.md)
	scripts/install-tools.sh kubernetes etcd-server containerd runc cni-plugins conntrack iptables
	scripts/k8s-demo.sh

terraform-check: ## terraform fmt, tflint and terraform test over terraform/ (offline: no provider download)
	scripts/terraform-check.sh

test-shiprail: $(VENV)/.installed slo-check
	set -a; source .cache/services.env; set +a; \
	SHIPRAIL_REQUIRE_INTEGRATION=1 $(BIN)/pytest -q shiprail/tests -p no:cacheprovider -rfEs \
	  --cov --cov-config=shiprail/pyproject.toml --cov-report=term --cov-fail-under=85

test-faults: $(VENV)/.installed services ## fault matrix: each fault at each release step (FAULT_MATRIX=ci: key steps); reports/faults/matrix.md
	SHIPRAIL_REQUIRE_INTEGRATION=1 SHIPRAIL_FAULT_MATRIX=$(FAULT_MATRIX) $(BIN)/pytest -q shiprail/tests/faults \
	  -p no:cacheprovider -rfEs

lint: $(VENV)/.installed ## ruff (lint + format check) and mypy
	$(BIN)/ruff check app shiprail bench
	$(BIN)/ruff format --check app shiprail bench
	$(BIN)/mypy app/src shiprail/src

fmt: $(VENV)/.installed ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix app shiprail bench
	$(BIN)/ruff format app shiprail bench

image: $(VENV)/.installed ## build the workorders image (base from debootstrap when no registry)
	scripts/services.sh start
	$(BIN)/shiprail build image

bench: $(VENV)/.installed services ## workorders under wrk: list/create on SQLite and PostgreSQL, /health vs bare FastAPI, 1 and 2 workers, list latency at 500/50k/500k orders; DORA over 100k ledger rows; console pages over 10k releases
	set -a; source .cache/services.env; set +a; $(PY) bench/run.py
	$(PY) bench/dora.py
	$(PY) bench/console.py

bench-deploy: $(VENV)/.installed services ## blue/green deploy and rollback times, failed requests under load
	$(PY) bench/deploy.py

bench-build: $(VENV)/.installed services ## image: cold build, code-only rebuild and size, next to a naive single-stage build
	$(PY) bench/build.py

clean: ## remove the venv, tools, caches and local state (keeps Docker images)
	rm -rf $(VENV) .tools .cache build reports .shiprail/demo.db* .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
