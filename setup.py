# Everything is in pyproject.toml. This file is here for `scrapyd-deploy`, which builds the
# egg with `python setup.py bdist_egg` (and would otherwise write a setup.py of its own).
from setuptools import setup

setup()
