"""A tiny warehouse and a pair of tiny report templates, for the executor benchmark and the
Dask executor test (they exercise the runner, not the analyses)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["BRANCHES", "write_templates", "write_tiny_params", "write_tiny_warehouse"]

BRANCHES = ("SH01", "HZ01", "NJ01", "SU01", "GZ01", "SZ01", "XM01", "BJ01", "TJ01", "JN01")

_CODE = """\
from pathlib import Path
import pandas as pd
parts = sorted(Path(warehouse, "responses", f"period={period}").rglob("*.parquet"))
if branch:
    parts = [p for p in parts if f"branch={branch}" in p.as_posix()]
frame = pd.concat([pd.read_parquet(p, columns=["ltr"]) for p in parts])
nps = 100 * ((frame["ltr"] >= 9).mean() - (frame["ltr"] <= 6).mean())
print(f"TINY-REPORT {period} {branch or 'ALL'} n={len(frame)} nps={nps:.1f}")
"""


def write_templates(folder: Path) -> Path:
    """``company_report.ipynb`` and ``branch_report.ipynb`` (same content) in ``folder``."""
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        'period = None\nbranch = None\nwarehouse = "data/warehouse"\nparams_dir = "params"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# 测试报告"), params,
                nbformat.v4.new_code_cell(_CODE)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    for name in ("company_report.ipynb", "branch_report.ipynb"):
        nbformat.write(nb, folder / name)
    return folder


def write_tiny_params(folder: Path) -> Path:
    """The sample's ``params/`` without ``weighting.yaml``: the tiny warehouse has no customer
    table to weight to (the tiny templates use no weights)."""
    import shutil

    root = Path(__file__).resolve().parents[1] / "params"
    folder.mkdir(parents=True, exist_ok=True)
    for f in root.glob("*.yaml"):
        if f.name != "weighting.yaml":
            shutil.copy(f, folder / f.name)
    return folder


def write_tiny_warehouse(root: Path, rows: int = 2_000, seed: int = 0) -> Path:
    """Responses in the warehouse layout for 4 periods × the 10 branches of params/org.yaml."""
    from bench.aggregate import write_warehouse

    return write_warehouse(root, rows, seed=seed, branches=BRANCHES)
