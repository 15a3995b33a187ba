"""Generate contract sets from contract kinds declared as data.

Each contract kind is a folder (its fields, rules, documents and seal places
in ``kind.yaml``, its DOCX templates, a sample); contract data naming its kind
goes in and is validated, and the kind's documents come out as DOCX and PDF.
The built-in kind is the Shanghai Big Data Center O&M service set: 运维服务合同,
保密协议, 廉洁协议 and the filled 履约验收方案.

The names below are the public API; the subpackages are the stages behind it
(``kinds``, ``domain``, ``inputs``, ``docx``, ``office``, ``pdf``, ``pipeline``,
``service``) and may change between versions.
"""

from ._version import __version__
from .docx.render import TEMPLATE_DIR, TemplateSet, export_templates
from .domain.amount import rmb_upper
from .domain.documents import DocumentKind, SealPlace
from .errors import (
    AmountError,
    ContractError,
    ConversionError,
    InputError,
    InputTooLargeError,
    InvalidContractError,
    Issue,
    KindError,
    LedgerError,
    OutputConflictError,
    SealPlacementError,
    TemplateError,
    UnknownDocumentError,
    UnknownKindError,
    UsageError,
)
from .inputs.load import load_data
from .kinds import (
    Contract,
    ContractKind,
    Registry,
    default_kind,
    kind_of,
    load_kind,
    parse,
    registry,
    validate,
)
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
    "FORMATS",
    "MANIFEST",
    "TEMPLATE_DIR",
    "AmountError",
    "Contract",
    "ContractError",
    "ContractKind",
    "ContractSet",
    "ConversionError",
    "Document",
    "DocumentKind",
    "Generator",
    "InputError",
    "InputTooLargeError",
    "InvalidContractError",
    "Issue",
    "KindError",
    "LedgerError",
    "OutputConflictError",
    "Publication",
    "Registry",
    "SealPlace",
    "SealPlacementError",
    "TemplateError",
    "TemplateSet",
    "UnknownDocumentError",
    "UnknownKindError",
    "UsageError",
    "__version__",
    "default_kind",
    "export_templates",
    "kind_of",
    "load_data",
    "load_kind",
    "parse",
    "publish",
    "registry",
    "render_contract",
    "rmb_upper",
    "set_zip",
    "validate",
    "write_set",
]
