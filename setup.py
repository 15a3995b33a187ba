"""Build the optional C loop of generator/_eexec.c; everything else is in pyproject.toml.

Optional: without a C compiler the package installs without it, and pdfdoc uses its
Python loop (the same bytes, about 45 ms more per contract set).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("generator._eexec", ["generator/_eexec.c"], optional=True)])
