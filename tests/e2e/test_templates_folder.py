"""An office's own templates: exported, edited, checked, used by render, batch and the library."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from generator import Generator, load_data

from ..builtin import DOCUMENTS, TEMPLATE_DIR
from ..conftest import SAMPLES, run_cli
from ..docx_text import docx_lines
from ..pdfs import page_texts

#: a sentence of clause 一 as the package has it, and as the office rewords it
ORIGINAL = "本合同中的下列词语应按以下内容进行解释："
EDITED = "本合同中的下列词语按以下内容解释（本单位修订）："


def _replace_in(template: Path, old: str, new: str) -> None:
    """Rewrite one text of a template's body, as an edit in Word would leave it."""
    with zipfile.ZipFile(template) as archive:
        parts = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(template, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in parts:
            if info.filename == "word/document.xml":
                assert old.encode() in data
                data = data.replace(old.encode(), new.encode(), 1)
            archive.writestr(info, data)


@pytest.fixture
def edited(tmp_path: Path) -> Path:
    folder = tmp_path / "ours"
    result = run_cli("templates", "export", folder)
    assert result.returncode == 0, result.stderr
    _replace_in(folder / "service_contract.docx", ORIGINAL, EDITED)
    return folder


def _digest(folder: Path) -> str:
    """Return the templates' SHA-256 as the manifest records it: files in set order, then the
    kind's declaration (the templates of an office's folder, the built-in kind's fields)."""
    digest = hashlib.sha256()
    for doc in DOCUMENTS:
        digest.update((folder / doc.template).read_bytes())
    digest.update((TEMPLATE_DIR / "kind.yaml").read_bytes())
    return digest.hexdigest()


def test_export_writes_the_built_in_templates_and_never_overwrites(tmp_path: Path) -> None:
    folder = tmp_path / "ours"
    assert run_cli("templates", "export", folder).returncode == 0
    for doc in DOCUMENTS:
        assert (folder / doc.template).read_bytes() == (TEMPLATE_DIR / doc.template).read_bytes()
    (folder / "service_contract.docx").write_bytes(b"mine")
    again = run_cli("templates", "export", folder)
    assert again.returncode == 1
    assert "不予覆盖" in again.stderr and "service_contract.docx" in again.stderr
    assert (folder / "service_contract.docx").read_bytes() == b"mine"


def test_render_uses_an_edited_copy_and_records_it(edited: Path, tmp_path: Path) -> None:
    assert run_cli("templates", "check", "--templates", edited).returncode == 0
    result = run_cli("render", SAMPLES / "seed.yaml", "-o", tmp_path / "out", "--templates", edited)
    assert result.returncode == 0, result.stderr
    folder = Path(result.stdout.strip())
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["templates"] == {
        "source": "custom",
        "folder": "ours",
        "sha256": _digest(edited),
    }
    assert manifest["template_version"] == _digest(edited)[:16]

    lines = docx_lines((folder / "01_运维服务合同.docx").read_bytes())
    assert EDITED in lines and ORIGINAL not in lines
    # What is printed says it too: the PDF's text, read by poppler.
    text = "".join(page_texts((folder / "01_运维服务合同.pdf").read_bytes(), tmp_path, "-raw"))
    assert EDITED.replace("（", "").replace("）", "")[:12] in text.replace("\n", "")
    # The other documents come from the exported copies, which equal the built-in ones.
    plain = run_cli("render", SAMPLES / "seed.yaml", "-o", tmp_path / "plain", "--format", "docx")
    plain_folder = Path(plain.stdout.strip())
    assert json.loads((plain_folder / "manifest.json").read_text("utf-8"))["templates"] == {
        "source": "built-in",
        "folder": None,
        "sha256": _digest(TEMPLATE_DIR),
    }
    name = "02_保密协议.docx"
    assert (folder / name).read_bytes() == (plain_folder / name).read_bytes()


def test_batch_and_library_use_the_same_copy(edited: Path, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()  # a folder of contract files is a batch input
    (tmp_path / "in" / "seed.yaml").write_bytes((SAMPLES / "seed.yaml").read_bytes())
    result = run_cli(
        "batch",
        tmp_path / "in",
        "-o",
        tmp_path / "batch",
        "--format",
        "docx",
        "--templates",
        edited,
    )
    assert result.returncode == 0, result.stderr
    (made,) = [p for p in (tmp_path / "batch").iterdir() if p.is_dir()]
    from_batch = (made / "01_运维服务合同.docx").read_bytes()
    assert EDITED in docx_lines(from_batch)

    with Generator(workers=1, templates=edited) as generator:
        from_library = generator.render(load_data(SAMPLES / "seed.yaml"), formats=("docx",))
    assert from_library.documents[0].docx == from_batch
    assert from_library.manifest()["templates"]["sha256"] == _digest(edited)


def test_check_names_the_template_and_paragraph_of_a_missing_variable(
    edited: Path,
) -> None:
    _replace_in(edited / "service_contract.docx", EDITED, "{{ buyer.nickname }}")
    result = run_cli("templates", "check", "--templates", edited)
    assert result.returncode == 1
    assert "service_contract.docx" in result.stderr
    assert "buyer.nickname" in result.stderr and "段：" in result.stderr


def test_a_folder_missing_a_template_is_refused_with_its_name(edited: Path, tmp_path: Path) -> None:
    (edited / "acceptance_plan.docx").unlink()
    result = run_cli("render", SAMPLES / "seed.yaml", "-o", tmp_path / "out", "--templates", edited)
    assert result.returncode == 1
    assert "acceptance_plan.docx" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_the_service_renders_with_an_edited_copy(edited: Path, tmp_path: Path) -> None:
    import httpx

    from .test_service import start_server, stop_server

    server = start_server(tmp_path, "--workers", "1", "--templates", str(edited), "--no-ledger")
    try:
        body = json.dumps(load_data(SAMPLES / "seed.yaml"), ensure_ascii=False, default=str)
        response = httpx.post(
            f"{server.url}/v1/contracts?format=json&issue=false",
            content=body.encode(),
            headers={"Content-Type": "application/json"},
            timeout=300,
        )
        assert response.status_code == 200, response.text
        made = response.json()
        assert made["manifest"]["templates"]["sha256"] == _digest(edited)
        docx = base64.b64decode(made["files"]["01_运维服务合同.docx"])
        assert EDITED in docx_lines(docx)
    finally:
        stop_server(server)
