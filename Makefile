# Two commands on a fresh machine: `make demo` and `make test`.  Each creates .venv when it is
# missing and installs what it needs (re-installing only when pyproject.toml changes).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SIZES  ?= 10x10,100x10,100x100
GTO    ?= 1

export DVC_NO_ANALYTICS := 1
export GTO_NO_ANALYTICS := 1

# gitlab-ci-local runs the GitLab template in tests/test_templates.py; 4.52 is the newest
# release that runs on Node 20 (later ones need Node 22).  It goes into .ci/node/, never
# globally; it needs Debian's rsync, which .ci/run installs.
GCL_VERSION := 4.52.2
GCL_STAMP   := .ci/node/.installed-$(GCL_VERSION)

.PHONY: demo test test-all ci-tools lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,dev,sklearn]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python demo/demo.py

# The deterministic tier, under coverage: branch coverage of modelreg, counting the modelreg
# processes the tests start ([tool.coverage.run] in pyproject.toml), combined at the end;
# the report fails the target below `fail_under`.
# One pytest worker per core, each test file on one worker (module-scoped fixtures such as the
# crash test's template registries are built once).  Bytecode is cached even where the
# environment turns it off: the suite starts about two thousand modelreg processes, and
# recompiling modelreg in each one costs minutes.
test: $(STAMP)
	rm -f .coverage .coverage.*
	PYTHONDONTWRITEBYTECODE= $(BIN)/coverage run -m pytest -q -n auto --dist loadfile
	$(BIN)/coverage combine -q
	$(BIN)/coverage report --sort=cover

# The long tiers on top of `make test`: every crash point of every write, 16 racing writers,
# the CI templates under gitlab-ci-local and pre-commit, the registry site in headless Chromium
# (Debian's `chromium` and `chromium-driver` packages; .ci/run installs them).
# A skipped test fails the run (a tier must not pass because its tool is missing).
test-all: test ci-tools
	MODELREG_CRASH_ALL=1 MODELREG_NO_SKIPS=1 $(BIN)/python -m pytest -q -m "long or crash"

# The CI-template tests' tools: zizmor, check-jsonschema and pre-commit come with the dev
# extra (in .venv), gitlab-ci-local from npm.
ci-tools: $(STAMP) $(GCL_STAMP)

$(GCL_STAMP):
	npm install --prefix .ci/node --no-audit --no-fund --loglevel=error \
		gitlab-ci-local@$(GCL_VERSION)
	touch $@

# ruff (lint and format) and mypy --strict over src, tests, bench and demo ([tool.mypy] files),
# and the layering contracts ([tool.importlinter]).
lint: $(STAMP)
	$(BIN)/ruff check src tests bench demo
	$(BIN)/ruff format --check src tests bench demo
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/run.py --sizes $(SIZES) $(if $(filter 0,$(GTO)),--no-gto,)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.* htmlcov
