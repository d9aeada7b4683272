# Sluice — the two commands that matter: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint services-up services-down services-status bench screenshots clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,sandbox]'
	touch $(STAMP)

install: $(STAMP)
	@echo "Sluice is installed as $(BIN)/sluice (not on PATH; 'source $(BIN)/activate' to type 'sluice')"

# The venv is not on PATH: say how to call `sluice` again once the TUI exits.
run: $(STAMP)
	@$(BIN)/sluice; status=$$?; \
	echo "Run Sluice again with $(BIN)/sluice (or 'source $(BIN)/activate', then 'sluice')"; \
	exit $$status

services-up: $(STAMP)
	bash scripts/services.sh up

services-down:
	bash scripts/services.sh down

services-status:
	bash scripts/services.sh status

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/lint_imports.py
	$(BIN)/python scripts/typecheck.py

test: services-up lint
	set -a && . ./.services.env && set +a && $(BIN)/pytest -q $(PYTEST_ARGS)

bench: services-up
	set -a && . ./.services.env && set +a && $(BIN)/python -m benchmarks

# .venv/bin on PATH: the hints on screen say `sluice ...`, as for an installed Sluice, not
# this checkout's path
screenshots: services-up
	set -a && . ./.services.env && set +a && PATH="$(CURDIR)/$(BIN):$$PATH" \
		$(BIN)/python -m sluice.tui.screenshots screenshots

clean:
	rm -rf .local .pytest_cache .ruff_cache .import_linter_cache *.egg-info
