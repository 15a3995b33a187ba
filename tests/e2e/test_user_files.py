"""Nothing of the user's in a set's folder is removed when the set is made again.

A clerk keeps the sealed scan (``01_…_已盖章.pdf``) and a folder of notes beside the
files contractgen wrote; a re-render with changed data once replaced the whole folder
and took them with it.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from ..conftest import SAMPLES, run_cli


def test_a_re_render_keeps_the_user_s_files_in_the_set_folder(tmp_path: Path) -> None:
    data = yaml.safe_load((SAMPLES / "seed.yaml").read_text(encoding="utf-8"))
    source = tmp_path / "contract.yaml"
    source.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    first = run_cli("render", source, "-o", out, "--format", "docx", "--no-ledger")
    assert first.returncode == 0, first.stderr
    folder = out / str(data["contract_no"])
    sealed = folder / "01_运维服务合同_已盖章.pdf"
    sealed.write_bytes(b"%PDF-1.7 the user's sealed scan")
    (folder / "备注").mkdir()
    (folder / "备注" / "说明.txt").write_text("盖章后寄回", encoding="utf-8")
    before = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    data["project_name"] = str(data["project_name"]) + "（变更）"
    source.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    again = run_cli("render", source, "-o", out, "--format", "docx", "--no-ledger")
    assert again.returncode == 0, again.stderr
    assert sealed.read_bytes() == b"%PDF-1.7 the user's sealed scan"
    assert (folder / "备注" / "说明.txt").read_text(encoding="utf-8") == "盖章后寄回"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["input_sha256"] != before["input_sha256"]  # the new set, beside them
    assert "保留了用户放入的文件" in again.stderr
    assert not [p for p in out.iterdir() if p.name.startswith(".contractgen-")]
