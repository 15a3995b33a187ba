"""A set read back from its files (a preview shared by the replicas) is the very same set."""

from __future__ import annotations

from typing import Any

from generator.kinds import parse
from generator.pipeline import MANIFEST, read_set, render_docx


def test_a_set_read_back_from_its_files_is_the_same_set_and_a_changed_file_is_refused(
    seed: dict[str, Any],
) -> None:
    made = render_docx(parse(seed))
    files = made.files()
    again = read_set(parse(made.contract.model_dump(mode="json")), files)
    assert again is not None
    assert again.files() == files and again.manifest() == made.manifest()
    name = next(iter(files))
    assert read_set(made.contract, {**files, name: files[name] + b"\0"}) is None
    assert read_set(made.contract, {k: v for k, v in files.items() if k != MANIFEST}) is None
    other = parse({**seed, "contract_no": "11NMB2F042362026499"})
    assert read_set(other, files) is None  # another contract's data: not these files
