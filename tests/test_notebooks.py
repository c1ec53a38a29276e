"""Exploratory notebooks (notebooks/exploratory): committed clean, and each runs top to bottom
on the sample warehouse with papermill, producing its tables and figures."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXPLORATORY = ROOT / "cxlab" / "notebooks" / "exploratory"

# notebook -> (extra papermill parameters, strings that must appear in an HTML table output,
#              minimum number of figures)
EXPECTED = {
    "01_nps_deep_dive": ({}, ["ci_low", "adjusted_wald", "bootstrap", "significant", "detractor", "current_mix"], 2),
    "02_key_drivers": ({"n_boot": 50}, ["share_ci_low", "vif", "johnson", "pratt", "genizi"], 1),
    "03_kano": ({}, ["fong_significant", "functional_mean", "better", "customer_type"], 2),
    "04_ipa": ({}, ["主要问题", "次要问题", "concentrate_here", "lmg / median"], 2),
    "05_voice_of_customer": ({}, ["theme_name", "example_1", "value_segment", "churn_rate", "top_terms"], 2),
}


def _notebooks() -> list[Path]:
    return sorted(EXPLORATORY.glob("*.ipynb"))


def _code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def test_every_exploratory_notebook_is_covered():
    assert sorted(p.stem for p in _notebooks()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_committed_clean_and_parameterised(name):
    path = EXPLORATORY / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"

    code = _code_cells(nb)
    for cell in code:
        assert cell.outputs == [], f"{name}: committed with outputs: {cell.source[:60]!r}"
        assert cell.execution_count is None, f"{name}: committed with an execution count"
    assert not any(c.cell_type == "markdown" and c.get("attachments") for c in nb.cells)

    # the first code cell is the papermill parameters cell: literals only, no `|` annotations,
    # no `=` inside comments (papermill's parser would misread them)
    params = code[0]
    assert "parameters" in params.metadata.get("tags", [])
    assert "|" not in params.source
    for line in params.source.splitlines():
        if "#" in line:
            assert "=" not in line.split("#", 1)[1], f"{name}: '=' in a parameters comment: {line!r}"
    tree = ast.parse(params.source)
    assigned = {}
    for node in tree.body:
        assert isinstance(node, ast.AnnAssign | ast.Assign), f"{name}: parameters cell holds more than literals"
        target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
        assigned[target.id] = ast.literal_eval(node.value)
    assert assigned["warehouse"] == "data/warehouse"
    assert assigned["period"] == "2026Q3"

    # notebooks hold calls into cxlab, not functions or classes; style set first
    for cell in code:
        assert not re.search(r"^\s*(def|class)\s", cell.source, flags=re.M), f"{name}: def/class in a cell"
    assert "cxlab.plots.set_style()" in code[1].source
    # narrative in Chinese
    assert any(c.cell_type == "markdown" and re.search(r"[\u4e00-\u9fff]", c.source) for c in nb.cells)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs_on_sample_warehouse(name, sample_warehouse, tmp_path):
    import papermill as pm

    extra, expected_strings, min_figures = EXPECTED[name]
    out = tmp_path / f"{name}.ipynb"
    pm.execute_notebook(
        str(EXPLORATORY / f"{name}.ipynb"),
        str(out),
        parameters={"warehouse": str(sample_warehouse), **extra},
        kernel_name="python3",
        cwd=str(ROOT),
        progress_bar=False,
        execution_timeout=300,
    )
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in _code_cells(nb) for o in c.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, f"{name}: {errors[0].ename}: {errors[0].evalue}"
    assert all(c.execution_count is not None for c in _code_cells(nb)), f"{name}: a cell did not run"

    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(figures) >= min_figures, f"{name}: {len(figures)} figure(s), expected ≥ {min_figures}"
    html = "\n".join(o.data["text/html"] for o in outputs if "text/html" in o.get("data", {}))
    assert "<table" in html
    missing = [s for s in expected_strings if s not in html]
    assert not missing, f"{name}: missing in table outputs: {missing}"
    # the injected warehouse was used (nothing read from the default data/warehouse)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and str(sample_warehouse) in injected[0].source
