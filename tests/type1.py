"""Read the Type 1 font programs LibreOffice embeds: their /UniqueID."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

UNIQUE_ID = re.compile(rb"/UniqueID (\d+) def")


def unique_ids(pdf: bytes) -> list[int]:
    """Return the /UniqueID of every embedded Type 1 font program, in object order."""
    reader = PdfReader(io.BytesIO(pdf))
    ids = []
    for number in range(1, int(reader.trailer["/Size"])):
        obj = reader.get_object(number)
        if hasattr(obj, "get_data") and "/Length2" in obj:
            found = UNIQUE_ID.search(obj.get_data()[: obj["/Length1"]])
            if found:
                ids.append(int(found.group(1)))
    return ids
