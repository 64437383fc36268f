"""Modules that define pydantic models keep their annotations as objects.

With ``from __future__ import annotations`` every field's annotation is a
string that pydantic compiles and evaluates when the class is created, which
made defining a model about a third dearer: on a cold start that is tens of
models (docs/performance.md). This keeps the rule from eroding.
"""

from __future__ import annotations
import __future__

import importlib
import pkgutil
import sys

import pydantic

import chalicelib


def _all_subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_all_subclasses(sub)}
    return found


def test_no_module_of_ours_with_pydantic_models_defers_its_annotations():
    for module in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
        importlib.import_module(module.name)
    modules = {
        model.__module__
        for model in _all_subclasses(pydantic.BaseModel)
        if model.__module__.startswith("chalicelib.")
    }
    assert "chalicelib.domain.events" in modules  # the walk found them
    deferring = sorted(
        name
        for name in modules
        if getattr(sys.modules[name], "annotations", None) is __future__.annotations
    )
    assert deferring == []
