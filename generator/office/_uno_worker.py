# mypy: ignore-errors
"""Bridge one running LibreOffice to generator/office/worker.py over UNO.

Run by Debian's ``/usr/bin/python3`` (the only interpreter with ``python3-uno``),
never imported by the package::

    /usr/bin/python3 generator/office/_uno_worker.py PIPE_NAME [CONNECT_TIMEOUT_S]

It connects to ``soffice --accept="pipe,name=PIPE_NAME;urp;..."``, turns off what
the office does for a user typing (:func:`quiet`), prints ``{"ready": true,
"settings": {...}}`` (those settings as read back), then reads one JSON job per
line on stdin, ``{"in": path, "out": path, "pdfa": bool, "filter": import filter
name or null}``, and answers
one JSON line per job: ``{"ok": true}`` (with ``"pages"`` for a joined set,
below) or ``{"ok": false, "fatal": bool, "error": str}``. ``fatal``
means the office is gone or unusable and this process is about to exit; a
non-fatal error is a document LibreOffice could not load or export. End of
stdin or ``{"quit": true}`` terminates the office and exits.

A job with ``"sections": [{"start": bookmark, "end": bookmark, "total": text}, …]``
is a set of documents joined into one file (``generator/docx/join.py``). Once the
layout is done, each section's page count is the page of its end bookmark less
the page of its start bookmark, plus one; the section's ``total`` placeholder
(its 共 Y 页) is replaced by that count before the export, which skips the
blank pages LibreOffice inserts to start a section on a right-hand page. The
answer carries the counts: ``{"ok": true, "pages": [13, 12, 4, 1]}``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sys
import time

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException
from com.sun.star.container import NoSuchElementException
from com.sun.star.io import IOException
from com.sun.star.lang import DisposedException, IllegalArgumentException
from com.sun.star.uno import RuntimeException
from com.sun.star.util import CloseVetoException

#: where Writer keeps whether it collects words for completion, and its window states
COMPLETION = "/org.openoffice.Office.Writer/AutoFunction/Completion"
WINDOW_STATES = "/org.openoffice.Office.UI.WriterWindowState/UIElements/States"
STATUS_BAR = "private:resource/statusbar/statusbar"


class DocumentError(Exception):
    """A document LibreOffice refused to load or export."""


def props(**values):
    """Return UNO PropertyValues for keyword arguments."""
    out = []
    for name, value in values.items():
        prop = PropertyValue()
        prop.Name = name
        prop.Value = value
        out.append(prop)
    return tuple(out)


def connect(pipe, timeout):
    """Return the office's component context, retrying until it listens."""
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    url = f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext"
    deadline = time.monotonic() + timeout
    while True:
        try:
            return resolver.resolve(url)
        except NoConnectException:
            # soffice creates the pipe only once its start-up is done (~1 s).
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def convert(desktop, job):
    """Load job["in"] hidden, export it as PDF to job["out"], close it; return the answer."""
    source = os.path.abspath(job["in"])
    target = os.path.abspath(job["out"])
    load = {
        "Hidden": True,
        # Read-only: no .~lock file next to the caller's document.
        "ReadOnly": True,
        # Never run macros or refresh external links from a generated document.
        "MacroExecutionMode": 0,
        "UpdateDocMode": 0,
    }
    if job.get("filter"):
        load["FilterName"] = job["filter"]
    try:
        doc = desktop.loadComponentFromURL(
            uno.systemPathToFileUrl(source), "_blank", 0, props(**load)
        )
    except (IllegalArgumentException, IOException) as exc:
        raise DocumentError(f"无法打开：{exc.Message or type(exc).__name__}") from exc
    if doc is None:
        raise DocumentError("无法打开：LibreOffice 未返回文档")
    answer = {"ok": True}
    # Locked, the document gets no idle work between our calls: Writer's idle word
    # count for its statistics (about 6% of the office's CPU for a joined set) waits,
    # and the layout is done when refresh() or the export asks for it.
    doc.lockControllers()
    try:
        if job.get("hanging_off") and hanging_off(doc):
            answer["punctuation"] = "imported"
        else:
            keep_punctuation(doc)
            answer["punctuation"] = "set"
        sections = job.get("sections")
        marks = section_marks(doc, sections) if sections else []
        if sections:
            answer["pages"] = count_pages(doc, sections, marks)
        filter_data = props(
            EmbedStandardFonts=True,
            SelectPdfVersion=2 if job.get("pdfa") else 0,
            # The PDF stage copies pages into new files; a structure tree would describe
            # pages that are not there, so none is made.
            UseTaggedPDF=False,
            ExportBookmarks=True,
            IsSkipEmptyPages=bool(sections),
        )
        export = props(
            FilterName="writer_pdf_Export",
            FilterData=uno.Any("[]com.sun.star.beans.PropertyValue", filter_data),
            Overwrite=True,
        )
        # Unlocked for the export: locked, it leaves the bookmarks out.
        doc.unlockControllers()
        try:
            uno.invoke(doc, "storeToURL", (uno.systemPathToFileUrl(target), export))
        except (IllegalArgumentException, IOException) as exc:
            msg = exc.Message or type(exc).__name__
            raise DocumentError(f"无法导出为 PDF：{msg}") from exc
        if sections:
            # The export lays out every page: the sections must not have moved since
            # they were measured (seen once in a thousand sets, with all pages laid out
            # later than refresh() promised).
            spans, _ = section_pages(doc, marks)
            if [final - first + 1 for first, final in spans] != answer["pages"]:
                raise DocumentError(f"导出时各部分的页码有变：{spans}")
    finally:
        close(doc)
    return answer


def keep_punctuation(doc):
    """Turn hanging punctuation off before the document is laid out.

    LibreOffice 7.4 hangs a full-width comma, stop or bracket (，、。；：）」) that
    follows an exactly full justified CJK line into the margin, and its PDF export
    then neither draws that character nor puts it in the text layer. Without hanging
    the line ends one character earlier (the punctuation may not start a line), still
    justified. The DOCX import cannot be asked for this: it reads w:overflowPunct
    inverted (``val="0"`` turns hanging on). So the property is set in the document
    defaults and the default paragraph style, which the other styles inherit (headers
    and footers too), and over the body text, for any style or paragraph of the DOCX
    that sets it itself.
    """
    doc.createInstance("com.sun.star.text.Defaults").setPropertyValue(
        "ParaIsHangingPunctuation", False
    )
    styles = doc.getStyleFamilies().getByName("ParagraphStyles")
    if styles.hasByName("Standard"):
        styles.getByName("Standard").setPropertyValue("ParaIsHangingPunctuation", False)
    body = doc.getText().createTextCursor()
    body.gotoStart(False)
    body.gotoEnd(True)
    body.setPropertyValue("ParaIsHangingPunctuation", False)


def hanging_off(doc):
    """Tell whether the default paragraph style came in with hanging punctuation off.

    A joined set asks for it in its document defaults (``generator/docx/join.py``), so
    that the layout done at loading is the final one: setting it afterwards, as
    :func:`keep_punctuation` does, lays out every page again. Should the import not
    have honoured it, the caller sets it as for any other document.
    """
    styles = doc.getStyleFamilies().getByName("ParagraphStyles")
    if not styles.hasByName("Standard"):
        return False
    return not styles.getByName("Standard").getPropertyValue("ParaIsHangingPunctuation")


def count_pages(doc, sections, marks):
    """Return each section's page count and write it over the section's placeholder."""
    seen = None
    for _ in range(4):
        # The whole layout first: after loading, LibreOffice formats the rest of a
        # document in idle time, and pages asked for before it is done come out wrong.
        # Even after refresh() the pages may still be those of a layout being redone
        # (19 pages for the seed's 31, once in a hundred sets on a loaded machine), so
        # they count only when a second look after another refresh() gives the same.
        doc.refresh()
        spans, last = section_pages(doc, marks)
        if consistent(spans, last) and (spans, last) == seen:
            break
        seen = (spans, last)
    else:
        raise DocumentError(f"各部分的页码不一致：{spans}，末页 {last}")
    counts = [final - first + 1 for first, final in spans]
    search = doc.createReplaceDescriptor()
    for section, count in zip(sections, counts, strict=True):
        search.SearchString = section["total"]
        search.ReplaceString = str(count)
        doc.replaceAll(search)
    return counts


def section_marks(doc, sections):
    """Return the text range of each section's start and end mark, in that order."""
    bookmarks = doc.getBookmarks()
    marks = []
    for section in sections:
        for name in (section["start"], section["end"]):
            try:
                marks.append(bookmarks.getByName(name).getAnchor())
            except NoSuchElementException:
                raise DocumentError(f"找不到分节书签 {name}") from None
    return marks


def section_pages(doc, marks):
    """Return the first and last page of each section, and the document's last page.

    ``marks`` are :func:`section_marks`, asked for once: each object the office hands
    over costs the bridge about a millisecond of CPU (its interfaces described), a
    call on it a fifth of that.
    """
    cursor = doc.getCurrentController().getViewCursor()
    pages = []
    for mark in marks:
        cursor.gotoRange(mark, False)
        pages.append(cursor.getPage())
    cursor.jumpToLastPage()
    return [pages[n : n + 2] for n in range(0, len(pages), 2)], cursor.getPage()


def consistent(spans, last):
    """Tell whether section pages can be right: in order from page 1 to the last page.

    Between two sections there may be one blank page, which LibreOffice inserts
    to start a section on a right-hand page (and the export leaves out). Seen
    about once in a thousand sets: the first section's start read as the page of
    its end, which only a second look gets right.
    """
    if not spans or spans[0][0] != 1 or spans[-1][1] != last:
        return False
    if any(first > final for first, final in spans):
        return False
    return all(1 <= after[0] - before[1] <= 2 for before, after in itertools.pairwise(spans))


def quiet(ctx):
    """Turn off what the office does for a user typing; return the settings as read back.

    Writer collects the words it lays out for completion (about 7% of its CPU for
    a joined set) and its status bar counts the document's words at loading (about
    6%); a converting office types nothing and shows no status bar. Kept in its
    private profile, which dies with it.
    """
    provider = ctx.ServiceManager.createInstanceWithContext(
        "com.sun.star.configuration.ConfigurationProvider", ctx
    )

    def node(path, update=True):
        service = "ConfigurationUpdateAccess" if update else "ConfigurationAccess"
        return provider.createInstanceWithArguments(
            f"com.sun.star.configuration.{service}", props(nodepath=path)
        )

    completion = node(COMPLETION)
    completion.setPropertyValue("CollectWords", False)
    completion.commitChanges()
    states = node(WINDOW_STATES)
    if not states.hasByName(STATUS_BAR):
        states.insertByName(STATUS_BAR, states.createInstance())
    states.getByName(STATUS_BAR).setPropertyValue("Visible", False)
    states.commitChanges()
    return {
        "collect_words": node(COMPLETION, False).getPropertyValue("CollectWords"),
        "status_bar": node(WINDOW_STATES, False).getByName(STATUS_BAR).getPropertyValue("Visible"),
    }


def close(doc):
    """Close a document, falling back to dispose when close is vetoed or fails."""
    try:
        doc.close(True)
    except DisposedException:
        raise  # the office is gone: nothing to dispose
    except (CloseVetoException, RuntimeException):
        doc.dispose()


def main(argv):
    """Serve conversion jobs until stdin ends; return the exit status."""
    pipe = argv[1]
    timeout = float(argv[2]) if len(argv) > 2 else 60.0
    # Keep the protocol on a private copy of stdout and point fd 1 at stderr:
    # anything the UNO runtime prints must not be mistaken for an answer.
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)

    def answer(**fields):
        answers.write(json.dumps(fields, ensure_ascii=False) + "\n")
        answers.flush()

    try:
        ctx = connect(pipe, timeout)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    except Exception as exc:
        answer(ready=False, error=f"无法连接 LibreOffice：{type(exc).__name__}: {exc}")
        return 2
    try:
        settings = quiet(ctx)
    except Exception as exc:
        answer(ready=False, error=f"无法设置 LibreOffice：{type(exc).__name__}: {exc}")
        return 2
    answer(ready=True, settings=settings)

    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        if job.get("quit"):
            break
        try:
            result = convert(desktop, job)
        except DocumentError as exc:
            try:
                desktop.getCurrentComponent()  # still talking to a live office?
            except RuntimeException:  # DisposedException among them
                answer(ok=False, fatal=True, error=str(exc) + "（LibreOffice 已退出）")
                return 3
            answer(ok=False, fatal=False, error=str(exc))
        except Exception as exc:
            answer(ok=False, fatal=True, error=f"{type(exc).__name__}: {exc}")
            return 3
        else:
            answer(**result)

    # An office that is already gone, or goes before it answers (DisposedException), is
    # fine: the pool kills the process group anyway.
    with contextlib.suppress(RuntimeException):
        desktop.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
