"""`contractgen render` with PDF: the set, fonts, text layer, seal places, determinism."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from ..conftest import ROOT, SAMPLES
from ..docx_text import docx_text

NUMBER = "11NMB2F042362026201"


def render(out: Path, *extra: str, sample: Path = SAMPLES / "seed.yaml") -> Path:
    result = subprocess.run(
        [sys.executable, "-m", "generator", "render", str(sample), "-o", str(out), *extra],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip())


def pdftotext(pdf: Path, *area: str) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *area, str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("render"))


@pytest.fixture(scope="module")
def manifest(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return data


def test_the_whole_set_is_there(folder: Path, manifest: dict[str, Any]) -> None:
    assert folder.name == NUMBER
    assert len(list(folder.glob("*.docx"))) == 4
    assert len(list(folder.glob("*.pdf"))) == 5  # four documents and the bundle
    for document in manifest["documents"]:
        for key in ("docx", "pdf"):
            data = (folder / document[key]["file"]).read_bytes()
            assert document[key]["sha256"] == hashlib.sha256(data).hexdigest()
            assert (
                document[key]["content_md5"]
                == base64.b64encode(hashlib.md5(data).digest()).decode()
            )
            assert document[key]["size"] == len(data)
        pdf = folder / document["pdf"]["file"]
        with pikepdf.open(pdf) as doc:
            assert document["pdf"]["pages"] == len(doc.pages)


def test_every_font_is_embedded(folder: Path) -> None:
    for pdf in folder.glob("*.pdf"):
        listing = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
        rows = listing.stdout.splitlines()[2:]
        assert rows, pdf.name
        for row in rows:
            # columns: name type encoding emb sub uni object-id
            assert row.split()[-5] == "yes", f"{pdf.name}: {row}"


def test_serif_body_and_sans_titles(folder: Path) -> None:
    listing = subprocess.run(
        ["pdffonts", str(folder / "01_运维服务合同.pdf")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "NotoSerifCJK" in listing and "NotoSansCJK" in listing


def test_pdf_text_holds_the_key_values(folder: Path) -> None:
    text = re.sub(r"\s", "", pdftotext(folder / "01_运维服务合同.pdf"))
    for value in (
        NUMBER,
        "上海市大数据中心",
        "上海众恒智能系统技术有限公司",
        "1578000",
        "壹佰伍拾柒万捌仟元整",
        "2026年12月31日",
        "2026年01月16日",
        "第1页共13页",
    ):
        assert value in text, value


def test_every_character_of_each_docx_is_in_its_pdf(folder: Path, manifest: dict[str, Any]) -> None:
    for document in manifest["documents"]:
        words = docx_text((folder / document["docx"]["file"]).read_bytes())
        pdf_chars = set(pdftotext(folder / document["pdf"]["file"]))
        missing = {c for c in words if not c.isspace() and c != "|"} - pdf_chars
        assert not missing, (document["kind"], missing)


def test_bundle_has_a_bookmark_per_document(folder: Path, manifest: dict[str, Any]) -> None:
    with pikepdf.open(folder / manifest["bundle"]["file"]) as bundle:
        with bundle.open_outline() as outline:
            top = [item.title for item in outline.root]
        assert top == ["运维服务合同", "保密协议", "廉洁协议", "履约验收方案"]
        assert len(bundle.pages) == sum(d["pdf"]["pages"] for d in manifest["documents"])
        assert str(bundle.docinfo["/Subject"]) == NUMBER
        assert str(bundle.Root.Lang) == "zh-CN"


def test_rendering_again_gives_identical_files(folder: Path, tmp_path: Path) -> None:
    again = render(tmp_path)
    for path in sorted(folder.iterdir()):
        assert (again / path.name).read_bytes() == path.read_bytes(), path.name


def test_pdfa_output(tmp_path: Path) -> None:
    out = render(tmp_path, "--format", "pdf", "--pdfa")
    assert not list(out.glob("*.docx"))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["pdfa"] is True and "docx" not in manifest["documents"][0]
    for pdf in out.glob("*.pdf"):
        with pikepdf.open(pdf) as doc:
            raw = doc.Root.Metadata.read_bytes().decode("utf-8")
        assert re.search(r"pdfaid:part(=\"|>)2", raw) and re.search(
            r"pdfaid:conformance(=\"|>)B", raw
        ), pdf.name


def test_invalid_data_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (SAMPLES / "seed.yaml").read_text(encoding="utf-8").replace("200072", "2000"), "utf-8"
    )
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "generator", "render", str(bad), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 1
    assert "buyer.postcode" in result.stderr and "[postcode.format]" in result.stderr
    assert not out.exists() or not any(out.iterdir())
