# Two commands set everything up from nothing (Python 3.11+ and Java 17 assumed):
#   make demo   run the whole pipeline locally (ecom run) and print its reconciliation
#   make test   lints and every test
#   make bench  benchmarks, written to benchmarks/RESULTS.md
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
UV_VERSION := 0.13.8
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(VENV)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

DEMO_EVENTS ?= 100000
DEMO_MONTHS ?= 5

.PHONY: help setup demo test lint bench clean browser-setup screenshots metrics postgres-setup

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: the packages' .pyc are written once at install. Python never writes
# them where PYTHONDONTWRITEBYTECODE is set (it is on this project's machines), and then every
# process compiles what it imports again: pandas, dbt, boto3 and moto on each start.
$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet --compile-bytecode
	@touch $@

setup: $(VENV)/.synced ## install the locked environment into .venv

# `ecom run`: generate -> local AWS emulator -> Kinesis -> S3 -> DuckDB -> dbt build + docs,
# then the reconciliation report (.ecom/run/report.json). Exits non-zero if counts diverge.
demo: setup ## run the whole pipeline locally (no credentials) and reconcile it
	$(BIN)/ecom run --fresh --events $(DEMO_EVENTS) --months $(DEMO_MONTHS)
	$(BIN)/ecom dashboard
	@echo
	@echo "Static report: $${ECOM_HOME:-$(CURDIR)/.ecom}/dashboard.html (open it in a browser; it needs no network)"
	@echo "Interactive app: .venv/bin/ecom dashboard serve   then open http://127.0.0.1:8501/"
	@echo "  (live page: start 'ecom api serve', then add --api-url http://127.0.0.1:PORT)"

lint: setup ## ruff, mypy and sqlfluff
	$(BIN)/ruff check loaders tests benchmarks orchestration
	$(BIN)/ruff format --check loaders tests benchmarks orchestration
	$(BIN)/mypy
	@# the dbt templater compiles the project: against an empty DuckDB file, so the lint
	@# never depends on (or touches) the local warehouse
	mkdir -p .ecom && ECOM_DUCKDB_PATH=$(CURDIR)/.ecom/sqlfluff-lint.duckdb $(BIN)/sqlfluff lint models tests/dbt analyses

test: setup browser-setup postgres-setup lint ## lints, then every test
	$(BIN)/pytest -n 2 --dist loadgroup

# The browser tests drive Debian's chromium (headless, through playwright, which downloads
# nothing: it is pointed at /usr/bin/chromium). Installed here when missing (needs root).
browser-setup: ## install Debian's chromium for the browser tests, if missing
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

# The PostgreSQL tests start throwaway servers from Debian's programs (no service, no Docker:
# see docs/postgres.md). Installed here when missing (needs root), without Debian's default
# cluster: the package would otherwise create and start one on port 5432.
postgres-setup: ## install Debian's PostgreSQL server programs for the postgres target, if missing
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then \
		echo "installing Debian's postgresql for the PostgreSQL tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-common \
		&& sed -ri 's/^#? *create_main_cluster *=.*$$/create_main_cluster = false/' \
			/etc/postgresql-common/createcluster.conf \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; \
	fi

# The pictures of docs/dashboard.md, taken by the dashboard's browser tests.
screenshots: setup browser-setup ## dashboard screenshots into docs/img (runs the browser tests)
	ECOM_SCREENSHOTS=$(CURDIR)/docs/img $(BIN)/pytest -q tests/present/test_present_app.py tests/present/test_present_live.py tests/present/test_present_dashboard.py

# The semantic layer (MetricFlow) on the local warehouse: validate every metric, then the
# headline metrics by month. METRICS / GROUP_BY pick others.
METRICS ?= revenue,orders,average_order_value,buyers,sessions,session_conversion_rate,cart_abandonment_rate
GROUP_BY ?= metric_time__month
metrics: setup ## validate the semantic layer and query metrics (METRICS=..., GROUP_BY=...)
	$(BIN)/ecom metrics validate
	$(BIN)/ecom metrics query --no-parse --metrics $(METRICS) --group-by $(GROUP_BY) --order $(GROUP_BY)

bench: setup ## benchmarks; writes benchmarks/RESULTS.md
	$(BIN)/python -m benchmarks

clean: ## remove the environment and local state
	rm -rf $(VENV) $(TOOLS) .venv-airflow .ecom target logs

# -- Airflow (issue 9): its own environment, because Airflow 3 needs protobuf >= 7 and dbt-core
# 1.11 needs < 7. The DAGs call the project's .venv/bin/ecom and .venv/bin/dbt.
AIRFLOW_VENV := .venv-airflow
AIRFLOW_LOCK := orchestration/airflow/requirements.lock

.PHONY: airflow-setup airflow-lock

$(AIRFLOW_VENV)/.synced: $(UV) $(AIRFLOW_LOCK)
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(AIRFLOW_VENV)
	VIRTUAL_ENV=$(AIRFLOW_VENV) $(UV) pip sync --quiet --require-hashes $(AIRFLOW_LOCK)
	@touch $@

airflow-setup: setup $(AIRFLOW_VENV)/.synced ## Airflow 3 + astronomer-cosmos (locked) into .venv-airflow

airflow-lock: $(UV) ## re-resolve orchestration/airflow/requirements.lock from requirements.in
	$(UV) pip compile --quiet --generate-hashes --python-version 3.11 \
		--python-platform x86_64-unknown-linux-gnu \
		orchestration/airflow/requirements.in -o $(AIRFLOW_LOCK)
