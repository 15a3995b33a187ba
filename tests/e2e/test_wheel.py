"""The package works when installed from its wheel, away from the checkout.

The wheel is built from a copy of the working tree (the files git tracks or
would track), installed into a fresh virtual environment outside the
checkout, and run from a folder that is not the checkout: it must make the
sample set with the templates it carries, byte for byte as the checkout does.
The fresh environment borrows the project's installed dependencies (a path
line to their site-packages), not the project itself. Another one gets the bare
wheel as ``pip install contractgen`` does, with its own dependencies and none of
the extras: the library and the command line work there, and the service's
commands say which extra they need.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from generator.inputs import load_data
from generator.kinds import parse

from ..builtin import TEMPLATE_DIR
from ..conftest import SAMPLES, run_cli
from ..wheels import build_wheel, install_with_project_deps


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the wheel built from a copy of the working tree."""
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def installed(wheel: Path) -> Path:
    """Return the bin folder of a fresh venv outside the checkout with the wheel installed."""
    return install_with_project_deps(wheel, wheel.parent.parent / "venv")


@pytest.fixture(scope="module")
def bare(wheel: Path) -> Path:
    """Return the bin folder of a fresh venv with the wheel and its own dependencies only."""
    venv = wheel.parent.parent / "bare"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # no extras: pip resolves the library's ranges (its cache, else the package index)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return venv / "bin"


def _run(bin_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    return subprocess.run(
        [str(bin_dir / "contractgen"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_the_wheel_carries_the_templates_and_resources(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for needed in (
        "generator/kinds/builtin/om_service/kind.yaml",
        "generator/kinds/builtin/om_service/service_contract.docx",
        "generator/kinds/builtin/om_service/acceptance_plan.docx",
        "generator/kinds/builtin/om_service/CONTEXT.md",
        "generator/kinds/builtin/om_service/sample.yaml",
        "generator/kinds/skeleton/kind.yaml",
        "generator/docx/templates/contract_notice.docx",
        "generator/fonts/fonts.conf",
        "generator/office/_uno_worker.py",
        "generator/domain/documents.py",
    ):
        assert needed in names, needed
    assert not any(
        name.startswith(("tests/", "samples/", "tools/", "templates/")) for name in names
    )


@pytest.mark.slow  # in the slow step of CI: the main suite stays under 15 minutes
def test_installed_wheel_makes_the_sample_set_as_the_checkout_does(
    installed: Path, tmp_path: Path
) -> None:
    where = subprocess.run(
        [str(installed / "python"), "-c", "import generator; print(generator.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(installed.parent)), where  # the wheel's copy, not the checkout

    made = _run(installed, tmp_path, "init", "contract.yaml")
    assert made.returncode == 0, made.stderr
    written = parse(load_data(tmp_path / "contract.yaml"))
    assert written == parse(load_data(SAMPLES / "seed.yaml"))
    result = _run(installed, tmp_path, "render", "contract.yaml", "-o", "out")
    assert result.returncode == 0, result.stderr
    folder = Path(result.stdout.strip().splitlines()[-1])
    folder = folder if folder.is_absolute() else tmp_path / folder
    wheel_manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))

    reference = run_cli("render", SAMPLES / "seed.yaml", "-o", tmp_path / "checkout")
    assert reference.returncode == 0, reference.stderr
    checkout_folder = tmp_path / "checkout" / wheel_manifest["contract_no"]
    checkout_manifest = json.loads((checkout_folder / "manifest.json").read_text("utf-8"))
    assert wheel_manifest == checkout_manifest
    assert wheel_manifest["templates"]["source"] == "built-in"
    for name in sorted(p.name for p in checkout_folder.iterdir()):
        assert (folder / name).read_bytes() == (checkout_folder / name).read_bytes(), name

    checked = _run(installed, tmp_path, "templates", "check")
    assert checked.returncode == 0, checked.stderr


@pytest.mark.slow  # in the slow step of CI: the main suite stays under 15 minutes
def test_installed_wheel_exports_its_templates_for_editing(installed: Path, tmp_path: Path) -> None:
    result = _run(installed, tmp_path, "templates", "export", "mine")
    assert result.returncode == 0, result.stderr
    for name in ("service_contract.docx", "CONTEXT.md"):
        assert (tmp_path / "mine" / name).read_bytes() == (TEMPLATE_DIR / name).read_bytes()


@pytest.mark.slow
def test_the_bare_wheel_is_the_library_and_the_command_line(bare: Path, tmp_path: Path) -> None:
    probe = (
        "import importlib.util as u, generator; "
        "print([m for m in ('fastapi', 'uvicorn', 'celery', 'redis', 'psycopg', 'httpx') "
        "if u.find_spec(m)]); print(generator.__file__)"
    )
    shown = subprocess.run(
        [str(bare / "python"), "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert shown[0] == "[]", shown  # none of the extras came along
    assert shown[1].startswith(str(bare.parent)), shown

    # issued: the bare wheel records in its embedded SQLite ledger too
    result = _run(bare, tmp_path, "render", str(SAMPLES / "seed.yaml"), "-o", "out", "--issue")
    assert result.returncode == 0, result.stderr
    folder = tmp_path / result.stdout.strip().splitlines()[-1]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    entries = [d[f] for d in manifest["documents"] for f in ("docx", "pdf")]
    listed = {entry["file"]: entry["sha256"] for entry in [*entries, manifest["bundle"]]}
    assert {p.name for p in folder.iterdir()} == {*listed, "manifest.json"}
    assert len(listed) == 9 and any(name.endswith(".pdf") for name in listed)
    for name, digest in listed.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    checked = _run(bare, tmp_path, "ledger", "check")  # the embedded SQLite ledger
    assert checked.returncode == 0, checked.stderr


@pytest.mark.slow  # in the slow step of CI: the main suite stays under 15 minutes
@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (("serve",), "service"),
        (("worker", "--broker", "redis://127.0.0.1:9/0"), "queue"),
        (
            (
                "batch",
                str(SAMPLES / "batch.xlsx"),
                "-o",
                "out",
                "--broker",
                "redis://127.0.0.1:9/0",
            ),
            "queue",
        ),
        (("ledger", "list", "--ledger", "postgresql+psycopg://u@127.0.0.1:9/db"), "postgres"),
    ],
    ids=["serve", "worker", "batch-broker", "postgres-ledger"],
)
def test_the_bare_wheel_names_the_extra_a_command_needs(
    bare: Path, tmp_path: Path, args: tuple[str, ...], extra: str
) -> None:
    result = _run(bare, tmp_path, *args)
    assert result.returncode != 0
    assert f"需要安装 contractgen[{extra}]" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
