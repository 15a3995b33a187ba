"""Render the .docx templates: the only module that touches docxtpl and Jinja.

Each template is read, patched by docxtpl (so ``{%p …%}`` and ``{%tr …%}``
work as in docxtpl) and compiled once; a render is then one Jinja pass over
each XML part plus a deterministic re-zip — no python-docx round trip per
document. The output is byte-identical for the same context and templates:
fixed zip timestamps and member order, and core properties derived from the
data, so a hash recorded at signing can be checked later.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import jinja2
from docxtpl import DocxTemplate
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment

from ..domain.documents import PUBLICATION_DOCUMENTS, DocumentKind
from ..domain.filters import FILTERS
from ..errors import TemplateError
from .layout import FILTERS as LAYOUT_FILTERS
from .native import set_doc_ids
from .package import ZIP_TIME, Entry, package

__all__ = [
    "TEMPLATE_DIR",
    "DocumentTemplate",
    "TemplateSet",
    "context_paths",
    "export_templates",
    "publication_template",
    "tag_problems",
    "write_entry",
]

#: the folder of the publication's own templates (the 合同公告), shipped inside the package;
#: each kind's templates are in its kind folder
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

#: XML parts of a .docx that hold text a template may fill
_TEMPLATED = re.compile(r"^word/(document|header\d*|footer\d*)\.xml$")
#: the part holding the document's ids (w14:docId, w15:docId), which each document has its own of
_SETTINGS = "word/settings.xml"
#: characters docxtpl's listing pass turns into breaks, tabs and paragraphs
_LISTING_CHARS = re.compile(r"[\n\t\a\f]")

#: docxtpl's patching and listing code, used as functions (they read no instance state)
_DOCXTPL = DocxTemplate(io.BytesIO())


class _Environment(SandboxedEnvironment):
    """Jinja, sandboxed, with context keys winning over dict methods: ``acceptance.items`` is data.

    Sandboxed because a template is a file a maintainer edits, not code: ``{{
    cycler.__init__.__globals__.os.popen('id').read() }}`` must not run ``id``.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


def _environment() -> jinja2.Environment:
    env = _Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters.update(FILTERS)
    env.filters.update(LAYOUT_FILTERS)
    return env


def _strip_tags(xml: str) -> str:
    return re.sub(r"<[^>]+>", "", xml).strip()


@dataclass(frozen=True)
class _Part:
    name: str
    data: bytes
    source: str | None = None
    template: jinja2.Template | None = None
    #: the part compressed, when every document has it as the template does
    entry: Entry | None = None


class DocumentTemplate:
    """One compiled .docx template."""

    def __init__(self, path: Path, env: jinja2.Environment | None = None) -> None:
        self.path = path
        self.kind = path.stem
        env = env or _environment()
        try:
            archive = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile) as exc:
            raise TemplateError(f"无法读取模板：{exc}", template=str(path)) from exc
        parts: list[_Part] = []
        with archive:
            for info in archive.infolist():
                data = archive.read(info)
                if _TEMPLATED.match(info.filename):
                    source = self._prepare(data.decode("utf-8"))
                    parts.append(
                        _Part(
                            info.filename, data, source, self._compile(env, info.filename, source)
                        )
                    )
                elif info.filename == _SETTINGS:
                    parts.append(_Part(info.filename, data))
                elif info.filename != "docProps/core.xml":
                    parts.append(_Part(info.filename, data, entry=Entry.of(info.filename, data)))
        self.parts = parts

    def words(self) -> str:
        """Return the template's own text, every part's, tags and whitespace removed."""
        texts = (
            _strip_tags(p.data.decode("utf-8", "replace"))
            for p in self.parts
            if p.name.endswith(".xml")
        )
        return re.sub(r"\s+", "", "".join(texts))

    @staticmethod
    def _prepare(xml: str) -> str:
        # One paragraph per line, so a Jinja line number names a paragraph (as docxtpl does).
        return re.sub(r"<w:p([ >])", r"\n<w:p\1", _DOCXTPL.patch_xml(xml))

    def _compile(self, env: jinja2.Environment, name: str, source: str) -> jinja2.Template:
        try:
            return env.from_string(source)
        except jinja2.TemplateSyntaxError as exc:
            raise self._error(name, source, exc.lineno, exc.message or "语法错误") from exc

    def _error(self, part: str, source: str, lineno: int | None, problem: str) -> TemplateError:
        """Return the error naming the template, its part and the paragraph of a source line."""
        paragraph, excerpt = _paragraph(source, lineno) if lineno else (None, "")
        return TemplateError(
            problem, template=self.path.name, part=part, paragraph=paragraph, excerpt=excerpt
        )

    def render(self, context: Mapping[str, Any], properties: Mapping[str, str]) -> bytes:
        """Return the bytes of the .docx rendered with a context.

        The document's ids derive from its contract number and kind: the same
        document of the same contract keeps them, every other document differs.
        """
        listing = _has_listing(context)
        name = f"{context.get('contract_no', '')}/{self.kind}"
        entries = []
        for part in self.parts:
            if part.entry is not None:
                entries.append(part.entry)
            elif part.template is not None and part.source is not None:
                entries.append(Entry.of(part.name, self._render_part(part, context, listing)))
            else:  # the settings, which carry the document's ids
                entries.append(Entry.of(part.name, set_doc_ids(part.data, name)))
        entries.append(Entry.of("docProps/core.xml", _core_properties(properties)))
        return package(entries)

    def _render_part(self, part: _Part, context: Mapping[str, Any], listing: bool) -> bytes:
        assert part.template is not None and part.source is not None
        try:
            xml = part.template.render(context)
        except jinja2.UndefinedError as exc:
            lineno = _error_line(exc)
            provided = context_paths([context])
            missing = [
                path
                for path, line in _paths(_environment().parse(part.source))
                if line == lineno and path not in provided
            ]
            message = "未定义的变量 " + ", ".join(missing) if missing else str(exc.message)
            raise self._error(part.name, part.source, lineno, message) from exc
        except jinja2.TemplateError as exc:  # a SecurityError of the sandbox among them
            lineno = _error_line(exc)
            raise self._error(part.name, part.source, lineno, str(exc)) from exc
        xml = xml.replace("\n<w:p", "<w:p")
        if listing:
            xml = _resolve_listing(xml)
        return xml.encode("utf-8")

    def variables(self) -> Iterator[tuple[str, str, str]]:
        """Yield (dotted path, part, paragraph text) for every variable the template reads."""
        env = _environment()
        for part in self.parts:
            if part.source is None:
                continue
            for path, lineno in _paths(env.parse(part.source)):
                number, excerpt = _paragraph(part.source, lineno)
                where = f"第 {number} 段：«{excerpt}»" if number else f"第 {lineno} 行"
                yield path, part.name, where


def _paragraph(source: str, lineno: int) -> tuple[int | None, str]:
    """Return the paragraph number and text of a line of a prepared part (a paragraph a line)."""
    lines = source.splitlines()[:lineno]
    if not lines:
        return None, ""
    number = sum(1 for line in lines if line.startswith("<w:p"))
    return number, _strip_tags(lines[-1])[:60]


def _error_line(exc: BaseException) -> int | None:
    tb = exc.__traceback__
    lineno = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            lineno = tb.tb_lineno  # Jinja has already rewritten the frame to template lines
        tb = tb.tb_next
    return lineno


#: a paragraph, as docxtpl's listing pass finds them
_PARAGRAPH = re.compile(r"<w:p(?: [^>]*)?>.*?</w:p>", re.DOTALL)


def _resolve_listing(xml: str) -> str:
    """Return docxtpl's listing pass over ``xml``, run only on the paragraphs it changes.

    The pass rebuilds every paragraph and run with nested expressions; one without a
    break, tab or paragraph mark comes out as it went in, so it is left as it is: the
    same bytes, a fraction of the time.
    """

    def paragraph(match: re.Match[str]) -> str:
        text = match.group(0)
        return _DOCXTPL.resolve_listing(text) if _LISTING_CHARS.search(text) else text

    return _PARAGRAPH.sub(paragraph, xml)


def _has_listing(value: Any) -> bool:
    if isinstance(value, str):
        return bool(_LISTING_CHARS.search(value))
    if isinstance(value, Mapping):
        return any(_has_listing(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_listing(v) for v in value)
    return False


#: complete Jinja tags: what is left of a run's text without them must hold no tag mark
_JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_TAG_MARKS = ("{{", "}}", "{%", "%}", "{#", "#}")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def tag_problems(docx: bytes) -> list[str]:
    """Return why a template's tags would not render as written, one line each.

    Word splits a tag typed in pieces across runs (``{{ buyer.`` in one, ``name }}`` in
    the next): Jinja would see neither. A ``{%p`` tag must have its paragraph to itself.
    """
    problems = []
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        for part in package.namelist():
            if not _TEMPLATED.match(part):
                continue
            root = ElementTree.fromstring(package.read(part))
            for text in root.iter(f"{_W}t"):
                if any(mark in _JINJA_TAG.sub("", text.text or "") for mark in _TAG_MARKS):
                    problems.append(f"{part}：标签被拆在几段文字里：“{text.text}”")
            for paragraph in root.iter(f"{_W}p"):
                content = "".join(t.text or "" for t in paragraph.iter(f"{_W}t"))
                if "{%p" in content and not re.fullmatch(r"\{%p [^%]*%\}", content):
                    problems.append(f"{part}：{{%p 标签须独占一段：“{content[:60]}”")
    return problems


def write_entry(out: zipfile.ZipFile, name: str, data: bytes) -> None:
    """Add a file to a zip with fixed time and mode, so equal content gives equal bytes."""
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    out.writestr(info, data)


def _core_properties(properties: Mapping[str, str]) -> bytes:
    fields = "".join(
        f"<{tag}>{escape(properties[key])}</{tag}>"
        for key, tag in (
            ("title", "dc:title"),
            ("subject", "dc:subject"),
            ("creator", "dc:creator"),
            ("language", "dc:language"),
        )
        if properties.get(key)
    )
    stamp = properties.get("date", "2000-01-01T00:00:00Z")
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
        ' xmlns:dcmitype="http://purl.org/dc/dcmitype/"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"{fields}"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        "</cp:coreProperties>"
    ).encode()


def _paths(tree: nodes.Template) -> Iterator[tuple[str, int]]:
    """Yield the full dotted path and line of every context lookup in a parsed template."""

    def chain(node: nodes.Node, aliases: Mapping[str, str]) -> str | None:
        if isinstance(node, nodes.Name):
            return aliases.get(node.name, node.name)
        if isinstance(node, nodes.Getattr):
            base = chain(node.node, aliases)
            return None if base is None else f"{base}.{node.attr}"
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            base = chain(node.node, aliases)
            return None if base is None else f"{base}.{node.arg.value}"
        return None

    def walk(node: nodes.Node, aliases: dict[str, str]) -> Iterator[tuple[str, int]]:
        if isinstance(node, nodes.For):
            yield from walk(node.iter, aliases)
            inner = dict(aliases)
            iterable = chain(node.iter, aliases)
            targets = [node.target] if isinstance(node.target, nodes.Name) else []
            for target in [*targets, *node.target.find_all(nodes.Name)]:
                inner[target.name] = f"{iterable}[]" if iterable else target.name
            inner["loop"] = "loop"
            for child in [*node.body, *node.else_]:
                yield from walk(child, inner)
            if node.test is not None:
                yield from walk(node.test, inner)
            return
        if isinstance(node, nodes.Name | nodes.Getattr | nodes.Getitem):
            path = chain(node, aliases)
            if path is not None:
                if path != "loop" and not path.startswith("loop."):
                    yield path, node.lineno
                return
        for child in node.iter_child_nodes():
            yield from walk(child, aliases)

    yield from walk(tree, {})


def context_paths(contexts: Iterable[Mapping[str, Any]]) -> set[str]:
    """Return every dotted path the given contexts provide, list items as ``name[]``."""
    found: set[str] = set()

    def visit(value: Any, path: str) -> None:
        if path:
            found.add(path)
        if isinstance(value, Mapping):
            for key, item in value.items():
                visit(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            found.add(f"{path}[]")
            for item in value:
                visit(item, f"{path}[]")

    for context in contexts:
        visit(context, "")
    return found


class TemplateSet:
    """The templates of one kind's documents, compiled once and rendered many times.

    ``directory`` is the kind's own folder, or an office's folder of reworded
    templates of the same documents; ``declaration`` is the kind's declaration,
    hashed with the templates so that the version names everything that made a set.
    """

    def __init__(
        self,
        directory: Path,
        documents: Sequence[DocumentKind],
        *,
        declaration: bytes = b"",
        built_in: bool = False,
    ) -> None:
        self.directory = directory
        self.documents = tuple(documents)
        #: whether these are the templates shipped with the kind
        self.built_in = built_in
        env = _environment()
        self.templates = {
            doc.kind: DocumentTemplate(directory / doc.template, env) for doc in self.documents
        }
        digest = hashlib.sha256()
        for doc in self.documents:
            digest.update((directory / doc.template).read_bytes())
        digest.update(declaration)
        #: the SHA-256 of the template files in set order and the declaration: names the exact
        #: templates and fields
        self.sha256 = digest.hexdigest()
        #: its first 16 digits, as the manifest's template_version
        self.version = self.sha256[:16]

    def describe(self) -> dict[str, Any]:
        """Return what the manifest records of the templates: built in or the office's, and hash."""
        return {
            "source": "built-in" if self.built_in else "custom",
            "folder": None if self.built_in else self.directory.name,
            "sha256": self.sha256,
        }

    def words(self) -> str:
        """Return the text the templates themselves hold, whitespace removed (see
        :meth:`DocumentTemplate.words`)."""
        return "".join(template.words() for template in self.templates.values())

    def render(self, kind: str, context: Mapping[str, Any], properties: Mapping[str, str]) -> bytes:
        """Return one document of the set as .docx bytes."""
        return self.templates[kind].render(context, properties)

    def check(self, contexts: Iterable[Mapping[str, Any]]) -> list[str]:
        """Return a line for every variable a template reads that no context provides."""
        provided = context_paths(contexts)
        problems = []
        for kind, template in self.templates.items():
            for path, part, where in template.variables():
                if path not in provided:
                    problems.append(f"{kind}.docx ({part}), {where}: 未提供的变量 {path}")
        return problems

    def variables(self) -> set[str]:
        """Return every dotted path any template of the set reads."""
        return {path for t in self.templates.values() for path, _, _ in t.variables()}


def export_templates(folder: Path, source: Path, names: Sequence[str]) -> list[Path]:
    """Copy a kind's templates (``names`` in ``source``) into ``folder``; return the files.

    Nothing is overwritten: when any of the files is already there, nothing is
    written and :class:`TemplateError` names it.
    """
    targets = [folder / name for name in names]
    taken = [str(path) for path in targets if path.exists() or path.is_symlink()]
    if taken:
        raise TemplateError("已存在，不予覆盖：" + "、".join(taken), template=str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    for name, target in zip(names, targets, strict=True):
        data = (source / name).read_bytes()
        with open(target, "xb") as fh:
            fh.write(data)
    return targets


@cache
def publication_template(kind: str) -> DocumentTemplate:
    """Return the built-in template of a publication document (the 合同公告), compiled once."""
    for doc in PUBLICATION_DOCUMENTS:
        if doc.kind == kind:
            return DocumentTemplate(TEMPLATE_DIR / doc.template)
    raise TemplateError(f"没有发布文件“{kind}”的模板", template=kind)
