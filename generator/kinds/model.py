"""The base of every kind's contract model, and the envelope every contract has.

A kind's model is made from its declaration (:func:`generator.kinds.fields.build_model`)
on :class:`Contract`; what the ledger, publication and the 合同公告 need of any
contract — number, project, parties, amount, signing date — is its
:attr:`Contract.envelope`, read through the paths the declaration names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from ..domain.model import CHINA_TIME

if TYPE_CHECKING:
    from .kind import ContractKind

__all__ = ["Contract", "Envelope", "Record", "value_at"]

_loaded: dict[str, ContractKind] = {}


def _rebuild(kind_id: str, folder: str, data: dict[str, Any]) -> Contract:
    """Return a contract sent to another process: its kind found there, its data checked again."""
    from .kind import load_kind
    from .registry import registry

    kind = registry().kinds.get(kind_id)
    if kind is None or str(kind.folder) != folder:
        kind = _loaded.get(folder)
        if kind is None:
            kind = _loaded[folder] = load_kind(Path(folder))
    return kind.model.model_validate(data)


class Record(BaseModel):
    """A group of fields of contract data: unknown keys refused, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Envelope:
    """What every contract of every kind says: who, what, how much, when."""

    contract_no: str
    project_name: str
    buyer: str
    supplier: str
    amount: Decimal
    sign_date: date


def value_at(data: Any, path: str) -> Any:
    """Return the value at a dotted path of a model or a mapping (None where a step is absent)."""
    value = data
    for key in path.split("."):
        if value is None:
            return None
        value = value.get(key) if isinstance(value, Mapping) else getattr(value, key, None)
    return value


class Contract(Record):
    """One contract's data, of some kind: the base of every kind's model."""

    #: the kind the model was made for (set on each kind's model)
    contract_kind: ClassVar[ContractKind]

    def __reduce__(self) -> Any:
        """Pickle by kind and data: a kind's model is made at run time, so not importable."""
        kind = self.kind
        return (_rebuild, (kind.id, str(kind.folder), self.model_dump()))

    @property
    def kind(self) -> ContractKind:
        """Return the contract's kind."""
        return type(self).contract_kind

    @property
    def envelope(self) -> Envelope:
        """Return the contract's envelope: number, project, parties, amount, signing date."""
        paths = self.kind.spec.envelope
        return Envelope(
            contract_no=value_at(self, paths.contract_no),
            project_name=value_at(self, paths.project_name),
            buyer=value_at(self, paths.buyer),
            supplier=value_at(self, paths.supplier),
            amount=value_at(self, paths.amount),
            sign_date=value_at(self, paths.sign_date),
        )

    @property
    def signed_at(self) -> datetime:
        """Return the instant the documents are dated: midnight of the signing date in China."""
        return datetime.combine(self.envelope.sign_date, time(), CHINA_TIME)

    @property
    def publication_settings(self) -> Any:
        """Return the data's publication block, or the kind's defaults when it has none."""
        given = getattr(self, "publication", None)
        return given if given is not None else self.kind.publication_model()
