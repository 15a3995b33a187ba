"""Facts kept between processes: learnt once, again when their files change, never an error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator._cache import cached_bytes, file_key


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder


def test_a_fact_is_learnt_once_and_again_when_its_file_changes(cache: Path, tmp_path: Path) -> None:
    source = tmp_path / "font.ttf"
    source.write_bytes(b"one")
    asked: list[bytes] = []

    def learn() -> bytes:
        asked.append(source.read_bytes())
        return source.read_bytes().upper()

    assert cached_bytes("fact", file_key("fact", [source]), learn) == b"ONE"
    assert cached_bytes("fact", file_key("fact", [source]), learn) == b"ONE"
    assert asked == [b"one"]
    source.write_bytes(b"three")  # another size, another time: another key
    assert cached_bytes("fact", file_key("fact", [source]), learn) == b"THREE"
    assert asked == [b"one", b"three"]
    assert not [p for p in (cache / "contractgen").iterdir() if p.name.startswith(".")]


def test_nothing_learnt_is_not_kept(cache: Path) -> None:
    assert cached_bytes("office", "k", lambda: None) is None
    assert cached_bytes("office", "k", lambda: b"LibreOffice 7.4") == b"LibreOffice 7.4"


def test_a_cache_that_cannot_be_written_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert cached_bytes("fact", "k", lambda: b"x") == b"x"
    assert blocked.read_text() == "not a folder"


def test_an_absent_file_is_part_of_the_key(tmp_path: Path) -> None:
    there = tmp_path / "a"
    absent = file_key("fact", [there])
    there.write_bytes(b"")
    assert file_key("fact", [there]) != absent
    os.utime(there, ns=(0, 0))
    assert file_key("fact", [there]) != absent
