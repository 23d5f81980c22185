"""The suite's own layout: test modules share code only through helper modules.

A test module that imports another runs that module's top level and ties one file's tests to
another's internals; what two test files share lives in a helper module named for what it
holds (``helpers``, ``hostile``, ``gto_tools``, ``search_table``, ``dated``, ``site_story``,
``gitserver``).  ruff's banned-api rule names single modules, not a family, so this test keeps
the rule for ``tests.test_*``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def imported_test_modules(source: str) -> list[str]:
    """The test modules ``source`` imports: ``tests.test_x``, or plain ``test_x`` (pytest puts
    ``tests/`` on ``sys.path``, so that spelling works too)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # `from tests.test_x import y` names the module; `from tests import test_x` a name
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [name for name in names if _is_test_module(name)]
    return sorted(set(found))


def _is_test_module(dotted: str) -> bool:
    *package, module = dotted.split(".")
    return package in ([], ["tests"]) and module.startswith("test_")


@pytest.mark.parametrize("path", sorted(TESTS.glob("*.py")), ids=lambda p: p.name)
def test_no_module_of_the_suite_imports_a_test_module(path: Path) -> None:
    imported = imported_test_modules(path.read_text(encoding="utf-8"))
    assert imported == [], (
        f"{path.name} imports {imported}: move what it shares into a helper module "
        "(tests/helpers.py or one named for what it holds)"
    )


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ("from tests.test_gto_compat import ok", True),
        ("import tests.test_search", True),
        ("from tests import test_untrusted", True),
        ("from test_untrusted import plant", True),
        ("def f():\n    from tests.test_cli import runner", True),
        ("from tests.helpers import git", False),
        ("from tests.gto_tools import GtoClock", False),
        ("import pytest", False),
    ],
)
def test_the_check_sees_every_spelling(source: str, caught: bool) -> None:
    assert bool(imported_test_modules(source)) is caught
