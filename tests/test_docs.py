"""The documentation's sources: every public name has an API page, the gallery shows every stored
section, and every page the docs name exists. (The Sphinx build itself, with its executed tutorials,
runs in ``.ci/run`` with ``-W``.)"""

import os
import re
import sys

import pytest

import brianlearn
from brianlearn.results import load_sections, section_figures

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")


def _ext(name):
    """A module of docs/_ext (the documentation's Sphinx extensions)."""
    import importlib

    sys.path.insert(0, os.path.join(DOCS, "_ext"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.pop(0)


def _autosummary_names():
    text = open(os.path.join(DOCS, "api.rst")).read()
    names = set()
    for block in re.findall(r"\.\. autosummary::\n(?:   :[^\n]*\n)*\n((?:   \S[^\n]*\n)+)", text):
        names.update(line.strip() for line in block.splitlines())
    return names


def test_every_public_name_has_an_api_page():
    listed = _autosummary_names()
    public = set(brianlearn.__all__) - {"__version__"}
    assert public - listed == set(), f"public names without an API page: {sorted(public - listed)}"
    assert listed - public - {"models.use_models"} == set(), "api.rst lists names brianlearn does not export"


def test_gallery_has_every_section_with_its_figures(tmp_path):
    text = open(_ext("gallery").write_gallery(str(tmp_path / "gallery.rst"))).read()
    sections = load_sections(os.path.join(ROOT, "figures"))
    assert len(sections) >= 10
    for sec in sections:
        assert sec["title"] in text
        for fig in section_figures(sec):
            assert f".. image:: /../figures/{fig}" in text
            assert os.path.exists(os.path.join(ROOT, "figures", fig)), f"{sec['section']}: missing figure {fig}"


def test_results_sections_named_in_pages_exist():
    known = {sec["section"] for sec in load_sections(os.path.join(ROOT, "figures"))}
    named = set()
    for folder, _, files in os.walk(DOCS):
        if "_build" in folder:
            continue
        for name in files:
            if name.endswith(".rst"):
                for line in re.findall(r"^\.\. results:: (.+)$", open(os.path.join(folder, name)).read(), re.M):
                    named.update(line.split())
    assert named and named <= known, f"unknown sections: {sorted(named - known)}"
    assert known - named == set(), f"sections no system page shows: {sorted(known - named)}"


def test_offline_inventories_resolve_names(tmp_path):
    pytest.importorskip("sphinx")
    from sphinx.util.inventory import InventoryFile

    mapping = _ext("offline_inventories").write_inventories(str(tmp_path))

    def uri(project, name):
        with open(mapping[project][1], "rb") as f:
            inv = InventoryFile.load(f, mapping[project][0], os.path.join)
        item = getattr(inv, "data", inv)["py:class"][name]
        return item.uri if hasattr(item, "uri") else item[2]

    assert uri("sklearn", "sklearn.decomposition.SparseCoder") == ("https://scikit-learn.org/stable/modules/generated/sklearn.decomposition.SparseCoder.html"
                   "#sklearn.decomposition.SparseCoder")
    assert uri("brian2", "brian2.NeuronGroup").endswith("reference/brian2.groups.neurongroup.NeuronGroup.html#brian2.groups.neurongroup.NeuronGroup")
