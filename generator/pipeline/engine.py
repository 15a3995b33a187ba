"""The long-lived :class:`Generator`: templates and offices owned once, sets cached by input."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from ..docx.render import TemplateSet
from ..kinds import Contract, ContractKind, Registry, registry
from ..office import ConverterPool
from .contract_set import ContractSet, input_digest
from .stages import FORMATS, _formats, _kinds, _selected, render_set, set_templates

__all__ = ["Generator"]


class Generator:
    """A long-lived generator: owns its templates and LibreOffice workers.

    Safe to call from several threads at once; the pool bounds how many
    conversions run together. Use it as a context manager (or call
    :meth:`close`) so the offices stop with it.

    The last ``cached_sets`` sets made with PDFs are kept in memory by input
    hash: a platform that fetches a contract's documents one request at a
    time has the set made once, and the same contract asked for twice at once
    is made once. The bytes are those a fresh render gives (output is a
    function of the input), so the cache changes nothing but the time.
    """

    def __init__(
        self,
        *,
        workers: int | None = None,
        timeout: float = 60.0,
        templates: Path | None = None,
        kinds: Registry | None = None,
        cached_sets: int = 8,
    ) -> None:
        #: the kinds this generator makes sets of: built in, and the office's own
        self.kinds = kinds or registry()
        #: an office's rewording of the default kind's templates, or None for the kind's own
        self.template_dir = templates
        self.converter = ConverterPool(workers, timeout=timeout)
        self.cached_sets = cached_sets
        self._sets: OrderedDict[tuple[str, bool], ContractSet] = OrderedDict()
        self._making: dict[tuple[str, bool], Future[ContractSet]] = {}
        self._lock = threading.Lock()
        #: how many sets were made, and how many requests the cache answered
        self.counts = {"made": 0, "cached": 0}

    @property
    def templates(self) -> TemplateSet:
        """Return the default kind's templates (the office's rewording when one was given)."""
        return self.templates_for(self.kinds.default)

    def templates_for(self, kind: ContractKind) -> TemplateSet:
        """Return the templates a kind's sets are made from."""
        return set_templates(kind, self.template_dir)

    def parse(self, data: Mapping[str, Any]) -> Contract:
        """Return the contract of raw data of any of the generator's kinds."""
        return self.kinds.parse(data)

    def __enter__(self) -> Generator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the LibreOffice workers."""
        self.converter.close()

    @property
    def workers(self) -> int:
        """Return how many offices may convert at once."""
        return self.converter.size

    def health(self) -> dict[str, Any]:
        """Return what a health check shows: offices running, conversions, sets made and cached."""
        with self._lock:
            sets = dict(self.counts)
        return {
            "workers": self.converter.size,
            "office_processes": len(self.converter.office_pids()),
            "conversions": self.converter.stats,
            "sets": sets,
        }

    def render(
        self,
        data: Mapping[str, Any] | Contract,
        *,
        formats: Iterable[str] = FORMATS,
        pdfa: bool = False,
        kinds: Iterable[str] | None = None,
        deadline: float | None = None,
    ) -> ContractSet:
        """Return the contract set of raw data (or a parsed contract) in memory.

        ``kinds`` limits it to some documents, e.g. ``("service_contract",)``;
        no conversion runs past ``deadline`` (a :func:`time.monotonic` time).
        """
        contract = data if isinstance(data, Contract) else self.parse(data)
        chosen, wanted = _formats(formats), _kinds(kinds, contract.kind)
        if "pdf" not in chosen or self.cached_sets < 1:
            return render_set(
                contract,
                formats=formats,
                pdfa=pdfa,
                converter=self.converter,
                templates=self.templates_for(contract.kind),
                kinds=kinds,
                deadline=deadline,
            )
        return _selected(self._whole(contract, pdfa, deadline), chosen, wanted)

    def _whole(self, contract: Contract, pdfa: bool, deadline: float | None) -> ContractSet:
        """Return the contract's whole set with PDFs, from the cache or made once."""
        key = (input_digest(contract), pdfa)
        with self._lock:
            whole = self._sets.get(key)
            if whole is not None:
                self._sets.move_to_end(key)
                self.counts["cached"] += 1
                return whole
            making = self._making.get(key)
            mine = making is None
            if making is None:
                making = self._making[key] = Future()
        if not mine:
            return making.result()  # made by another thread right now
        try:
            whole = render_set(
                contract,
                pdfa=pdfa,
                converter=self.converter,
                templates=self.templates_for(contract.kind),
                deadline=deadline,
            )
        except BaseException as exc:
            with self._lock:
                del self._making[key]
            making.set_exception(exc)
            raise
        with self._lock:
            del self._making[key]
            self._sets[key] = whole
            while len(self._sets) > self.cached_sets:
                self._sets.popitem(last=False)
            self.counts["made"] += 1
        making.set_result(whole)
        return whole
