# gpc — the golden path compiler. `make help` lists the targets.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHECKOV_VENV := .venv-checkov
LSP_DIR := tests/lsp
CRD_DIR := tests/crds

.DEFAULT_GOAL := help
.PHONY: help run test check goldens bench demo setup setup-test system-deps lint types drift clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.test: $(VENV)/.runtime pyproject.toml examples/fraud/requirements-test.txt
	$(BIN)/pip install -q -e '.[dev]' -r examples/fraud/requirements-test.txt
	@touch $@

# checkov pins packages that conflict with pytest, so it lives in a venv of its own.
$(CHECKOV_VENV)/bin/checkov:
	$(PY) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q --upgrade pip
	$(CHECKOV_VENV)/bin/pip install -q checkov==3.3.30

$(LSP_DIR)/node_modules/.bin/yaml-language-server: $(LSP_DIR)/package.json
	cd $(LSP_DIR) && npm install --no-audit --no-fund --loglevel=error
	@touch $@

# CRD models (Argo CD, Gateway API, cert-manager, KEDA, External Secrets, Prometheus Operator) and TypeScript, which checks gpc's custom resources against their typings.
$(CRD_DIR)/node_modules/.bin/tsc: $(CRD_DIR)/package.json
	cd $(CRD_DIR) && npm install --no-audit --no-fund --loglevel=error
	@touch $@

system-deps:  ## Debian packages the integration tests need (RabbitMQ, PostgreSQL and openssl for its TLS, Graphviz, Chromium for Mermaid, Prometheus's promtool)
	@if [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || [ ! -x /usr/lib/postgresql/15/bin/pg_ctl ] || ! command -v dot >/dev/null \
	  || ! command -v chromium >/dev/null || ! command -v promtool >/dev/null || ! command -v prometheus-pushgateway >/dev/null \
	  || ! command -v openssl >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q rabbitmq-server postgresql openssl graphviz chromium prometheus prometheus-pushgateway; \
	  else sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q rabbitmq-server postgresql openssl graphviz chromium prometheus prometheus-pushgateway; fi; \
	fi

setup: $(VENV)/.runtime  ## install gpc into .venv

setup-test: system-deps $(VENV)/.test $(CHECKOV_VENV)/bin/checkov $(LSP_DIR)/node_modules/.bin/yaml-language-server $(CRD_DIR)/node_modules/.bin/tsc  ## install everything the tests use

run: setup  ## compile specs/fraud.yaml into out/fraud/
	$(BIN)/gpc compile specs/fraud.yaml

test: setup-test  ## run the whole test suite (unit, golden, real tools, real servers)
	PATH="$(CURDIR)/$(BIN):$(CURDIR)/$(CHECKOV_VENV)/bin:$(CURDIR)/$(LSP_DIR)/node_modules/.bin:$$PATH" $(BIN)/pytest -n auto -q

lint: $(VENV)/.test
	$(BIN)/ruff check compiler targets tests bench examples

types: $(VENV)/.test
	$(BIN)/mypy

drift: $(VENV)/.test  ## fail when schema/, out/ or a golden is stale
	$(BIN)/python tests/goldens.py --check

check: lint types drift  ## fast checks: lint, types, drift (under a minute)

goldens: $(VENV)/.test  ## regenerate every generated file: schema/, out/, docs, test goldens
	$(BIN)/python tests/goldens.py

bench: $(VENV)/.test  ## benchmarks against Kapitan and the write floor (bench/README.md)
	$(BIN)/python bench/run.py

demo: $(VENV)/.test system-deps  ## run the fraud example end to end on a local broker and object store
	$(BIN)/python examples/fraud/demo.py $(DEMO_ARGS)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(LSP_DIR)/node_modules $(CRD_DIR)/node_modules .pytest_cache .mypy_cache .ruff_cache
