"""Make every contract of a procurement round from a workbook, CSV, JSON lines or a folder."""

from .report import REPORT_FILES, REPORT_NAME, Line, Progress, Summary, write_report
from .run import Options, run_batch

__all__ = [
    "REPORT_FILES",
    "REPORT_NAME",
    "Line",
    "Options",
    "Progress",
    "Summary",
    "run_batch",
    "write_report",
]
