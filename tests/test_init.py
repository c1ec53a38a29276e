"""`cxlab init`, `--project`, and the templates and defaults shipped inside the package."""

from __future__ import annotations

import glob
import re
import subprocess
import tomllib
from importlib.resources import files
from pathlib import Path

import pandas as pd
import pytest

from cxlab.cli import main
from cxlab.project import is_starter_file, package_dir, report_template

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "cxlab"
STARTER = ("codebook", "sources", "org", "targets", "alerts", "scorecard", "text")


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "bank"
    assert main(["init", str(root)]) == 0
    return root


def _tiny_export(path: Path, rows: int = 12, prefix: str = "r") -> Path:
    """A CSV export in codebook terms for the starter codebook (the `generic` source), with a
    personal-data column that must not load."""
    branches = ["SH01", "HZ01", "北京分公司"]  # codes or names of the starter org.yaml
    sat = ["非常满意", "满意", "一般", "不满意", "非常不满意"]
    pd.DataFrame({
        "response_id": [f"{prefix}{i}" for i in range(rows)],
        "branch": [branches[i % 3] for i in range(rows)],
        "submitted_at": ["2026-08-01 10:00:00"] * rows,
        "ltr": [(i * 7) % 11 for i in range(rows)],
        "csat": [sat[i % 5] for i in range(rows)],
        "attr_quality": [5 - i % 5 for i in range(rows)],
        "attr_price": [sat[(i + 1) % 5] for i in range(rows)],
        "attr_staff": [4] * rows,
        "attr_speed": [3] * rows,
        "attr_resolution": [1 + i % 5 for i in range(rows)],
        "comment": ["服务态度很好"] * rows,
        "contact_phone": ["13800000000"] * rows,
    }).to_csv(path, index=False)
    return path


# --------------------------------------------------------------------------- init
def test_init_creates_the_project_tree_and_no_data(tmp_path, capsys):
    project = tmp_path / "bank"
    assert main(["init", str(project)]) == 0
    out = capsys.readouterr().out
    assert "created cxlab project" in out and "cxlab draft" in out
    for rel in ["Makefile", "README.md", ".gitignore", *(f"params/{n}.yaml" for n in STARTER),
                "notebooks/templates/company_report.ipynb",
                "notebooks/templates/branch_report.ipynb"]:
        assert (project / rel).is_file(), rel
    exploratory = sorted(p.name for p in (project / "notebooks" / "exploratory").glob("*.ipynb"))
    assert exploratory == sorted(p.name for p in package_dir("notebooks/exploratory").glob("*.ipynb"))
    assert len(exploratory) >= 5
    # the copies are the package's files, byte for byte
    for name in ("company_report.ipynb", "branch_report.ipynb"):
        assert ((project / "notebooks" / "templates" / name).read_bytes()
                == (package_dir("notebooks/templates") / name).read_bytes())
    # no data: data/raw/ exists and is empty; no warehouse, no reports
    assert (project / "data" / "raw").is_dir() and not any((project / "data" / "raw").iterdir())
    assert sorted(p.name for p in (project / "data").iterdir()) == ["raw"]
    assert not (project / "reports").exists()
    assert "/data/" in (project / ".gitignore").read_text(encoding="utf-8").split()


def test_readme_and_makefile_document_the_four_commands(project):
    readme = (project / "README.md").read_text(encoding="utf-8")
    for cmd in ["cxlab init bank && cd bank", "cxlab draft export.xlsx",
                "cxlab ingest export.xlsx", "cxlab reports", "--project"]:
        assert cmd in readme, cmd
    assert "客户体验" in readme and "English" in readme
    make = (project / "Makefile").read_text(encoding="utf-8")
    assert "CXLAB  ?= cxlab" in make and ".venv" not in make  # the cxlab on PATH
    out = subprocess.run(["make", "-s"], cwd=project, capture_output=True, text=True,
                         check=True).stdout
    for target in ["help", "setup", "ingest", "reports", "report", "lab", "clean"]:
        assert re.search(rf"^\s+{target}\s+\S", out, re.M), f"`make` does not list {target}"
    # ingest without exports says what to do, in one line
    run = subprocess.run(["make", "-s", "ingest", "CXLAB=true"], cwd=project,
                         capture_output=True, text=True)
    assert run.returncode != 0 and "no exports in data/raw/" in run.stderr


def test_starter_params_validate_together(project):
    from cxlab.config import load_codebook, load_org, load_params, load_targets
    from cxlab.io import load_sources
    from cxlab.ops import AlertRules, ScorecardRules
    from cxlab.text import load_taxonomy

    p = project / "params"
    cb = load_codebook(p / "codebook.yaml")
    assert (cb.nps_item, cb.csat_item, cb.outcome_item, cb.comment_item) == (
        "ltr", "csat", "ltr", "comment")
    assert len(cb.attribute_items) >= 3 and cb.pii_items  # PII items are declared, never loaded
    org = load_org(p / "org.yaml")
    assert len(org.branch_codes) >= 2
    targets = load_targets(p / "targets.yaml")
    load_sources(p / "sources.yaml", codebook=cb)
    rules = load_params(p / "alerts.yaml", AlertRules)
    for rule in rules.rules:  # a threshold left empty must find its target
        if rule.kind == "below_target" and rule.threshold is None:
            targets.kpi(rule.metric)
    load_params(p / "scorecard.yaml", ScorecardRules)
    assert load_taxonomy(p / "text.yaml").themes
    # untouched starter files may be replaced by `cxlab draft`; an edited one may not
    assert all(is_starter_file(p / f"{stem}.yaml") for stem in STARTER)
    (p / "org.yaml").write_text((p / "org.yaml").read_text(encoding="utf-8") + "#\n",
                                encoding="utf-8")
    assert not is_starter_file(p / "org.yaml")
    assert not is_starter_file(ROOT / "params" / "codebook.yaml")  # the repository's own


def test_non_empty_folder_needs_force(tmp_path, capsys):
    root = tmp_path / "team"
    root.mkdir()
    (root / "notes.txt").write_text("ours", encoding="utf-8")
    assert main(["init", str(root)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not empty" in err and "--force" in err
    assert sorted(p.name for p in root.iterdir()) == ["notes.txt"]  # nothing written

    assert main(["init", str(root), "--force"]) == 0
    assert (root / "params" / "codebook.yaml").is_file()
    assert (root / "notes.txt").read_text(encoding="utf-8") == "ours"  # other files kept
    # --force again restores an edited starter file
    (root / "params" / "org.yaml").write_text("edited", encoding="utf-8")
    assert main(["init", str(root), "--force"]) == 0
    assert (root / "params" / "org.yaml").read_bytes() == (
        package_dir("project_template/params") / "org.yaml").read_bytes()

    file = tmp_path / "a_file"
    file.write_text("x", encoding="utf-8")
    assert main(["init", str(file)]) == 1
    assert "not a folder" in capsys.readouterr().err
    assert main(["init", str(tmp_path / "empty_ok")]) == 0  # a new folder needs no --force


# --------------------------------------------------------------------------- package resources
def _package_data_matches() -> set[str]:
    """Files of cxlab/ that setuptools ships by [tool.setuptools.package-data] (its patterns are
    globs relative to the package folder, `**` recursive)."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = meta["tool"]["setuptools"]["package-data"]["cxlab"]
    out: set[str] = set()
    for pattern in patterns:
        out |= {Path(m).as_posix() for m in glob.glob(pattern, root_dir=PACKAGE, recursive=True)}
    return out


def test_every_non_python_file_of_the_package_is_package_data():
    shipped = _package_data_matches()
    data_files = sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*")
                        if p.is_file() and p.suffix not in {".py", ".pyc"}
                        and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts)
    assert any(f.startswith("project_template/params/") for f in data_files)
    missing = [f for f in data_files if f not in shipped]
    assert not missing, f"not in pyproject package-data (a wheel would lack them): {missing}"


def test_templates_and_defaults_load_through_importlib_resources():
    import nbformat

    from cxlab.config import load_codebook

    base = files("cxlab")
    for name in ("company_report.ipynb", "branch_report.ipynb"):
        res = base / "notebooks" / "templates" / name
        nb = nbformat.reads(res.read_text(encoding="utf-8"), as_version=4)
        assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells)
    for stem in STARTER:
        assert (base / "project_template" / "params" / f"{stem}.yaml").is_file(), stem
    for name in ("Makefile", "README.md", "gitignore"):
        assert (base / "project_template" / name).is_file(), name
    assert load_codebook(Path(str(base / "project_template" / "params" / "codebook.yaml"))).items
    # the repository keeps no second copy of the report templates
    assert not (ROOT / "notebooks" / "templates").exists()


# --------------------------------------------------------------------------- --project
def test_ingest_with_project_from_another_folder(project, tmp_path, monkeypatch, capsys):
    from cxlab.io import load_responses

    elsewhere = tmp_path / "downloads"
    elsewhere.mkdir()
    _tiny_export(elsewhere / "survey_2026Q3.csv")
    monkeypatch.chdir(elsewhere)
    # the export's path is relative to where the command is typed; the warehouse is the project's
    assert main(["--project", str(project), "ingest", "survey_2026Q3.csv"]) == 0
    assert "12" in capsys.readouterr().out
    assert not (elsewhere / "data").exists()
    frame = load_responses(project / "data" / "warehouse")
    assert len(frame) == 12 and set(frame["period"].astype(str)) == {"2026Q3"}
    assert set(frame["branch"].astype(str)) == {"SH01", "HZ01", "BJ01"}
    assert "contact_phone" not in frame.columns
    assert frame["csat"].max() == 5

    # the option is accepted after the subcommand too
    monkeypatch.chdir(elsewhere)
    _tiny_export(elsewhere / "more_2026Q2.csv", rows=6, prefix="q2-")
    assert main(["ingest", "more_2026Q2.csv", "--project", str(project)]) == 0
    frame = load_responses(project / "data" / "warehouse", period="2026Q2")
    assert len(frame) == 6

    # from a sub-folder of the project, without --project
    _tiny_export(elsewhere / "late.csv", rows=6, prefix="q1-")
    monkeypatch.chdir(project / "notebooks" / "exploratory")
    assert main(["ingest", str(elsewhere / "late.csv"), "--period", "2026Q1"]) == 0
    assert len(load_responses(project / "data" / "warehouse", period="2026Q1")) == 6
    assert not (project / "notebooks" / "exploratory" / "data").exists()


def test_a_folder_that_is_not_a_project_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    plain = tmp_path / "plain"
    plain.mkdir()
    assert main(["--project", str(plain), "ingest", "x.csv"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{plain}: not a cxlab project (no params/codebook.yaml)" in err
    assert f"cxlab init {plain}" in err

    monkeypatch.chdir(plain)
    assert main(["reports"]) == 1
    err = capsys.readouterr().err
    assert "not a cxlab project" in err and "cxlab init" in err

    assert main(["--project", str(tmp_path / "nope"), "reports"]) == 1
    assert "no such folder" in capsys.readouterr().err


# --------------------------------------------------------------------------- report templates
def test_runner_uses_the_project_template_else_the_package(project, monkeypatch):
    from cxlab.report._runner import plan_jobs

    monkeypatch.chdir(project)
    shipped = package_dir("notebooks/templates")
    kw = dict(periods=["2026Q3"], branches=["SH01"], warehouse=Path("data/warehouse"),
              output_dir=Path("reports"))
    # the project's own copies (written by init) win
    jobs = plan_jobs(**kw)
    assert [j.template for j in jobs] == [Path("notebooks/templates/company_report.ipynb"),
                                          Path("notebooks/templates/branch_report.ipynb")]
    # without them, the package's; per file
    (project / "notebooks" / "templates" / "branch_report.ipynb").unlink()
    jobs = plan_jobs(**kw)
    assert jobs[0].template == Path("notebooks/templates/company_report.ipynb")
    assert jobs[1].template == shipped / "branch_report.ipynb"
    assert report_template("company_report.ipynb", project=ROOT) == shipped / "company_report.ipynb"
    # an explicit folder is used as given
    assert plan_jobs(**kw, templates_dir=Path("tpl"))[0].template == Path("tpl/company_report.ipynb")


def test_a_subcommand_with_its_own_project_option(project, tmp_path, monkeypatch):
    """A subcommand that declares `--project` itself (default ".") resolves the same way."""
    import argparse
    import os

    from cxlab.project import add_project_option, enter_project

    p = argparse.ArgumentParser()
    p.add_argument("--project", type=Path, default=None)
    sub = p.add_subparsers(dest="command")
    s = sub.add_parser("draft")
    s.add_argument("exports", nargs="+", type=Path)
    s.add_argument("--project", type=Path, default=Path("."))
    s = sub.add_parser("other")
    s.add_argument("--out", type=Path, default=Path("data/out"))
    add_project_option(p)  # keeps draft's own option, adds one to `other`

    monkeypatch.chdir(tmp_path)  # beside the project, not in it
    args = p.parse_args(["draft", "x.xlsx", "--project", "bank"])
    assert enter_project(p, args) == project.resolve() == args.project
    assert Path(os.getcwd()) == project.resolve()
    assert args.exports == [tmp_path / "x.xlsx"]  # still the file named where typed

    monkeypatch.chdir(project / "notebooks")  # default ".": the project above
    args = p.parse_args(["draft", "y.xlsx"])
    assert enter_project(p, args) == project.resolve()
    assert args.exports == [project / "notebooks" / "y.xlsx"]

    monkeypatch.chdir(tmp_path)
    args = p.parse_args(["other", "--project", str(project)])
    assert enter_project(p, args) == project.resolve()
    assert args.out == Path("data/out")  # a default refers to the project
    args = p.parse_args(["other", "--out", "mine", "--project", str(project)])
    monkeypatch.chdir(tmp_path)
    enter_project(p, args)
    assert args.out == tmp_path / "mine"


def test_sample_data_is_refused_on_the_starter_codebook(project, monkeypatch, capsys):
    """The generator simulates the sample questionnaire; on another codebook it says so in one
    line (it used to fail with a KeyError traceback) and writes nothing."""
    monkeypatch.chdir(project)
    assert main(["sample-data", "--out", "data/raw"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sample questionnaire" in err and "--codebook" in err
    assert not any((project / "data" / "raw").iterdir())
