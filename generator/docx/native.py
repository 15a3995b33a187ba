"""The package parts that make a DOCX a native Word 2013+ document set in Chinese.

python-docx starts every document from its default template, saved by Word 2010
for Mac in Japanese: compatibility mode 14 (Word 2013 and later open it in
兼容模式), ``docProps/app.xml`` claiming "Microsoft Macintosh Word" and one page,
a theme in Calibri/Cambria with Japanese East Asian fonts, a font table of
ＭＳ 明朝 and ＭＳ ゴシック, and one ``w14:docId`` shared by every document made
from it. The template build (``tools/build_templates.py``) replaces those parts
with the ones below; :mod:`generator.docx.render` then gives every rendered
document an id of its own (:func:`set_doc_ids`), derived from its data so that
the same data gives the same bytes on any machine.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

__all__ = [
    "APPLICATION",
    "COMPATIBILITY_MODE",
    "FONTS",
    "LATIN_FONT",
    "MAJOR_EAST_ASIA",
    "MINOR_EAST_ASIA",
    "Font",
    "app_properties",
    "app_version",
    "doc_ids",
    "font_table",
    "fonts_named",
    "set_doc_ids",
    "settings",
    "theme",
    "without_doc_ids",
]

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
_W15 = "http://schemas.microsoft.com/office/word/2012/wordml"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_APP = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
_WORD_URI = "http://schemas.microsoft.com/office/word"

#: Word 2013 and later: the documents open in Word's own layout, not in 兼容模式
COMPATIBILITY_MODE = "15"
#: the generator, as docProps/app.xml names it
APPLICATION = "contractgen"
#: Latin face of the theme, next to the Chinese ones (as the styles name it)
LATIN_FONT = "Times New Roman"
#: East Asian face of the theme's headings (major) and body (minor) fonts; fonts.conf
#: aliases both to Noto CJK for LibreOffice
MAJOR_EAST_ASIA = "黑体"
MINOR_EAST_ASIA = "宋体"
#: names the document ids of every document derive from
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://contractgen.invalid/docx")


@dataclass(frozen=True)
class Font:
    """A face as Word's font table describes it (the values Word writes for it on Windows)."""

    name: str
    alt_name: str | None
    panose: str
    charset: str
    family: str
    pitch: str
    #: w:sig: usb0, usb1, usb2, usb3, csb0, csb1
    signature: tuple[str, str, str, str, str, str]


#: the faces a document may name; the build refuses a template naming any other
FONTS = (
    Font(
        "宋体",
        "SimSun",
        "02010600030101010101",
        "86",
        "auto",
        "variable",
        ("00000003", "288F0000", "00000016", "00000000", "00040001", "00000000"),
    ),
    Font(
        "黑体",
        "SimHei",
        "02010609060101010101",
        "86",
        "modern",
        "fixed",
        ("800002BF", "38CF7CFA", "00000016", "00000000", "00040001", "00000000"),
    ),
    Font(
        LATIN_FONT,
        None,
        "02020603050405020304",
        "00",
        "roman",
        "variable",
        ("E0002EFF", "C000785B", "00000009", "00000000", "000001FF", "00000000"),
    ),
)

_FONT_ATTRIBUTES = tuple(f"{{{_W}}}{name}" for name in ("ascii", "hAnsi", "eastAsia", "cs"))
_W14_DOC_ID = re.compile(rb'(<w14:docId\s+w14:val=")[0-9A-Fa-f]*(")')
_W15_DOC_ID = re.compile(rb'(<w15:docId\s+w15:val=")[^"]*(")')


def _xml(root: etree._Element) -> bytes:
    xml: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return xml


def fonts_named(parts: Iterable[bytes]) -> set[str]:
    """Return every face the ``w:rFonts`` of some XML parts name."""
    named: set[str] = set()
    for xml in parts:
        for rfonts in etree.fromstring(xml).iter(f"{{{_W}}}rFonts"):
            named.update(v for a in _FONT_ATTRIBUTES if (v := rfonts.get(a)))
    return named


def font_table(used: set[str]) -> bytes:
    """Return word/fontTable.xml listing the faces used, in the order of :data:`FONTS`."""
    unknown = used - {font.name for font in FONTS}
    if unknown:
        raise ValueError(f"no font table entry for {sorted(unknown)}")
    root = etree.Element(f"{{{_W}}}fonts", nsmap={"w": _W})
    for font in FONTS:
        if font.name not in used:
            continue
        entry = etree.SubElement(root, f"{{{_W}}}font", {f"{{{_W}}}name": font.name})
        if font.alt_name:
            etree.SubElement(entry, f"{{{_W}}}altName", {f"{{{_W}}}val": font.alt_name})
        for tag, value in (
            ("panose1", font.panose),
            ("charset", font.charset),
            ("family", font.family),
            ("pitch", font.pitch),
        ):
            etree.SubElement(entry, f"{{{_W}}}{tag}", {f"{{{_W}}}val": value})
        names = ("usb0", "usb1", "usb2", "usb3", "csb0", "csb1")
        etree.SubElement(
            entry,
            f"{{{_W}}}sig",
            {f"{{{_W}}}{n}": v for n, v in zip(names, font.signature, strict=True)},
        )
    return _xml(root)


def theme(xml: bytes) -> bytes:
    """Return a theme whose fonts are the documents': Times New Roman with 黑体 / 宋体."""
    root = etree.fromstring(xml)
    scheme = root.find(f".//{{{_A}}}fontScheme")
    if scheme is None:
        raise ValueError("the theme has no font scheme")
    scheme.set("name", APPLICATION)
    for font in list(scheme):
        scheme.remove(font)
    for tag, east_asia in (("majorFont", MAJOR_EAST_ASIA), ("minorFont", MINOR_EAST_ASIA)):
        fonts = etree.SubElement(scheme, f"{{{_A}}}{tag}")
        etree.SubElement(fonts, f"{{{_A}}}latin", typeface=LATIN_FONT)
        etree.SubElement(fonts, f"{{{_A}}}ea", typeface=east_asia)
        etree.SubElement(fonts, f"{{{_A}}}cs", typeface=LATIN_FONT)
        etree.SubElement(fonts, f"{{{_A}}}font", script="Hans", typeface=east_asia)
    return _xml(root)


def app_version(version: str) -> str:
    """Return a version as AppVersion must be written, XX.YYYY (ECMA-376 Part 1, 22.2.2.2).

    0.1.0 becomes 00.0100: the major version, then the minor and the patch
    version in two digits each; a pre-release suffix is left out.
    """
    found = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", version)
    if found is None:
        raise ValueError(f"not a version: {version!r}")
    major, minor, patch = (int(n or 0) for n in found.groups())
    if major > 99 or minor > 99 or patch > 99:
        raise ValueError(f"{version} does not fit XX.YYYY")
    return f"{major:02d}.{minor:02d}{patch:02d}"


def app_properties(version: str) -> bytes:
    """Return docProps/app.xml naming this generator and its version, and no page count."""
    root = etree.Element(f"{{{_APP}}}Properties", nsmap={None: _APP, "vt": _VT})
    for tag, value in (
        ("Application", APPLICATION),
        ("DocSecurity", "0"),
        ("ScaleCrop", "false"),
        ("LinksUpToDate", "false"),
        ("SharedDoc", "false"),
        ("HyperlinksChanged", "false"),
        ("AppVersion", app_version(version)),
    ):
        etree.SubElement(root, f"{{{_APP}}}{tag}").text = value
    return _xml(root)


def doc_ids(name: str) -> tuple[str, str]:
    """Return the w14:docId and w15:docId of the document called ``name``.

    Both come from one name-based UUID (version 5), so a name always gets the
    same ids; the w14 one is below 0x80000000, as Word writes them.
    """
    guid = uuid.uuid5(_ID_NAMESPACE, name)
    short = int(guid.hex[:8], 16) & 0x7FFFFFFF or 1
    return f"{short:08X}", "{" + str(guid).upper() + "}"


def settings(xml: bytes, name: str) -> bytes:
    """Return word/settings.xml in Word 2013+ mode, with Chinese theme fonts and ids of ``name``."""
    old = etree.fromstring(xml)
    # A namespace cannot be added to a parsed element: move the children to a new root.
    root = etree.Element(old.tag, nsmap={**old.nsmap, "w15": _W15})
    root.attrib.update(old.attrib)
    root.set(f"{{{_MC}}}Ignorable", "w14 w15")
    root.extend(list(old))
    for setting in root.iter(f"{{{_W}}}compatSetting"):
        if setting.get(f"{{{_W}}}name") == "compatibilityMode":
            setting.set(f"{{{_W}}}val", COMPATIBILITY_MODE)
    lang = root.find(f"{{{_W}}}themeFontLang")
    if lang is None:
        raise ValueError("the settings have no themeFontLang")
    lang.attrib.clear()
    lang.set(f"{{{_W}}}val", "en-US")
    lang.set(f"{{{_W}}}eastAsia", "zh-CN")
    w14, w15 = doc_ids(name)
    # CT_Settings ends with w:listSeparator, w14:docId … w14:defaultImageDpi, then w15:docId.
    w14_id = root.find(f"{{{_W14}}}docId")
    if w14_id is None:
        after = root.find(f"{{{_W}}}listSeparator")
        w14_id = etree.Element(f"{{{_W14}}}docId")
        root.insert(list(root).index(after) + 1 if after is not None else len(root), w14_id)
    w14_id.set(f"{{{_W14}}}val", w14)
    w15_id = root.find(f"{{{_W15}}}docId")
    if w15_id is None:
        w15_id = etree.SubElement(root, f"{{{_W15}}}docId")
    w15_id.set(f"{{{_W15}}}val", w15)
    return _xml(root)


def set_doc_ids(xml: bytes, name: str) -> bytes:
    """Return settings.xml with the document ids of ``name`` in place of the ones it has."""
    w14, w15 = doc_ids(name)
    xml = _W14_DOC_ID.sub(lambda m: m.group(1) + w14.encode() + m.group(2), xml)
    return _W15_DOC_ID.sub(lambda m: m.group(1) + w15.encode() + m.group(2), xml)


def without_doc_ids(xml: bytes) -> bytes:
    """Return settings.xml with its document ids blanked, to compare two documents' settings."""
    return _W15_DOC_ID.sub(rb"\1\2", _W14_DOC_ID.sub(rb"\1\2", xml))
