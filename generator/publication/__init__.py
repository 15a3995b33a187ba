"""Publishing a contract: the public copy, the 合同公告 and the day they are due.

《政府采购法实施条例》第五十条: the purchaser publishes the contract within two working
days of signing, without what is a state or commercial secret. :func:`publish` makes,
for one contract, the public copy (the four documents with the withheld values marked
``＊＊＊``, every page marked as the public text), the notice in the format of
财办库〔2020〕50号 as DOCX, PDF and JSON, and ``publication.json`` with the due date.
It sits above the pipeline (it asks a :class:`~generator.pipeline.Generator` for its
templates and offices), so it is a function of a generator rather than its method.
"""

from .calendar import Calendar, calendar, load_schedule, next_year_warning
from .due import WORKING_DAYS, covered_years, due_date, unpublished
from .notice import NOTICE_SECTIONS, NoticeField, NoticeSection, notice_json
from .publish import (
    FOOTER_LINE,
    MANIFEST,
    NOTICE_JSON,
    PUBLIC_FOLDER,
    Publication,
    public_folder_name,
    publication_issues,
    publish,
)
from .withholding import withheld_paths

__all__ = [
    "FOOTER_LINE",
    "MANIFEST",
    "NOTICE_JSON",
    "NOTICE_SECTIONS",
    "PUBLIC_FOLDER",
    "WORKING_DAYS",
    "Calendar",
    "NoticeField",
    "NoticeSection",
    "Publication",
    "calendar",
    "covered_years",
    "due_date",
    "load_schedule",
    "next_year_warning",
    "notice_json",
    "public_folder_name",
    "publication_issues",
    "publish",
    "unpublished",
    "withheld_paths",
]
