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

# Debian packages the tests use, each as package:command-that-shows-it-is-there, or package:/a/file-it-installs
# where no command tells (LibreOffice's writer, calc and impress share one `soffice`; fonts have none).
# `make test` installs the missing ones when run as root; otherwise it prints the one apt-get line and
# those tests skip (fail in CI).
TEST_PACKAGES := chromium:chromium nodejs:node poppler-utils:pdftoppm docker-compose:docker-compose \
	redis-server:redis-server postgresql:pg_ctlcluster softhsm2:softhsm2-util \
	libreoffice-writer-nogui:/usr/lib/libreoffice/program/libswlo.so \
	libreoffice-calc-nogui:/usr/lib/libreoffice/program/libsclo.so \
	libreoffice-impress-nogui:/usr/lib/libreoffice/program/libslideshowlo.so \
	fonts-noto-core:/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf \
	fonts-dejavu-core:/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf \
	libnss3-tools:certutil

define install_missing
	@missing=""; for pair in $(1); do what="$${pair#*:}"; \
		case "$$what" in /*) [ -e "$$what" ] ;; *) command -v "$$what" >/dev/null 2>&1 ;; esac \
		|| missing="$$missing $${pair%%:*}"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian packages:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "Missing Debian packages; the features and tests that need them are unavailable until:"; \
			echo "  sudo apt-get install -y$$missing"; \
		fi; \
	fi
endef

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

.PHONY: serve
serve: $(VENV)/.installed ## Migrate, seed demo data and serve on http://127.0.0.1:8000 (SQLite under ./var)
	$(BIN)/meeting serve --demo

# `make test` runs the test files in one pytest process per core (pytest-xdist): each process has its own
# PostgreSQL database, SQLite template, channel namespace, ports and temporary directories. A file stays
# in one process, so its module fixtures (a browser, a demo server, an HSM token) are made once.
# `make test TEST_WORKERS=0` runs everything in this process.
TEST_WORKERS ?= auto

.PHONY: test
test: $(VENV)/.installed-test ## Run the whole test suite (PostgreSQL/Redis too when TEST_DATABASE_URL/TEST_REDIS_URL are set)
	$(call install_missing,$(TEST_PACKAGES))
	$(BIN)/python -m pytest --numprocesses $(TEST_WORKERS) --dist loadfile

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
