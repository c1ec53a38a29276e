"""Render parameterised report notebooks: one job per period × (company | region | branch).

Jobs run in a process pool (or on a Dask cluster); each executes its template with papermill
through the Python API, converts the result to HTML in-process and to PDF with WeasyPrint, and
moves every file into place atomically. A job is skipped when the fingerprint of everything it
depends on (template, parameters, params/, cxlab's code, its data partitions) is unchanged.

A region report is rendered for every grouping unit of the organisation (a unit with sub-units,
at any depth) from ``region_report.ipynb``; it depends on the partitions of the branches below
it and on the company aggregates.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from cxlab.errors import CxlabError
from cxlab.report._kernels import ENGINE, WarmKernel, register_engine, warm_kernels_enabled

__all__ = [
    "COMPANY", "ReportJob", "RunSummary", "fingerprint", "plan_jobs", "region_scopes", "render",
    "render_all",
]

#: Branch code used for the company-wide report (file name and ``BRANCH=ALL``).
COMPANY = "ALL"
STATE_FILE = ".cxlab-state.json"
KERNEL_NAME = "python3"
#: Errors raised while a kernel starts that are worth a retry (papermill issue #511: port races).
_RETRYABLE = ("Kernel died", "kernel_info", "Address already in use", "didn't respond",
              "Kernel didn't", "Timeout waiting", "ZMQError")
MAX_ATTEMPTS = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportJob:
    """One report to render: the company report (``branch`` and ``unit`` None), a branch
    report (``branch``) or a region report (``unit``, reading the partitions of ``scope``)."""

    period: str
    branch: str | None  # None = company or region report
    template: Path
    output_dir: Path
    warehouse: Path
    params_dir: Path = Path("params")
    formats: tuple[str, ...] = ("html", "pdf")
    unit: str | None = None  # a grouping unit's code: region report
    scope: tuple[str, ...] = ()  # the branches below ``unit``

    @property
    def name(self) -> str:
        return self.unit or self.branch or COMPANY

    @property
    def key(self) -> str:
        return f"{self.period}/{self.name}"

    def path(self, fmt: str) -> Path:
        return self.output_dir / self.period / f"{self.name}.{fmt}"

    @property
    def data_scope(self) -> str | tuple[str, ...] | None:
        """What :func:`data_inputs` reads for this job (None: everything)."""
        return self.scope if self.unit is not None else self.branch

    @property
    def parameters(self) -> dict:
        if self.unit is not None:
            return {"period": self.period, "unit": self.unit, "warehouse": str(self.warehouse),
                    "params_dir": str(self.params_dir)}
        return {
            "period": self.period,
            "branch": self.branch,
            "warehouse": str(self.warehouse),
            "params_dir": str(self.params_dir),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSummary:
    """What a run did: rendered and skipped report keys, and failures with their reason."""

    rendered: list[str] = field(default_factory=list)
    skipped_unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    index: Path | None = None

    def summary(self) -> str:
        total = len(self.rendered) + len(self.skipped_unchanged) + len(self.failed)
        lines = []
        if not self.rendered and not self.failed and self.skipped_unchanged:
            lines.append(f"Nothing changed: all {total} reports are up to date "
                         "(use --force to re-render).")
        else:
            lines.append(
                f"Rendered {len(self.rendered)}, unchanged {len(self.skipped_unchanged)}, "
                f"failed {len(self.failed)} of {total} reports in {self.seconds:.1f} s."
            )
        for key, why in self.failed:
            lines.append(f"  FAILED {key}: {why}")
        if self.index:
            lines.append(f"Index: {self.index}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from html import escape

        return "<pre>" + escape(self.summary()) + "</pre>"


# --------------------------------------------------------------------------- fingerprints
_FILE_HASHES: dict[tuple[str, int, int], str] = {}


def _file_hash(path: Path) -> str:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _FILE_HASHES:
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        _FILE_HASHES[key] = h.hexdigest()
    return _FILE_HASHES[key]


def _tree_hash(paths: Iterable[Path], root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(str(p.relative_to(root)).encode())
        h.update(_file_hash(p).encode())
    return h.hexdigest()


def _code_hash() -> str:
    """Hash of cxlab's own source and version: a code change re-renders every report."""
    import cxlab

    root = Path(cxlab.__file__).parent
    files = [p for p in root.rglob("*") if p.is_file() and p.suffix in {".py", ".j2", ".css",
                                                                       ".json", ".txt", ".yaml"}]
    return cxlab.__version__ + ":" + _tree_hash(files, root)


def data_inputs(warehouse: Path, branch: str | Sequence[str] | None) -> list[Path]:
    """The warehouse files a report depends on.

    A company report (``branch`` None) depends on everything. A branch report depends on the
    partitions of its own branch (``branch=<code>`` anywhere in the path) and on files that are
    not partitioned by branch (company aggregates, reference tables); never on another branch's
    partitions. A region report (``branch`` = the codes of its branches) depends on the
    partitions of those branches and the files not partitioned by branch.
    """
    warehouse = Path(warehouse)
    files = [p for p in warehouse.rglob("*.parquet")
             if p.is_file() and not p.name.startswith((".", "_"))]
    if branch is None:
        return files
    wanted = {f"branch={b}" for b in ([branch] if isinstance(branch, str) else branch)}
    out = []
    for p in files:
        parts = [s for s in p.relative_to(warehouse).parts if s.startswith("branch=")]
        if not parts or parts[0] in wanted:
            out.append(p)
    return out


def fingerprint(job: ReportJob, *, code_hash: str | None = None,
                inputs: Sequence[Path] | None = None) -> str:
    """Content hash of everything ``job``'s output depends on (``inputs``: the job's
    :func:`data_inputs`, when the caller has them already)."""
    h = hashlib.sha256()
    h.update(Path(job.template).read_bytes())
    h.update(json.dumps(job.parameters, sort_keys=True).encode())
    h.update(",".join(job.formats).encode())
    h.update((code_hash or _code_hash()).encode())
    params = sorted(Path(job.params_dir).glob("*.yaml"))
    h.update(_tree_hash(params, Path(job.params_dir)).encode())
    if inputs is None:
        inputs = data_inputs(job.warehouse, job.data_scope)
    h.update(_tree_hash(inputs, Path(job.warehouse)).encode())
    from cxlab.report._sections_cases import ledger_digest

    h.update(ledger_digest(job.warehouse, job.data_scope).encode())  # the case-ledger section
    return h.hexdigest()


def _load_state(output_dir: Path) -> dict[str, str]:
    try:
        return json.loads((output_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _save_state(output_dir: Path, state: dict[str, str]) -> None:
    from cxlab.report._export import atomic_write

    atomic_write(output_dir / STATE_FILE, json.dumps(state, sort_keys=True, indent=1))


# --------------------------------------------------------------------------- rendering
def _one_line(err: BaseException) -> str:
    """A one-line description of a failure (cell errors keep their exception name and value)."""
    ename = getattr(err, "ename", None)
    if ename:
        evalue = str(getattr(err, "evalue", "")).strip().splitlines()
        cell = getattr(err, "exec_count", None)
        where = f" in cell {cell}" if cell else ""
        return f"{ename}{where}: {evalue[0] if evalue else ''}".strip()
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}"


def _retryable(err: BaseException) -> bool:
    if getattr(err, "ename", None):  # an exception raised by the notebook's own code
        return False
    text = f"{type(err).__name__}: {err}"
    return any(marker in text for marker in _RETRYABLE)


#: ipykernel warns on every start that local TCP is unencrypted; reports need quiet logs.
#: Report kernels keep no IPython history database: nobody reads it, and parallel kernels
#: would contend for the one SQLite file.
_KERNEL_ARGS = ["--IPKernelApp.log_level=ERROR", "--HistoryManager.enabled=False"]


def _execute(template: Path, parameters: dict, *, cwd: Path, warm: WarmKernel | None = None):
    import papermill as pm

    common = dict(parameters=parameters, kernel_name=KERNEL_NAME, progress_bar=False,
                  log_output=False, request_save_on_cell_execute=False, cwd=str(cwd),
                  start_timeout=120)
    if warm is None:
        return pm.execute_notebook(str(template), None, shutdown_kernel="immediate",
                                   extra_arguments=_KERNEL_ARGS, **common)
    register_engine()
    try:  # papermill hands `km` to nbclient, which leaves a kernel it does not own running
        nb = pm.execute_notebook(str(template), None, engine_name=ENGINE, km=warm.manager(),
                                 **common)
    except BaseException:
        warm.discard()  # whatever state the failure left, the next report starts afresh
        raise
    warm.release()  # the kernel resets while this worker writes the HTML and PDF
    return nb


def render(template: str | Path, *, parameters: dict, output_dir: str | Path,
           formats: Sequence[str] = ("html", "pdf"), name: str | None = None,
           title: str | None = None, cwd: str | Path | None = None,
           kernel: WarmKernel | None = None) -> list[Path]:
    """Execute one template with ``parameters`` and write ``<name>.html`` / ``<name>.pdf``.

    Parameters
    ----------
    template : path of the ``.ipynb`` template (one cell tagged ``parameters``).
    parameters : values injected by papermill.
    output_dir : folder for the outputs.
    formats : any of ``"html"``, ``"pdf"``, ``"ipynb"``.
    name : output file stem (default: the template's stem).
    title : HTML page title.
    cwd : working directory of the kernel (default: the current one, the project root).
    kernel : a :class:`~cxlab.report._kernels.WarmKernel` to run in (reset to a fresh state
        first) instead of starting a new kernel.

    Returns
    -------
    list of Path
        The files written. Each is moved into place atomically, so a crash leaves either the
        previous file or the new one, never a partial file.
    """
    import nbformat

    from cxlab import __version__
    from cxlab.report._export import atomic_write, html_to_pdf, notebook_to_html

    bad = sorted(set(formats) - {"html", "pdf", "ipynb"})
    if bad:
        raise CxlabError(f"unknown report format(s) {bad} (allowed: html, pdf, ipynb)")
    template, output_dir = Path(template), Path(output_dir)
    name = name or template.stem
    cwd = Path(cwd) if cwd else Path.cwd()

    last: BaseException | None = None
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            nb = _execute(template, parameters, cwd=cwd, warm=kernel)
            break
        except Exception as err:  # noqa: BLE001 - classified below
            last = err
            if not _retryable(err) or attempt == MAX_ATTEMPTS:
                raise
            time.sleep(0.5 * attempt)
    else:  # pragma: no cover - loop always breaks or raises
        raise RuntimeError(str(last))

    written = []
    html = None
    _exporters_loaded()
    if "html" in formats or "pdf" in formats:
        html = notebook_to_html(nb, title=title or name, version=__version__)
    if "ipynb" in formats:
        written.append(atomic_write(output_dir / f"{name}.ipynb", nbformat.writes(nb)))
    if "html" in formats:
        written.append(atomic_write(output_dir / f"{name}.html", html))
    if "pdf" in formats:
        written.append(html_to_pdf(html, output_dir / f"{name}.pdf"))
    return written


def _title(job: ReportJob) -> str:
    try:
        from cxlab.config import load_org

        org = load_org(Path(job.params_dir) / "org.yaml")
        who = (org.name_of(job.unit) if job.unit is not None else
               org.company.name if job.branch is None else org.branch(job.branch).name)
    except (CxlabError, KeyError):
        who = job.name
    kind = ("区域客户体验报告" if job.unit is not None else
            "客户体验调研报告" if job.branch is None else "分支机构客户体验调研报告")
    return f"{who} {job.period} {kind}"


def _lean_worker(zygote: str | None = None) -> None:
    """Pool worker start-up: keep jsonschema from importing ``rfc3987_syntax``, which compiles
    a Lark grammar at import (≈ 2 s of CPU per process) for the ``iri`` string formats — no
    notebook schema uses them; papermill/nbformat import jsonschema in every worker. Note the
    run's kernel zygote, if any."""
    global _ZYGOTE
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    _ZYGOTE = zygote


#: address of the kernel zygote this pool worker forks its kernels from (None: none)
_ZYGOTE: str | None = None


#: the warm kernel of this pool worker process (see _run_job_warm)
_WORKER_KERNEL: WarmKernel | None = None
#: the thread that loads the HTML and PDF exporters while this worker's first kernel starts
_EXPORTERS: threading.Thread | None = None


def _run_job_warm(job: ReportJob, cwd: str) -> tuple[str, str | None, float]:
    """Pool worker entry point: like :func:`_run_job`, in this process's warm kernel (shut
    down when the worker exits)."""
    global _WORKER_KERNEL, _EXPORTERS
    if _WORKER_KERNEL is None or _WORKER_KERNEL.cwd != cwd:
        from multiprocessing.util import Finalize

        if _WORKER_KERNEL is not None:
            _WORKER_KERNEL.discard()
        _WORKER_KERNEL = WarmKernel(KERNEL_NAME, cwd=cwd, extra_arguments=_KERNEL_ARGS,
                                    zygote=_ZYGOTE)
        # pool workers leave through os._exit (no atexit): multiprocessing's finalizers run
        Finalize(_WORKER_KERNEL, _WORKER_KERNEL.discard, exitpriority=10)
    if _EXPORTERS is None:
        # A worker's first report waits for its kernel to start and import the analysis stack,
        # with the worker idle; nbconvert's and WeasyPrint's first use (imports, templates,
        # fonts, ≈ 1.5 s of CPU) is then done in that wait instead of after the report's cells.
        # papermill and jupyter_client are imported first, here, so that the two threads do
        # not import the same packages at once.
        import papermill.engines  # noqa: F401

        from cxlab.report._export import load_exporters

        _EXPORTERS = threading.Thread(target=load_exporters, name="cxlab-exporters", daemon=True)
        _EXPORTERS.start()
    return _run_job(job, cwd, kernel=_WORKER_KERNEL)


def _exporters_loaded() -> None:
    """Wait until the exporters this worker started loading are loaded (no-op otherwise)."""
    if _EXPORTERS is not None:
        _EXPORTERS.join()


def _run_job(job: ReportJob, cwd: str, kernel: WarmKernel | None = None
             ) -> tuple[str, str | None, float]:
    """Worker entry point: render one job; return (key, error or None, seconds)."""
    start = time.perf_counter()
    try:
        render(job.template, parameters=job.parameters, output_dir=job.output_dir / job.period,
               formats=job.formats, name=job.name, title=_title(job), cwd=cwd, kernel=kernel)
        return job.key, None, time.perf_counter() - start
    except Exception as err:  # noqa: BLE001 - a failing report must not stop the others
        if os.environ.get("CXLAB_DEBUG"):
            traceback.print_exc()
        return job.key, _one_line(err), time.perf_counter() - start


# --------------------------------------------------------------------------- planning
def _template(templates_dir: Path | None, name: str) -> Path:
    """``templates_dir / name`` when a folder is given, else the project's own
    ``notebooks/templates/<name>`` or, without one, the copy shipped in the cxlab package."""
    if templates_dir is not None:
        return Path(templates_dir) / name
    from cxlab.project import report_template

    return report_template(name)


def region_scopes(org) -> dict[str, tuple[str, ...]]:
    """Every grouping unit of ``org`` (a unit with sub-units, at any depth), in tree order,
    with the branch codes below it; empty for an organisation without regions."""
    branches = set(org.branch_codes)
    return {u.code: tuple(c for c in org.scope(u.code) if c in branches)
            for u, _ in org.walk() if not u.is_branch}


def plan_jobs(*, periods: Sequence[str], branches: Sequence[str], warehouse: Path,
              output_dir: Path, templates_dir: Path | None = None,
              params_dir: Path = Path("params"), formats: Sequence[str] = ("html", "pdf"),
              include_company: bool = True,
              regions: Mapping[str, Sequence[str]] | None = None) -> list[ReportJob]:
    """One job per period × (company report + each region report + each branch report),
    company first.

    ``regions`` maps a grouping unit's code to the branch codes below it
    (:func:`region_scopes`); each gets a region report from ``region_report.ipynb``.
    ``templates_dir`` None: each template is the project's ``notebooks/templates/<name>`` when
    present, else the package's (:func:`cxlab.project.report_template`); a ``templates_dir``
    without ``region_report.ipynb`` falls back to those for region reports.
    """
    regions = dict(regions or {})
    region_tpl = None
    if regions:
        region_tpl = _template(templates_dir, "region_report.ipynb")
        if templates_dir is not None and not region_tpl.is_file():
            region_tpl = _template(None, "region_report.ipynb")
    jobs = []
    common = dict(output_dir=output_dir, warehouse=warehouse, params_dir=params_dir,
                  formats=tuple(formats))
    for period in periods:
        if include_company:
            jobs.append(ReportJob(period=period, branch=None,
                                  template=_template(templates_dir, "company_report.ipynb"),
                                  **common))
        for unit, scope in regions.items():
            jobs.append(ReportJob(period=period, branch=None, unit=unit, scope=tuple(scope),
                                  template=region_tpl, **common))
        for branch in branches:
            jobs.append(ReportJob(period=period, branch=branch,
                                  template=_template(templates_dir, "branch_report.ipynb"),
                                  **common))
    return jobs


def _available_periods(warehouse: Path) -> list[str]:
    base = warehouse / "responses"
    periods = sorted(p.name.split("=", 1)[1] for p in base.glob("period=*") if p.is_dir())
    if not periods:
        raise CxlabError(f"{base}: no ingested responses (run `make ingest` or `cxlab ingest` first)")
    return periods


def render_all(*, periods: Sequence[str] | None = None, branches: Sequence[str] | None = None,
               jobs: int | None = None, force: bool = False,
               formats: Sequence[str] = ("html", "pdf"),
               warehouse: str | Path = "data/warehouse", output_dir: str | Path = "reports",
               templates_dir: str | Path | None = None,
               params_dir: str | Path = "params", executor: str = "local",
               scheduler: str | None = None, progress: bool | None = None) -> RunSummary:
    """Render every company, region and branch report (or those asked for) and the index page.

    Parameters
    ----------
    periods, branches : restrict the run (default: every period in the warehouse, and the
        company, every grouping unit (region) and every branch of ``params/org.yaml``).
        ``branches`` takes branch and region codes; ``["ALL"]`` renders only company reports,
        ``["EAST"]`` only the region report of EAST.
    jobs : parallel renders (default: the number of cores).
    force : re-render even when nothing changed.
    templates_dir : folder of ``company_report.ipynb`` and ``branch_report.ipynb`` (default:
        the project's ``notebooks/templates/`` per file when present, else the package's).
    executor : ``"local"`` (process pool) or ``"dask"`` (``scheduler`` = address of a
        ``distributed`` scheduler).

    Returns
    -------
    RunSummary
        ``rendered``, ``skipped_unchanged``, ``failed`` (key and one-line reason).
    """
    from cxlab.config import load_org
    from cxlab.report._aggregates import build_aggregates
    from cxlab.report._site import write_index

    start = time.perf_counter()
    warehouse, output_dir = Path(warehouse), Path(output_dir)
    templates_dir = Path(templates_dir) if templates_dir is not None else None
    params_dir = Path(params_dir)
    org = load_org(params_dir / "org.yaml")
    from cxlab.report._report_config import load_report_config

    load_report_config(params_dir)  # a bad params/report.yaml: one line, before any report runs
    all_periods = _available_periods(warehouse)
    if periods:
        unknown = sorted(set(periods) - set(all_periods))
        if unknown:
            raise CxlabError(f"no data for period(s) {unknown} (available: {', '.join(all_periods)})")
    periods = list(periods or all_periods)
    include_company = True
    scopes = region_scopes(org)
    if branches:
        asked = [b for b in branches if b and b.upper() != COMPANY]
        include_company = any((not b) or b.upper() == COMPANY for b in branches)
        unknown = [b for b in asked if b not in org.branch_codes and b not in scopes]
        if unknown:
            raise CxlabError(f"unknown branch {unknown[0]!r} "
                             f"(known: {', '.join([COMPANY, *scopes, *org.branch_codes])})")
        wanted = [b for b in asked if b in org.branch_codes]
        regions = {u: s for u, s in scopes.items() if u in asked}
    else:
        wanted, regions = org.branch_codes, scopes
    with _exclusive(output_dir):
        _remove_stale_temp_files(output_dir)
        build_aggregates(warehouse, params_dir=params_dir)
        planned = plan_jobs(periods=periods, branches=wanted, warehouse=warehouse,
                            output_dir=output_dir, templates_dir=templates_dir,
                            params_dir=params_dir, formats=formats,
                            include_company=include_company, regions=regions)
        rendered, skipped, failed = _run(planned, output_dir=output_dir, jobs=jobs, force=force,
                                         executor=executor, scheduler=scheduler,
                                         progress=progress)
        index = write_index(output_dir, warehouse=warehouse, params_dir=params_dir)
    return RunSummary(rendered=rendered, skipped_unchanged=skipped, failed=failed,
                      seconds=time.perf_counter() - start, index=index)


def _run(planned: list[ReportJob], *, output_dir: Path, jobs, force, executor, scheduler,
         progress) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """Render the planned jobs whose fingerprint changed (all with ``force``); keep the state."""
    state = _load_state(output_dir)
    code = _code_hash()
    todo, skipped, prints, size = [], [], {}, {}
    for job in planned:
        inputs = data_inputs(job.warehouse, job.data_scope)
        fp = fingerprint(job, code_hash=code, inputs=inputs)
        prints[job.key] = fp
        # bytes of warehouse data the job reads: the estimate of its cost, for scheduling
        size[job.key] = sum(p.stat().st_size for p in inputs)
        outputs_present = all(job.path(f).exists() for f in job.formats)
        if not force and state.get(job.key) == fp and outputs_present:
            skipped.append(job.key)
        else:
            todo.append(job)
    # Largest first: the pool then ends on the smallest reports, not with one core idle while
    # a long report finishes alone (longest-processing-time-first scheduling).
    todo.sort(key=lambda job: size[job.key], reverse=True)

    rendered, failed = [], []
    for key, error in _dispatch(todo, jobs=jobs, executor=executor, scheduler=scheduler,
                                progress=progress):
        if error is None:
            rendered.append(key)
            state[key] = prints[key]
            _save_state(output_dir, state)
        else:
            failed.append((key, error))
            state.pop(key, None)
    if failed:
        _save_state(output_dir, state)
    order = {j.key: i for i, j in enumerate(planned)}
    return (sorted(rendered, key=order.get), skipped,
            sorted(failed, key=lambda f: order[f[0]]))


@contextmanager
def _exclusive(output_dir: Path):
    """One ``cxlab reports`` at a time per output folder (a second one fails with one line)."""
    import fcntl

    output_dir.mkdir(parents=True, exist_ok=True)
    with open(output_dir / ".cxlab-reports.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CxlabError(f"{output_dir}: another `cxlab reports` is rendering here; "
                             "wait for it to finish") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _remove_stale_temp_files(output_dir: Path) -> None:
    """Delete temp files a killed render left behind (``atomic_write`` names them ``.<name>.*.tmp``)."""
    if output_dir.is_dir():
        for tmp in output_dir.rglob(".*.tmp"):
            tmp.unlink(missing_ok=True)


def _dispatch(todo: list[ReportJob], *, jobs: int | None, executor: str,
              scheduler: str | None, progress: bool | None):
    """Run jobs and yield ``(key, error)`` as they finish."""
    if not todo:
        return
    from tqdm.auto import tqdm

    cwd = str(Path.cwd())
    bar = tqdm(total=len(todo), desc="reports", unit="report", file=sys.stderr,
               disable=(not progress) if progress is not None else None)
    try:
        if executor == "dask":
            yield from _dispatch_dask(todo, cwd=cwd, scheduler=scheduler, bar=bar)
            return
        if executor != "local":
            raise CxlabError(f"unknown executor {executor!r} (allowed: local, dask)")
        workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
        warm = warm_kernels_enabled()
        if workers == 1:
            kernel = WarmKernel(KERNEL_NAME, cwd=cwd, extra_arguments=_KERNEL_ARGS) if warm else None
            try:
                for job in todo:
                    key, err, _ = _run_job(job, cwd, kernel=kernel)
                    bar.update()
                    yield key, err
            finally:
                if kernel is not None:
                    kernel.discard()
            return
        import multiprocessing as mp

        from cxlab.report._zygote import KernelZygote, usable

        run_job = _run_job_warm if warm else _run_job
        # the workers' kernels are forked from one process that imports the analysis stack
        # once, while the workers start (see _zygote.py)
        forks = KernelZygote(cwd=cwd) if warm and usable(KERNEL_NAME) else nullcontext()
        with forks as zygote, ProcessPoolExecutor(
                max_workers=workers, mp_context=mp.get_context("spawn"), initializer=_lean_worker,
                initargs=(zygote.address if zygote else None,)) as pool:
            futures = [pool.submit(run_job, job, cwd) for job in todo]
            for fut in as_completed(futures):
                key, err, _ = fut.result()
                bar.update()
                yield key, err
    finally:
        bar.close()


def _dispatch_dask(todo: list[ReportJob], *, cwd: str, scheduler: str | None, bar):
    if not scheduler:
        raise CxlabError("--executor dask needs --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786)")
    from distributed import Client
    from distributed import as_completed as dask_completed

    with Client(scheduler) as client:
        futures = client.map(_run_job, todo, cwd=cwd, pure=False)
        for fut in dask_completed(futures):
            key, err, _ = fut.result()
            bar.update()
            yield key, err
