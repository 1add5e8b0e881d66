# Classifier Studio: the two commands a newcomer needs.
#   make run    set up everything and start the studio (web + workers) at http://127.0.0.1:8000
#   make test   install the test tools (and Debian's chromium when missing) and run the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run demo test lint chromium bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/python manage.py runstudio

demo: $(VENV)/.installed-run
	$(BIN)/python manage.py runstudio --demo

# Debian's chromium for the browser tests (Playwright drives it; never its own download).
# Installed with apt-get when missing and we may (root, or passwordless sudo); set
# STUDIO_NO_APT=1 to forbid it. Without chromium the browser tests skip, except under CI=true.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ -n "$$STUDIO_NO_APT" ]; then echo "chromium missing (STUDIO_NO_APT set): browser tests will skip"; \
	  elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  elif sudo -n true 2>/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing and apt-get not allowed: install Debian's chromium for the browser tests"; fi; }

test: $(VENV)/.installed-test chromium
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.installed-test
	@echo "Benchmarks print their figures: see bench/README.md"

clean:
	rm -rf $(VENV) staticfiles
