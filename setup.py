"""The optional compiled MinHash (dedup/_minhash.c); everything else is in pyproject.toml.

`optional=True`: without a C compiler the install still succeeds, with a warning, and
dedup.minhash runs its numpy path (same outputs, several times slower).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("dedup._minhash", ["dedup/_minhash.c"], optional=True)])
