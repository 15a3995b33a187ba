"""Contract data in: one YAML/JSON file, or a batch as a workbook, CSV, JSON lines or a folder."""

from .layout import Layout, Record, layout_of
from .load import load_data, parse_json, parse_yaml
from .sheets import BATCH_SUFFIXES, LIMITS, Limits, read_batch, read_folder
from .workbook import write_workbook

__all__ = [
    "BATCH_SUFFIXES",
    "LIMITS",
    "Layout",
    "Limits",
    "Record",
    "layout_of",
    "load_data",
    "parse_json",
    "parse_yaml",
    "read_batch",
    "read_folder",
    "write_workbook",
]
