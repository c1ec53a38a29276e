"""Project hygiene: environment.yml mirrors pyproject.toml, `make` documents every target,
notebooks are committed without outputs, the CLI answers."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
REQ = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$")


def _parse(spec: str) -> tuple[str, str]:
    name, rest = REQ.match(spec).groups()
    return name.lower().replace("_", "-"), rest.replace(" ", "")


def _pyproject_requirements() -> dict[str, str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = meta["dependencies"] + meta["optional-dependencies"]["dev"]
    return dict(_parse(s) for s in specs)


def _conda_requirements() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            name, bound = _parse(dep)
            if name not in {"python", "pip"}:
                out[name] = bound
    return out


def test_environment_yml_mirrors_pyproject():
    py, conda = _pyproject_requirements(), _conda_requirements()
    assert py, "no requirements parsed from pyproject.toml"
    missing = sorted(set(py) - set(conda))
    extra = sorted(set(conda) - set(py))
    differ = sorted(n for n in set(py) & set(conda) if py[n] != conda[n])
    assert not missing and not extra and not differ, (
        f"environment.yml out of sync with pyproject.toml: missing {missing}, extra {extra}, "
        f"different bounds {[(n, py[n], conda[n]) for n in differ]}"
    )


def test_every_dependency_has_a_lower_bound():
    for name, bound in _pyproject_requirements().items():
        assert bound.startswith(">="), f"{name} has no lower bound in pyproject.toml"


def test_make_help_lists_every_target():
    out = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    for target in ["setup", "data", "ingest", "reports", "report", "lab", "test", "lint",
                   "bench", "clean"]:
        assert re.search(rf"^\s+{target}\s+\S", out, re.M), f"`make help` does not list {target}"


def test_notebooks_committed_without_outputs():
    notebooks = sorted((ROOT / "cxlab" / "notebooks").rglob("*.ipynb"))
    notebooks = [p for p in notebooks if ".ipynb_checkpoints" not in p.parts]
    assert len(notebooks) >= 7, "the report templates and exploratory notebooks were not found"
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs") and not cell.get("execution_count"), (
                    f"{path.relative_to(ROOT)} has outputs; strip them before committing"
                )


def test_cli_version_and_usage_error():
    ok = subprocess.run([sys.executable, "-m", "cxlab", "--version"], capture_output=True,
                        text=True, cwd=ROOT)
    assert ok.returncode == 0 and ok.stdout.startswith("cxlab ")
    bad = subprocess.run([sys.executable, "-m", "cxlab", "ingest"], capture_output=True,
                         text=True, cwd=ROOT)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr


def test_ci_script_runs_make_test_and_refuses_empty_runs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci
    deps = (ROOT / "scripts" / "system-deps.sh").read_text(encoding="utf-8")
    assert "system-deps.sh" in ci
    assert "apt-get update" in deps and "apt-get install -y" in deps
    assert "passed" in ci  # a run whose pytest passed nothing fails


def test_every_imported_package_is_a_declared_dependency():
    """A fresh clone installs only what pyproject declares: an undeclared import breaks it."""
    from importlib.metadata import packages_distributions

    dists = packages_distributions()
    declared = set(_pyproject_requirements())
    runtime = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    runtime = {_parse(s)[0] for s in runtime["project"]["dependencies"]}
    pattern = re.compile(r"^\s*(?:import|from)\s+([A-Za-z_]\w*)", re.M)
    local = {"cxlab", "bench", "conftest"} | {p.stem for p in (ROOT / "tests").rglob("*.py")}
    # `make bench` and `make test` run after `make setup`, which installs the dev extra too
    for folder, allowed in (("cxlab", runtime), ("bench", declared), ("tests", declared)):
        modules = set()
        for path in (ROOT / folder).rglob("*.py"):
            modules |= set(pattern.findall(path.read_text(encoding="utf-8")))
        third_party = {m for m in modules if m not in sys.stdlib_module_names
                       and m not in local}
        for module in sorted(third_party):
            names = {d.lower().replace("_", "-") for d in dists.get(module, [])}
            assert names & allowed, f"{folder}/ imports {module!r} but pyproject does not declare it"
