"""Sphinx configuration of brianlearn's documentation (``sphinx-build -W docs docs/_build/html``)."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "_ext"))

import brianlearn  # noqa: E402
from offline_inventories import write_inventories  # noqa: E402

project = "brianlearn"
author = "the brianlearn developers"
copyright = "2026, the brianlearn developers"
release = version = brianlearn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "gallery",  # docs/_ext/gallery.py: the results gallery from figures/results/*.json
]

exclude_patterns = ["_build", "generated/*.inc"]
default_role = "py:obj"
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# intersphinx without a network: inventories written from the installed packages
intersphinx_mapping = write_inventories(os.path.join(HERE, "_build", "inventories"))

# tutorials compile networks: their own build cache, so a docs build never touches the user's
os.environ.setdefault("BRIANLEARN_CACHE", os.path.join(HERE, "_build", "build-cache"))

html_theme = "alabaster"
html_static_path = []
html_title = f"brianlearn {release}"
