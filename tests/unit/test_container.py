"""The container files agree with the program: packages, variables, volumes, commands.

The image itself is built and compared with the host by tests/image (its own CI step).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from generator.cli import build_parser
from generator.cli.environment import variables

from ..conftest import ROOT

CONTAINER = ROOT / "container"
#: what tools/setup.sh installs for the tests and the build, not for making sets
NOT_RUNTIME = {
    "poppler-utils",
    "gcc",
    "libc6-dev",
    "python3-dev",
    "postgresql",
    "chromium",
    "redis-server",
    "strace",
}


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((CONTAINER / "compose.yaml").read_text("utf-8"))
    return loaded


def _setup_packages() -> set[str]:
    text = (ROOT / "tools" / "setup.sh").read_text(encoding="utf-8")
    match = re.search(r"^packages=\((.*?)\)", text, flags=re.S | re.M)
    assert match
    return set(match[1].split())


def test_the_image_installs_the_runtime_packages_of_setup() -> None:
    containerfile = (CONTAINER / "Containerfile").read_text(encoding="utf-8")
    assert re.search(r"^ARG BASE=", containerfile, flags=re.M)
    assert re.search(r"^FROM \$\{BASE\}$", containerfile, flags=re.M)
    install = re.search(r"apt-get install (.*?)&&", containerfile, flags=re.S)
    assert install
    installed = {w for w in install[1].replace("\\", " ").split() if not w.startswith("-")}
    runtime = _setup_packages() - NOT_RUNTIME
    assert runtime <= installed, runtime - installed
    assert not installed & NOT_RUNTIME
    assert "-r /opt/contractgen-src/service.lock" in containerfile
    assert re.search(r"^USER contractgen$", containerfile, flags=re.M)
    assert 'ENTRYPOINT ["contractgen"]' in containerfile


def test_compose_runs_the_service_the_workers_redis_and_postgres_with_volumes() -> None:
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"service", "worker", "redis", "postgres"}
    assert services["service"]["command"] == ["serve"]
    assert services["worker"]["command"] == ["worker"]
    redis = services["redis"]
    assert redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    # SOURCE:TARGET[:ro], the source perhaps a ${VARIABLE:?message}
    mounts = {
        s: {v.removesuffix(":ro").rsplit(":", 1)[1] for v in services[s]["volumes"]}
        for s in services
    }
    assert "/data" in mounts["redis"]
    assert "/var/lib/postgresql/data" in mounts["postgres"]
    # the jobs' folder: one volume at the same path in the service and the workers
    jobs = services["service"]["environment"]["CONTRACTGEN_JOBS_DIR"]
    assert any(jobs.startswith(m) for m in mounts["service"] & mounts["worker"])
    for name in ("service", "worker"):
        environment = services[name]["environment"]
        assert environment["CONTRACTGEN_BROKER"].startswith("redis://redis:")
        assert environment["CONTRACTGEN_LEDGER"].startswith("postgresql+psycopg://")
        assert "@postgres:" in environment["CONTRACTGEN_LEDGER"]
        # the ledger's signing key, a file mounted into both (never in the database)
        assert environment["CONTRACTGEN_LEDGER_KEY_FILE"] in mounts[name]
    assert set(compose["volumes"]) >= {"redis", "postgres"}


def _variables_in(path: Path) -> set[str]:
    return set(re.findall(r"\bCONTRACTGEN_[A-Z_]+\b", path.read_text(encoding="utf-8")))


def test_every_variable_of_the_deployment_files_is_one_the_program_reads() -> None:
    known = set(variables(build_parser())) | {"CONTRACTGEN_IMAGE", "CONTRACTGEN_PUBLISH"}
    for path in (
        CONTAINER / "compose.yaml",
        CONTAINER / "systemd" / "contractgen.env",
        CONTAINER / "systemd" / "contractgen.service",
    ):
        assert _variables_in(path) <= known, (path.name, _variables_in(path) - known)


def test_the_systemd_units_run_serve_and_worker() -> None:
    for unit, command in (
        ("contractgen.service", "serve"),
        ("contractgen-worker.service", "worker"),
    ):
        text = (CONTAINER / "systemd" / unit).read_text(encoding="utf-8")
        assert re.search(rf"^ExecStart=\S+/contractgen {command}$", text, flags=re.M), unit
        assert "EnvironmentFile=/etc/contractgen/contractgen.env" in text
