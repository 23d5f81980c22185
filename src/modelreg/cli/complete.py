"""Shell completion: model names, stages and versions, from the repository's tags.

Imported only while the shell asks for candidates (the callbacks in ``app.py`` import it
when they run), so no command pays for it.  A completion must never write an error or a
traceback into the user's command line: any failure gives no candidates.  A ``--repo``
URL gives none either: a key press must not wait for the network.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

import typer

from modelreg.records import ModelDetail
from modelreg.registry import Registry


def params(ctx: typer.Context) -> dict[str, Any]:
    """The command's parameters parsed so far.

    While an option still waits for its value (``rollback churn production --to <TAB>``),
    the parser stops there and leaves the arguments before it unassigned, in ``ctx.args``:
    those are parsed again alone."""
    found = dict(ctx.params)
    if found.get("name") is None and ctx.args:
        with contextlib.suppress(Exception):
            again = ctx.command.make_context(
                ctx.info_name, list(ctx.args), parent=ctx.parent, resilient_parsing=True
            )
            for key, value in again.params.items():
                if found.get(key) is None:
                    found[key] = value
    return found


def _registry(params: Mapping[str, Any]) -> Registry | None:
    from modelreg.remote import is_url

    repo = params.get("repo") or "."
    if not isinstance(repo, str) or is_url(repo):
        return None
    reg = Registry(repo)
    return None if reg.is_remote else reg


def _quietly(produce: Callable[[], list[str]]) -> list[str]:
    try:
        return produce()
    except Exception:  # noqa: BLE001 - a completion never fails out loud
        return []


def _matching(candidates: list[str], incomplete: str) -> list[str]:
    return [c for c in candidates if c.startswith(incomplete)]


def _detail(reg: Registry, name: object) -> ModelDetail | None:
    if not isinstance(name, str) or not name:
        return None
    return reg.show(name)


def models(params: Mapping[str, Any], incomplete: str) -> list[str]:
    """Names of the models with tags."""

    def produce() -> list[str]:
        reg = _registry(params)
        return [] if reg is None else _matching(reg.model_names(), incomplete)

    return _quietly(produce)


def stages(params: Mapping[str, Any], incomplete: str, *, held: bool = False) -> list[str]:
    """The stages of the model named by the ``name`` argument, in promotion order: the ones
    it holds now (``held``), or every stage of the registry plus any its tags use."""

    def produce() -> list[str]:
        reg = _registry(params)
        if reg is None:
            return []
        detail = _detail(reg, params.get("name"))
        holding = list(detail.stages) if detail is not None else []
        if held:
            return _matching(holding, incomplete)
        order = reg.stage_order()
        extra = sorted(set(holding) - set(order))
        return _matching([*order, *extra], incomplete)

    return _quietly(produce)


def versions(
    params: Mapping[str, Any], incomplete: str, *, active: bool = False, latest: bool = False
) -> list[str]:
    """The versions of the model named by the ``name`` argument, oldest first (``active``:
    deregistered ones left out; ``latest``: the word ``latest`` too)."""

    def produce() -> list[str]:
        reg = _registry(params)
        if reg is None:
            return []
        detail = _detail(reg, params.get("name"))
        if detail is None:
            return []
        found = [v.version for v in reversed(detail.versions) if v.active or not active]
        return _matching([*found, *(["latest"] if latest else [])], incomplete)

    return _quietly(produce)


def references(params: Mapping[str, Any], incomplete: str) -> list[str]:
    """``NAME``, ``NAME@VERSION``, ``NAME@latest`` and ``NAME#STAGE`` (a stage it holds)."""

    def produce() -> list[str]:
        reg = _registry(params)
        if reg is None:
            return []
        for mark in ("@", "#"):
            if mark in incomplete:
                name = incomplete.split(mark, 1)[0]
                detail = _detail(reg, name)
                if detail is None:
                    return []
                if mark == "@":
                    tails = [v.version for v in reversed(detail.versions)] + ["latest"]
                else:
                    tails = list(detail.stages)
                return _matching([f"{name}{mark}{t}" for t in tails], incomplete)
        names = _matching(reg.model_names(), incomplete)
        if len(names) == 1:
            # One model left: offer its reference forms, so the shell completes the name
            # without a trailing space and the next key press can add `@` or `#`.
            return [names[0], f"{names[0]}@", f"{names[0]}#"]
        return names

    return _quietly(produce)
