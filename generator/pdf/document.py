"""Make finished PDFs from LibreOffice's: pages copied by pikepdf into new files.

Every output is a new file that receives copies of some pages of one or more
LibreOffice PDFs (:func:`assemble`). qpdf copies what the pages use (contents,
resources, fonts), never another page or the page tree they came from, and
writes only objects reachable from the new catalog: a document split from a
joined set holds its own pages and nothing else. Then:

* the outline is rebuilt from the bookmarks that point into the copied pages;
  annotations pointing at pages not copied are dropped;
* the Type 1 fonts are renumbered and pruned to the glyphs the pages show
  (:mod:`generator.pdf.type1`);
* the document information is replaced (Title, Subject = contract number,
  Author, Creator ``contractgen``, LibreOffice's Producer, CreationDate =
  ModDate = the signing instant), the catalog gets ``/Lang``; a PDF/A source
  passes on its output intent (its ICC profile dated with the signing date,
  since LibreOffice stamps it with the wall clock) and its XMP, whose
  properties that mirror the information dictionary are brought into line;
* the file is written with a trailer ``/ID`` computed from its content, so the
  same pages give the same bytes.

The structure tree of a tagged source is not carried over (it would describe
pages that are not there); LibreOffice exports untagged PDFs for that reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import struct
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pikepdf

from .type1 import rewrite_fonts, shown_codes, to_unicode

__all__ = ["CREATOR", "Meta", "Pages", "Source", "assemble", "open_pdf", "page_count", "save"]

#: the /Creator of every finished PDF (the XMP ``xmp:CreatorTool``)
CREATOR = "contractgen"


@dataclass(frozen=True)
class Meta:
    """The document information a finished PDF carries."""

    title: str
    subject: str
    author: str
    #: when the document counts as made: the signing instant (timezone-aware)
    moment: dt.datetime
    language: str = "zh-CN"

    @property
    def pdf_date(self) -> str:
        """Return the moment as a PDF date string, ``D:YYYYMMDDHHmmSS+08'00'``."""
        offset = self.moment.utcoffset() or dt.timedelta()
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        hours, rest = divmod(abs(minutes), 60)
        return self.moment.strftime("D:%Y%m%d%H%M%S") + f"{sign}{hours:02d}'{rest:02d}'"


@dataclass(frozen=True)
class _Mark:
    """A bookmark of a source: its title, the page it points at, the rest of its destination."""

    title: str
    #: the page's object id in the source, or None for a destination elsewhere
    page: tuple[int, int] | None
    view: tuple[pikepdf.Object, ...]
    children: tuple[_Mark, ...]

    @classmethod
    def of(cls, item: pikepdf.OutlineItem) -> _Mark:
        """Return the bookmark of one of pikepdf's outline items (and those beneath it)."""
        destination = item.destination
        page: tuple[int, int] | None = None
        view: tuple[pikepdf.Object, ...] = ()
        if isinstance(destination, pikepdf.Array) and len(destination) > 0:
            page = getattr(destination[0], "objgen", None)
            view = tuple(destination[i] for i in range(1, len(destination)))
        return cls(item.title, page, view, tuple(cls.of(child) for child in item.children))


@dataclass
class _Item:
    """A bookmark of a new file: its title, destination array and the bookmarks beneath."""

    title: str
    destination: pikepdf.Array
    children: list[_Item]


class Source:
    """A PDF from LibreOffice, opened once for all the documents made of its pages."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pdf = open_pdf(data)
        self._codes: dict[int, dict[tuple[int, int], set[int]]] = {}
        self._marks: tuple[_Mark, ...] | None = None
        self._maps: dict[tuple[int, int], dict[int, str] | None] = {}
        self._chars: dict[int, frozenset[str] | None] = {}

    def chars(self, index: int) -> frozenset[str] | None:
        """Return every character page ``index`` can give a reader, or None when unknown.

        The text of the codes it draws by its fonts' ToUnicode maps, each also in
        its compatibility form (NFKC: a ligature as its letters). None when a
        font has no such map or a code no entry: what a reader makes of those is
        not known here. Computed once per page.
        """
        if index not in self._chars:
            self._chars[index] = self._page_chars(index)
        return self._chars[index]

    def _page_chars(self, index: int) -> frozenset[str] | None:
        texts = []
        for font, codes in self.codes(index).items():
            if font not in self._maps:
                mapping = to_unicode(self.pdf.get_object(font))
                self._maps[font] = (
                    None
                    if mapping is None
                    else {
                        code: text + unicodedata.normalize("NFKC", text)
                        for code, text in mapping.items()
                    }
                )
            known = self._maps[font]
            if known is None or not codes <= known.keys():
                return None
            texts += [known[code] for code in codes]
        return frozenset("".join(texts))

    def marks(self) -> tuple[_Mark, ...]:
        """Return the source's bookmarks (read once; the source is left as it is)."""
        if self._marks is None:
            self._marks = tuple(_Mark.of(item) for item in self.pdf.open_outline().root)
        return self._marks

    def codes(self, index: int) -> dict[tuple[int, int], set[int]]:
        """Return the codes page ``index`` draws, per font dictionary (computed once)."""
        if index not in self._codes:
            self._codes[index] = shown_codes(self.pdf.pages[index].obj)
        return self._codes[index]

    def close(self) -> None:
        """Release the file."""
        self.pdf.close()


@dataclass(frozen=True)
class Pages:
    """A run of pages of a source: ``count`` pages from index ``first``."""

    source: Source
    first: int
    count: int

    @property
    def indexes(self) -> range:
        """Return the 0-based indexes of the pages."""
        return range(self.first, self.first + self.count)


def open_pdf(data: bytes) -> pikepdf.Pdf:
    """Open a PDF held in memory."""
    return pikepdf.open(io.BytesIO(data))


def page_count(data: bytes) -> int:
    """Return the number of pages of a PDF."""
    with open_pdf(data) as pdf:
        return len(pdf.pages)


def assemble(
    runs: Sequence[Pages],
    meta: Meta,
    *,
    top_titles: Sequence[str] | None = None,
    edit: Callable[[pikepdf.Pdf], None] | None = None,
) -> bytes:
    """Return a new PDF of the pages of ``runs``, in order, finished (see the module docstring).

    ``top_titles``, one per run, makes the outline one top-level bookmark per
    run with that run's bookmarks beneath (a run whose bookmarks are already
    one item of that title keeps it as it is). ``edit`` is called with the new
    document before it is written (seal fields are added so).
    """
    if not runs:
        raise ValueError("a PDF needs at least one page")
    first = runs[0].source.pdf
    out = pikepdf.new()
    targets: dict[tuple[int, int], pikepdf.Page] = {}
    shown: dict[tuple[int, int], set[int]] = {}
    for run in runs:
        source = run.source.pdf
        for index in run.indexes:
            out.pages.append(source.pages[index])
            copy = out.pages[-1]
            targets[source.pages[index].obj.objgen] = copy
            if "/StructParents" in copy.obj:
                del copy.obj.StructParents
            drawn = set()
            for font, codes in run.source.codes(index).items():
                # copy_foreign hands back the copy the page brought along
                mine = out.copy_foreign(source.get_object(font))
                shown.setdefault(mine.objgen, set()).update(codes)
                drawn.add(mine.objgen)
            _own_fonts(copy, drawn)
    for run in runs:
        _drop_foreign_links(out, run, targets)
    _write_outline(out, _bookmarks(runs, targets, top_titles))
    rewrite_fonts(out, shown)
    _catalog(out, first, meta)
    if edit is not None:
        edit(out)
    return save(out, version=first.pdf_version)


def _bookmarks(
    runs: Sequence[Pages],
    targets: dict[tuple[int, int], pikepdf.Page],
    top_titles: Sequence[str] | None,
) -> list[_Item]:
    """Return the new file's top-level bookmarks (see :func:`assemble`)."""
    items = [_outline(run, targets) for run in runs]
    if top_titles is None:
        return [item for run_items in items for item in run_items]
    tops = []
    for run, run_items, title in zip(runs, items, top_titles, strict=True):
        if len(run_items) == 1 and run_items[0].title == title:
            tops.append(run_items[0])
            continue
        first_page = targets[run.source.pdf.pages[run.first].obj.objgen]
        tops.append(_Item(title, pikepdf.Array([first_page.obj, pikepdf.Name.Fit]), run_items))
    return tops


def _write_outline(out: pikepdf.Pdf, items: list[_Item]) -> None:
    """Give the new file its outline: every bookmark open, ``/Count`` of each all beneath it.

    The same objects as pikepdf's own outline writer makes of the same items (an
    empty outline is an ``/Outlines`` dictionary without ``/Count``), written
    directly.
    """
    outlines = out.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Outlines))
    out.Root.Outlines = outlines
    _write_level(out, outlines, items)
    if not items:
        del outlines.Count


def _write_level(out: pikepdf.Pdf, parent: pikepdf.Object, items: list[_Item]) -> int:
    """Write the bookmarks beneath ``parent``; set its /First, /Last, /Count; return the count."""
    count = 0
    first = previous = None
    for item in items:
        obj = out.make_indirect(
            pikepdf.Dictionary(
                Title=pikepdf.String(item.title), Dest=item.destination, Parent=parent
            )
        )
        if previous is None:
            first = obj
        else:
            previous.Next = obj
            obj.Prev = previous
        previous = obj
        count += 1 + _write_level(out, obj, item.children)
    if first is not None:
        parent.First, parent.Last = first, previous
    parent.Count = count
    return count


def _own_fonts(page: pikepdf.Page, drawn: set[tuple[int, int]]) -> None:
    """Give a page resources that name only the fonts it draws with.

    LibreOffice gives every page one resource dictionary naming all the fonts
    of the file: a page copied alone would carry every other font with it.
    """
    resources = page.obj.get("/Resources")
    if resources is None or "/Font" not in resources:
        return
    own = pikepdf.Dictionary({key: resources[key] for key in resources.keys()})  # noqa: SIM118
    own.Font = pikepdf.Dictionary(
        {name: font for name, font in resources.Font.items() if font.objgen in drawn}
    )
    page.obj.Resources = own


def _outline(run: Pages, targets: dict[tuple[int, int], pikepdf.Page]) -> list[_Item]:
    """Return the source's bookmarks that point into the run's pages, rebuilt for the copy."""
    source = run.source.pdf
    wanted = {source.pages[index].obj.objgen for index in run.indexes}

    def rebuilt(marks: Sequence[_Mark]) -> list[_Item]:
        out = []
        for mark in marks:
            children = rebuilt(mark.children)
            if mark.page is not None and mark.page in wanted:
                destination = pikepdf.Array([targets[mark.page].obj, *mark.view])
                out.append(_Item(mark.title, destination, children))
            else:
                out.extend(children)  # an item elsewhere: its children that are here move up
        return out

    return rebuilt(run.source.marks())


def _drop_foreign_links(
    out: pikepdf.Pdf, run: Pages, targets: dict[tuple[int, int], pikepdf.Page]
) -> None:
    """Remove annotations of the copied pages that point at a page not in the new file."""
    for index in run.indexes:
        page = targets[run.source.pdf.pages[index].obj.objgen]
        annotations = page.obj.get("/Annots")
        if annotations is None:
            continue
        kept = [a for a in annotations if _in_file(a, out)]
        if len(kept) != len(annotations):
            page.obj.Annots = out.make_indirect(pikepdf.Array(kept))


def _in_file(annotation: pikepdf.Object, out: pikepdf.Pdf) -> bool:
    """Tell whether an annotation's destination, if any, is a page of ``out``."""
    destination = annotation.get("/Dest")
    action = annotation.get("/A")
    if destination is None and action is not None:
        destination = action.get("/D")
    if not isinstance(destination, pikepdf.Array) or len(destination) == 0:
        return True
    page = destination[0]
    return not isinstance(page, pikepdf.Dictionary) or any(
        p.obj.objgen == page.objgen for p in out.pages
    )


def _catalog(out: pikepdf.Pdf, source: pikepdf.Pdf, meta: Meta) -> None:
    """Set the document information, /Lang, and a PDF/A source's output intent and XMP."""
    old = source.trailer.get("/Info", pikepdf.Dictionary())
    producer = str(old.get("/Producer", "")) or "contractgen"
    info = {
        "/Title": meta.title,
        "/Subject": meta.subject,
        "/Author": meta.author,
        "/Creator": CREATOR,
        "/Producer": producer,
        "/CreationDate": meta.pdf_date,
        "/ModDate": meta.pdf_date,
    }
    out.trailer.Info = out.make_indirect(
        pikepdf.Dictionary({key: pikepdf.String(value) for key, value in info.items()})
    )
    out.Root.Lang = pikepdf.String(meta.language)
    if "/ViewerPreferences" in source.Root:
        out.Root.ViewerPreferences = _copied(out, source, source.Root.ViewerPreferences)
    if "/OutputIntents" in source.Root:
        intents = _copied(out, source, source.Root.OutputIntents)
        for intent in intents:
            profile = intent.get("/DestOutputProfile")
            if profile is not None:
                profile.write(icc_dated(profile.read_bytes(), meta.moment.date()))
        out.Root.OutputIntents = intents
    if "/Metadata" in source.Root:
        out.Root.Metadata = _copied(out, source, source.Root.Metadata)
        with out.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:
            xmp["dc:title"] = meta.title
            xmp["dc:creator"] = [meta.author]
            xmp["dc:description"] = meta.subject
            xmp["pdf:Producer"] = producer
            xmp["xmp:CreatorTool"] = CREATOR
            xmp["xmp:CreateDate"] = meta.moment.isoformat()
            xmp["xmp:ModifyDate"] = meta.moment.isoformat()
            if "xmp:MetadataDate" in xmp:
                del xmp["xmp:MetadataDate"]  # some producers write the wall clock there


def _copied(out: pikepdf.Pdf, source: pikepdf.Pdf, obj: pikepdf.Object) -> pikepdf.Object:
    """Return a copy in ``out`` of an object of ``source``, direct or not."""
    return out.copy_foreign(obj if obj.is_indirect else source.make_indirect(obj))


def icc_dated(profile: bytes, date: dt.date) -> bytes:
    """Return an ICC profile with the given creation date (midnight).

    LibreOffice makes the sRGB profile of PDF/A's output intent at export
    time, so its header carries the wall clock to the second. A version 4
    profile's ID (an MD5 of the profile with the flags, the rendering intent
    and the ID zeroed) is computed again.
    """
    if len(profile) < 128 or profile[36:40] != b"acsp":
        return profile
    out = bytearray(profile)
    out[24:36] = struct.pack(">6H", date.year, date.month, date.day, 0, 0, 0)
    if any(out[84:100]):
        unsigned = bytearray(out)
        unsigned[44:48] = unsigned[64:68] = bytes(4)
        unsigned[84:100] = bytes(16)
        out[84:100] = hashlib.md5(unsigned, usedforsecurity=False).digest()
    return bytes(out)


def save(pdf: pikepdf.Pdf, *, version: str = "") -> bytes:
    """Return the document's bytes: reachable objects only, an /ID from the content."""
    buffer = io.BytesIO()
    pdf.save(
        buffer,
        min_version=version,
        deterministic_id=True,
        object_stream_mode=pikepdf.ObjectStreamMode.disable,
        # The XMP's pdf:PDFVersion is LibreOffice's business, not qpdf's.
        fix_metadata_version=False,
    )
    return buffer.getvalue()
