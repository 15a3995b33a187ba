"""The shipped templates are what tools/build_templates.py makes of their sources, byte for byte."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from ..builtin import KINDS, TEMPLATE_DIR
from ..conftest import ROOT


@pytest.fixture(scope="module")
def build_templates() -> ModuleType:
    """Return tools/build_templates.py as a module."""
    path = ROOT / "tools" / "build_templates.py"
    spec = importlib.util.spec_from_file_location("build_templates", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("kind", KINDS)
def test_the_template_is_built_from_its_source(build_templates: ModuleType, kind: str) -> None:
    # Fails when a source was edited without rebuilding, or when the build stopped being
    # deterministic (equal sources, equal bytes).
    assert build_templates.make(kind, TEMPLATE_DIR) == (TEMPLATE_DIR / f"{kind}.docx").read_bytes()
