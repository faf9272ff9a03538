# Deep learning for images and sound — the two commands of the README, and a few helpers.
#   make course   run every notebook in full mode into build/ and print the measured results
#   make test     unit tests + every notebook under nbval in fast mode (what CI runs)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN     = $(VENV)/bin
PYTEST_ARGS ?=
STAMP   = $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | cksum | cut -d' ' -f1)

.PHONY: venv course test benchmark readme lab clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[tf,dev]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

course: $(STAMP)
	$(BIN)/python benchmarks/run_notebooks.py --mode full

test: $(STAMP)
	COURSE_FAST=1 $(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadfile --durations=12 tests notebooks --nbval-lax --nbval-cell-timeout=900 $(PYTEST_ARGS)

benchmark: course

readme: $(STAMP)
	$(BIN)/python benchmarks/readme.py

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf build .pytest_cache
