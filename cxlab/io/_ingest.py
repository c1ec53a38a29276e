"""``ingest``: raw exports → validated, pseudonymised warehouse, bad rows → quarantine."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from cxlab.config import Codebook, Org, load_codebook, load_org
from cxlab.errors import CxlabError
from cxlab.io._frame import bulk_memory_pool
from cxlab.io._mapping import MappingError, canonical_dtypes, map_survey
from cxlab.io._pseudonym import load_pseudonym_key
from cxlab.io._quarantine import QUARANTINE_COLUMNS, quarantine_records, write_quarantine
from cxlab.io._rows import bad_lines, original_line_array
from cxlab.io._sources import Sources, load_sources
from cxlab.io._survey import row_fingerprints, survey_key
from cxlab.io._tables import map_table, table_dtypes
from cxlab.io._validate import PERIOD_RE, Issues
from cxlab.io._warehouse import (
    TableWrite,
    append_ingest_log,
    commit,
    existing_response_ids,
    responses_by_id,
    source_surveys,
)

__all__ = ["FileResult", "IngestReport", "ingest"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FileResult:
    """What happened to one file."""

    file: str                 # path as given / found (relative when under the ingested folder)
    sha256: str               # content hash ("" when unreadable)
    source: str               # reader format (wjx_text, qualtrics, …) or "table:<name>"
    table: str | None         # warehouse table, None if rejected
    rows_read: int
    accepted: int
    quarantined: int
    rejected: str | None = None   # one-line reason when the whole file was rejected
    notes: tuple[str, ...] = ()   # e.g. columns not loaded
    survey: str = ""              # survey key of a survey export (cxlab.io._survey)
    alert: str | None = None      # most rows quarantined for one reason: what and how to fix it


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestReport:
    """Result of :func:`ingest`.

    ``rows_read == accepted + quarantined`` (rows of rejected files are not read).
    ``quarantine`` has one record per quarantined row: ``file, row, column, value, reason``.
    """

    accepted: int
    quarantined: int
    rejected_files: list[str]
    rows_read: int
    quarantine: pd.DataFrame
    files: list[FileResult] = field(default_factory=list)
    run_id: str = ""
    quarantine_file: Path | None = None

    @property
    def alerts(self) -> list[str]:
        """One line per file whose rows were mostly quarantined for one reason (or of which no
        row loaded), with the reason and the fix (``quarantine_alert_share`` in sources.yaml)."""
        return [f.alert for f in self.files if f.alert]

    def to_frame(self) -> pd.DataFrame:
        """One row per file: ``file, source, table, rows_read, accepted, quarantined, rejected``."""
        return pd.DataFrame([{"file": f.file, "source": f.source, "table": f.table,
                              "rows_read": f.rows_read, "accepted": f.accepted,
                              "quarantined": f.quarantined, "rejected": f.rejected}
                             for f in self.files])

    def summary(self) -> str:
        """A few human lines: per-file counts, notes, totals."""
        lines = []
        for f in self.files:
            if f.rejected:
                lines.append(f"  {f.file}: REJECTED — {f.rejected}")
                continue
            lines.append(f"  {f.file} ({f.source} → {f.table}): read {f.rows_read:,} = "
                         f"accepted {f.accepted:,} + quarantined {f.quarantined:,}")
            lines.extend(f"      note: {n}" for n in f.notes)
        lines.extend(f"ALERT {a}" for a in self.alerts)
        lines.append(f"read {self.rows_read:,} = accepted {self.accepted:,} + quarantined "
                     f"{self.quarantined:,} ({len(self.files)} files, "
                     f"{len(self.rejected_files)} rejected)")
        if self.quarantine_file is not None:
            lines.append(f"quarantined rows with reasons: {self.quarantine_file}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        head = (f"<p>read {self.rows_read:,} = accepted {self.accepted:,} + quarantined "
                f"{self.quarantined:,}; {len(self.rejected_files)} file(s) rejected</p>")
        return head + self.to_frame().to_html(index=False)


# ---------------------------------------------------------------------------------------------

def _walk(paths: Iterable[str | Path], sources: Sources) -> list[tuple[Path, str]]:
    """Files to ingest with their display names; folders are walked (sorted), skipping truth
    files, hidden files and folders."""
    out: list[tuple[Path, str]] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
                for name in sorted(filenames):
                    if sources.ignored(name) or name.startswith((".", "~$")):
                        continue
                    f = Path(dirpath) / name
                    out.append((f, f.relative_to(p).as_posix()))
        elif p.exists():
            out.append((p, p.name))
        else:
            raise CxlabError(f"{p}: no such file or folder")
    seen: set[Path] = set()
    uniq = []
    for f, disp in out:
        r = f.resolve()
        if r not in seen:
            seen.add(r)
            uniq.append((f, disp))
    return uniq


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _responses_metadata(codebook: Codebook) -> dict:
    dtypes = canonical_dtypes(codebook)
    cols: dict[str, dict] = {}
    meta_kinds = {"response_id": "id", "customer_id": "pseudonym", "period": "partition",
                  "branch": "partition", "channel": "category", "submitted_at": "datetime",
                  "source_file": "provenance"}
    for c, dt in dtypes.items():
        if c in meta_kinds:
            cols[c] = {"dtype": dt, "kind": meta_kinds[c]}
            continue
        it = codebook.item(c)
        sc = codebook.scales[it.scale]
        kind = {"text": "free_text", "multi": "multi_select"}.get(sc.kind, it.role)
        entry = {"dtype": dt, "kind": kind, "label": it.label, "scale": it.scale, "role": it.role}
        if kind == "free_text":
            entry["note"] = "open text, may contain personal data: redact (cxlab.text) before quoting"
        if kind == "multi_select":
            entry["note"] = "options joined by ┋, other as 其他〖text〗; expand with split_multiselect"
        cols[c] = entry
    return {"columns": cols}


def _table_metadata(spec) -> dict:
    cols = {c: {"dtype": dt, "kind": "pseudonym" if c in spec.pseudonymise else spec.columns[c].type}
            for c, dt in table_dtypes(spec).items()}
    cols["source_file"] = {"dtype": "string", "kind": "provenance"}
    return {"columns": cols}


def _now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


@bulk_memory_pool()  # a fresh context for every call (contextmanager objects are decorators)
def ingest(paths: str | Path | Sequence[str | Path], *, warehouse: str | Path = "data/warehouse",
           codebook: Codebook | str | Path | None = None, sources: Sources | str | Path | None = None,
           period: str | None = None, branch: str | None = None, source: str = "auto",
           quarantine_dir: str | Path | None = None, org: Org | str | Path | None = None,
           pseudonym_key_file: str | Path | None = None, now: datetime | None = None,
           alert_share: float | None = None) -> IngestReport:
    """Validate raw exports and load them into the warehouse; bad rows go to quarantine.

    Parameters
    ----------
    paths
        Files or folders (walked recursively: ``survey/*``, ``crm/*``, ``ops/*``; truth files,
        hidden files and ``README``/``*.md`` are skipped, see ``ignore_files`` in sources.yaml).
        CRM/operations files are recognised by name (``tables`` in sources.yaml); every other
        file is a survey export.
    warehouse
        Warehouse folder (created if needed).
    codebook, sources, org
        Models or YAML paths; default ``params/codebook.yaml``, ``params/sources.yaml``,
        ``params/org.yaml``.
    period
        ``YYYYQn`` for every survey row; default: from the file name (``wjx_2026Q3.xlsx``), else
        the quarter of each row's submission time.
    branch
        Branch code (or name) for every survey row; default: the export's branch column.
    source
        Reader format for survey files (``auto`` detects it).
    quarantine_dir
        Where quarantined rows are written; default ``<warehouse>/../quarantine``.
    pseudonym_key_file
        Key for customer-id pseudonyms; default ``$CXLAB_PSEUDONYM_KEY_FILE`` or
        ``~/.config/cxlab/pseudonym.key`` (created on first use).
    alert_share
        A file with more than this share of its rows quarantined for one reason, or with no row
        loaded, gets an alert (:attr:`IngestReport.alerts`); default ``quarantine_alert_share``
        of sources.yaml (0.5).

    Returns
    -------
    IngestReport
        ``rows_read == accepted + quarantined``; a file that cannot be read or mapped is listed
        in ``rejected_files`` (``"file: why"``) and the others still load. Qualtrics preview and
        test rows are dropped by the reader and are not rows read.

    Notes
    -----
    Re-ingesting a file replaces the rows it loaded before (keyed by its path relative to the
    ingested folder, or its name when given as a file): ingest is idempotent. A response whose
    id is already loaded from ANOTHER file is a duplicate and quarantined when that file is the
    same survey or the answers are identical (a renamed copy, or a later export of the same
    survey: only its new rows load); from another survey with other answers it is another
    respondent and loads as ``<id>@<survey tag>`` (see :mod:`cxlab.io._survey`).
    """
    from cxlab.io._readers import read_export  # the readers module (owned by the readers' author)

    cb = codebook if isinstance(codebook, Codebook) else load_codebook(codebook or "params/codebook.yaml")
    og = org if isinstance(org, Org) else load_org(org or "params/org.yaml")
    src = sources if isinstance(sources, Sources) else load_sources(
        sources or "params/sources.yaml", codebook=cb)
    if isinstance(sources, Sources):
        src.check_items(cb)
    if period is not None:
        period = str(period).strip().upper()
        if not PERIOD_RE.match(period):
            raise CxlabError(f"--period {period!r}: expected YYYYQn, e.g. 2026Q3")
    if branch is not None:
        code = og.name_to_code().get(str(branch).strip())
        if code is None:
            raise CxlabError(f"--branch {branch!r}: unknown branch (known: {', '.join(og.branch_codes)})")
        branch = code
    if isinstance(paths, str | Path):
        paths = [paths]
    files = _walk(paths, src)
    wh = Path(warehouse)
    qdir = Path(quarantine_dir) if quarantine_dir is not None else wh.parent / "quarantine"
    # Check the output folders before anything is committed: good rows must never be written
    # while their quarantined neighbours have nowhere to go.
    for what, folder in (("warehouse", wh), ("quarantine folder", qdir)):
        if folder.exists() and not folder.is_dir():
            raise CxlabError(f"{folder}: {what} must be a folder, but a file is there")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise CxlabError(f"{folder}: cannot create the {what} ({err.strerror})") from None
        if not os.access(folder, os.W_OK):
            raise CxlabError(f"{folder}: the {what} is not writable")
    key = load_pseudonym_key(pseudonym_key_file)
    run_id = datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    started = _now_iso()
    period_re = re.compile(src.period_from_filename) if src.period_from_filename else None
    share = src.quarantine_alert_share if alert_share is None else float(alert_share)
    if not 0 < share <= 1:
        raise CxlabError(f"alert share {share!r}: expected a number in (0, 1]")

    results: list[FileResult] = []
    writes: list[TableWrite] = []
    qframes: list[pd.DataFrame] = []
    # response ids already in the warehouse, by source file (re-ingesting a file replaces its own)
    existing = existing_response_ids(wh)
    taken: dict[str, str] = dict(zip(existing["response_id"].astype(str),
                                     existing["source_file"].astype(str), strict=True))
    # ids accepted from this run's files, added to `taken` only when a later file is checked
    # (a million-row file's ids cost ~0.5 s to hash, wasted when it is the last survey file)
    pending: list[tuple[pd.Series, str]] = []
    used_names: dict[str, Path] = {}
    # survey key of every source file: this run's, then the manifest's (None: not recorded)
    known_sources = {t: source_surveys(wh, t) for t in ("responses", *src.tables)}
    run_surveys: dict[str, str] = {}
    run_writes: dict[str, TableWrite] = {}

    for path, disp in files:
        def reject(why: str, *, sha: str = "", fmt: str = "?", _disp: str = disp) -> None:
            results.append(FileResult(file=_disp, sha256=sha, source=fmt, table=None, rows_read=0,
                                      accepted=0, quarantined=0, rejected=why))
        table = src.table_for(path.name)
        # the name the rows carry (source_file), the manifest keys and the ingest log shows:
        # the path relative to the ingested folder (the file's name when given as a file)
        source_file = disp
        aliases = _aliases(known_sources.get(table or "responses", {}), source_file)
        # the content hash is computed beside the reading (hashlib releases the GIL)
        with ThreadPoolExecutor(max_workers=1) as hasher:
            hashing = hasher.submit(_sha256, path)
            failure = None
            if source_file in used_names:
                failure = (f"another file named {source_file!r} is in this run "
                           f"({used_names[source_file]}); source files are keyed by their path "
                           "relative to the ingested folder")
            else:
                used_names[source_file] = path
                try:
                    df = read_export(path, source="csv" if table else source)
                except CxlabError as err:
                    failure = _one_line(err, path)
                except Exception as err:  # noqa: BLE001 - a broken file must not stop the others
                    failure = f"unreadable ({type(err).__name__}: {_one_line(err, path)})"
        try:
            sha = hashing.result()
        except OSError as err:
            if used_names.get(source_file) == path:
                del used_names[source_file]  # an unreadable file does not claim its name
            reject(f"cannot read file ({err.strerror or err})")
            continue
        if failure is not None:
            reject(failure, sha=sha)
            continue
        # pandas deep-copies attrs on every operation: keep them aside (row_lines can be long)
        attrs = dict(df.attrs)
        df.attrs = {}
        fmt = str(attrs.get("source", "?"))
        identical: set = set()   # rows that are responses already loaded (nothing lost)
        skey = None
        try:
            if table:
                spec = src.tables[table]
                frame, issues, ignored = map_table(df, spec, og, key=key, file=source_file,
                                                   table=table, now=now)
                notes = ((f"columns not loaded (not in sources.yaml tables.{table}): "
                          f"{', '.join(map(str, ignored))}",) if ignored else ())
                fmt_label = f"{fmt}"
            else:
                try:
                    sname, sspec = src.survey_for(fmt)
                except KeyError as err:
                    raise MappingError(f"{disp}: {err.args[0]}") from None
                fp = None
                if period is None and period_re is not None:
                    m = period_re.search(path.name)
                    fp = m.group(1) if m else None
                frame, issues, cm = map_survey(df, sspec, cb, og, key=key, file=source_file,
                                               source_name=sname, period=period, branch=branch,
                                               file_period=fp, now=now,
                                               labels=attrs.get("labels"), reader=fmt)
                notes: tuple[str, ...] = ()
                if cm.unmapped:
                    notes = (f"columns not loaded (no rule in sources.yaml {sname}): "
                             f"{', '.join(map(str, cm.unmapped))}",)
                fmt_label = fmt
                skey = survey_key(sname, path.name,
                                  [*sorted(cm.items), *(f"{k}:" for k in sorted(cm.meta))],
                                  survey_from_filename=sspec.survey_from_filename,
                                  branches=frame["branch"])
                # duplicates of responses loaded from other files (earlier runs or this run)
                for ids, name in pending:
                    taken.update(dict.fromkeys(ids.tolist(), name))
                pending.clear()
                if taken:
                    surveys = {**known_sources["responses"], **run_surveys}
                    renamed = _resolve_clashes(
                        frame, df, issues, identical, taken=taken, own={source_file, *aliases},
                        rid_col=cm.meta["response_id"], skey=skey, surveys=surveys,
                        run_writes=run_writes, warehouse=wh)
                    if renamed:
                        others = ", ".join(sorted(renamed))
                        notes = (*notes, f"{sum(renamed.values()):,} response id(s) also used by "
                                 f"another survey ({others}): loaded as <id>@{skey.tag}")
        except CxlabError as err:
            reject(_one_line(err, path), sha=sha, fmt=fmt)
            continue

        lines = original_line_array(attrs, len(df))
        flagged = bad_lines(attrs)
        extra = Issues()
        extra_rows: dict[object, int | None] = {}
        if flagged:
            line_to_idx = {v: k for k, v in dict(zip(df.index, lines.tolist(),
                                                     strict=True)).items()}
            for line, reason in flagged:
                if line is not None and line in line_to_idx:
                    issues.add(line_to_idx[line], "", "", reason)
                else:  # a line the reader could not turn into a row: read, and quarantined
                    key_ = ("line", line, len(extra))
                    extra.add(key_, "", "", reason)
                    extra_rows[key_] = line
        bad = issues.bad_index()
        rows = _rows_of(df.index, lines, bad)
        rows.update(extra_rows)
        # the accepted rows by position: the warehouse leaves the others out as it partitions
        # (one reorder of the columns instead of a filter and then a reorder)
        keep = np.flatnonzero(~frame.index.isin(list(bad)))
        q = quarantine_records(_merge(issues, extra), file=source_file, rows=rows)
        rows_read = len(df) + len({r[0] for r in extra.rows})
        if rows_read != len(keep) + len(q):  # invariant: nothing is lost silently
            raise RuntimeError(f"{disp}: rows read {rows_read} != accepted {len(keep)} + "
                               f"quarantined {len(q)}")
        if not table:
            pending.append((frame["response_id"].iloc[keep], source_file))
            run_surveys[source_file] = str(skey)
        write = TableWrite(table=table or "responses", source_file=source_file, sha256=sha,
                           frame=frame.reset_index(drop=True), rows=keep,
                           partition_by=tuple(src.tables[table].partition_by) if table
                           else ("period", "branch"),
                           survey=None if table else str(skey), replaces=aliases)
        writes.append(write)
        if not table:
            run_writes[source_file] = write
        qframes.append(q)
        merged = _merge(issues, extra)
        if identical and len(identical) == rows_read:
            notes = (*notes, f"all {rows_read:,} rows are responses already loaded "
                             f"({_first_reason(merged)})")
        results.append(FileResult(file=disp, sha256=sha, source=fmt_label,
                                  table=table or "responses", rows_read=rows_read,
                                  accepted=len(keep), quarantined=len(q), notes=notes,
                                  survey="" if table else str(skey),
                                  alert=_alert(disp, merged, identical, rows_read=rows_read,
                                               accepted=len(keep), share=share)))

    metadata = {"responses": _responses_metadata(cb)}
    metadata.update({name: _table_metadata(spec) for name, spec in src.tables.items()})
    if writes:
        commit(wh, writes, metadata=metadata)
    quarantine = (pd.concat([q for q in qframes if len(q)], ignore_index=True)
                  if any(len(q) for q in qframes) else pd.DataFrame(columns=QUARANTINE_COLUMNS))
    qfile = write_quarantine(qdir, quarantine, run_id=run_id, time=started)
    finished = _now_iso()
    append_ingest_log(wh, [{"run_id": run_id, "time": finished, "file": r.file,
                            "path": str(p), "sha256": r.sha256, "source": r.source,
                            "table": r.table, "rows_read": r.rows_read, "accepted": r.accepted,
                            "quarantined": r.quarantined, "rejected": r.rejected,
                            **({"survey": r.survey} if r.survey else {}),
                            **({"alert": r.alert} if r.alert else {})}
                           for r, (p, _) in zip(results, files, strict=True)])
    report = IngestReport(
        accepted=sum(r.accepted for r in results),
        quarantined=sum(r.quarantined for r in results),
        rejected_files=[f"{r.file}: {r.rejected}" for r in results if r.rejected],
        rows_read=sum(r.rows_read for r in results),
        quarantine=quarantine, files=results, run_id=run_id, quarantine_file=qfile,
    )
    if report.rows_read != report.accepted + report.quarantined:  # pragma: no cover
        raise RuntimeError("rows_read != accepted + quarantined")
    return report


def _rows_of(index: pd.Index, lines, wanted: set) -> dict[object, int]:
    """``dict(zip(index, lines))`` restricted to the labels in ``wanted`` (the quarantined rows);
    with a repeated label the last row wins, as in the full dict."""
    if not wanted:
        return {}
    if index.is_unique:
        keys = [k for k in wanted if k in index]
        pos = index.get_indexer(keys)
        return dict(zip(keys, lines[pos].tolist(), strict=True))
    return {k: v for k, v in zip(index, lines.tolist(), strict=True) if k in wanted}


def _merge(a: Issues, b: Issues) -> Issues:
    out = Issues()
    out.rows = a.rows + b.rows
    return out


def _one_line(err: BaseException, path: Path) -> str:
    """The error message on one line, without repeating the file path."""
    msg = " ".join(str(err).split())
    for prefix in (str(path), path.as_posix(), path.name):
        if msg.startswith(prefix + ":"):
            msg = msg[len(prefix) + 1:].strip()
            break
    return msg or type(err).__name__


def _aliases(known: dict[str, object], source_file: str) -> tuple[str, ...]:
    """Earlier manifest keys of the same file: before source files were keyed by their path
    relative to the ingested folder they were keyed by the file's name, and a file may be given
    alone once and inside its folder another time. Only an unambiguous match (one known key
    with the same file name) is taken over."""
    base = PurePosixPath(source_file).name
    same = [k for k in known if k != source_file and PurePosixPath(k).name == base]
    return tuple(same) if len(same) == 1 else ()


def _resolve_clashes(frame: pd.DataFrame, df: pd.DataFrame, issues: Issues, identical: set, *,
                     taken: dict[str, str], own: set[str], rid_col: str, skey,
                     surveys: dict[str, str | None], run_writes: dict[str, TableWrite],
                     warehouse: Path) -> dict[str, int]:
    """Rows whose response id another file already loaded: the same response (same survey, or
    identical answers) is quarantined as a duplicate (``identical`` collects the rows that are
    exactly a loaded response); another survey's response with other answers gets the id
    ``<id>@<survey tag>`` in ``frame``. Returns ``{other file: rows renamed}``."""
    rids = frame["response_id"]
    hit = (rids.isin(list(taken)) & rids.notna()).to_numpy()
    clashes = [(i, rid, taken[rid]) for i, rid in zip(frame.index[hit], rids[hit].tolist(),
                                                      strict=True) if taken[rid] not in own]
    if not clashes:
        return {}
    cols = [c for c in frame.columns if c not in ("response_id", "source_file")]

    def fingerprints_of(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """(file, id) -> fingerprint of responses already loaded (this run or the warehouse)."""
        out: dict[tuple[str, str], str] = {}
        by_file: dict[str, list[str]] = {}
        for other, rid in pairs:
            by_file.setdefault(other, []).append(rid)
        need_wh: list[str] = []
        for other, ids in by_file.items():
            w = run_writes.get(other)
            if w is None:
                need_wh.extend(ids)
                continue
            sub = w.frame if w.rows is None else w.frame.iloc[w.rows]
            sub = sub[sub["response_id"].isin(ids)]
            out.update(zip(zip([other] * len(sub), sub["response_id"].tolist(), strict=True),
                           row_fingerprints(sub, cols).tolist(), strict=True))
        if need_wh:
            old = responses_by_id(warehouse, need_wh)
            if len(old):
                out.update(zip(zip(old["source_file"].astype(str).tolist(),
                                   old["response_id"].astype(str).tolist(), strict=True),
                               row_fingerprints(old, cols).tolist(), strict=True))
        return out

    mine = row_fingerprints(frame.loc[[i for i, _, _ in clashes]], cols)
    theirs = fingerprints_of([(other, rid) for _, rid, other in clashes])
    renamed: dict[str, int] = {}
    me = str(skey)
    flagged: set = set()
    for (i, rid, other), fp in zip(clashes, mine.tolist(), strict=True):
        raw = df[rid_col].loc[i]
        if theirs.get((other, rid)) == fp:
            issues.add(i, rid_col, raw, f"duplicate response id {rid}: the same response is "
                                        f"already loaded from {other}")
            identical.add(i)
            flagged.add(i)
            continue
        their_survey = surveys.get(other)
        if their_survey is None or their_survey == me:
            why = ("loaded before survey keys were recorded: re-ingest it first" if their_survey
                   is None else f"the same survey {me}")
            issues.add(i, rid_col, raw, f"duplicate response id {rid} with other answers "
                                        f"(already loaded from {other}, {why})")
            flagged.add(i)
            continue
        renamed[other] = renamed.get(other, 0) + 1
    if not renamed:
        return renamed
    # another survey uses these ids: every id of this file carries the survey's tag (one id
    # form per file, whichever of its rows happen to collide)
    tagged = rids.astype("string") + f"@{skey.tag}"
    again = [(i, new, taken[new]) for i, new in zip(frame.index, tagged.tolist(), strict=True)
             if i not in flagged and new is not pd.NA and taken.get(new) not in (None, *own)]
    if again:   # an earlier export of this (tagged) survey: the same responses, or edited ones
        mine = row_fingerprints(frame.loc[[i for i, _, _ in again]], cols)
        theirs = fingerprints_of([(other, new) for _, new, other in again])
        for (i, new, other), fp in zip(again, mine.tolist(), strict=True):
            raw = df[rid_col].loc[i]
            if theirs.get((other, new)) == fp:
                issues.add(i, rid_col, raw, f"duplicate response id {new}: the same response is "
                                            f"already loaded from {other}")
                identical.add(i)
            else:
                issues.add(i, rid_col, raw, f"duplicate response id {new} with other answers "
                                            f"(already loaded from {other}, the same survey {me})")
    frame["response_id"] = tagged.where(rids.notna(), rids)
    return renamed


_VALUE_RE = re.compile(r"'[^']*'|\"[^\"]*\"|[\w.@/-]*[0-9][\w.@/:-]*")

# (reason pattern, how to fix it); the first match wins
_FIXES: tuple[tuple[str, str], ...] = (
    (r"duplicate response id .* with other answers",
     "if that file is ANOTHER survey (e.g. another branch's project numbered from 1), put the "
     "survey id in the file names (survey_from_filename in params/sources.yaml) or ingest each "
     "branch's file with --branch; if it is an earlier export of this survey, give the new "
     "export the same file name so that it replaces the old one"),
    (r"duplicate response id", "the export repeats response ids: check the id column "
                               "(response_id in params/sources.yaml)"),
    (r"missing response id", "map the id column (response_id in params/sources.yaml)"),
    (r"unknown branch|missing branch", "add the branch (name or code) to params/org.yaml, map "
                                       "the branch question in params/sources.yaml, or give "
                                       "--branch"),
    (r"missing submission time", "give --period or map submitted_at in params/sources.yaml"),
    (r"unknown answer|unknown option|not a number|not a whole number|outside|out of range",
     "add the answer to the scale in params/codebook.yaml or fix the mapping in "
     "params/sources.yaml (run `cxlab draft FILE` to compare)"),
    (r"missing required value", "the item is required (params/codebook.yaml): check that its "
                                "column is the right one in params/sources.yaml"),
    (r"in the future", "check the file's dates (or allow_future in params/sources.yaml)"),
)


def _first_reason(issues: Issues) -> str:
    return issues.rows[0][3] if issues.rows else ""


def _alert(disp: str, issues: Issues, identical: set, *, rows_read: int, accepted: int,
           share: float) -> str | None:
    """An alert line when more than ``share`` of the file's rows were quarantined for one
    reason, or none of its rows loaded (rows that duplicate a loaded response do not count:
    nothing of them is lost)."""
    first: dict[object, tuple[str, str]] = {}
    for idx, column, _, reason in issues.rows:
        if idx not in identical:
            first.setdefault(idx, (column, reason))
    if not first or not rows_read:
        return None
    kinds: dict[tuple[str, str], list[str]] = {}
    for column, reason in first.values():
        kinds.setdefault((column, _VALUE_RE.sub("…", reason)), []).append(reason)
    examples = max(kinds.values(), key=len)
    n = len(examples)
    if not (n > share * rows_read or accepted == 0):
        return None
    column, reason = next(cr for cr in first.values() if cr[1] == examples[0])
    fix = next((f for pat, f in _FIXES if re.search(pat, reason)),
               "see the reasons in the quarantine log")
    pct = 100 * n / rows_read
    pct_text = f"{pct:.0f}" if pct >= 1 or n == 0 else f"{pct:.1f}"
    tail = "" if accepted else ", no row loaded"
    where = f"{column}: " if column and column not in reason else ""
    return (f"{disp}: {pct_text} % of {rows_read:,} rows quarantined for one reason{tail}: "
            f"{where}{reason} — {fix}")
