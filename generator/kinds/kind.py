"""A contract kind: its declaration read once, and everything derived from it.

A :class:`ContractKind` is built from a kind folder (``kind.yaml``, its DOCX
templates, a sample). It holds the model data is validated against, the rules,
the document registry, the template context and the data paths the public
copy may withhold; nothing else in the package knows what a kind's fields are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, cast

from pydantic import (
    Field,
    TypeAdapter,
    ValidationError,
    create_model,
)

from ..domain import model as notice
from ..domain.documents import DocumentKind, SealPlace
from ..domain.filters import MARK
from ..domain.text import refusal, reserved
from ..domain.validate import from_pydantic
from ..errors import InvalidContractError, Issue, KindError, UnknownDocumentError
from .context import (
    Computed,
    context_of,
    contract_sources,
    environment,
    fallbacks_of,
    masked,
    sources_of,
)
from .declaration import DECLARATION, KindSpec, line_of, read_declaration
from .fields import FieldDef, build_fields, build_model, camel
from .model import Contract, value_at
from .publication import publication_model
from .rules import RuleCheck, RuleProblem, compile_rule
from .seal_blocks import SealLine, check_seal_lines, seal_lines
from .supplements import SupplementProblem, supplement_rules

__all__ = ["ContractKind", "load_kind"]


@dataclass(eq=False)
class ContractKind:
    """One contract kind: what its data holds, how it is checked, what documents it makes."""

    spec: KindSpec
    folder: Path
    #: the line of every key path of the declaration
    lines: dict[tuple[str | int, ...], int]
    #: shipped with the program (not an office's own folder)
    built_in: bool = False
    fields: tuple[FieldDef, ...] = field(init=False)
    rules: tuple[RuleCheck, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.fields = build_fields(self.spec.fields)
        self.by_path = {d.path: d for top in self.fields for d in top.walk()}
        self.computed = Computed(self.spec.computed)
        self.rules = tuple(
            compile_rule(self._named(rule.model_dump()), self.title_of, n)
            for n, rule in enumerate(self.spec.rules)
        )
        if self.spec.supplements is not None:
            self.rules += supplement_rules(
                self.spec.supplements,
                self.by_path,
                self.spec.constants,
                self.spec.envelope.contract_no,
                self.title_of,
                self.label_of,
            )
        self.publication_model = publication_model(self)
        publication: Any = (
            self.publication_model | None,
            Field(default=None, title="合同公告", exclude_if=lambda v: v is None),
        )
        fields = build_model(self.fields, camel(self.id), self.spec.title, Contract)
        self.model = cast(
            type[Contract],
            create_model(
                camel(self.id),
                __base__=fields,
                __doc__=self.spec.description or self.spec.title,
                publication=publication,
            ),
        )
        self.model.contract_kind = self
        self.documents = tuple(
            DocumentKind(
                doc.key,
                doc.title,
                number,
                tuple(SealPlace(s.party, s.keyword, s.last_page_only) for s in doc.seals),
                template_name=doc.template or f"{doc.key}.docx",
                attachment=doc.attachment,
                cross_page_seal=doc.cross_page_seal,
            )
            for number, doc in enumerate(self.spec.documents, start=1)
        )
        self.sources = sources_of(self.fields, self.computed, self.spec.constants)
        self._texts = environment()
        self._fallbacks = fallbacks_of(self.fields)

    def _named(self, args: dict[str, Any]) -> dict[str, Any]:
        """Return a rule's arguments with the declaration's constants put in by name."""
        constants = self.spec.constants
        return {k: constants.get(v, v) if isinstance(v, str) else v for k, v in args.items()}

    # ------------------------------------------------------------ who it is

    @property
    def id(self) -> str:
        """Return the kind's id: ``om_service``."""
        return self.spec.id

    @property
    def title(self) -> str:
        """Return the kind's Chinese title."""
        return self.spec.title

    @property
    def version(self) -> str:
        """Return the version the declaration states."""
        return self.spec.version

    def describe(self) -> dict[str, Any]:
        """Return what a manifest, a report or the ledger records of the kind."""
        return {"id": self.id, "title": self.title, "version": self.version}

    # ------------------------------------------------------------ documents

    @property
    def keys(self) -> tuple[str, ...]:
        """Return the keys of the set's documents in set order."""
        return tuple(doc.kind for doc in self.documents)

    @property
    def set_title(self) -> str:
        """Return the title of the whole set bound as one PDF."""
        return self.spec.set_title or f"{self.documents[0].title}（全套）"

    @property
    def seal_keywords(self) -> tuple[str, ...]:
        """Return every word a seal is placed by: data may not contain one."""
        return tuple(dict.fromkeys(place.keyword for doc in self.documents for place in doc.seals))

    def document(self, key: str) -> DocumentKind:
        """Return the document of that key; raise :class:`UnknownDocumentError` for another."""
        for doc in self.documents:
            if doc.kind == key:
                return doc
        raise UnknownDocumentError(key, self.keys)

    @property
    def sample(self) -> Path:
        """Return the filled sample of the kind."""
        return self.folder / self.spec.sample

    @property
    def samples(self) -> list[Path]:
        """Return every filled sample in the folder: the declared one, then other data files."""
        others = sorted(
            p for p in self.folder.glob("*.yaml") if p.name not in (DECLARATION, self.spec.sample)
        )
        return [self.sample, *others]

    # ------------------------------------------------------------ data

    def label_of(self, path: str) -> str:
        """Return a data path in words: the titles from the root, a list's rows by number.

        ``acceptance_plan.items[0].stage`` → ``履约验收方案 · 验收项目 · 第 1 行 · 环节``;
        a path the kind does not declare (a misspelt key) is returned as it is.
        """
        words: list[str] = []
        plain = ""
        for key, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
            if index:
                words.append(f"第 {int(index) + 1} 行")
                continue
            plain = f"{plain}.{key}" if plain else key
            title = self._title_at(plain)
            if title is None:
                return path
            words.append(title)
        return " · ".join(words)

    def _title_at(self, plain: str) -> str | None:
        found = self.by_path.get(plain)
        if found is not None:
            return found.title
        if plain == "publication":
            return "合同公告"
        head, _, key = plain.partition(".")
        if head == "publication" and "." not in key:
            info = self.publication_model.model_fields.get(key)
            return info.title if info is not None and info.title else None
        return None

    def titled(self, issues: list[Issue]) -> list[Issue]:
        """Return the issues, each naming its field by title."""
        out = []
        for issue in issues:
            label = self.label_of(issue.path) if issue.path else ""
            out.append(dc_replace(issue, title=label) if label and label != issue.path else issue)
        return out

    def title_of(self, path: str) -> str:
        """Return the Chinese title of a data path (its own title; the path if undeclared)."""
        found = self.by_path.get(path.replace("[]", ""))
        return found.title if found else path

    @cached_property
    def data_paths(self) -> frozenset[str]:
        """Return every dotted path of the kind's data, lists taken item by item."""
        return frozenset(self.by_path)

    @property
    def public_paths(self) -> tuple[str, ...]:
        """Return the paths the 合同公告 must publish (财办库〔2020〕50号): never withheld."""
        envelope = self.spec.envelope
        return (
            envelope.contract_no,
            envelope.project_name,
            envelope.buyer,
            envelope.supplier,
            envelope.amount,
            envelope.sign_date,
        )

    def check(self, data: Mapping[str, Any]) -> tuple[Contract | None, list[Issue]]:
        """Return the contract built from raw data (None when invalid) and every issue found."""
        if not isinstance(data, Mapping):
            return None, [Issue("", "type.object", "合同数据应为对象（键值表）")]
        try:
            with reserved(self.seal_keywords):
                contract = self.model.model_validate({k: v for k, v in data.items() if k != "kind"})
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            field_issues = [from_pydantic(e) for e in errors]
            unsound = {from_pydantic(e).path for e in errors}
            sealed = [i for i in self._seal_issues(data) if i.path not in unsound]
            found = field_issues + self._rules_on_the_sound_fields(data, errors) + sealed
            return None, self.titled(found)
        issues = [issue for rule in self.rules for issue in rule.check(contract)]
        issues = self.titled(issues + self._seal_issues(data))
        return (None if issues else contract), issues

    @cached_property
    def seal_lines(self) -> tuple[SealLine, ...]:
        """Return the templates' seal lines that print values (measured by validation)."""
        return seal_lines(self.folder, self.documents)

    def _seal_issues(self, data: Mapping[str, Any]) -> list[Issue]:
        """Return what the seal blocks would make of the data's values (see seal_blocks)."""
        return check_seal_lines(self.seal_lines, data) if self.seal_lines else []

    def _rules_on_the_sound_fields(self, data: Mapping[str, Any], errors: list[Any]) -> list[Issue]:
        """Return what the rules find in the fields that are sound, beside the fields' errors.

        Every issue at once: a rule runs when every top-level field it reads validates on
        its own, so that fixing one field never reveals another problem that was there.
        """
        unsound = {e["loc"][0] for e in errors if e["loc"]}
        if any(not e["loc"] for e in errors):
            return []  # the data as a whole is wrong: nothing to check rules on
        wanted = {path.split(".")[0] for rule in self.rules for path in rule.paths} - unsound
        parsed: dict[str, Any] = {}
        with reserved(self.seal_keywords):
            for name in sorted(wanted):
                adapter = self._field_adapters.get(name)
                if adapter is None:
                    continue
                if name in data:
                    try:
                        parsed[name] = adapter.validate_python(data[name])
                    except ValidationError:
                        unsound.add(name)
                elif not self.model.model_fields[name].is_required():
                    parsed[name] = self.model.model_fields[name].get_default(
                        call_default_factory=True
                    )
                else:
                    unsound.add(name)
        partial = self.model.model_construct(**parsed)
        issues: list[Issue] = []
        for rule in self.rules:
            if not {path.split(".")[0] for path in rule.paths} & unsound:
                issues.extend(rule.check(partial))
        return issues

    @cached_property
    def _field_adapters(self) -> dict[str, TypeAdapter[Any]]:
        """Return a validator of each top-level field on its own (its type and constraints)."""
        return {
            name: TypeAdapter(cast(Any, Annotated[info.annotation, info]))
            for name, info in self.model.model_fields.items()
        }

    def validate(self, data: Mapping[str, Any]) -> list[Issue]:
        """Return every issue in raw data (an empty list when it is valid)."""
        return self.check(data)[1]

    def parse(self, data: Mapping[str, Any], source: str | None = None) -> Contract:
        """Return the contract built from raw data, or raise InvalidContractError."""
        contract, issues = self.check(data)
        if contract is None:
            raise InvalidContractError(issues, source)
        return contract

    def json_schema(self) -> dict[str, Any]:
        """Return the JSON Schema of the kind's data, with its Chinese titles."""
        schema = self.model.model_json_schema()
        properties = schema.get("properties", {})
        properties["kind"] = {
            "const": self.id,
            "title": "合同类型",
            "description": f"{self.title}；{'可不填' if self.built_in else '必填'}",
        }
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://contractgen.invalid/schemas/{self.id}.schema.json",
            **schema,
            "title": self.title,
        }

    # ------------------------------------------------------------ context

    def context(self, contract: Contract) -> dict[str, Any]:
        """Return the template context of a contract of this kind."""
        return context_of(
            self.fields, self.computed, contract, self.spec.constants, self._fallbacks
        )

    def context_sources(self, contract: Contract) -> dict[str, tuple[str, ...]]:
        """Return each value of a contract's context and the data paths it derives from."""
        return contract_sources(self.fields, self.sources, self.computed, contract)

    def withheld_context(
        self, contract: Contract, paths: Iterator[str] | tuple[str, ...], mark: str = MARK
    ) -> dict[str, Any]:
        """Return the context with the values derived from ``paths`` replaced by a mark.

        A path withholds its own value, everything below it (``supplier.bank``) and
        every value derived from it (:meth:`context_sources`). An empty value stays empty.
        """
        return masked(self.context(contract), self.context_sources(contract), paths, mark)

    def notice_text(self, name: str, context: Mapping[str, Any]) -> str:
        """Return a notice text the declaration words (``requirements``, ``performance``)."""
        source = getattr(self.spec.publication, name)
        return str(self._texts.from_string(source).render(context))

    def withheld_paths(self, contract: Contract) -> tuple[str, ...]:
        """Return the paths a contract's public copy withholds: the kind's, then the data's."""
        publication = self.spec.publication
        mobiles = [
            path
            for path in publication.withhold_mobile
            if isinstance(number := value_at(contract, path), str)
            and notice.MOBILE.fullmatch(number)
        ]
        given = getattr(contract, "publication", None)
        added = given.withhold if given is not None else []
        return tuple(dict.fromkeys([*publication.withhold, *mobiles, *added]))

    @cached_property
    def withholdable(self) -> dict[str, str]:
        """Return each field the public copy may withhold, by path, with its label in words.

        A value (not a group or list of records), not one the 合同公告 must publish; in the
        declaration's order.
        """
        out = {}
        for top in self.fields:
            for definition in top.walk():
                if definition.children or definition.item is not None:
                    continue
                public = any(
                    p == definition.path or p.startswith(f"{definition.path}.")
                    for p in self.public_paths
                )
                if not public:
                    out[definition.path] = self.label_of(definition.path)
        return out

    @cached_property
    def _withhold_names(self) -> dict[str, str]:
        """Return the path each way of naming a field resolves to: path, label, joined titles."""
        names = {path: path for path in self.data_paths}
        for path in self.data_paths:
            label = self.label_of(path)
            names.setdefault(label, path)
            names.setdefault(label.replace(" · ", ""), path)
        return names

    def withhold_path(self, given: str) -> str:
        path = self._withhold_names.get(given) or self._withhold_names.get(given.replace(" ", ""))
        path = path or given
        if path not in self.data_paths:
            example = (self.spec.publication.withhold or sorted(self.data_paths))[0]
            raise refusal(
                "publication.withhold.unknown",
                f"“{path[:80]}”不是合同的字段（写字段的名称，如 {self.label_of(example)}，"
                f"或其路径，如 {example}）",
            )
        public = [p for p in self.public_paths if p == path or p.startswith(f"{path}.")]
        if public:
            raise refusal(
                "publication.withhold.public",
                f"{public[0]} 须在合同公告中公开（财办库〔2020〕50号），不能隐去",
            )
        return path


def load_kind(folder: Path, built_in: bool = False) -> ContractKind:
    """Return the kind a folder declares; raise :class:`KindError` naming file, path and line."""
    spec, lines = read_declaration(folder / DECLARATION)
    try:
        return ContractKind(spec, folder, lines, built_in)
    except RuleProblem as exc:
        where = ("rules", exc.index, exc.key)
        line = lines.get(where) or lines.get(where[:2], 1)
        path = f"rules[{exc.index}].{exc.key}"
        problem = (str(folder / DECLARATION), path, line, str(exc), "kind.rule.invalid")
        raise KindError([problem]) from exc
    except SupplementProblem as exc:
        key = ("supplements", *exc.key)
        path = ".".join(str(k) for k in key)
        problem = (
            str(folder / DECLARATION),
            path,
            line_of(lines, key),
            str(exc),
            "kind.supplements",
        )
        raise KindError([problem]) from exc
