"""The office stage: DOCX into PDF with a pool of headless LibreOffice workers."""

from .convert import (
    FONTS_CONF,
    ConverterPool,
    convert_once,
    die_with_parent,
    find_soffice,
    find_uno_python,
    office_env,
)

__all__ = [
    "FONTS_CONF",
    "ConverterPool",
    "convert_once",
    "die_with_parent",
    "find_soffice",
    "find_uno_python",
    "office_env",
]
