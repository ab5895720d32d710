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

.PHONY: run test lint bench clean

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

test: $(STAMP_TEST)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(STAMP_TEST)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache
