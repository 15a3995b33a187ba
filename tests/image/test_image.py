"""The container image makes the seed set byte for byte as the host does.

Run on its own (``pytest -m image tests/image``; the main suite deselects it): it
builds the image with ``tools/image.sh`` from a wheel of the working tree (podman,
a bookworm base made by mmdebstrap: no registry), makes ``samples/seed.yaml``'s set
inside a container without network, and the same set on the host with the same wheel
(in a fresh venv borrowing the project's dependencies, the lock's versions), and
compares every file. A set that differs only in the manifest's program identity is
reported by the part of the identity that differs (code, kinds, fonts, LibreOffice).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ..conftest import ROOT, SAMPLES
from ..wheels import build_wheel, install_with_project_deps

pytestmark = pytest.mark.image

#: podman as this project runs it: runc (crun refuses some hosts' cgroup mode), set limits
PODMAN = ["--runtime", "runc"]
LIMITS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=4096:4096"]
TAG = "localhost/contractgen:test"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def image(wheel: Path) -> str:
    """Build the image from ``wheel`` with tools/image.sh; return its tag."""
    built = subprocess.run(
        ["bash", str(ROOT / "tools" / "image.sh"), "--wheel", str(wheel), "--tag", TAG],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert built.returncode == 0, f"tools/image.sh failed:\n{built.stderr[-4000:]}"
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed (tools/image.sh installs it with apt: run it)")
    assert built.stdout.strip().splitlines()[-1] == TAG
    return TAG


def _podman_run(
    image: str, *args: str, volumes: dict[Path, str]
) -> subprocess.CompletedProcess[str]:
    mounts = [arg for host, inside in volumes.items() for arg in ("-v", f"{host}:{inside}")]
    return subprocess.run(
        ["podman", *PODMAN, "run", "--rm", "--network=none", *LIMITS, *mounts, image, *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def _identity_difference(inside: dict[str, Any], host: dict[str, Any]) -> str:
    """Say which parts of the program identity differ between two manifests."""
    parts = sorted(
        key
        for key in {*inside["generator"], *host["generator"]}
        if inside["generator"].get(key) != host["generator"].get(key)
    )
    shown = "; ".join(
        f"{key}: image {inside['generator'].get(key)!r}, host {host['generator'].get(key)!r}"
        for key in parts
    )
    return f"the program identity differs in {', '.join(parts)} ({shown})"


def test_the_image_makes_the_seed_set_as_the_host_does(
    image: str, wheel: Path, tmp_path: Path
) -> None:
    out = tmp_path / "image"
    out.mkdir()
    out.chmod(0o777)  # the container's user (uid 10001) writes here
    made = _podman_run(
        image,
        "render",
        "/samples/seed.yaml",
        "-o",
        "/out",
        "--no-ledger",  # a draft: the container holds no ledger key to issue with
        volumes={SAMPLES: "/samples:ro", out: "/out"},
    )
    assert made.returncode == 0, made.stderr
    inside = out / Path(made.stdout.strip().splitlines()[-1]).name

    bin_dir = install_with_project_deps(wheel, tmp_path / "venv")
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["CONTRACTGEN_LEDGER"] = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    host_out = tmp_path / "host"
    done = subprocess.run(
        [str(bin_dir / "contractgen"), "render", str(SAMPLES / "seed.yaml"), "-o", str(host_out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    host = host_out / inside.name

    names = sorted(p.name for p in host.iterdir())
    assert sorted(p.name for p in inside.iterdir()) == names
    inside_manifest = json.loads((inside / "manifest.json").read_text(encoding="utf-8"))
    host_manifest = json.loads((host / "manifest.json").read_text(encoding="utf-8"))
    if inside_manifest["generator"] != host_manifest["generator"]:
        pytest.fail(_identity_difference(inside_manifest, host_manifest))
    differ = [n for n in names if (inside / n).read_bytes() != (host / n).read_bytes()]
    assert not differ, f"not the host's bytes: {differ}"


def test_the_image_names_its_program_and_serves_by_default(image: str) -> None:
    shown = _podman_run(image, "--version", volumes={})
    assert shown.returncode == 0, shown.stderr
    assert "LibreOffice 7.4" in shown.stdout, shown.stdout
    inspected = subprocess.run(
        ["podman", *PODMAN, "image", "inspect", image, "--format", "{{json .Config}}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    config = json.loads(inspected.stdout)
    assert config["Entrypoint"] == ["contractgen"]
    assert config["Cmd"][:3] == ["serve", "--host", "0.0.0.0"]
    assert config["User"] == "contractgen"
