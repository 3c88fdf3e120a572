# Phòng họp không giấy — the two commands a newcomer needs are `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.DEFAULT_GOAL := help

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

.PHONY: serve
serve: $(VENV)/.installed ## Migrate, seed demo data and serve on http://127.0.0.1:8000 (SQLite under ./var)
	$(BIN)/meeting serve --demo

.PHONY: test
test: $(VENV)/.installed-test ## Run the whole test suite (PostgreSQL/Redis too when TEST_DATABASE_URL/TEST_REDIS_URL are set)
	$(BIN)/python -m pytest

.PHONY: lint
lint: $(VENV)/.installed-test ## ruff and mypy --strict on meeting/
	$(BIN)/ruff check meeting tests bench
	$(BIN)/mypy

.PHONY: bench
bench: $(VENV)/.installed-test ## Run the benchmarks under bench/ (prints figures and ratios)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

.PHONY: clean
clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) var
