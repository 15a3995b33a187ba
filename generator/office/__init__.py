"""The office stage: DOCX into PDF with LibreOffice, the only stage that runs ``soffice``.

A walk through the house, from what callers use to what it stands on:

``pool.py``
    :class:`ConverterPool`: persistent workers, lazily started, thread-safe; a broken
    worker is replaced and the document tried once more, within the caller's deadline.
``worker.py``
    One worker: a headless office with a private profile, and the UNO bridge that
    feeds it one JSON job per line (``_uno_worker.py``, run by the interpreter that
    has ``python3-uno``, never imported).
``once.py``
    :func:`convert_once`: one ``soffice --convert-to`` per file, the benchmark baseline.
``files.py``
    The document staged in a worker's folder, the PDF checked and moved into place.
``environment.py``
    Finding ``soffice`` and the UNO interpreter (:func:`find_soffice`,
    :func:`find_uno_python`); :func:`office_env` shows the office only the fonts in
    :data:`FONTS_CONF`, so that fonts installed on the host change no byte.
``processes.py``
    No process outlives the one that started it, even killed with SIGKILL: a keeper
    leads each office's process group and kills it when we die; :func:`die_with_parent`
    does the same for a process of our own, e.g. a batch's worker.

Errors are :class:`generator.errors.ConversionError`, with the command, exit status
and the tail of the office's logs.
"""

from .environment import FONTS_CONF, find_soffice, find_uno_python, office_env
from .once import convert_once
from .pool import ConverterPool
from .processes import die_with_parent

__all__ = [
    "FONTS_CONF",
    "ConverterPool",
    "convert_once",
    "die_with_parent",
    "find_soffice",
    "find_uno_python",
    "office_env",
]
