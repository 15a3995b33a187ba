"""Rewrite the Type 1 font programs LibreOffice embeds: the one job no PDF library does.

LibreOffice 7.4 embeds each CJK face as Type 1 subsets of up to 256 glyphs
(``FontFile`` streams with ``/Length1`` clear text, ``/Length2`` eexec-encrypted
Private dictionary and glyphs, ``/Length3`` zeros). Two things are rewritten:

* ``/UniqueID``: LibreOffice takes it from a counter that lives as long as the
  office process (4100001, 4100002, … for the first document, higher for the
  next), written in the clear part and inside the encrypted part, and the order
  in which it numbers a document's fonts is not always the same. The IDs of a
  file are renumbered from 4100001 in the order its pages first use the fonts,
  so a PDF is the same bytes whichever worker made it, and whenever.
* glyphs: a document split from a joined set shares the set's subsets; each
  program keeps only the glyphs its own pages show (and ``.notdef``), and its
  ``/ToUnicode`` map only those codes, so no outline or text of another
  document is left in the file.

The eexec cipher (Type 1 spec, ch. 7) chains through every byte; the optional
C loop ``_eexec.c`` runs it, the Python loop gives the same bytes slower. Which
codes a page shows is read from its content streams by the optional C lexer
``_content.c``; without it pikepdf's parser gives the same codes slower.
"""

from __future__ import annotations

import functools
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

import pikepdf

try:  # the optional C loop (setup.py builds it when a compiler is there)
    from . import _eexec as _eexec_c  # type: ignore[attr-defined]
except ImportError:  # not built: the Python loop gives the same bytes
    _eexec_c = None
try:  # the optional C lexer of content streams (built beside the C loop)
    from . import _content as _content_c  # type: ignore[attr-defined]
except ImportError:  # not built: pikepdf's parser gives the same codes
    _content_c = None

__all__ = ["decrypt", "encrypt", "rewrite_fonts", "shown_codes", "to_unicode"]

#: first UniqueID LibreOffice gives a Type 1 font it makes from a CFF font
UNIQUE_ID_BASE = 4100001
_UNIQUE_ID = re.compile(rb"/UniqueID\s+(\d+)\s+def")
_EEXEC_KEY = 55665
#: a glyph of a Type 1 built-in encoding, and a charstring of LibreOffice's subsets
_ENCODING_ENTRY = re.compile(rb"dup (\d+) /(\S+) put\n")
_CHARSTRING = re.compile(rb"/(\S+) (\d+) RD ")
#: LibreOffice's ToUnicode maps: one byte codes, bfchar entries only
_BFCHAR = re.compile(rb"<([0-9A-F]{2})> <([0-9A-F]*)>\n")
_CMAP_HEAD = re.compile(rb"\A(.*?endcodespacerange\n)(.*?)(endcmap\n.*)\Z", re.S)
_BFCHAR_BLOCK = re.compile(rb"\d+ beginbfchar\n((?:<[0-9A-F]{2}> <[0-9A-F]*>\n)*)endbfchar\n")
#: the operators that show text, and those the font in use depends on
_SHOW = {"Tj", "TJ", "'", '"'}
_OPERATORS = "Tj TJ ' \" Tf q Q Do"


def shown_codes(page: pikepdf.Object) -> dict[tuple[int, int], set[int]]:
    """Return, per font dictionary (object id), the codes a page (and its forms) draws."""
    shown: dict[tuple[int, int], set[int]] = {}
    _collect(page, shown, set())
    return shown


def _collect(
    owner: pikepdf.Object, shown: dict[tuple[int, int], set[int]], seen: set[tuple[int, int]]
) -> None:
    """Add the codes drawn by a page or form (and the forms it draws) to ``shown``."""
    resources = owner.get("/Resources", pikepdf.Dictionary())
    fonts = resources.get("/Font", pikepdf.Dictionary())
    forms = resources.get("/XObject", pikepdf.Dictionary())
    if _content_c is None:
        by_name, drawn = _parsed_codes(owner)
    else:
        by_name, drawn = _content_c.shown(_content(owner))
    for name, codes in by_name.items():
        selected = fonts.get(name)
        if selected is not None:
            shown.setdefault(selected.objgen, set()).update(codes)
    for name in drawn:
        form = forms.get(name)
        if form is not None and form.get("/Subtype") == "/Form" and form.objgen not in seen:
            seen.add(form.objgen)
            _collect(form, shown, seen)


def _content(owner: pikepdf.Object) -> bytes:
    """Return the content of a page (its streams one after the other) or a form, decoded."""
    if isinstance(owner, pikepdf.Stream):
        return owner.read_bytes()
    contents = owner.get("/Contents")
    if contents is None:
        return b""
    if isinstance(contents, pikepdf.Array):
        return b"\n".join(
            part.read_bytes() for part in contents if isinstance(part, pikepdf.Stream)
        )
    return contents.read_bytes() if isinstance(contents, pikepdf.Stream) else b""


def _parsed_codes(owner: pikepdf.Object) -> tuple[dict[str, set[int]], list[str]]:
    """Return the codes shown per font name and the forms drawn, by pikepdf's parser.

    What ``_content.c`` gives, slower: the font a ``Tf`` selects is part of the
    graphics state (``q`` saves it, ``Q`` restores it).
    """
    by_name: dict[str, set[int]] = {}
    drawn: list[str] = []
    font: set[int] | None = None
    saved: list[set[int] | None] = []
    for instruction in pikepdf.parse_content_stream(owner, _OPERATORS):
        name = str(instruction.operator)
        operands = instruction.operands
        if name in _SHOW:
            operand = operands[-1] if operands else None
            if font is None or operand is None:
                continue
            if name == "TJ" and isinstance(operand, pikepdf.Array):
                font.update(b"".join(bytes(s) for s in operand if isinstance(s, pikepdf.String)))
            elif name != "TJ" and isinstance(operand, pikepdf.String):
                font.update(bytes(operand))
        elif name == "Tf":
            selected = operands[0] if operands else None
            font = (
                by_name.setdefault(str(selected), set())
                if isinstance(selected, pikepdf.Name)
                else None
            )
        elif name == "q":
            saved.append(font)
        elif name == "Q":
            font = saved.pop() if saved else None
        elif name == "Do" and operands and isinstance(operands[0], pikepdf.Name):
            drawn.append(str(operands[0]))
    return by_name, drawn


def rewrite_fonts(pdf: pikepdf.Pdf, shown: dict[tuple[int, int], set[int]]) -> None:
    """Renumber the Type 1 programs' UniqueIDs from 4100001 and prune them to shown glyphs.

    ``shown`` gives the codes drawn per font dictionary (:func:`shown_codes` of
    every page); a font drawn by no page keeps nothing but ``.notdef``.
    """
    programs: dict[tuple[int, int], tuple[pikepdf.Object, set[int], list[pikepdf.Object]]] = {}
    for font in _fonts(pdf):
        descriptor = font.get("/FontDescriptor")
        stream = None if descriptor is None else descriptor.get("/FontFile")
        if font.get("/Subtype") != "/Type1" or stream is None or "/Length2" not in stream:
            continue
        _, codes, users = programs.setdefault(stream.objgen, (stream, set(), []))
        codes.update(shown.get(font.objgen, ()))
        users.append(font)
    parsed = {key: _Program.of(stream) for key, (stream, _, _) in programs.items()}
    # Numbered in the order the pages first use them: LibreOffice's own order (by its
    # counter) is not always the same for the same document.
    numbered = [key for key, program in parsed.items() if program.unique_id is not None]
    renumber = {key: UNIQUE_ID_BASE + n for n, key in enumerate(numbered)}
    for key, (stream, codes, users) in programs.items():
        program = parsed[key]
        new_id = renumber.get(key)
        clear, secret = program.rewritten(new_id, codes)
        stream.write(clear + secret + program.trailer)
        stream.Length1, stream.Length2 = len(clear), len(secret)
        stream.Length3 = len(program.trailer)
        for font in users:
            _prune_to_unicode(font, codes)


def _fonts(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Object]:
    """Yield every font dictionary the pages (and their forms) use, each once, in page order."""
    seen: set[tuple[int, int]] = set()

    def walk(owner: pikepdf.Object) -> Iterator[pikepdf.Object]:
        resources = owner.get("/Resources", pikepdf.Dictionary())
        fonts = resources.get("/Font", pikepdf.Dictionary())
        for name in sorted(fonts.keys()):
            font = fonts[name]
            if font.objgen not in seen:
                seen.add(font.objgen)
                yield font
        forms = resources.get("/XObject", pikepdf.Dictionary())
        for name in sorted(forms.keys()):
            form = forms[name]
            if form.get("/Subtype") == "/Form" and form.objgen not in seen:
                seen.add(form.objgen)
                yield from walk(form)

    for page in pdf.pages:
        yield from walk(page.obj)


_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


class _Recent(Generic[_K, _V]):
    """The last values made, by key (thread-safe: the service finishes sets in threads)."""

    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._done: OrderedDict[_K, _V] = OrderedDict()
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every value (benchmarks measure a set as a batch meets it: new)."""
        with self._lock:
            self._done.clear()

    def get(self, key: _K, make: Callable[[], _V]) -> _V:
        """Return the value of ``key``, made by ``make`` when it is not among the last ones."""
        with self._lock:
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key]
        value = make()
        with self._lock:
            self._done[key] = value
            while len(self._done) > self._size:
                self._done.popitem(last=False)
        return value


@dataclass(frozen=True)
class _Program:
    """A Type 1 program: clear part, decrypted Private part split at its glyphs, trailer.

    The clear part is kept cut at its encoding's entries (``None`` between them),
    each entry with its glyph name, to be joined again with only some of them.
    """

    clear: tuple[tuple[bytes | None, bytes], ...]
    encoding: dict[int, bytes]
    head: bytes
    glyphs: tuple[tuple[bytes, bytes], ...]
    tail: bytes
    trailer: bytes
    unique_id: int | None

    @classmethod
    def of(cls, stream: pikepdf.Object) -> _Program:
        """Return the program of a ``FontFile`` stream (parsed once for the same stream data)."""
        key = (
            stream.read_raw_bytes(),
            repr(stream.get("/Filter")),
            repr(stream.get("/DecodeParms")),
            int(stream.Length1),
            int(stream.Length2),
        )
        return _programs.get(key, functools.partial(_read_program, stream))

    def rewritten(self, unique_id: int | None, codes: Iterable[int]) -> tuple[bytes, bytes]:
        """Return the clear and encrypted parts with a new UniqueID and the glyphs of ``codes``."""
        encoding = self.encoding
        # None: the clear part between the encoding's entries, always kept
        kept = {None, b".notdef", *(encoding[code] for code in codes if code in encoding)}
        clear = b"".join([part for name, part in self.clear if name in kept])
        head = self.head
        if unique_id is not None:
            replacement = b"/UniqueID %d def" % unique_id
            clear = _UNIQUE_ID.sub(replacement, clear, count=1)
            head = _UNIQUE_ID.sub(replacement, head, count=1)
        body = b"".join([entry for name, entry in self.glyphs if name in kept])
        return clear, encrypt(head + body + self.tail)


def _read_program(stream: pikepdf.Object) -> _Program:
    data = stream.read_bytes()
    clear_len, secret_len = int(stream.Length1), int(stream.Length2)
    return _parse(
        data[:clear_len], data[clear_len : clear_len + secret_len], data[clear_len + secret_len :]
    )


#: the programs read lately: the documents of a set and its bundle share their programs
_programs: _Recent[tuple[object, ...], _Program] = _Recent()


def _parse(clear: bytes, secret: bytes, trailer: bytes) -> _Program:
    """Return a program's parts.

    Raise ValueError for a layout other than LibreOffice's binary eexec with
    ``/name len RD … ND`` charstrings.
    """
    if len(secret) < 4 or all(chr(b) in "0123456789abcdefABCDEF" for b in secret[:4]):
        raise ValueError("a Type 1 program with a hexadecimal eexec part")
    plain = decrypt(secret)
    begin = plain.find(b"/CharStrings")
    begin = plain.find(b"begin\n", begin) + len(b"begin\n") if begin >= 0 else -1
    if begin <= 0:
        raise ValueError("a Type 1 program without /CharStrings")
    if _eexec_c is not None and hasattr(_eexec_c, "charstrings"):
        glyphs, at = _eexec_c.charstrings(plain, begin)
    else:
        glyphs, at = _charstrings(plain, begin)
    found = _UNIQUE_ID.search(clear)
    unique_id = int(found.group(1)) if found else None
    parts: list[tuple[bytes | None, bytes]] = []
    encoding: dict[int, bytes] = {}
    last = 0
    for entry in _ENCODING_ENTRY.finditer(clear):
        parts += [(None, clear[last : entry.start()]), (entry.group(2), entry.group(0))]
        encoding[int(entry.group(1))] = entry.group(2)
        last = entry.end()
    parts.append((None, clear[last:]))
    return _Program(
        tuple(parts), encoding, plain[:begin], tuple(glyphs), plain[at:], trailer, unique_id
    )


def _charstrings(plain: bytes, at: int) -> tuple[list[tuple[bytes, bytes]], int]:
    """Return the charstrings from ``at`` to ``end end``, each (name, entry), and their end.

    What ``_eexec.c``'s ``charstrings`` gives, slower.
    """
    glyphs = []
    while not plain.startswith(b"end end", at):
        entry = _CHARSTRING.match(plain, at)
        end = -1 if entry is None else entry.end() + int(entry.group(2))
        if entry is None or plain[end : end + 4] != b" ND\n":
            raise ValueError(f"a Type 1 charstring not written as LibreOffice does, at {at}")
        glyphs.append((entry.group(1), plain[at : end + 4]))
        at = end + 4
    return glyphs, at


@dataclass(frozen=True)
class _CMap:
    """A ToUnicode map as LibreOffice writes it: what comes before its entries, them, the end."""

    head: bytes
    #: each entry: its code, and its code and text as written (hexadecimal)
    entries: tuple[tuple[int, tuple[bytes, bytes]], ...]
    end: bytes


def _read_cmap(cmap: bytes) -> _CMap | None:
    parts = _CMAP_HEAD.match(cmap)
    if parts is None or _BFCHAR_BLOCK.sub(b"", parts.group(2)).strip():
        return None
    entries = tuple((int(code, 16), (code, text)) for code, text in _BFCHAR.findall(parts.group(2)))
    return _CMap(parts.group(1), entries, parts.group(3))


#: the ToUnicode maps read lately (the documents of a set and its bundle share them)
_cmaps: _Recent[bytes, _CMap | None] = _Recent()


def to_unicode(font: pikepdf.Object) -> dict[int, str] | None:
    """Return a font's ToUnicode map, code to text, or None when it has none of LibreOffice's form.

    The map of one-byte codes in ``bfchar`` entries that LibreOffice writes;
    any other (ranges, two-byte codes) or none at all gives None.
    """
    stream = font.get("/ToUnicode")
    if not isinstance(stream, pikepdf.Stream):
        return None
    data = stream.read_bytes()
    cmap = _cmaps.get(data, functools.partial(_read_cmap, data))
    if cmap is None:
        return None
    try:
        return {
            code: bytes.fromhex(text.decode()).decode("utf-16-be")
            for code, (_, text) in cmap.entries
        }
    except ValueError:  # not UTF-16
        return None


def _prune_to_unicode(font: pikepdf.Object, codes: set[int]) -> None:
    """Keep only the entries of ``codes`` in a font's ToUnicode map (LibreOffice's form)."""
    stream = font.get("/ToUnicode")
    if stream is None:
        return
    data = stream.read_bytes()
    cmap = _cmaps.get(data, functools.partial(_read_cmap, data))
    if cmap is None:
        raise ValueError("a ToUnicode map not written as LibreOffice does")
    entries = [entry for code, entry in cmap.entries if code in codes]
    blocks = []
    for start in range(0, len(entries), 100):  # at most 100 entries a block (PDF 9.10.3)
        chunk = entries[start : start + 100]
        lines = b"".join(b"<%s> <%s>\n" % entry for entry in chunk)
        blocks.append(b"%d beginbfchar\n%sendbfchar\n" % (len(chunk), lines))
    stream.write(cmap.head + b"".join(blocks) + cmap.end)


@functools.cache
def _step() -> list[int]:
    """Return the eexec key step ``r' = (c + r) * 52845 + 22719`` indexed by ``c + r``."""
    return [(s * 52845 + 22719) & 0xFFFF for s in range(0x10000 + 0x100)]


def decrypt(cipher: bytes) -> bytes:
    """Return the plaintext of an eexec-encrypted section."""
    if _eexec_c is not None:
        return cast(bytes, _eexec_c.crypt(cipher, True))
    step, r, out = _step(), _EEXEC_KEY, bytearray()
    for c in cipher:
        out.append(c ^ (r >> 8))
        r = step[c + r]
    return bytes(out)


def encrypt(plain: bytes) -> bytes:
    """Return ``plain`` eexec-encrypted (its first four bytes are the cipher's seed)."""
    if _eexec_c is not None:
        return cast(bytes, _eexec_c.crypt(plain, False))
    step, r, out = _step(), _EEXEC_KEY, bytearray()
    for p in plain:
        c = p ^ (r >> 8)
        out.append(c)
        r = step[c + r]
    return bytes(out)
