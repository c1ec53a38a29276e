"""Mapping an export (as read by :func:`cxlab.io.read_export`) onto the canonical response frame.

:func:`resolve_columns` decides, from ``params/sources.yaml`` and the codebook, which export column
is which codebook item or metadata field, which are personal data (dropped) and which are ignored.
:func:`map_survey` converts the values, pseudonymises the customer id and returns the canonical
frame together with the rows' problems (to be quarantined).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from cxlab.config import Codebook, Org
from cxlab.errors import CxlabError
from cxlab.io._frame import beside
from cxlab.io._layout import LayoutError, decode_positions, join_spread, merge_issues
from cxlab.io._pseudonym import pseudonymise
from cxlab.io._sources import ColumnRule, SurveySource
from cxlab.io._validate import (
    Issues,
    convert_item,
    distinct_values,
    id_texts,
    is_missing_many,
    norm_text,
    norm_text_many,
    parse_datetime,
    period_of,
    repeated,
)

__all__ = ["META_COLUMNS", "ColumnMap", "MappingError", "canonical_columns", "canonical_dtypes",
           "column_labels", "map_survey", "resolve_columns"]

META_COLUMNS = ["response_id", "customer_id", "period", "branch", "channel", "submitted_at",
                "source_file"]


class MappingError(CxlabError):
    """A whole file cannot be mapped (e.g. a required item or the response id has no column)."""


def canonical_columns(codebook: Codebook) -> list[str]:
    """Metadata columns, then one column per non-PII codebook item, in codebook order."""
    return META_COLUMNS + [i.id for i in codebook.items if i.role != "pii"]


def canonical_dtypes(codebook: Codebook) -> dict[str, str]:
    """pandas dtypes of the canonical frame: measures ``Int64``/``Float64``, the rest text."""
    out = {c: "string" for c in META_COLUMNS}
    out["submitted_at"] = "datetime64[us]"
    for it in codebook.items:
        if it.role == "pii":
            continue
        sc = codebook.scales[it.scale]
        if sc.kind == "ordinal":
            out[it.id] = "Int64"
        elif sc.kind == "numeric":
            ints = all(v is not None and float(v).is_integer() for v in (sc.min, sc.max))
            out[it.id] = "Int64" if ints else "Float64"
        else:
            out[it.id] = "string"
    return out


def column_labels(df: pd.DataFrame, spec: SurveySource,
                  labels: dict[str, str] | None = None) -> dict[str, str]:
    """Question text of every column: the reader's ``labels`` attr, else the header, minus the
    question-number prefix (``12、``), NFKC-normalised."""
    labels = dict(labels if labels is not None else df.attrs.get("labels") or {})
    prefix = re.compile(spec.label_prefix) if spec.label_prefix else None
    out = {}
    for col in df.columns:
        lab = labels.get(col)
        lab = str(col) if lab is None or (not isinstance(lab, str) and pd.isna(lab)) or not str(lab).strip() else str(lab)
        if prefix is not None:
            lab = prefix.sub("", lab, count=1)
        out[col] = norm_text(lab)
    return out


def _matches(rule: ColumnRule, col: str, label: str) -> re.Match | bool:
    if rule.column is not None:
        return norm_text(col) == norm_text(rule.column)
    if rule.label is not None:
        return label == norm_text(rule.label)
    if rule.pattern is not None:
        m = re.search(rule.pattern, str(col))
        return m if m is not None else False
    m = re.search(rule.label_pattern or "", label)
    return m if m is not None else False


@dataclass
class ColumnMap:
    """How each export column is used."""

    items: dict[str, str] = field(default_factory=dict)        # item id -> column
    other_text: dict[str, str] = field(default_factory=dict)   # item id -> "other" text column
    meta: dict[str, str] = field(default_factory=dict)         # field -> column
    submitted_at: list[str] = field(default_factory=list)
    pii: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)


def resolve_columns(df: pd.DataFrame, spec: SurveySource, codebook: Codebook, *,
                    file: str = "<frame>", source_name: str = "?",
                    labels: dict[str, str] | None = None,
                    preset: dict[str, str] | None = None) -> ColumnMap:
    """Assign every column of ``df`` to an item, a metadata field, PII, ignored or unmapped.

    ``labels`` (column → question text) default to ``df.attrs["labels"]``; ``preset`` (item id →
    column) are columns already known to hold an item (a joined multi-select, ``join_spread``).
    """
    labels = column_labels(df, spec, labels)
    cols = list(df.columns)
    cm = ColumnMap()
    used: set[str] = set()
    by_label = {norm_text(i.label): i.id for i in codebook.items}
    by_id = codebook.by_id

    def find(rule: ColumnRule) -> list[str]:
        return [c for c in cols if c not in used and _matches(rule, c, labels[c])]

    # 1. metadata fields
    for name in ("response_id", "customer_id", "branch", "channel"):
        rule = getattr(spec, name)
        if rule is None:
            continue
        hits = find(rule)
        if len(hits) > 1:
            raise MappingError(f"{file}: {name} rule ({rule.describe()}) matches several columns "
                               f"{hits}; make it specific in sources.yaml ({source_name})")
        if hits:
            cm.meta[name] = hits[0]
            used.add(hits[0])
    for rule in spec.submitted_at:
        for c in find(rule):
            cm.submitted_at.append(c)
            used.add(c)

    def assign(item_id: str, col: str, other: str | None = None) -> None:
        it = by_id[item_id]
        if it.role == "pii":
            cm.pii.append(col)
        else:
            if item_id in cm.items:
                raise MappingError(f"{file}: item {item_id!r} is mapped by both columns "
                                   f"{cm.items[item_id]!r} and {col!r}")
            cm.items[item_id] = col
            if other is not None:
                if other in df.columns:
                    cm.other_text[item_id] = other
                    used.add(other)
        used.add(col)

    # 2. personal data (before items: a PII column is never loaded, whatever maps it)
    for rule in spec.pii:
        for c in find(rule):
            cm.pii.append(c)
            used.add(c)
    # 3. columns already known (joined multi-selects), then explicit item rules
    for item_id, col in (preset or {}).items():
        if col not in used:
            assign(item_id, col)
    for rule in spec.items:
        for c in find(rule):
            if rule.item is not None:
                assign(rule.item, c, rule.other_text)
            else:
                m = _matches(rule, c, labels[c])
                lab = norm_text(m.group("label")) if isinstance(m, re.Match) else ""
                if lab in by_label:
                    assign(by_label[lab], c, rule.other_text)
    # 4. ignored
    for rule in spec.ignore:
        for c in find(rule):
            cm.ignored.append(c)
            used.add(c)
    # 5. automatic: label equals a codebook item label, or column named by the item id
    if spec.auto_labels:
        for c in cols:
            if c in used:
                continue
            lab = labels[c]
            if lab in by_label:
                assign(by_label[lab], c)
            elif norm_text(c) in by_id:
                assign(norm_text(c), c)
    # a repeated header (the reader renames the second "ltr" to "ltr.1"): ambiguous for a mapped
    # column, personal data again for a PII column
    loaded = {*cm.items.values(), *cm.meta.values(), *cm.submitted_at}
    for c in cols:
        m = re.fullmatch(r"(.+)\.([0-9]+)", str(c))
        if c in used or m is None or m.group(1) not in df.columns:
            continue
        base = m.group(1)
        if base in loaded:
            what = next((k for k, v in cm.items.items() if v == base), None) or next(
                (k for k, v in cm.meta.items() if v == base), "submitted_at")
            raise MappingError(f"{file}: column {base!r} appears twice (as {base!r} and {c!r}); "
                               f"which one holds {what!r} is ambiguous")
        if base in cm.pii:
            cm.pii.append(c)
            used.add(c)
        elif base in cm.ignored:
            cm.ignored.append(c)
            used.add(c)
    cm.unmapped = [c for c in cols if c not in used]
    return cm


def fill_template(template: str, **fields: pd.Series) -> pd.Series:
    """``template.format(**row)`` for each row of the ``string`` Series in ``fields`` (a missing
    field is ``""``; the result is ``<NA>`` where ``value`` is missing). Templates made of text
    and plain ``{name}`` fields are joined in Arrow, others formatted once per distinct row."""
    import string

    import pyarrow as pa
    import pyarrow.compute as pc

    value = fields["value"]
    parts = list(string.Formatter().parse(template))
    if all(not spec and not conv and (name is None or name in fields)
           for _, name, spec, conv in parts):
        pieces: list = []
        for literal, name, _, _ in parts:
            if literal:
                pieces.append(pa.scalar(literal, pa.string()))
            if name is not None:
                pieces.append(pc.fill_null(pa.array(fields[name], type=pa.string(),
                                                    from_pandas=True), ""))
        joined = pc.binary_join_element_wise(*pieces, "") if pieces else \
            pa.array([template] * len(value), type=pa.string())
        missing = pa.array(value.isna().to_numpy())
        return pd.Series(pd.array(pc.if_else(missing, pa.scalar(None, pa.string()), joined),
                                  dtype="string"), index=value.index)
    frame = pd.DataFrame({k: v.astype("object").where(v.notna(), "") for k, v in fields.items()})
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(frame))
    done = np.array([template.format(**dict(zip(frame.columns, u, strict=True)))
                     for u in uniques], dtype=object)[codes]
    return pd.Series(done, index=value.index, dtype="string").mask(value.isna())


def map_survey(df: pd.DataFrame, spec: SurveySource, codebook: Codebook, org: Org, *,
               key: bytes, file: str, source_name: str = "?", period: str | None = None,
               branch: str | None = None, file_period: str | None = None,
               now: datetime | None = None, labels: dict[str, str] | None = None,
               reader: str | None = None) -> tuple[pd.DataFrame, Issues, ColumnMap]:
    """Map and convert one export to the canonical frame.

    ``reader`` is the export's format (``df.attrs["source"]`` by default): it decides whether
    single-choice answers are option positions (``positions`` in sources.yaml, e.g. wjx_code).
    Multi-selects spread over one column per option (``spread``) are joined first.

    Returns the canonical frame (every row of ``df``, same index), the row problems found
    (:class:`Issues`, keyed by ``df``'s index; the caller quarantines those rows) and the column
    map. Raises :class:`MappingError` when the file as a whole cannot be mapped.
    """
    missing = frozenset(spec.missing)
    reader = reader if reader is not None else df.attrs.get("source")
    labels = dict(labels if labels is not None else df.attrs.get("labels") or {})
    try:
        df, labels, joined, layout_issues = join_spread(df, spec, codebook, labels=labels,
                                                         file=file, missing=missing)
    except LayoutError as err:
        raise MappingError(str(err)) from None
    cm = resolve_columns(df, spec, codebook, file=file, source_name=source_name, labels=labels,
                         preset=joined)
    issues = Issues()

    if "response_id" not in cm.meta:
        raise MappingError(f"{file}: no response id column ({spec.response_id.describe()}, "
                           f"sources.yaml {source_name})")
    required = [i for i in codebook.items if i.required and i.role != "pii"]
    absent = [i for i in required if i.id not in cm.items]
    if absent:
        names = ", ".join(f"{i.id!r} ({i.label})" for i in absent)
        raise MappingError(f"{file}: required item {names} has no column — map it in "
                           f"params/sources.yaml (surveys.{source_name}) or run "
                           f"`cxlab draft {file}`")
    if branch is None and "branch" not in cm.meta:
        raise MappingError(f"{file}: no branch column and no --branch given")
    if period is None and file_period is None and not cm.submitted_at:
        raise MappingError(f"{file}: no submission-time column and no --period given")
    try:
        df, pos_issues = decode_positions(df, cm.items, None if branch is not None else
                                          cm.meta.get("branch"), spec, codebook, org,
                                          reader=reader, missing=missing)
    except LayoutError as err:
        raise MappingError(str(err)) from None
    layout_issues.rows.extend(pos_issues.rows)

    # items: converted in threads on big files (factorising and gathering release the GIL),
    # beside the metadata below (ids, times, pseudonyms: mostly Python on the main thread)
    mapped = [it for it in codebook.items if it.role != "pii" and cm.items.get(it.id) is not None]

    def convert(it):
        other = df[cm.other_text[it.id]] if it.id in cm.other_text else None
        return convert_item(df[cm.items[it.id]], codebook.scales[it.scale], scale_name=it.scale,
                            missing=missing, multi_sep=spec.multi_sep, other_text=other)

    with beside(convert, mapped, threads=len(df) * len(mapped) >= 2_000_000) as converted:
        frame = _map_rows(df, cm, spec, codebook, org, issues, mapped, converted, key=key,
                          file=file, period=period, branch=branch, file_period=file_period,
                          now=now, missing=missing)
    return frame, merge_issues(layout_issues, issues), cm


def _map_rows(df: pd.DataFrame, cm: ColumnMap, spec: SurveySource, codebook: Codebook, org: Org,
              issues: Issues, mapped: list, converted, *, key: bytes, file: str,
              period: str | None, branch: str | None, file_period: str | None,
              now: datetime | None, missing: frozenset) -> pd.DataFrame:
    """The canonical frame of :func:`map_survey` (metadata here; ``converted()`` gives the
    items' ``(values, reasons)``); problems go to ``issues``."""
    idx = df.index
    out: dict[str, pd.Series] = {}
    # submitted_at (first non-missing of the candidate columns)
    sub = pd.Series(pd.NaT, index=idx, dtype="datetime64[us]")
    sub_bad = pd.Series(False, index=idx)
    for col in cm.submitted_at:
        ts, why = parse_datetime(df[col], missing=missing, now=now)
        take = sub.isna() & ~sub_bad & (ts.notna() | why.notna())
        sub = sub.where(~take, ts)
        sub_bad |= take & why.notna()
        issues.add_series(why.where(take), df[col], col)
    out["submitted_at"] = sub

    # period
    if period is not None:
        per = pd.Series(period, index=idx, dtype="string")
    elif file_period is not None:
        per = pd.Series(file_period, index=idx, dtype="string")
    else:
        per = period_of(sub)
        col = cm.submitted_at[0] if cm.submitted_at else "period"
        bad = per.isna()
        for i in idx[(bad & ~sub_bad).to_numpy()]:
            if pd.isna(sub.loc[i]):
                issues.add(i, col, df[col].loc[i] if col in df else "", "missing submission time "
                           "(needed for the period; or give --period)")
    out["period"] = per

    # response id (normalised text; with a template, e.g. wjx-{period}-{value})
    rcol = cm.meta["response_id"]
    rraw = df[rcol]
    rtext = id_texts(rraw, frozenset())
    for pos in np.flatnonzero(rtext.isna().to_numpy()):
        issues.add(idx[pos], rcol, rraw.iloc[pos], "missing response id")
    tmpl = spec.response_id.template
    out["response_id"] = fill_template(tmpl, value=rtext, period=per) if tmpl else rtext
    for i in idx[repeated(out["response_id"])]:
        issues.add(i, rcol, df[rcol].loc[i], f"duplicate response id {out['response_id'].loc[i]}")

    # customer id (pseudonymised)
    if "customer_id" in cm.meta:
        out["customer_id"] = pseudonymise(id_texts(df[cm.meta["customer_id"]], missing), key=key)
    else:
        out["customer_id"] = pd.Series(pd.NA, index=idx, dtype="string")

    # branch
    if branch is not None:
        out["branch"] = pd.Series(branch, index=idx, dtype="string")
    else:
        bcol = cm.meta["branch"]
        lookup = {norm_text(k): v for k, v in org.name_to_code().items()}
        # `values` of the branch rule recodes raw answers first (SPSS codes -> branch names)
        recode = {norm_text(k): str(v) for k, v in (spec.branch.values if spec.branch else {}).items()}
        lookup.update({k: lookup[norm_text(v)] for k, v in recode.items()
                       if norm_text(v) in lookup and k not in lookup})
        bcodes, bvals = distinct_values(df[bcol])
        bmiss = is_missing_many(bvals, missing)
        bnorm = norm_text_many(bvals)
        bout = np.empty(len(bvals), dtype=object)
        bwhy = np.empty(len(bvals), dtype=object)
        for k, (m, t) in enumerate(zip(bmiss.tolist(), bnorm, strict=True)):
            code = None if m else lookup.get(t)
            bout[k] = pd.NA if code is None else code
            bwhy[k] = ("missing branch" if m else
                       None if code is not None else f"unknown branch {t!r} (not in org.yaml)")
        row_why = bwhy[bcodes]
        for pos in np.flatnonzero(pd.notna(row_why)):
            issues.add(idx[pos], bcol, bvals[bcodes[pos]], row_why[pos])
        out["branch"] = pd.Series(bout[bcodes], index=idx, dtype="string")

    # channel
    if "channel" in cm.meta:
        ch = df[cm.meta["channel"]]
        recode = {norm_text(k): v for k, v in spec.channel.values.items()}
        hcodes, hvals = distinct_values(ch)
        hmiss = is_missing_many(hvals, missing)
        hout = np.empty(len(hvals), dtype=object)
        hout[:] = [pd.NA if m else recode.get(t, t)
                   for m, t in zip(hmiss.tolist(), norm_text_many(hvals), strict=True)]
        out["channel"] = pd.Series(hout[hcodes], index=idx, dtype="object").astype("string")
    else:
        out["channel"] = pd.Series(pd.NA, index=idx, dtype="string")
    out["source_file"] = pd.Series(file, index=idx, dtype="string")

    # items: their problems are recorded after the metadata's, in codebook order
    for it, (vals, why) in zip(mapped, converted(), strict=True):
        col = cm.items[it.id]
        # reasons are <NA> or text (convert_item): prefix the few texts only
        issues.add_series(why, df[col], col, prefix=f"{it.id}: ")
        if it.required:
            miss = vals.isna() & why.isna()
            for i in idx[miss.to_numpy()]:
                issues.add(i, col, df[col].loc[i], f"{it.id}: missing required value")
        out[it.id] = vals

    dtypes = canonical_dtypes(codebook)
    frame = pd.DataFrame(index=idx)
    for c in canonical_columns(codebook):
        if c in out:
            frame[c] = out[c]
        else:
            frame[c] = pd.Series(pd.NA, index=idx, dtype=dtypes[c]) if dtypes[c] != "datetime64[us]" \
                else pd.Series(pd.NaT, index=idx, dtype="datetime64[us]")
        frame[c] = frame[c].astype(dtypes[c])
    return frame
