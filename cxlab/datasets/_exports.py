"""The same responses in other platforms' export layouts.

:func:`platform_exports` takes a 问卷星 "按选项文本" export of our questionnaire (as
:func:`make_sample_data` writes it) and renders the same responses as

- ``wjx_code``: the 问卷星 "按选项序号" export — every choice answered by its position in the
  question (1 = first option shown, the codebook's ``shown``/``options`` order; the branch
  question in ``org.yaml`` order; ltr 0 → 1), a multi-select as 0/1 columns ``第N题(选项)``,
  -2 for a skipped question; no "other" free text (as in real code exports);
- ``surveymonkey``: a SurveyMonkey "All responses data" CSV — two header rows (question, then
  ``Response`` / ``Open-Ended Response`` / matrix row / choice), the 17 verbal items and the Kano
  questions as matrices, the multi-select as one column per choice (choice text or blank, the
  ``其他(请注明)`` column holding the typed text), metadata Respondent ID … Custom Data 1 (the
  customer id);
- ``limesurvey``: a LimeSurvey response export (question-code headings, answer codes): UTF-8
  with BOM, ``;`` between fields, every field quoted, CRLF; lists and arrays answered with the
  default answer codes ``A1``… in the order shown, ltr as a number, the multi-select as
  ``Q8[SQ001]``… = ``Y`` or empty plus ``Q8[other]`` (the text), ``N/A`` where a question was not
  shown, ``token`` = customer id, ``branch`` answered with the branch code.

The question codes and texts are those ``params/sources.yaml`` maps (docs/sample-data.md). Output
is deterministic: no clock, no randomness.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import numpy as np
import pandas as pd

from cxlab.config import Codebook, Org, load_codebook, load_org
from cxlab.errors import CxlabError

__all__ = ["EXPORT_FORMATS", "platform_exports", "write_platform_exports"]

EXPORT_FORMATS = ("wjx_code", "surveymonkey", "limesurvey")
SKIP = "(跳过)"
WJX_META = ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP"]
SM_META = ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address",
           "Email Address", "First Name", "Last Name", "Custom Data 1"]
SM_MATRIX_VERBAL = "请评价以下方面"
SM_MATRIX_KANO = "以下功能,您觉得如何?"
SM_OTHER = "其他(请注明)"
SM_COLLECTORS = {"手机提交": "431877201", "微信": "431877202", "链接": "431877203"}
LS_META = ["id", "token", "submitdate", "lastpage", "startlanguage", "seed", "startdate",
           "datestamp", "ipaddr"]
CUSTOMER_Q = "您的客户编号"
BRANCH_Q = "您办理业务的分公司"
_HEAD = re.compile(r"^\s*([0-9]+)\s*、\s*(.*?)\s*$", re.S)


class _Responses:
    """The 问卷星 text export, read back into answers per codebook item."""

    def __init__(self, text: pd.DataFrame, codebook: Codebook, org: Org) -> None:
        self.cb = codebook
        self.org = org
        self.frame = text.reset_index(drop=True)
        self.header: dict[str, str] = {}       # label -> column as written
        self.number: dict[str, int] = {}       # label -> question number
        for col in self.frame.columns:
            m = _HEAD.match(str(col))
            if m:
                self.header[m.group(2)] = col
                self.number[m.group(2)] = int(m.group(1))
        for need in (CUSTOMER_Q, BRANCH_Q, *(i.label for i in codebook.items)):
            if need not in self.header:
                raise CxlabError(f"the 问卷星 export has no question {need!r}: not an export of "
                                 "the codebook's questionnaire")
        self.n = len(self.frame)
        ts = pd.to_datetime(self.frame["提交答卷时间"].astype(str), format="%Y/%m/%d %H:%M:%S")
        secs = self.frame["所用时间"].astype(str).str.extract(r"([0-9]+)")[0].astype(int)
        self.end = ts
        self.start = ts - pd.to_timedelta(secs, unit="s")

    def raw(self, label: str) -> list[object]:
        """Cells of a question; ``None`` where skipped (``(跳过)``) or empty."""
        out = []
        for v in self.frame[self.header[label]].tolist():
            if v is None or (isinstance(v, float) and np.isnan(v)):
                out.append(None)
            elif isinstance(v, str) and v.strip() in (SKIP, "（跳过）", ""):
                out.append(None)
            else:
                out.append(v.strip() if isinstance(v, str) else v)
        return out

    def item(self, item_id: str) -> list[object]:
        return self.raw(self.cb.item(item_id).label)

    def codes(self, item_id: str) -> list[int | None]:
        """Codebook codes of an ordinal or numeric item (``None`` where skipped)."""
        scale = self.cb.scale_of(item_id)
        lookup = {v: k for k, v in (scale.codes or {}).items()}
        out: list[int | None] = []
        for v in self.item(item_id):
            if v is None:
                out.append(None)
            elif scale.kind == "numeric":
                out.append(int(float(v)))
            elif v not in lookup:
                raise CxlabError(f"{item_id}: {v!r} is not an answer of scale "
                                 f"{self.cb.item(item_id).scale}")
            else:
                out.append(lookup[v])
        return out

    def position(self, item_id: str) -> list[int | None]:
        """1-based position of each answer in the order the questionnaire shows the options."""
        order = self.cb.scale_of(item_id).shown_order() or []
        where = {v: k for k, v in enumerate(order, start=1)}
        vals = (self.codes(item_id) if self.cb.scale_of(item_id).kind != "category"
                else self.item(item_id))
        out = []
        for v in vals:
            if v is not None and v not in where:
                raise CxlabError(f"{item_id}: {v!r} is not one of the options {order}")
            out.append(None if v is None else where[v])
        return out

    def branch_position(self) -> list[int | None]:
        where = {b.name: k for k, b in enumerate(self.org.branches, start=1)}
        return [None if v is None else where[str(v)] for v in self.raw(BRANCH_Q)]

    def branch_code(self) -> list[str | None]:
        code = self.org.name_to_code()
        return [None if v is None else code[str(v)] for v in self.raw(BRANCH_Q)]

    def channels(self, item_id: str) -> tuple[list[list[str] | None], list[str | None]]:
        """Chosen options per row (``None`` if skipped) and the "other" free text."""
        from cxlab.io import split_multiselect

        options = list(self.cb.scale_of(item_id).options or [])
        vals = self.item(item_id)
        split = split_multiselect(pd.Series(vals, dtype="object"), sep="┋", options=options)
        unknown = [c for c in split.columns if c not in options and not c.endswith("__text")]
        if unknown:
            raise CxlabError(f"{item_id}: unknown options {unknown}")
        chosen: list[list[str] | None] = []
        other: list[str | None] = []
        text_col = f"{options[-1]}__text"
        for i, v in enumerate(vals):
            if v is None:
                chosen.append(None)
                other.append(None)
                continue
            chosen.append([o for o in options if bool(split.at[i, o])])
            t = split.at[i, text_col] if text_col in split.columns else None
            other.append(None if t is None or (isinstance(t, float) and np.isnan(t)) else str(t))
        return chosen, other


def _wjx_code(r: _Responses) -> pd.DataFrame:
    data: dict[str, list] = {c: [v if c == "序号" else _text(v) for v in r.frame[c]]
                             for c in WJX_META}
    by_label = {i.label: i for i in r.cb.items}
    for label, _ in sorted(r.number.items(), key=lambda kv: kv[1]):
        col = r.header[label]
        if label == BRANCH_Q:
            data[col] = [-2 if p is None else p for p in r.branch_position()]
            continue
        it = by_label.get(label)
        kind = r.cb.scales[it.scale].kind if it is not None else "text"
        if it is not None and it.role != "pii" and kind == "multi":
            chosen, _ = r.channels(it.id)
            for opt in r.cb.scales[it.scale].options or []:
                data[f"第{r.number[label]}题({opt})"] = [
                    -2 if c is None else int(opt in c) for c in chosen]
        elif it is not None and kind in ("ordinal", "numeric", "category"):
            data[col] = [-2 if p is None else p for p in r.position(it.id)]
        else:  # fill-in questions: the text itself
            data[col] = ["" if v is None and label != CUSTOMER_Q else v for v in r.raw(label)]
    return pd.DataFrame(data)


def _text(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _sm_time(ts: pd.Series) -> list[str]:
    """SurveyMonkey's ``MM/DD/YYYY h:mm:ss AM`` (hour not zero-padded)."""
    return [f"{t.month:02d}/{t.day:02d}/{t.year} {(t.hour % 12) or 12}:{t.minute:02d}:"
            f"{t.second:02d} {'AM' if t.hour < 12 else 'PM'}" for t in ts]


def _ip(cells: list[object]) -> list[str]:
    return [str(v).split("(")[0] if v is not None else "" for v in cells]


def _surveymonkey(r: _Responses) -> list[list[str]]:
    cb = r.cb
    top: list[str] = list(SM_META)
    sub: list[str] = [""] * len(SM_META)
    cols: list[list[str]] = []

    def text(vals: list[object]) -> list[str]:
        return [_text(v) for v in vals]

    def single(question: str, vals: list[object], kind: str = "Response") -> None:
        top.append(question)
        sub.append(kind)
        cols.append(text(vals))

    def matrix(question: str, items: list[str]) -> None:
        for k, item_id in enumerate(items):
            top.append(question if k == 0 else "")
            sub.append(cb.item(item_id).label)
            cols.append(text(r.item(item_id)))

    single(BRANCH_Q, r.raw(BRANCH_Q))
    for item_id in ("product", "product_model", "experience_channel"):
        single(cb.item(item_id).label, r.item(item_id))
    matrix(SM_MATRIX_VERBAL, cb.attribute_items)
    single(cb.item("ltr").label, r.item("ltr"))
    single(cb.item("csat").label, r.item("csat"))
    single(cb.item("ces").label, r.item("ces"))
    single(cb.item("comment").label, r.item("comment"), "Open-Ended Response")
    single(cb.item("price_direct").label, r.item("price_direct"))
    single(cb.item("price_expected").label, r.item("price_expected"))
    chosen, other = r.channels("purchase_channel")
    options = list(cb.scale_of("purchase_channel").options or [])
    for k, opt in enumerate(options):
        last = k == len(options) - 1
        top.append(cb.item("purchase_channel").label if k == 0 else "")
        sub.append(SM_OTHER if last else opt)
        if last:
            cols.append(["" if c is None or opt not in c else (t or opt)
                         for c, t in zip(chosen, other, strict=True)])
        else:
            cols.append(["" if c is None or opt not in c else opt for c in chosen])
    matrix(SM_MATRIX_KANO, [c for k in cb.kano for c in (k.functional, k.dysfunctional)])

    contact = r.raw("联系方式")
    names = [str(v) if v is not None else "" for v in r.raw("客户姓名")]
    meta = [
        [str(114523189000 + int(s)) for s in r.frame["序号"]],
        [SM_COLLECTORS.get(str(s), "431877203") for s in r.frame["来源"]],
        _sm_time(r.start), _sm_time(r.end), _ip(r.frame["来自IP"].tolist()),
        [str(v) if v is not None and "@" in str(v) else "" for v in contact],
        [n[1:] for n in names], [n[:1] for n in names], text(r.raw(CUSTOMER_Q)),
    ]
    rows = [top, sub]
    for i in range(r.n):
        rows.append([m[i] for m in meta] + [c[i] for c in cols])
    return rows


def _limesurvey(r: _Responses) -> list[list[str]]:
    cb = r.cb
    head: list[str] = list(LS_META)
    cols: list[list[str]] = []

    def codes(item_id: str) -> list[str]:
        return ["N/A" if p is None else f"A{p}" for p in r.position(item_id)]

    def add(code: str, vals: list[str]) -> None:
        head.append(code)
        cols.append(vals)

    add("Q1", ["N/A" if v is None else str(v) for v in r.codes("ltr")])
    add("Q2", codes("csat"))
    add("Q3", codes("ces"))
    for j, item_id in enumerate(cb.attribute_items, start=1):
        add(f"Q4[SQ{j:03d}]", codes(item_id))
    for j, item_id in enumerate([c for k in cb.kano for c in (k.functional, k.dysfunctional)],
                                start=1):
        add(f"Q5[SQ{j:03d}]", codes(item_id))
    add("Q6", codes("price_direct"))
    add("Q7", codes("price_expected"))
    chosen, other = r.channels("purchase_channel")
    options = list(cb.scale_of("purchase_channel").options or [])
    for j, opt in enumerate(options[:-1], start=1):
        add(f"Q8[SQ{j:03d}]", ["N/A" if c is None else ("Y" if opt in c else "") for c in chosen])
    add("Q8[other]", ["N/A" if c is None else ((t or options[-1]) if options[-1] in c else "")
                      for c, t in zip(chosen, other, strict=True)])
    add("Q9", [_text(v) for v in r.item("comment")])
    add("Q10", codes("product"))
    add("Q11", codes("product_model"))
    add("Q12", codes("experience_channel"))
    add("branch", ["N/A" if b is None else b for b in r.branch_code()])

    end = r.end.dt.strftime("%Y-%m-%d %H:%M:%S").tolist()
    start = r.start.dt.strftime("%Y-%m-%d %H:%M:%S").tolist()
    seq = [int(s) for s in r.frame["序号"]]
    meta = [[str(s) for s in seq], [_text(v) for v in r.raw(CUSTOMER_Q)], end,
            ["5"] * r.n, ["zh-Hans"] * r.n, [str(1000003 * s % 2147483647) for s in seq], start,
            end, _ip(r.frame["来自IP"].tolist())]
    rows = [head]
    for i in range(r.n):
        rows.append([m[i] for m in meta] + [c[i] for c in cols])
    return rows


def platform_exports(text: pd.DataFrame, *, codebook: Codebook | str | Path = "params/codebook.yaml",
                     org: Org | str | Path = "params/org.yaml") -> dict[str, object]:
    """The responses of a 问卷星 text export of our questionnaire in the other layouts.

    Parameters
    ----------
    text : the 问卷星 "按选项文本" export as read with ``pandas.read_excel(..., dtype=object)``
        (header as written, ``(跳过)`` for skipped questions), e.g. ``survey/wjx_2026Q3.xlsx``
        of :func:`make_sample_data`.
    codebook, org : models or parameter files.

    Returns
    -------
    dict
        ``wjx_code``: DataFrame (write it like the text export, one header row);
        ``surveymonkey`` and ``limesurvey``: lists of rows (header rows first), all text.

    Raises
    ------
    CxlabError
        When the export is not of the codebook's questionnaire (a question or answer unknown).
    """
    cb = codebook if isinstance(codebook, Codebook) else load_codebook(codebook)
    og = org if isinstance(org, Org) else load_org(org)
    r = _Responses(text, cb, og)
    return {"wjx_code": _wjx_code(r), "surveymonkey": _surveymonkey(r),
            "limesurvey": _limesurvey(r)}


def _csv(rows: list[list[str]], *, sep: str, quote_all: bool, newline: str) -> str:
    out = []
    for row in rows:
        cells = []
        for c in row:
            if quote_all or any(ch in c for ch in (sep, '"', "\n", "\r")):
                c = '"' + c.replace('"', '""') + '"'
            cells.append(c)
        out.append(sep.join(cells))
    return newline.join(out) + newline


def write_platform_exports(text: pd.DataFrame, out: str | Path, *, stem: str = "ours",
                           codebook: Codebook | str | Path = "params/codebook.yaml",
                           org: Org | str | Path = "params/org.yaml") -> list[Path]:
    """Write :func:`platform_exports` as files in ``out``: ``<stem>_wjx_code.xlsx`` (问卷星
    layout, numeric cells), ``<stem>_surveymonkey.csv`` (UTF-8, CRLF) and the same as
    ``<stem>_surveymonkey.xlsx`` (two header rows, blank cells for empty answers), and
    ``<stem>_limesurvey.csv`` (UTF-8 with BOM, ``;``, all quoted, CRLF). Returns the paths."""
    from cxlab.datasets._make import _write_xlsx

    ex = platform_exports(text, codebook=codebook, org=org)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{stem}_wjx_code.xlsx", out / f"{stem}_surveymonkey.csv",
             out / f"{stem}_surveymonkey.xlsx", out / f"{stem}_limesurvey.csv"]
    _write_xlsx(paths[0], ex["wjx_code"])
    sm = ex["surveymonkey"]
    paths[1].write_bytes(_csv(sm, sep=",", quote_all=False, newline="\r\n").encode("utf-8"))
    _write_xlsx(paths[2], pd.DataFrame(sm[1:], columns=sm[0]), title="SurveyMonkey export",
                author="SurveyMonkey")
    paths[3].write_bytes(codecs.BOM_UTF8 + _csv(ex["limesurvey"], sep=";", quote_all=True,
                                                newline="\r\n").encode("utf-8"))
    return paths
