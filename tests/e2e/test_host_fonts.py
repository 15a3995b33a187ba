"""Fonts installed on the host change no byte of the PDFs (real LibreOffice, real fonts).

LibreOffice writes a /UniqueID into each embedded Type 1 font that follows the
order of every font it can see, so one more font on the machine, used or not,
used to change all the PDFs. generator/fonts/fonts.conf now shows it only the
fonts the project declares; these tests put extra fonts where the host's
default fontconfig reads them ($XDG_DATA_HOME/fonts and ~/.fonts), some named as
the templates ask (SimSun, Times New Roman), and compare the bytes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from generator.inputs.load import load_data
from generator.kinds import parse
from generator.office import FONTS_CONF, ConverterPool
from generator.pipeline import render_set

from ..conftest import SAMPLES

DEJAVU_SANS = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

# (file, family, style) of every face LibreOffice may use: see fonts.conf.
DECLARED = {
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", "Noto Serif CJK SC", "Regular"),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc", "Noto Serif CJK SC", "Bold"),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "Noto Sans CJK SC", "Regular"),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", "Noto Sans CJK SC", "Bold"),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVu Sans", "Book"),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "DejaVu Sans", "Bold"),
    ("/usr/share/fonts/truetype/libreoffice/opens___.ttf", "OpenSymbol", "Regular"),
    ("/usr/share/fonts/truetype/hanazono/HanaMinA.ttf", "HanaMinA", "Regular"),
    ("/usr/share/fonts/truetype/hanazono/HanaMinB.ttf", "HanaMinB", "Regular"),
}


def renamed_font(src: Path, family: str, dest: Path) -> None:
    """Write a copy of font ``src`` whose family is ``family``."""
    font = TTFont(src)
    table = font["name"]
    names = {1: family, 2: "Regular", 3: f"{family};contractgen-test", 4: family}
    names[6] = family.replace(" ", "")
    for name_id in (*names, 16, 17):
        table.removeNames(nameID=name_id)
    for name_id, value in names.items():
        table.setName(value, name_id, 3, 1, 0x409)
        table.setName(value, name_id, 1, 0, 0)
    dest.parent.mkdir(parents=True, exist_ok=True)
    font.save(dest)
    font.close()


@pytest.fixture(scope="module")
def extra_fonts_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Return the variables under which the host's own fontconfig sees three more fonts."""
    root = tmp_path_factory.mktemp("host-fonts")
    renamed_font(DEJAVU_SANS, "SimSun", root / "data" / "fonts" / "simsun.ttf")
    renamed_font(DEJAVU_SANS, "Times New Roman", root / "home" / ".fonts" / "times.ttf")
    renamed_font(DEJAVU_SANS, "Contractgen Spare", root / "home" / ".fonts" / "spare.ttf")
    return {
        "XDG_DATA_HOME": str(root / "data"),
        "HOME": str(root / "home"),
        # The host's fontconfig caches the new directories: there, not in the real ~/.cache.
        "XDG_CACHE_HOME": str(root / "cache"),
    }


@pytest.fixture(scope="module")
def spare_font_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Return the variables under which the host's fontconfig sees one more, unused font."""
    root = tmp_path_factory.mktemp("spare-font")
    renamed_font(DEJAVU_SANS, "Contractgen Spare", root / "home" / ".fonts" / "spare.ttf")
    return {"HOME": str(root / "home"), "XDG_CACHE_HOME": str(root / "cache")}


@pytest.fixture(scope="module")
def open_fonts_conf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return fonts.conf as it was before the restriction: the host's config plus our aliases."""
    text = FONTS_CONF.read_text(encoding="utf-8")
    text = re.sub(r"<(selectfont|dir|cachedir)\b.*?</\1>\s*", "", text, flags=re.DOTALL)
    text = text.replace(
        "<fontconfig>",
        '<fontconfig>\n  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>',
    )
    path = tmp_path_factory.mktemp("open-conf") / "fonts.conf"
    path.write_text(text, encoding="utf-8")
    return path


def fc_list(env: dict[str, str]) -> set[tuple[str, str, str]]:
    """Return (file, family, style) of every face fontconfig lists under ``env``."""
    assert shutil.which("fc-list"), "fontconfig's fc-list is part of the setup (tools/setup.sh)"
    out = subprocess.run(
        ["fc-list", "--format=%{file}|%{family[0]}|%{style[0]}\n"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return {tuple(line.split("|")) for line in out.stdout.splitlines()}  # type: ignore[misc]


def render_pdfs(fonts_conf: Path | None) -> dict[str, bytes]:
    """Return the seed set's PDFs made by a fresh LibreOffice under the current environment."""
    contract = parse(load_data(SAMPLES / "seed.yaml"), "seed.yaml")
    with ConverterPool(1, fonts_conf=fonts_conf) as pool:
        made = render_set(contract, formats=("pdf",), converter=pool)
    return {name: data for name, data in made.files().items() if name.endswith(".pdf")}


def test_fonts_conf_shows_only_the_declared_fonts(extra_fonts_env: dict[str, str]) -> None:
    host = dict(os.environ)
    host.pop("FONTCONFIG_FILE", None)
    families = {family for _, family, _ in fc_list(host | extra_fonts_env)}
    assert {"SimSun", "Times New Roman", "Contractgen Spare"} <= families, "fonts not installed"

    ours = dict(os.environ, FONTCONFIG_FILE=str(FONTS_CONF))
    assert fc_list(ours) == DECLARED
    assert fc_list(ours | extra_fonts_env) == DECLARED


def test_extra_host_fonts_change_no_byte(
    extra_fonts_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = render_pdfs(FONTS_CONF)
    for key, value in extra_fonts_env.items():
        monkeypatch.setenv(key, value)
    after = render_pdfs(FONTS_CONF)

    assert len(before) == 5
    assert after.keys() == before.keys()
    changed = [name for name in before if after[name] != before[name]]
    assert changed == []


def test_unrestricted_fontconfig_lets_extra_fonts_change_bytes(
    spare_font_env: dict[str, str], open_fonts_conf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With the host's configuration included, as before, one more font that no page
    # uses changes the bytes (as fonts-urw-base35 did), or the test above proves nothing.
    before = render_pdfs(open_fonts_conf)
    for key, value in spare_font_env.items():
        monkeypatch.setenv(key, value)
    after = render_pdfs(open_fonts_conf)

    assert after.keys() == before.keys()
    changed = [name for name in before if after[name] != before[name]]
    assert changed, "an extra host font no longer reaches an unrestricted LibreOffice"
