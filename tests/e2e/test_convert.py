"""End-to-end tests of generator.office against the real LibreOffice (no mocks).

A test that needs a conversion to be in progress freezes the office with SIGSTOP
before the job reaches it and waits, by polling with a deadline, for states it can
see (a job staged in the worker's folder, a caller waiting, the pool closed): no
sleep stands in for "long enough".
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pikepdf
import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt

from generator.errors import ConversionError, UsageError
from generator.office import FONTS_CONF, ConverterPool, convert_once

RARE = "䶮堃喆昇珺"
BODY = f"甲方：上海市大数据中心 ☑ 一次性验收 ☐ 分期验收 联系人 {RARE} Total 1,578,000.00 元"
HEADING = "政府采购服务合同"


def add_run(paragraph: object, text: str, font: str, *, latin: str | None = None) -> None:
    """Add a run in Chinese font ``font`` (Latin font ``latin``, default the same)."""
    run = paragraph.add_run(text)  # type: ignore[attr-defined]
    run.font.size = Pt(12)
    run.font.name = latin or font  # python-docx sets w:ascii and w:hAnsi
    run._element.get_or_add_rPr().rFonts.set(qn("w:eastAsia"), font)


def make_docx(*paragraphs: tuple[str, str], latin: str | None = None) -> bytes:
    """Return a DOCX with one paragraph per (text, east-Asian font) pair."""
    doc = Document()
    for text, font in paragraphs:
        add_run(doc.add_paragraph(), text, font, latin=latin)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def big_docx(pages: int = 40) -> bytes:
    """Return a DOCX of roughly ``pages`` pages, slow enough to interrupt mid-conversion."""
    line = "本合同一式贰份，甲乙双方各执壹份，具有同等法律效力，自双方签字盖章之日起生效。" * 3
    return make_docx(*[(f"{i}. {line}", "宋体") for i in range(pages * 8)])


def fonts(pdf: Path) -> list[tuple[str, bool]]:
    """Return (name, embedded) for every font ``pdffonts`` lists."""
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    rows = lines[lines.index(next(x for x in lines if x.startswith("---"))) + 1 :]
    # name type encoding emb sub uni object-number generation; read from the right
    # because the type ("Type 1", "CID Type 0C") contains spaces.
    return [(row.split()[0], row.split()[-5] == "yes") for row in rows if row.strip()]


def text_of(pdf: Path) -> str:
    """Return the PDF's text layer without any whitespace."""
    # pdftotext rather than pypdf: pypdf moves the ☑ ☐ runs (another font) out of
    # reading order, pdftotext keeps the line as written.
    out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
    return "".join(out.stdout.split())


def pdfaid(pdf: Path) -> tuple[str | None, str | None]:
    """Return (pdfaid:part, pdfaid:conformance) from the PDF's XMP metadata."""
    with pikepdf.open(pdf) as doc:
        if "/Metadata" not in doc.Root:
            return None, None
        xmp = doc.open_metadata()
        part, conformance = xmp.get("pdfaid:part"), xmp.get("pdfaid:conformance")
    return (None if part is None else str(part)), (
        None if conformance is None else str(conformance)
    )


def alive(pid: int) -> bool:
    """Tell whether ``pid`` is a live (not zombie) process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(condition: Callable[[], object], what: str, within: float = 30.0) -> None:
    """Return as soon as ``condition()`` is true; fail the test after ``within`` seconds."""
    give_up = time.monotonic() + within
    while not condition():
        assert time.monotonic() < give_up, f"still waiting after {within} s for {what}"
        time.sleep(0.002)


def job_staged(work: Path) -> bool:
    """Tell whether a worker under ``work`` holds a job (its copy of the document)."""
    return any(work.glob("*/job.docx"))


def office_bin_pids(pool: ConverterPool) -> list[int]:
    """Return the pids of the pool's soffice.bin processes."""
    pids = []
    for pid in pool.office_pids():
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "soffice.bin":
                pids.append(pid)
        except OSError:
            pass
    return pids


@pytest.fixture(scope="module")
def pool() -> Iterator[ConverterPool]:
    """Share one two-worker pool across the module's tests."""
    with ConverterPool(workers=2, timeout=60) as shared:
        yield shared


def test_text_layer_keeps_every_character(pool: ConverterPool, tmp_path: Path) -> None:
    docx = tmp_path / "合同 草稿.docx"
    docx.write_bytes(make_docx((HEADING, "黑体"), (BODY, "宋体"), latin="Times New Roman"))
    pdf = tmp_path / "输出" / "合同.pdf"
    pool.convert(docx, pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = text_of(pdf)
    source = "".join((HEADING + BODY).split())
    missing = sorted({ch for ch in source if ch not in text})
    assert missing == []
    assert source in text
    # No LibreOffice lock file or stray output next to the caller's files.
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["合同 草稿.docx", "合同.pdf", "输出"]


def test_offices_collect_no_words_and_show_no_status_bar(pool: ConverterPool) -> None:
    """Each office started has word completion's collecting off and no status bar.

    The bridge reads both back from the office's configuration once it set them;
    they cost about a seventh of its CPU for a joined set (benchmarks/bench_idle.py).
    """
    pool.convert_bytes(make_docx((BODY, "宋体")))
    started = [worker for worker in pool._workers if worker.running]
    assert started
    for worker in started:
        assert worker.settings == {"collect_words": False, "status_bar": False}


def test_fonts_embedded_song_serif_hei_sans(pool: ConverterPool, tmp_path: Path) -> None:
    song = tmp_path / "song.pdf"
    song.write_bytes(pool.convert_bytes(make_docx((BODY, "宋体"), latin="Times New Roman")))
    hei = tmp_path / "hei.pdf"
    hei.write_bytes(pool.convert_bytes(make_docx((HEADING + RARE, "黑体"))))

    song_fonts, hei_fonts = fonts(song), fonts(hei)
    assert all(embedded for _, embedded in song_fonts + hei_fonts), song_fonts + hei_fonts
    # ☑ ☐ are not in Noto CJK: fontconfig falls back to DejaVu Sans for them only.
    song_cjk = [name for name, _ in song_fonts if "DejaVu" not in name]
    assert song_cjk and all("NotoSerifCJK" in name for name in song_cjk), song_fonts
    assert [name for name, _ in hei_fonts] and all(
        "NotoSansCJK" in name for name, _ in hei_fonts
    ), hei_fonts


@pytest.mark.parametrize(
    ("family", "expected"),
    [
        ("宋体", "Noto Serif CJK SC"),
        ("SimSun", "Noto Serif CJK SC"),
        ("仿宋_GB2312", "Noto Serif CJK SC"),
        ("楷体", "Noto Serif CJK SC"),
        ("方正小标宋简体", "Noto Serif CJK SC"),
        ("Times New Roman", "Noto Serif CJK SC"),
        ("黑体", "Noto Sans CJK SC"),
        ("SimHei", "Noto Sans CJK SC"),
        ("微软雅黑", "Noto Sans CJK SC"),
    ],
)
def test_fonts_conf_maps_windows_families(family: str, expected: str) -> None:
    assert shutil.which("fc-match"), "fontconfig's fc-match is part of the setup (tools/setup.sh)"
    env = dict(os.environ, FONTCONFIG_FILE=str(FONTS_CONF))
    out = subprocess.run(
        ["fc-match", "--format=%{family[0]}", family],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert out.stdout == expected
    assert "warning" not in out.stderr.lower()


def test_two_threads_convert_at_once(pool: ConverterPool, tmp_path: Path) -> None:
    start = threading.Barrier(2)
    results: dict[int, bytes] = {}
    errors: list[BaseException] = []

    def work(n: int) -> None:
        data = make_docx((f"第{n}号文件 {BODY}", "宋体"))
        start.wait()
        try:
            results[n] = pool.convert_bytes(data)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for n, pdf in results.items():
        assert pdf.startswith(b"%PDF-")
        path = tmp_path / f"{n}.pdf"
        path.write_bytes(pdf)
        text = text_of(path)
        assert f"第{n}号文件" in text
    assert sorted(results) == [1, 2]


def test_pdfa_declares_part_2_conformance_b(pool: ConverterPool, tmp_path: Path) -> None:
    data = make_docx((BODY, "宋体"))
    archived, plain = tmp_path / "a.pdf", tmp_path / "p.pdf"
    archived.write_bytes(pool.convert_bytes(data, pdfa=True))
    plain.write_bytes(pool.convert_bytes(data))
    assert pdfaid(archived) == ("2", "B")
    assert pdfaid(plain) == (None, None)
    assert all(embedded for _, embedded in fonts(archived))


def test_corrupt_docx_raises_with_command(pool: ConverterPool, tmp_path: Path) -> None:
    bad = tmp_path / "bad.docx"
    bad.write_bytes(os.urandom(4096))
    with pytest.raises(ConversionError) as info:
        pool.convert(bad, tmp_path / "bad.pdf")
    assert info.value.command and info.value.command[0].endswith("soffice")
    assert "--headless" in str(info.value)
    assert not (tmp_path / "bad.pdf").exists()
    with pytest.raises(ConversionError):
        pool.convert_bytes(b"PK\x03\x04 not really a zip")
    # The worker that refused the document is still good for the next one.
    assert pool.convert_bytes(make_docx(("仍然可用", "宋体"))).startswith(b"%PDF-")


def test_missing_input_raises(pool: ConverterPool, tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match="找不到要转换的文档"):
        pool.convert(tmp_path / "nothing.docx", tmp_path / "nothing.pdf")


@pytest.mark.slow
def test_crashed_and_hung_workers_are_replaced_then_close_kills_all(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    big = big_docx()
    with ConverterPool(workers=1, timeout=8, workdir=work) as own:
        assert own.convert_bytes(make_docx(("预热", "宋体"))).startswith(b"%PDF-")

        for sig in (signal.SIGKILL, signal.SIGSTOP):  # crash, then hang
            (victim,) = office_bin_pids(own)
            before = own.stats["retries"]
            # Frozen before the job reaches it, the office cannot finish the job before
            # the strike; SIGSTOP again leaves it hung.
            os.kill(victim, signal.SIGSTOP)
            outcome: dict[str, object] = {}

            def work_on(data: bytes = big, outcome: dict[str, object] = outcome) -> None:
                try:
                    outcome["pdf"] = own.convert_bytes(data)
                except ConversionError as exc:
                    outcome["pdf"] = exc

            converting = threading.Thread(target=work_on)
            converting.start()
            wait_for(lambda: job_staged(work), "the job in the worker's hands")
            os.kill(victim, sig)
            converting.join(timeout=60)
            assert not converting.is_alive()
            pdf = outcome["pdf"]
            assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF-")
            assert own.stats["retries"] == before + 1
            assert not alive(victim)
            assert office_bin_pids(own) and office_bin_pids(own) != [victim]

        pids = own.office_pids()
        assert pids
    own.close()  # a second close is harmless
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in pids if alive(pid)] == []
    assert own.office_pids() == []
    assert list(work.iterdir()) == []  # profiles removed
    with pytest.raises(ConversionError, match="已关闭"):
        own.convert_bytes(big)


def test_convert_once_baseline(tmp_path: Path) -> None:
    docx = tmp_path / "once.docx"
    docx.write_bytes(make_docx((BODY, "宋体")))
    pdf = convert_once(docx, tmp_path / "out")
    assert pdf == tmp_path / "out" / "once.pdf"
    assert RARE in text_of(pdf)


def test_convert_once_corrupt_raises(tmp_path: Path) -> None:
    bad = tmp_path / "bad.docx"
    bad.write_bytes(os.urandom(4096))
    with pytest.raises(ConversionError) as info:
        convert_once(bad, tmp_path / "out")
    assert "--convert-to" in info.value.command


def test_worker_is_recycled_after_recycle_after_documents() -> None:
    data = make_docx(("回收", "宋体"))
    with ConverterPool(workers=1, recycle_after=1) as own:
        own.convert_bytes(data)
        first = office_bin_pids(own)
        own.convert_bytes(data)
        assert own.stats["starts"] == 2
        assert office_bin_pids(own) != first


def test_interpreter_without_uno_raises_with_stderr() -> None:
    with ConverterPool(workers=1, uno_python=sys.executable, startup_timeout=30) as own:
        with pytest.raises(ConversionError) as info:
            own.convert_bytes(make_docx(("无桥", "宋体")))
        assert "No module named 'uno'" in info.value.stderr_tail
        assert info.value.command[0].endswith("soffice")
        assert own.office_pids() == []


def test_missing_soffice_raises() -> None:
    with (
        ConverterPool(workers=1, soffice="/nonexistent/soffice") as own,
        pytest.raises(ConversionError, match="/nonexistent/soffice"),
    ):
        own.convert_bytes(make_docx(("无", "宋体")))


def test_close_waits_for_running_and_refuses_waiting_callers(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    own = ConverterPool(workers=1, timeout=60, workdir=work)
    own.convert_bytes(make_docx(("预热", "宋体")))
    (office,) = office_bin_pids(own)
    outcome: dict[str, object] = {}

    def call(name: str, data: bytes) -> None:
        try:
            outcome[name] = own.convert_bytes(data)
        except ConversionError as exc:
            outcome[name] = exc

    running = threading.Thread(target=call, args=("running", big_docx(10)))
    waiting = threading.Thread(target=call, args=("waiting", make_docx(("等待", "宋体"))))
    closing = threading.Thread(target=own.close)
    # Frozen, the office holds the pool's only worker, busy, until the test lets it go.
    os.kill(office, signal.SIGSTOP)
    try:
        running.start()
        wait_for(lambda: job_staged(work), "the first caller's job in the worker's hands")
        waiting.start()
        wait_for(lambda: own.waiting == 1, "the second caller to wait for the busy worker")
        closing.start()
        wait_for(lambda: own.closed, "close() to begin")
        # close() waits for the conversion in progress; the second caller still waits.
        assert running.is_alive() and waiting.is_alive() and closing.is_alive()
        assert "waiting" not in outcome
    finally:
        os.kill(office, signal.SIGCONT)
        own.close()  # at once when the closing thread is there first
    for thread in (running, waiting, closing):
        thread.join(timeout=30)
    assert not running.is_alive() and not waiting.is_alive() and not closing.is_alive()
    result = outcome["running"]
    assert isinstance(result, bytes) and result.startswith(b"%PDF-")
    assert isinstance(outcome["waiting"], ConversionError)
    assert "已关闭" in str(outcome["waiting"])
    assert own.waiting == 0
    assert own.office_pids() == []


@pytest.mark.slow
def test_deadline_bounds_the_conversion_and_its_retry(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    with ConverterPool(workers=1, timeout=600, workdir=work) as own:
        with pytest.raises(ConversionError, match="限定时间"):
            own.convert_bytes(make_docx(("过期", "宋体")), deadline=time.monotonic() - 1)
        assert own.stats["starts"] == 0  # refused before any office started

        assert own.convert_bytes(make_docx(("预热", "宋体"))).startswith(b"%PDF-")
        (hung,) = office_bin_pids(own)
        os.kill(hung, signal.SIGSTOP)  # would hang for the pool's 600 s
        started = time.monotonic()
        with pytest.raises(ConversionError, match="限定时间") as info:
            own.convert_bytes(big_docx(5), deadline=started + 3)
        # Timed out at the deadline, the worker replaced, no second try with no time left.
        assert time.monotonic() - started < 3 + 10
        assert "超时" in str(info.value)
        assert own.stats["retries"] <= 1
        # SIGKILLed with its group; a stopped process of that size takes a moment to die.
        wait_for(lambda: not alive(hung), "the hung office to be gone", within=10)
        assert own.convert_bytes(make_docx(("恢复", "宋体"))).startswith(b"%PDF-")


def test_fewer_than_one_worker_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="at least 1"):
        ConverterPool(workers=0)
