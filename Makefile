# Two entry points for a fresh machine: `make run` and `make test`.
# Both create .venv and install what they need, so CI and a newcomer run the same steps.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
# setuptools prints an "Editable installation" notice (meant for package authors) on every
# install from this folder; hide that one message, nothing else.
QUIET_EDITABLE := PYTHONWARNINGS="ignore:Editable installation"

.PHONY: run test lint bench clean browser-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The installs are quiet, so say what is happening, and prove it worked by running the command.
$(STAMP_RUN): pyproject.toml | $(BIN)/python
	@echo "Installing schoolbot into $(VENV) (a minute or two the first time)..."
	$(QUIET_EDITABLE) $(BIN)/pip install --quiet -e .
	@echo "Installed: $$($(BIN)/schoolbot --version), in $(VENV)/bin/schoolbot."
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	@echo "Installing schoolbot and the test tools into $(VENV) (a minute or two the first time)..."
	$(QUIET_EDITABLE) $(BIN)/pip install --quiet -e '.[test]'
	@echo "Installed: $$($(BIN)/schoolbot --version), in $(VENV)/bin/schoolbot."
	touch $@ $(STAMP_RUN)

run: $(STAMP_RUN)
	$(BIN)/schoolbot run

test: $(STAMP_TEST) browser-deps
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: $(STAMP_TEST)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache

# The web workspace's browser tests need Debian's Chromium and poppler's pdftotext, and
# axe-core from the npm registry. Installed when we can (root on Debian); otherwise those
# tests are skipped with the reason (never on CI, where they must run).
BROWSER_DEPS := tests/browser/node_modules/axe-core/axe.min.js
browser-deps:
	@if [ ! -x /usr/bin/chromium ] || ! command -v pdftotext >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Chromium and pdftotext for the browser tests (apt-get)..."; \
	    (DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium poppler-utils >/dev/null 2>&1 || \
	     (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium poppler-utils >/dev/null)) || \
	     echo "Could not install Chromium; the browser tests will say so."; \
	  else echo "Not root on Debian: the browser tests will be skipped (install chromium and poppler-utils)."; fi; \
	fi
	@if [ ! -f $(BROWSER_DEPS) ] && command -v npm >/dev/null; then \
	  npm ci --prefix tests/browser --no-audit --no-fund --silent || \
	  echo "Could not install axe-core; the browser tests will say so."; \
	fi
