"""Incremental tab books and decks for every period and scope (for ``make reports``).

Like the report runner, an output is rebuilt only when something it depends on changed: the
warehouse files of its scope up to its period, the parameter files, or cxlab's code.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from cxlab.errors import CxlabError

__all__ = ["DeliverSummary", "write_deliverables"]

STATE_FILE = ".deliver-state.json"
KINDS = ("tables", "deck")


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


def _inputs(warehouse: Path, branch: str | None, period: str) -> list[Path]:
    from cxlab.report._runner import data_inputs

    out = []
    for p in data_inputs(warehouse, branch):
        parts = [s.split("=", 1)[1] for s in p.relative_to(warehouse).parts
                 if s.startswith("period=")]
        if not parts or parts[0] <= period:
            out.append(p)
    return out


def write_deliverables(*, periods: list[str] | None = None, branches: list[str] | None = None,
                       warehouse: str | Path = "data/warehouse", params_dir: str | Path = "params",
                       output_dir: str | Path = "reports", kinds: tuple[str, ...] = KINDS,
                       force: bool = False) -> DeliverSummary:
    """Write the tab books and decks of ``periods`` (default: all) for the company and
    ``branches`` (default: every branch; ``"ALL"`` in the list is the company) under
    ``<output_dir>/<period>/``, skipping outputs whose inputs did not change.

    A failing output is reported in ``failed`` with a one-line reason; the others are written.
    """
    from cxlab.config import load_org
    from cxlab.deliver._deck import deck
    from cxlab.deliver._tabbook import tabbook
    from cxlab.report import build_aggregates, load_context
    from cxlab.report._runner import _available_periods, _code_hash, _tree_hash

    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise ValueError(f"kinds {bad} not allowed; expected some of {KINDS}")
    warehouse, params_dir, output_dir = Path(warehouse), Path(params_dir), Path(output_dir)
    if not (warehouse / "responses").exists():
        raise CxlabError(f"{warehouse}: no warehouse here (run `make ingest` first)")
    build_aggregates(warehouse, params_dir=params_dir)
    periods = list(periods or _available_periods(warehouse))
    org = load_org(params_dir / "org.yaml")
    if branches is None:
        scopes: list[str | None] = [None, *org.branch_codes]
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
    writers = {"tables": (tabbook, "tables.xlsx"), "deck": (deck, "deck.pptx")}
    for period in periods:
        for scope in scopes:
            stem = scope or "ALL"
            h = base.copy()
            h.update(f"{period}/{stem}".encode())
            h.update(_tree_hash(_inputs(warehouse, scope, period), warehouse).encode())
            ctx = None
            for kind in kinds:
                key = f"{period}/{stem}/{kind}"
                fp = h.copy()
                fp.update(kind.encode())
                fp = fp.hexdigest()
                write, suffix = writers[kind]
                out = output_dir / period / f"{stem}-{suffix}"
                if not force and state.get(key) == fp and out.exists():
                    skipped.append(key)
                    continue
                try:
                    if ctx is None:
                        ctx = load_context(period=period, branch=scope, warehouse=warehouse,
                                           params_dir=params_dir)
                    write(ctx, output_dir / period)
                except Exception as err:  # noqa: BLE001 - one failure must not stop the others
                    failed.append((key, f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"))
                    state.pop(key, None)
                    continue
                written.append(key)
                state[key] = fp
    from cxlab.report._export import atomic_write

    output_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(state_path, json.dumps(state, sort_keys=True, indent=1))
    return DeliverSummary(written=written, skipped_unchanged=skipped, failed=failed)
