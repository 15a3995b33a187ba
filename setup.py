"""Build the optional C loops of generator/pdf/ (_eexec.c, _content.c) and ship the built-in
kinds; the rest is in pyproject.toml.

Optional: without a C compiler the package installs without it, and generator/pdf/type1.py
uses its Python loop (the same bytes, some 40 ms more per contract set) and pikepdf's
content-stream parser (the same codes, some 90 ms more).

The built-in contract kinds live in the checkout's top-level ``templates/`` (one folder per
kind); a wheel carries them as ``generator/kinds/builtin/``, where the package looks first.
"""

import shutil
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

#: the files of a kind folder a wheel carries (the template sources stay in the checkout)
KIND_FILES = ("kind.yaml", "*.docx", "*.yaml", "CONTEXT.md")


class BuildWithKinds(build_py):
    """Copy templates/<kind>/ into the built package as generator/kinds/builtin/<kind>/."""

    def run(self) -> None:
        super().run()
        source = Path(__file__).resolve().parent / "templates"
        target = Path(self.build_lib) / "generator" / "kinds" / "builtin"
        for folder in sorted(p for p in source.iterdir() if (p / "kind.yaml").is_file()):
            into = target / folder.name
            into.mkdir(parents=True, exist_ok=True)
            for pattern in KIND_FILES:
                for path in sorted(folder.glob(pattern)):
                    shutil.copyfile(path, into / path.name)


setup(
    ext_modules=[
        Extension("generator.pdf._eexec", ["generator/pdf/_eexec.c"], optional=True),
        Extension("generator.pdf._content", ["generator/pdf/_content.c"], optional=True),
    ],
    cmdclass={"build_py": BuildWithKinds},
)
