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

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,dev,sklearn]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python demo/demo.py

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/run.py --sizes $(SIZES) $(if $(filter 0,$(GTO)),--no-gto,)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
