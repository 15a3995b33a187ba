"""The command line used clumsily: every usage error exits 2 with a Chinese message.

Run for real as ``python -m generator``; no traceback may reach the user, and a
refused command writes nothing.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest

from ..conftest import SAMPLES, run_cli
from .test_service import start_server, stop_server

SEED = SAMPLES / "seed.yaml"


def assert_usage_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Assert exit status 2, a Chinese message naming ``words``, and no traceback."""
    stderr = result.stderr
    assert result.returncode == 2, stderr
    assert "Traceback" not in stderr, stderr
    assert "错误" in stderr, stderr
    for word in words:
        assert word in stderr, stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        # argparse's own errors, in Chinese
        (("frobnicate",), ("frobnicate",)),
        (("render",), ("缺少参数", "FILE")),
        (("render", str(SEED), "-o", "out", "--format", "docs"), ("--format", "docs")),
        (("validate", str(SEED), "--bogus"), ("--bogus",)),
        # numbers out of range
        (("serve", "--workers", "-1"), ("--workers", "-1")),
        (("serve", "--workers", "0"), ("--workers",)),
        (("serve", "--workers", "100000"), ("--workers",)),
        (("serve", "--workers", "two"), ("--workers", "two")),
        (("serve", "--port", "70000"), ("--port",)),
        (("serve", "--timeout", "nan"), ("--timeout",)),
        (("serve", "--timeout", "-5"), ("--timeout",)),
        (("serve", "--max-body", "0"), ("--max-body",)),
        (("serve", "--read-timeout", "0"), ("--read-timeout",)),
        (("serve", "--queue", "-1"), ("--queue",)),
        # a token on the command line shows in ps: refused, pointing to the safe ways
        (("serve", "--token", "s3cret"), ("CONTRACTGEN_TOKEN", "--token-file")),
        (("serve", "--token-file", "/nonexistent/token"), ("/nonexistent/token",)),
    ],
)
def test_usage_errors_exit_2_in_chinese(args: tuple[str, ...], words: tuple[str, ...]) -> None:
    assert_usage_error(run_cli(*args, timeout=60), *words)


def test_render_into_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("mine", encoding="utf-8")
    assert_usage_error(run_cli("render", SEED, "-o", target, "--format", "docx"), "不是文件夹")
    assert target.read_text(encoding="utf-8") == "mine"
    # a folder inside a file cannot be made either
    assert_usage_error(run_cli("render", SEED, "-o", target / "sub", "--format", "docx"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_render_into_a_dangling_symlink_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "out"
    link.symlink_to(tmp_path / "nowhere")
    assert_usage_error(run_cli("render", SEED, "-o", link, "--format", "docx"), "符号链接")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert not (tmp_path / "nowhere").exists()


def test_init_into_a_missing_folder_is_refused(tmp_path: Path) -> None:
    assert_usage_error(run_cli("init", tmp_path / "missing" / "contract.yaml"), "不存在")
    assert_usage_error(run_cli("init", "--xlsx", tmp_path / "missing" / "c.xlsx"), "不存在")
    assert_usage_error(run_cli("init", "--force", tmp_path), "文件夹")
    assert list(tmp_path.iterdir()) == []


def test_validate_checks_every_file_past_an_unreadable_one(tmp_path: Path) -> None:
    result = run_cli("validate", tmp_path / "missing.yaml", SEED, tmp_path, timeout=60)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{SEED}: 有效" in result.stdout  # checked although the first file was missing
    assert "missing.yaml" in result.stderr


def test_token_file_is_required_by_the_service(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("from-a-file-0123456789\n", encoding="utf-8")
    os.chmod(token, 0o600)
    server = start_server(tmp_path, "--workers", "1", "--token-file", str(token))
    try:
        assert httpx.get(f"{server.url}/v1/schema").status_code == 401
        wrong = httpx.get(f"{server.url}/v1/schema", headers={"Authorization": "Bearer x"})
        assert wrong.status_code == 401
        right = {"Authorization": "Bearer from-a-file-0123456789"}
        assert httpx.get(f"{server.url}/v1/schema", headers=right).status_code == 200
        cmdline = Path(f"/proc/{server.proc.pid}/cmdline").read_bytes()
        assert b"from-a-file-0123456789" not in cmdline
    finally:
        stop_server(server)
