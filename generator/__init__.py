"""Generate the contract set of a Shanghai Big Data Center O&M service contract.

Contract data goes in and is validated; the service contract (运维服务合同),
the confidentiality agreement (保密协议), the integrity agreement (廉洁协议)
and the acceptance-plan form (履约验收方案) come out as DOCX and PDF.
"""

from ._version import __version__
from .amount import rmb_upper
from .api import ContractSet, Document, Generator, render_contract
from .errors import (
    AmountError,
    ContractError,
    ContractInvalid,
    ConversionError,
    InputError,
    Issue,
    SealPlacementError,
    TemplateProblem,
)
from .validate import validate

__all__ = [
    "AmountError",
    "ContractError",
    "ContractInvalid",
    "ContractSet",
    "ConversionError",
    "Document",
    "Generator",
    "InputError",
    "Issue",
    "SealPlacementError",
    "TemplateProblem",
    "__version__",
    "render_contract",
    "rmb_upper",
    "validate",
]
