# Two commands do everything on a fresh machine:
#   make demo   create .venv, install the kit (and bubblewrap), grade the bundled example class
#   make test   run the kit's own tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo test quick check student bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@{ command -v bwrap && { command -v chromium || command -v chromium-browser; }; } >/dev/null \
	  || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && { apt-get install -y -qq bubblewrap chromium || apt-get install -y -qq bubblewrap; }) >/dev/null; } \
	  || echo "warning: bubblewrap or chromium could not be installed: without bubblewrap the grader refuses to run unsandboxed unless asked (--sandbox none); without chromium the HTML report's browser test is skipped"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

demo: setup
	$(BIN)/grader score --jobs 2

student: setup
	$(BIN)/pytest exercises/

test: setup
	$(BIN)/python -m pytest tests/ -q

quick: setup  # the development loop: everything but the slow class gradings (make test runs all)
	$(BIN)/python -m pytest tests/ -q -m "not slow"

check: setup
	$(BIN)/grader check

bench: setup
	$(BIN)/python bench/run.py

clean:
	rm -rf .gradecache
