"""Build the optional C loop of generator/pdf/_eexec.c; everything else is in pyproject.toml.

Optional: without a C compiler the package installs without it, and generator/pdf/type1.py
uses its Python loop (the same bytes, some 40 ms more per contract set).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("generator.pdf._eexec", ["generator/pdf/_eexec.c"], optional=True)])
