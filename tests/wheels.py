"""The wheel of the working tree, and a fresh venv outside the checkout to install it in."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from .conftest import ROOT

__all__ = ["build_wheel", "install_with_project_deps", "tree"]


def tree(dest: Path, *paths: str) -> Path:
    """Copy the working tree's files (tracked, or new and not ignored) into ``dest``.

    ``paths``: only the files under these (all when none is given).
    """
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", *paths],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def build_wheel(base: Path) -> Path:
    """Return the wheel built from a copy of the working tree, under ``base``."""
    source = tree(base / "src")
    wheels = base / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(source)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (built,) = wheels.glob("contractgen-*.whl")
    return built


def install_with_project_deps(wheel: Path, venv: Path) -> Path:
    """Install ``wheel`` alone into a fresh venv that borrows the project's dependencies.

    The dependencies are the project's own environment, as a path after the venv's own
    (a ``.pth`` line to its site-packages), not the project itself. Returns the bin folder.
    """
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "project-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"
