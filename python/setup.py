# setuptools only, no pyproject.toml: pip then builds in place with the
# setuptools already installed (no build isolation, nothing downloaded).
from setuptools import setup

setup()
