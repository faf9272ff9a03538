# Deep learning for images and sound — the two commands of the README, and a few helpers.
#   make course   run every notebook in full mode into build/ and print the measured results
#   make test     unit tests + every notebook under nbval in fast mode (what CI runs)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN     = $(VENV)/bin
PYTEST_ARGS ?=
PYTEST_OFFLINE_ARGS ?=
STAMP   = $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | cksum | cut -d' ' -f1)

.PHONY: venv course test test-offline fast-results benchmark readme lab clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[tf,dev]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

course: $(STAMP)
	$(BIN)/python benchmarks/run_notebooks.py --mode full

# make test = the unit tests and every notebook under nbval in fast mode (with the data mirror when
# COURSE_DATA_DIR is set), then the regression check of the notebooks' fast-mode metrics against
# benchmarks/results/fast/, then the offline path: every notebook again with no mirror, no network and an
# empty cache, on the generated stand-ins (cells marked %%needs for faces are skipped).
test: $(STAMP)
	rm -rf build/fast/results
	COURSE_FAST=1 $(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadfile --durations=12 tests notebooks --nbval-lax --nbval-cell-timeout=900 $(PYTEST_ARGS)
	@if [ -n "$$COURSE_DATA_DIR" ]; then $(BIN)/python benchmarks/fast_results.py --check; \
	else echo "no COURSE_DATA_DIR: fast-mode metrics not compared (they are recorded with the data mirror)"; fi
	$(MAKE) test-offline

# The offline path alone (what a classroom without internet and without a mirror gets).
test-offline: $(STAMP)
	rm -rf build/offline
	env -u COURSE_DATA_DIR COURSE_OFFLINE=1 COURSE_SKIP_MISSING=1 COURSE_FAST=1 COURSE_BUILD_DIR=build/offline \
	    COURSE_CACHE_DIR=build/offline/cache $(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadfile \
	    notebooks --nbval-lax --nbval-cell-timeout=900 $(PYTEST_OFFLINE_ARGS)

# Accept the last `make test` run's fast-mode metrics as the new reference (a change meant to move them).
fast-results: $(STAMP)
	$(BIN)/python benchmarks/fast_results.py --update

benchmark: course

readme: $(STAMP)
	$(BIN)/python benchmarks/readme.py

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf build .pytest_cache
