"""Incremental tab books and decks for every period and scope (for ``make reports``).

Like the report runner, an output is rebuilt only when something it depends on changed: the
warehouse files of its scope up to its period, the parameter files, or cxlab's code.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from cxlab.errors import CxlabError

__all__ = ["DeliverSummary", "write_deliverables"]

STATE_FILE = ".deliver-state.json"
KINDS = ("tables", "deck")
SUFFIX = {"tables": "tables.xlsx", "deck": "deck.pptx"}


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverSummary:
    """What a run did: written and unchanged outputs (``<period>/<scope>/<kind>``), failures."""

    written: list[str] = field(default_factory=list)
    skipped_unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        total = len(self.written) + len(self.skipped_unchanged) + len(self.failed)
        lines = [f"Tab books and decks: wrote {len(self.written)}, unchanged "
                 f"{len(self.skipped_unchanged)}, failed {len(self.failed)} of {total}."]
        lines += [f"  FAILED {key}: {why}" for key, why in self.failed]
        return "\n".join(lines)


def _inputs(warehouse: Path, branch: str | tuple[str, ...] | None, period: str) -> list[Path]:
    from cxlab.report._runner import data_inputs

    out = []
    for p in data_inputs(warehouse, branch):
        parts = [s.split("=", 1)[1] for s in p.relative_to(warehouse).parts
                 if s.startswith("period=")]
        if not parts or parts[0] <= period:
            out.append(p)
    return out


def _scope_outputs(period: str, scope: str | None, kinds: list[str], warehouse: str,
                   params_dir: str, output_dir: str, adjust: str,
                   region: bool = False) -> dict[str, str | None]:
    """Worker: write ``kinds`` of one scope (company, branch, or a region when ``region``);
    {kind: one-line error or None}."""
    from cxlab.deliver._deck import deck
    from cxlab.deliver._tabbook import tabbook
    from cxlab.report import load_context

    errors: dict[str, str | None] = {}
    try:
        where = {"unit": scope} if region else {"branch": scope}
        ctx = load_context(period=period, warehouse=warehouse, params_dir=params_dir, **where)
    except Exception as err:  # noqa: BLE001 - reported per output, the others go on
        return dict.fromkeys(kinds, _one_line(err))
    for kind in kinds:
        try:
            if kind == "tables":
                tabbook(ctx, Path(output_dir) / period, adjust=adjust)
            else:
                deck(ctx, Path(output_dir) / period)
            errors[kind] = None
        except Exception as err:  # noqa: BLE001
            errors[kind] = _one_line(err)
    return errors


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}"


def write_deliverables(*, periods: list[str] | None = None, branches: list[str] | None = None,
                       warehouse: str | Path = "data/warehouse", params_dir: str | Path = "params",
                       output_dir: str | Path = "reports", kinds: tuple[str, ...] = KINDS,
                       force: bool = False, jobs: int | None = None,
                       adjust: str = "fdr_bh") -> DeliverSummary:
    """Write the tab books and decks of ``periods`` (default: all) for the company, every
    region and every branch, or the scopes in ``branches`` (branch and region codes; ``"ALL"``
    is the company) under ``<output_dir>/<period>/<code>-tables.xlsx|-deck.pptx``, skipping
    outputs whose inputs did not change.

    A region's (any unit with sub-units) book and deck read only the partitions of the
    branches below it, plus the company aggregates (counts) for the company comparison.

    A failing output is reported in ``failed`` with a one-line reason; the others are written.
    Scopes are built in ``jobs`` worker processes (default: one per core). ``adjust`` is the
    multiplicity control of the tab books' letters (see :func:`cxlab.deliver.build_tables`).
    """
    from cxlab.config import load_org
    from cxlab.report import build_aggregates
    from cxlab.report._runner import _available_periods, _code_hash, _tree_hash, region_scopes

    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise ValueError(f"kinds {bad} not allowed; expected some of {KINDS}")
    warehouse, params_dir, output_dir = Path(warehouse), Path(params_dir), Path(output_dir)
    if not (warehouse / "responses").exists():
        raise CxlabError(f"{warehouse}: no warehouse here (run `make ingest` first)")
    build_aggregates(warehouse, params_dir=params_dir)
    periods = list(periods or _available_periods(warehouse))
    org = load_org(params_dir / "org.yaml")
    regions = region_scopes(org)
    if branches is None:
        scopes: list[str | None] = [None, *regions, *org.branch_codes]
    else:
        scopes = [None if b in ("", "ALL") else b for b in branches]
    base = hashlib.sha256()
    base.update(_code_hash().encode())
    base.update(_tree_hash(sorted(params_dir.glob("*.yaml")), params_dir).encode())
    state_path = output_dir / STATE_FILE
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    written, skipped, failed = [], [], []
    todo: list[tuple[str, str | None, list[tuple[str, str, str]]]] = []
    for period in periods:
        for scope in scopes:
            stem = scope or "ALL"
            h = base.copy()
            h.update(f"{period}/{stem}/{adjust}".encode())
            data_scope = regions[scope] if scope in regions else scope
            h.update(_tree_hash(_inputs(warehouse, data_scope, period), warehouse).encode())
            kinds_todo = []
            for kind in kinds:
                key = f"{period}/{stem}/{kind}"
                fp = h.copy()
                fp.update(kind.encode())
                fp = fp.hexdigest()
                out = output_dir / period / f"{stem}-{SUFFIX[kind]}"
                if not force and state.get(key) == fp and out.exists():
                    skipped.append(key)
                else:
                    kinds_todo.append((kind, key, fp))
            if kinds_todo:
                todo.append((period, scope, kinds_todo))
    args = (str(warehouse), str(params_dir), str(output_dir), adjust)
    if jobs is None:
        jobs = min(len(todo), os.cpu_count() or 1)
    if jobs <= 1 or len(todo) <= 1:
        results = [_scope_outputs(period, scope, [k for k, _, _ in kt], *args, scope in regions)
                   for period, scope, kt in todo]
    else:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(_scope_outputs, period, scope, [k for k, _, _ in kt], *args,
                                   scope in regions)
                       for period, scope, kt in todo]
            results = [f.result() for f in futures]
    for (_, _, kinds_todo), errors in zip(todo, results, strict=True):
        for kind, key, fp in kinds_todo:
            if errors.get(kind):
                failed.append((key, errors[kind]))
                state.pop(key, None)
            else:
                written.append(key)
                state[key] = fp
    from cxlab.report._export import atomic_write

    output_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(state_path, json.dumps(state, sort_keys=True, indent=1))
    return DeliverSummary(written=written, skipped_unchanged=skipped, failed=failed)
