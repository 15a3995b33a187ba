"""The pipeline: one contract set from validated data, its manifest, and its folder or zip."""

from .contract_set import (
    MANIFEST,
    ContractSet,
    Document,
    folder_zip,
    input_digest,
    read_set,
    set_zip,
    zip_tree,
)
from .engine import Generator
from .output import (
    clear_dead_staging,
    make_staging,
    staged_folder,
    staged_set,
    write_folder,
    write_set,
)
from .stages import (
    FORMATS,
    add_pdfs,
    default_converter,
    kind_templates,
    render_contract,
    render_docx,
    render_set,
    seal_specs,
    set_templates,
)

__all__ = [
    "FORMATS",
    "MANIFEST",
    "ContractSet",
    "Document",
    "Generator",
    "add_pdfs",
    "clear_dead_staging",
    "default_converter",
    "folder_zip",
    "input_digest",
    "kind_templates",
    "make_staging",
    "read_set",
    "render_contract",
    "render_docx",
    "render_set",
    "seal_specs",
    "set_templates",
    "set_zip",
    "staged_folder",
    "staged_set",
    "write_folder",
    "write_set",
    "zip_tree",
]
