#!/bin/sh
# Median wall time (7 fresh processes) of importing each dependency modelreg uses or avoids:
# the "import" column of the README's Dependencies table.  Run from the checkout:
#     sh bench/imports.sh
PY=${PY:-.venv/bin/python}
for stmt in "pass" "import yaml" "import typer" "import pydantic" "import git" \
    "import ruamel.yaml" "import dvc.repo" "import gto.api"; do
  t=$(for i in 1 2 3 4 5 6 7; do
        /usr/bin/time -f %e "$PY" -c "$stmt" 2>&1 >/dev/null | tail -1
      done | sort -n | sed -n 4p)
  echo "$stmt: $t s"
done
