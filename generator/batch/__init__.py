"""Make every contract of a procurement round from a workbook, CSV, JSON lines or a folder."""

from .report import REPORT_FILES, REPORT_NAME, Line, Progress, Summary, write_report
from .rows import Options, make_set, report_summary, store_set, validate_rows
from .run import Maker, run_batch

__all__ = [
    "REPORT_FILES",
    "REPORT_NAME",
    "Line",
    "Maker",
    "Options",
    "Progress",
    "Summary",
    "make_set",
    "report_summary",
    "run_batch",
    "store_set",
    "validate_rows",
    "write_report",
]
