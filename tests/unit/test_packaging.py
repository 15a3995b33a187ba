"""The package's declaration: ranges for the library, extras for the rest, the service's lock."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from generator.cli.extras import EXTRAS

from ..conftest import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
LOCK = ROOT / "requirements" / "service.lock"
#: what pip install '.[service,queue,postgres,signing]' installs from the project's own declaration
LOCKED_EXTRAS = ("service", "queue", "postgres", "signing")


def _locked() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            match = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)", line)
            assert match, line
            pins[canonicalize_name(match[1])] = match[2]
    return pins


def test_the_library_s_dependencies_are_ranges() -> None:
    for text in PROJECT["dependencies"]:
        requirement = Requirement(text)
        operators = {spec.operator for spec in requirement.specifier}
        assert ">=" in operators and "==" not in operators, text
        if requirement.name == "chinesecalendar":  # each year's holidays: a new release
            assert "<" not in operators, text
        else:
            assert "<" in operators, text


def test_the_service_queue_and_postgres_are_extras() -> None:
    extras = PROJECT["optional-dependencies"]
    names = {Requirement(t).name for t in PROJECT["dependencies"]}
    assert not names & {"fastapi", "uvicorn", "celery", "redis", "psycopg", "httpx"}
    assert set(EXTRAS) == set(LOCKED_EXTRAS) <= set(extras)
    assert "contractgen[service,queue,postgres,signing]" in extras["dev"]


def test_the_lock_pins_every_declared_dependency_within_its_range() -> None:
    pins = _locked()
    declared = [
        *PROJECT["dependencies"],
        *(t for e in LOCKED_EXTRAS for t in PROJECT["optional-dependencies"][e]),
    ]
    for text in declared:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in {LOCK.name}: run tools/lock.sh"
        assert requirement.specifier.contains(pins[name], prereleases=True), (text, pins[name])
    assert "contractgen" not in pins


def test_the_package_says_it_is_typed_and_licensed() -> None:
    assert (ROOT / "generator" / "py.typed").is_file()
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]["package-data"]
    assert "py.typed" in package_data["generator"]
    assert PROJECT["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
