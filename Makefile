# cxlab — run `make` for the list of targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SEED   ?= 0
RAW    := data/raw
WAREHOUSE := data/warehouse
PERIOD ?=
BRANCH ?=
JOBS   ?=
FORMATS ?= html,pdf,xlsx,pptx
LAB_ARGS ?=

.PHONY: help setup data ingest reports report lab dashboard test lint bench clean tables deck

## Show this list of targets
help:
	@awk 'BEGIN {FS = ":"} /^## / {doc = substr($$0, 4); next} \
	     /^[a-zA-Z_-]+:/ && doc {printf "  %-10s %s\n", $$1, doc} {doc = ""}' $(MAKEFILE_LIST)
	@echo ""
	@echo "  Quickstart: 'make reports' (renders the sample reports), 'make test' (runs the tests)."

$(STAMP): pyproject.toml scripts/system-deps.sh
	@bash scripts/system-deps.sh
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name cxlab --display-name "Python (cxlab)" >/dev/null
	@touch $@

## Create .venv and install cxlab with all dependencies (idempotent; fast when nothing changed)
setup: $(STAMP)

$(RAW)/truth.json: $(STAMP) $(wildcard cxlab/datasets/*.py) params/codebook.yaml params/org.yaml
	$(PY) -m cxlab sample-data --out $(RAW) --seed $(SEED)

## Generate the sample raw exports (问卷星, Qualtrics, CRM, logs) with planted truth
data: $(RAW)/truth.json

$(WAREHOUSE)/.ingested: $(RAW)/truth.json $(wildcard params/*.yaml)
	$(PY) -m cxlab ingest $(RAW) --warehouse $(WAREHOUSE)
	@touch $@

## Validate the raw data and load it into the parquet warehouse (bad rows go to data/quarantine/)
ingest: $(WAREHOUSE)/.ingested

## Render every company, region and branch report for every period to reports/ (HTML, PDF, Excel tab books, PowerPoint decks, index.html; FORMATS=html,pdf to skip the others)
reports: ingest
	$(PY) -m cxlab reports --format $(FORMATS) $(if $(JOBS),--jobs $(JOBS))

## Render one report: make report PERIOD=2026Q3 BRANCH=SH01 (BRANCH empty or ALL = company report, EAST = a region)
report: ingest
	@test -n "$(PERIOD)" || { echo "usage: make report PERIOD=2026Q3 [BRANCH=SH01]" >&2; exit 2; }
	$(PY) -m cxlab reports --period $(PERIOD) $(if $(BRANCH),--branch $(BRANCH)) --force

## Write Excel tab books, incremental (company + every region + every branch; PERIOD= one period, BRANCH= one scope)
tables: ingest
	$(PY) -m cxlab tables $(if $(PERIOD),--period $(PERIOD)) $(if $(BRANCH),--branch $(BRANCH),--all)

## Write PowerPoint decks, incremental (company + every region + every branch; PERIOD= one period, BRANCH= one scope)
deck: ingest
	$(PY) -m cxlab deck $(if $(PERIOD),--period $(PERIOD)) $(if $(BRANCH),--branch $(BRANCH),--all)

## Open JupyterLab on cxlab/notebooks/ (report templates, exploratory notebooks) with the project's kernel (extra flags: LAB_ARGS="--port 8890 --no-browser")
lab: ingest
	$(PY) -m jupyter lab --notebook-dir=cxlab/notebooks $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

## Serve the scoped dashboard on 127.0.0.1 (users file: CXLAB_DASHBOARD_USERS=…; PORT=5006)
dashboard: ingest
	$(PY) -m cxlab dashboard --port $(or $(PORT),5006)

## Run the whole test suite (what CI runs); installs R, LibreOffice and Chromium for the tests first
test: setup
	@bash scripts/system-deps.sh --test
	$(PY) -m pytest

## Check the code with ruff
lint: setup
	$(PY) -m ruff check cxlab tests bench

## Run the benchmarks and print ratios against naive baselines
bench: setup
	$(PY) -m bench

## Remove generated data, warehouse, quarantine and reports (keeps .venv)
clean:
	rm -rf $(RAW) $(WAREHOUSE) data/quarantine data/.cxlab reports .pytest_cache
