"""Generate the contract set of a Shanghai Big Data Center O&M service contract.

Contract data goes in and is validated; the service contract (运维服务合同),
the confidentiality agreement (保密协议), the integrity agreement (廉洁协议)
and the acceptance-plan form (履约验收方案) come out as DOCX and PDF.

The names below are the public API; the subpackages are the stages behind it
(``domain``, ``inputs``, ``docx``, ``office``, ``pdf``, ``pipeline``,
``service``) and may change between versions.
"""

from ._version import __version__
from .docx.render import TEMPLATE_DIR, TemplateSet, export_templates
from .domain.amount import rmb_upper
from .domain.documents import DOCUMENTS, KINDS, DocumentKind, SealPlace
from .domain.model import Contract, json_schema
from .domain.validate import parse, validate
from .errors import (
    AmountError,
    ContractError,
    ConversionError,
    InputError,
    InputTooLargeError,
    InvalidContractError,
    Issue,
    LedgerError,
    OutputConflictError,
    SealPlacementError,
    TemplateError,
    UnknownDocumentError,
    UsageError,
)
from .inputs.load import load_data
from .pipeline import (
    FORMATS,
    MANIFEST,
    ContractSet,
    Document,
    Generator,
    render_contract,
    set_zip,
    write_set,
)
from .publication import Publication, publish

__all__ = [
    "DOCUMENTS",
    "FORMATS",
    "KINDS",
    "MANIFEST",
    "TEMPLATE_DIR",
    "AmountError",
    "Contract",
    "ContractError",
    "ContractSet",
    "ConversionError",
    "Document",
    "DocumentKind",
    "Generator",
    "InputError",
    "InputTooLargeError",
    "InvalidContractError",
    "Issue",
    "LedgerError",
    "OutputConflictError",
    "Publication",
    "SealPlace",
    "SealPlacementError",
    "TemplateError",
    "TemplateSet",
    "UnknownDocumentError",
    "UsageError",
    "__version__",
    "export_templates",
    "json_schema",
    "load_data",
    "parse",
    "publish",
    "render_contract",
    "rmb_upper",
    "set_zip",
    "validate",
    "write_set",
]
