"""Excel tab books: one banner table per question, column percentages with significance letters.

A tab book (交叉表) is what analysts are handed besides the report: every question of the
codebook down the side, the banner (total, region, branch, channel, value tier, period) across
the top, column percentages, bases, nets and the letters of the columns a cell is significantly
higher than.

Tables are built from value counts per banner column, so that a branch book can carry the
company total as counts aggregated in the warehouse (DuckDB) without holding any other branch's
respondent-level rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cxlab.config import Codebook
from cxlab.deliver._zh import zh
from cxlab.errors import CxlabError
from cxlab.metrics._column_tests import METHOD_CN, design_pair_tests, pair_tests
from cxlab.metrics._common import CAUTION_BASE, MIN_BASE, base_flag
from cxlab.metrics._crosstab import _letter
from cxlab.metrics._design import adjust_pvalues

__all__ = ["Banner", "BannerColumn", "Table", "build_tables", "tabbook", "write_tabbook",
           "write_tables"]

ADJUST = ("fdr_bh", "holm", "none")
#: Columns of :attr:`Table.tests`.
TEST_COLUMNS = ["row", "letter_a", "letter_b", "base_a", "base_b", "diff", "method", "pvalue",
                "p_adjusted", "significant"]
#: Banner group of the total column.
TOTAL = "总体"
NPS_GROUPS = (("推荐者(9–10)", 9, 10), ("中立者(7–8)", 7, 8), ("贬损者(0–6)", 0, 6))
FLAG_CN = {"suppress": f"样本不足(n<{MIN_BASE}),不报告", "caution": f"基数小(n<{CAUTION_BASE})",
           "ok": ""}


# --------------------------------------------------------------------------- banner
@dataclass(frozen=True, slots=True, kw_only=True)
class BannerColumn:
    """One banner column.

    Attributes
    ----------
    group : banner group shown above the column (总体, 区域, 渠道 …); columns are tested
        against each other only within their group.
    label : the column header.
    mask : boolean array over the rows of the data, or ``None`` for an external column.
    counts : for an external column (the company total in a branch book): a callable
        ``item -> DataFrame`` indexed by answer value with ``n, w, w2`` (count, sum of weights,
        sum of squared weights), or ``None`` when the item is absent.
    contains : for an external column, the mask of the data rows it includes; its tests use the
        external counts minus these rows (e.g. the company without the branch).
    """

    group: str
    label: str
    mask: np.ndarray | None = None
    counts: Callable[[str], pd.DataFrame | None] | None = None
    contains: np.ndarray | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Banner:
    """A banner group made of the levels of one data column (in ``levels`` order)."""

    name: str
    column: str
    levels: Sequence[object] | None = None
    within: np.ndarray | None = None   # restrict to these rows (e.g. the current period)

    def columns(self, data: pd.DataFrame) -> list[BannerColumn]:
        values = data[self.column]
        inside = np.ones(len(data), bool) if self.within is None else np.asarray(self.within)
        observed = set(values[inside].dropna().unique())
        levels = [lv for lv in (self.levels if self.levels is not None else sorted(observed, key=str))
                  if lv in observed]
        arr = values.to_numpy(dtype=object)
        return [BannerColumn(group=self.name, label=str(lv), mask=inside & (arr == lv))
                for lv in levels]


# --------------------------------------------------------------------------- result
@dataclass(frozen=True, slots=True, kw_only=True)
class Table:
    """One question's banner table.

    Attributes
    ----------
    item : codebook item id.
    title : item label.
    kind : ``single`` (ordinal, numeric, category), ``multi`` or ``nps``.
    columns : one row per banner column: ``group, label, letter, base`` (unweighted),
        ``weighted_base``, ``effective_base`` (Kish), ``flag`` (ok/caution/suppress).
    cells : one row per (table row, banner column): ``row, row_kind`` (answer, net, nps, mean),
        ``letter, count, weighted_count, value`` (column % for answers and nets, NPS points,
        mean; NaN when the column is suppressed) and ``sig`` (letters of the columns of the
        same group this cell is significantly higher than).
    notes : footnotes (tests, multiplicity control, bases).
    tests : the pairwise column tests behind the letters: ``row, letter_a, letter_b, base_a,
        base_b, diff`` (points, a minus b), ``method`` (``z``, ``fisher`` or ``design``),
        ``pvalue`` (raw), ``p_adjusted`` and ``significant``.
    """

    item: str
    title: str
    kind: str
    scale: str
    columns: pd.DataFrame
    cells: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    tests: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TEST_COLUMNS))

    def to_frame(self) -> pd.DataFrame:
        """The column percentages as a wide frame: table rows × banner letters."""
        return self.cells.pivot_table(index="row", columns="letter", values="value",
                                      sort=False, dropna=False)


# --------------------------------------------------------------------------- counting
def _row_defs(codebook: Codebook, item: str, values: Sequence[object]) -> tuple[str, list]:
    """(kind, [(label, row_kind, predicate over a value)]) for one item."""
    scale = codebook.scale_of(item)
    rows: list[tuple[str, str, Callable[[object], bool] | None]] = []
    if scale.kind == "multi":
        from cxlab.io import split_multiselect

        distinct = pd.Series(list(values), dtype=object)
        split = split_multiselect(distinct, options=scale.options) if len(distinct) else None
        options = list(scale.options or [])
        if split is not None:
            options += [c for c in split.columns if c not in options and not c.endswith("__text")]
        for opt in options:
            chosen = set()
            if split is not None and opt in split.columns:
                chosen = {distinct[i] for i in np.flatnonzero(split[opt].fillna(False).to_numpy(bool))}
            rows.append((opt, "answer", lambda v, s=frozenset(chosen): v in s))
        return "multi", rows
    if scale.kind == "ordinal":
        order = scale.shown_order() or sorted(scale.codes or {})
        for code in order:
            rows.append((str((scale.codes or {}).get(code, code)), "answer",
                         lambda v, c=code: _num(v) == c))
        if item not in codebook.kano_items and len(order) >= 4:
            top = set(scale.top_codes)
            bottom = set(sorted(scale.codes or {})[: len(top)])
            rows.append((f"前{len(top)}项(" + "/".join(str(scale.codes[c]) for c in
                         sorted(top, reverse=True)) + ")", "net", lambda v, t=top: _num(v) in t))
            rows.append((f"后{len(bottom)}项(" + "/".join(str(scale.codes[c]) for c in
                         sorted(bottom, reverse=True)) + ")", "net",
                         lambda v, b=bottom: _num(v) in b))
            rows.append(("均值", "mean", None))
        return "single", rows
    if scale.kind == "numeric":
        order = scale.shown_order()
        if order is None:  # fractional scale: the observed values
            order = sorted({_num(v) for v in values if _num(v) is not None})
        for code in order:
            rows.append((f"{code:g}", "answer", lambda v, c=code: _num(v) == c))
        if item == codebook.nps_item:
            for label, lo, hi in NPS_GROUPS:
                rows.append((label, "net", lambda v, a=lo, b=hi: _num(v) is not None and a <= _num(v) <= b))
            rows.append(("NPS(净推荐值)", "nps", None))
            rows.append(("均值", "mean", None))
            return "nps", rows
        top = set(scale.top_codes)
        if top:
            rows.append((f"前{len(top)}项({'/'.join(f'{c:g}' for c in sorted(top, reverse=True))})",
                         "net", lambda v, t=top: _num(v) in t))
        rows.append(("均值", "mean", None))
        return "single", rows
    # category: options in questionnaire order, then other observed answers
    options = list(scale.options or [])
    options += sorted({str(v) for v in values} - set(options))
    for opt in options:
        rows.append((opt, "answer", lambda v, o=opt: str(v) == o))
    return "single", rows


def _num(v: object) -> float | None:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if np.isnan(f) else f


# --------------------------------------------------------------------------- building
def build_tables(
    data: pd.DataFrame,
    *,
    codebook: Codebook,
    columns: Sequence[BannerColumn],
    items: Sequence[str] | None = None,
    weight: str | None = None,
    alpha: float = 0.05,
    adjust: str = "fdr_bh",
    exact: bool = True,
) -> list[Table]:
    """Banner tables of ``items`` across the banner ``columns``.

    Parameters
    ----------
    data : DataFrame
        One row per response (codebook item columns).
    codebook : Codebook
        Scales give the answer rows in questionnaire order, their labels, the top-/bottom-box
        nets (``Scale.top_codes``) and, for ``codebook.nps_item``, the NPS groups.
    columns : sequence of BannerColumn
        The banner, total first. Letters A, B, … are given in this order.
    items : item ids; default every non-text measure and dimension item present in ``data``.
    weight : column of non-negative weights, optional.
    alpha : significance level of the letters.
    adjust : ``"fdr_bh"`` (default): Benjamini–Hochberg control of the false discovery rate
        over all column-pair tests of a table; ``"holm"``: Holm's step-down (family-wise);
        ``"none"``: each test at ``alpha``, as :func:`cxlab.metrics.crosstab` with
        ``adjust=None``.
    exact : Fisher's exact test where an expected count is below 5 (unweighted data).

    Returns
    -------
    list of Table

    Notes
    -----
    The letter tests are those of :func:`cxlab.metrics.crosstab` (module
    :mod:`cxlab.metrics._column_tests`): unweighted, the pooled column-proportion z-test, or
    Fisher's exact test when an expected count of the pair's 2×2 table is below 5; weighted,
    the design-based t-test of the weighted shares (R ``svyttest``), except where an expected
    count of the pair's 2×2 table of unweighted counts is below 5: such a weighted small cell is
    not tested (method ``small``, p shown as "—", no letter). They run between the
    columns of one banner group whose unweighted bases are at least ``MIN_BASE``; a smaller
    column neither gives nor receives a letter. An external column
    (company total in a branch book) is tested as the company without the columns it contains.
    NPS and mean rows carry no letters.

    References
    ----------
    Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. *JRSS B* 57(1).
    """
    if adjust not in ADJUST:
        raise ValueError(f"adjust={adjust!r} is not allowed; expected one of {ADJUST}")
    if weight is not None and weight not in data.columns:
        raise ValueError(f"weight column {weight!r} not found")
    w = (pd.to_numeric(data[weight], errors="coerce").fillna(0).to_numpy(float)
         if weight else np.ones(len(data)))
    if items is None:
        items = [i.id for i in codebook.items if i.role in ("measure", "dimension")
                 and codebook.scale_of(i.id).kind != "text" and i.id in data.columns]
    cols = list(columns)
    letters = [_letter(i) for i in range(len(cols))]
    tables = []
    for item in items:
        codes, uniques = pd.factorize(data[item].to_numpy(dtype=object), use_na_sentinel=True)
        vals = list(uniques)
        pos = {v: i for i, v in enumerate(vals)}
        ext = {j: (c.counts(item) if c.counts is not None else None)
               for j, c in enumerate(cols) if c.mask is None}
        for frame_ in ext.values():  # answers only the external counts have
            for v in ([] if frame_ is None else frame_.index):
                if v not in pos:
                    pos[v] = len(vals)
                    vals.append(v)
        nv, ncols = len(vals), len(cols)
        # counts by answer: one row per banner column (N: count, W: weights, W2: squares)
        N, W, W2 = (np.zeros((ncols, nv)) for _ in range(3))
        RN, RW, RW2 = N, W, W2  # the counts the tests use (external: without its own rows)
        ok_codes = codes >= 0
        u = len(uniques)

        def binned(mask, _codes=codes, _ok=ok_codes, _u=u, _nv=nv):
            sel = mask & _ok
            c, wt = _codes[sel], w[sel]
            out = np.zeros((3, _nv))
            out[0, :_u] = np.bincount(c, minlength=_u)
            out[1, :_u] = np.bincount(c, weights=wt, minlength=_u)
            out[2, :_u] = np.bincount(c, weights=wt * wt, minlength=_u)
            return out

        rest_rows = {}
        for j, c in enumerate(cols):
            if c.mask is not None:
                N[j], W[j], W2[j] = binned(c.mask)
            elif ext[j] is not None:
                idx = [pos[v] for v in ext[j].index]
                N[j, idx], W[j, idx], W2[j, idx] = (ext[j][x].to_numpy(float) for x in ("n", "w", "w2"))
                if c.contains is not None:
                    rest_rows[j] = np.clip(np.stack([N[j], W[j], W2[j]]) - binned(c.contains), 0, None)
        if rest_rows:
            RN, RW, RW2 = N.copy(), W.copy(), W2.copy()
            for j, (a, b, d) in rest_rows.items():
                RN[j], RW[j], RW2[j] = a, b, d
        present = N.sum(axis=0) > 0
        kind, rows = _row_defs(codebook, item, [v for v, p in zip(vals, present, strict=True) if p])
        base, wbase, w2base = N.sum(1), W.sum(1), W2.sum(1)
        colinfo = [{"group": c.group, "label": c.label, "letter": letter, "base": int(base[j]),
                    "weighted_base": float(wbase[j]),
                    "effective_base": float(wbase[j] ** 2 / w2base[j]) if w2base[j] > 0 else 0.0,
                    "flag": base_flag(int(base[j]))}
                   for j, (c, letter) in enumerate(zip(cols, letters, strict=True))]
        suppressed = np.array([ci["flag"] == "suppress" for ci in colinfo])
        rbase, rw, rw2 = RN.sum(1), RW.sum(1), RW2.sum(1)
        numeric = np.array([_num(v) if _num(v) is not None else np.nan for v in vals], float)
        cells, tests = [], []
        for label, row_kind, pred in rows:
            if pred is not None:
                hit = np.array([bool(pred(v)) for v in vals], bool)
                k, wk = N[:, hit].sum(1), W[:, hit].sum(1)
                with np.errstate(divide="ignore", invalid="ignore"):
                    value = np.where(wbase > 0, 100 * wk / wbase, np.nan)
                # the sums the tests use (external column: without its own rows)
                hit_sums = np.stack([RN[:, hit].sum(1), RW[:, hit].sum(1), RW2[:, hit].sum(1)])
            else:
                k, wk = base, wbase
                value = _stats(numeric, W, row_kind)
            start = len(cells)
            for j in range(ncols):
                cells.append({"row": label, "row_kind": row_kind, "letter": letters[j],
                              "count": int(k[j]), "weighted_count": float(wk[j]),
                              "value": np.nan if suppressed[j] else float(value[j]), "sig": ""})
            if row_kind not in ("answer", "net"):
                continue
            for a in range(ncols):
                for b in range(a + 1, ncols):
                    if cols[a].group != cols[b].group or cols[a].group == TOTAL:
                        continue
                    # a column under the minimum base neither gives nor receives a letter
                    if suppressed[a] or suppressed[b] or min(rbase[a], rbase[b]) < MIN_BASE \
                            or rw[a] <= 0 or rw[b] <= 0:
                        continue
                    tests.append((label, start + a, start + b,
                                  *hit_sums[:, a], rbase[a], rw[a], rw2[a],
                                  *hit_sums[:, b], rbase[b], rw[b], rw2[b]))
        test_frame = pd.DataFrame(columns=TEST_COLUMNS)
        if tests:
            arr = np.array([t[3:] for t in tests], dtype=float)
            (k1, wk1, qk1, n1, w1, q1, k2, wk2, qk2, n2, w2, q2) = arr.T
            if weight is None:
                pvals, diffs, methods = pair_tests(k1, n1, k2, n2, exact=exact)
            else:
                pvals, diffs, methods = design_pair_tests(wk1, w1, qk1, q1, n1,
                                                          wk2, w2, qk2, q2, n2, k1=k1, k2=k2)
            padj = pvals if adjust == "none" else adjust_pvalues(pvals, method=adjust)
            sig = (padj < alpha) & (diffs != 0)
            for (_, ia, ib, *_rest), diff, s_ in zip(tests, diffs, sig, strict=True):
                if not s_:
                    continue
                hi, lo = (ia, ib) if diff > 0 else (ib, ia)
                cells[hi]["sig"] += cells[lo]["letter"]
            test_frame = pd.DataFrame({
                "row": [t[0] for t in tests],
                "letter_a": [cells[t[1]]["letter"] for t in tests],
                "letter_b": [cells[t[2]]["letter"] for t in tests],
                "base_a": n1.astype(int), "base_b": n2.astype(int),
                "diff": 100 * diffs, "method": methods, "pvalue": pvals, "p_adjusted": padj,
                "significant": sig})
        for cell in cells:  # letters in banner order
            cell["sig"] = _sort_letters(cell["sig"], letters)
        it = codebook.item(item)
        tables.append(Table(item=item, title=it.label, kind=kind,
                            scale=codebook.scale_of(item).label,
                            columns=pd.DataFrame(colinfo), cells=pd.DataFrame(cells),
                            notes=_notes(adjust, alpha, weight, cols, test_frame),
                            tests=test_frame))
    return tables


def _sort_letters(sig: str, letters: list[str]) -> str:
    found = [x for x in letters if x in _split_letters(sig, letters)]
    return "".join(found)


def _split_letters(sig: str, letters: list[str]) -> set[str]:
    """Letters of ``sig`` (multi-letter columns AA, AB … after Z)."""
    out, i = set(), 0
    known = sorted(letters, key=len, reverse=True)
    while i < len(sig):
        for x in known:
            if sig.startswith(x, i):
                out.add(x)
                i += len(x)
                break
        else:
            i += 1
    return out


def _stats(numeric: np.ndarray, W: np.ndarray, row_kind: str) -> np.ndarray:
    """Mean (``mean``) or NPS points (``nps``) per banner column from weighted answer counts."""
    ok = ~np.isnan(numeric)
    wts = W[:, ok]
    v = numeric[ok]
    total = wts.sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if row_kind == "mean":
            out = (wts * v).sum(1) / total
        else:
            out = 100 * (wts[:, v >= 9].sum(1) - wts[:, v <= 6].sum(1)) / total
    return np.where(total > 0, out, np.nan)


def _notes(adjust: str, alpha: float, weight: str | None, cols: Sequence[BannerColumn],
           tests: pd.DataFrame) -> list[str]:
    used = set(tests["method"]) if len(tests) else set()
    if weight:
        how = (f"采用{METHOD_CN['design']};该对列未加权计数的 2×2 表中有期望频数小于 5 时不做检验"
               "(加权数据的小格不做检验,精确检验不适用于加权数据)"
               + ("(本表有此类比较)" if "small" in used else ""))
    else:
        how = f"采用{METHOD_CN['z']}" + (
            f";该对列的 2×2 表中有期望频数小于 5 时改用{METHOD_CN['fisher']}"
            + ("(本表有此类比较)" if "fisher" in used else ""))
    adj = {"fdr_bh": "多重比较采用 Benjamini–Hochberg 错误发现率(FDR)控制,同一张表内的全部两两检验"
                     "一并校正。",
           "holm": "多重比较采用 Holm 法控制族错误率,同一张表内的全部两两检验一并校正。",
           "none": "未做多重比较校正。"}[adjust]
    notes = [
        "百分比为列百分比(该列作答人数为分母);多选题各选项之和可超过 100%。",
        f"显著性字母:同一组内两列比较,{how},双侧,显著性水平 {alpha:g};字母表示该格显著高于该字母"
        "所在列。" + adj,
        f"样本量规则:基数少于 {MIN_BASE} 的列不报告百分比,也不参与检验(既不标注字母,也不被其他列"
        f"标注);少于 {CAUTION_BASE} 的列以斜体灰字标注“基数小”,仅供参考。",
        "NPS = 推荐者占比 − 贬损者占比(分),均值与 NPS 行不做字母检验。",
    ]
    if weight:
        notes.append(f"百分比与均值按权重列“{weight}”加权;检验的方差由权重计算(不把加权频数当作"
                     "频数)。")
    if any(c.mask is None and c.contains is not None for c in cols):
        notes.append("“全公司”列为全公司汇总计数;本机构与全公司比较时,检验对象为全公司中除本机构以外的受访者。")
    return notes


# --------------------------------------------------------------------------- writing
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(i: int, title: str) -> str:
    return _BAD_SHEET.sub("", f"Q{i:02d} {title}")[:31].strip()


def write_tabbook(tables: Sequence[Table], path: str | Path, *, title: str,
                  subtitle: str = "") -> Path:
    """Write ``tables`` as an ``.xlsx`` tab book: a 目录 sheet, then one sheet per table.

    Each sheet has the banner groups, column labels and letters as headers, the unweighted (and
    weighted) bases with their small-base flags, one row per answer and net (column % with the
    significance letters in the row below), frozen panes and footnotes.
    """
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    wb = xlsxwriter.Workbook(str(tmp), {"nan_inf_to_errors": True})
    font = "Microsoft YaHei"
    f = {
        "title": wb.add_format({"bold": True, "font_size": 14, "font_name": font}),
        "sub": wb.add_format({"font_color": "#555555", "font_name": font}),
        "group": wb.add_format({"bold": True, "align": "center", "bg_color": "#1F4E79",
                                "font_color": "#FFFFFF", "border": 1, "font_name": font}),
        "head": wb.add_format({"bold": True, "align": "center", "valign": "vcenter",
                               "text_wrap": True, "bg_color": "#DDEBF7", "border": 1,
                               "font_name": font}),
        "letter": wb.add_format({"align": "center", "font_color": "#1F4E79", "bottom": 1,
                                 "font_name": font}),
        "label": wb.add_format({"font_name": font, "text_wrap": True, "valign": "top"}),
        "base_label": wb.add_format({"bold": True, "font_name": font, "bg_color": "#F2F2F2"}),
        "base": wb.add_format({"num_format": "#,##0", "bold": True, "align": "center",
                               "bg_color": "#F2F2F2", "font_name": font}),
        "wbase": wb.add_format({"num_format": "#,##0.0", "align": "center", "bg_color": "#F2F2F2",
                                "font_name": font}),
        "flag": wb.add_format({"font_color": "#C00000", "align": "center", "font_size": 9,
                               "text_wrap": True, "font_name": font}),
        "pct": wb.add_format({"num_format": "0.0%", "align": "center", "font_name": font}),
        "pct_caution": wb.add_format({"num_format": "0.0%", "align": "center", "italic": True,
                                      "font_color": "#808080", "font_name": font}),
        "net_label": wb.add_format({"bold": True, "font_name": font, "bg_color": "#FFF2CC"}),
        "net": wb.add_format({"num_format": "0.0%", "align": "center", "bold": True,
                              "bg_color": "#FFF2CC", "font_name": font}),
        "nps": wb.add_format({"num_format": "0.0", "align": "center", "bold": True,
                              "bg_color": "#FFF2CC", "font_name": font}),
        "mean": wb.add_format({"num_format": "0.00", "align": "center", "font_name": font}),
        "sig": wb.add_format({"align": "center", "font_color": "#C00000", "font_size": 9,
                              "font_name": font}),
        "dash": wb.add_format({"align": "center", "font_color": "#A0A0A0", "font_name": font}),
        "note": wb.add_format({"font_color": "#555555", "font_size": 9, "font_name": font}),
        "link": wb.add_format({"font_color": "#0563C1", "underline": 1, "font_name": font}),
        "toc_head": wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                                   "font_name": font}),
        "cell": wb.add_format({"font_name": font}),
    }
    toc = wb.add_worksheet("目录")
    names = [_sheet_name(i + 1, zh(t.title)) for i, t in enumerate(tables)]
    seen: dict[str, int] = {}
    for i, n in enumerate(names):  # unique sheet names (titles may repeat after truncation)
        if n in seen:
            names[i] = f"Q{i + 1:02d}"[:31]
        seen[names[i]] = i
    toc.write(0, 0, zh(title), f["title"])
    toc.write(1, 0, zh(subtitle), f["sub"])
    for c, h in enumerate(("序号", "题目", "题型", "量表", "总基数")):
        toc.write(3, c, h, f["toc_head"])
    kind_cn = {"single": "单选/评分", "multi": "多选", "nps": "推荐意愿(NPS)"}
    for r, (t, name) in enumerate(zip(tables, names, strict=True), start=4):
        toc.write(r, 0, f"Q{r - 3:02d}", f["cell"])
        toc.write_url(r, 1, f"internal:'{name}'!A1", f["link"], string=zh(t.title))
        toc.write(r, 2, zh(kind_cn.get(t.kind, t.kind)), f["cell"])
        toc.write(r, 3, zh(t.scale), f["cell"])
        toc.write_number(r, 4, int(t.columns["base"].iloc[0]), f["base"])
    toc.write(4 + len(tables), 0, "附", f["cell"])
    toc.write_url(4 + len(tables), 1, f"internal:'{TESTS_SHEET}'!A1", f["link"],
                  string=zh(f"{TESTS_SHEET}(各表全部两两比较的检验方法与未校正、校正后 p 值)"))
    last = 4 + len(tables) + 2
    for k, line in enumerate(tables[0].notes if tables else [], start=last):
        toc.write(k, 0, zh(line), f["note"])
    toc.set_column(0, 0, 8)
    toc.set_column(1, 1, 60)
    toc.set_column(2, 3, 18)
    toc.set_column(4, 4, 10)
    toc.freeze_panes(4, 0)
    toc.set_paper(9)
    toc.fit_to_pages(1, 0)

    for t, name in zip(tables, names, strict=True):
        _write_table(wb, f, t, name, title)
    _write_tests(wb, f, tables, names)
    wb.close()
    tmp.replace(path)
    return path


#: Name of the last sheet: every pairwise letter test with raw and adjusted p.
TESTS_SHEET = "显著性检验明细"
TEST_HEAD = ("题目", "行", "列", "对比列", "基数", "对比列基数", "差值(百分点)", "检验方法",
             "p 值(未校正)", "p 值(校正后)", "显著")


def _write_tests(wb, f, tables: Sequence[Table], names: Sequence[str]) -> None:
    """The sheet listing every column-pair test of every table (the letters' evidence)."""
    ws = wb.add_worksheet(TESTS_SHEET)
    ws.write(0, 0, zh("显著性检验明细:各表同组两列的全部比较(字母即来自这些检验)"), f["title"])
    ws.write(1, 0, zh("检验方法:" + ";".join(f"{v}(Fisher 精确检验用于期望频数小于 5)"
                                              if k == "fisher" else v
                                              for k, v in METHOD_CN.items())
                      + "。p 值为“—”的比较未做检验(加权数据的小格)"
                      + "。校正后 p 值为各表内多重比较校正的结果。"), f["sub"])
    for c, h in enumerate(TEST_HEAD):
        ws.write(3, c, zh(h), f["toc_head"])
    r = 4
    for t, name in zip(tables, names, strict=True):
        for rec in t.tests.itertuples():
            ws.write(r, 0, zh(name), f["cell"])
            ws.write(r, 1, zh(str(rec.row)), f["cell"])
            ws.write(r, 2, rec.letter_a, f["cell"])
            ws.write(r, 3, rec.letter_b, f["cell"])
            ws.write_number(r, 4, int(rec.base_a), f["cell"])
            ws.write_number(r, 5, int(rec.base_b), f["cell"])
            ws.write_number(r, 6, float(rec.diff), f["cell"])
            ws.write(r, 7, zh(METHOD_CN.get(rec.method, rec.method)), f["cell"])
            if np.isnan(rec.pvalue):  # a weighted small cell: not tested
                ws.write(r, 8, "—", f["cell"])
                ws.write(r, 9, "—", f["cell"])
            else:
                ws.write_number(r, 8, float(rec.pvalue), f["cell"])
                ws.write_number(r, 9, float(rec.p_adjusted), f["cell"])
            ws.write(r, 10, "是" if rec.significant else "", f["cell"])
            r += 1
    ws.set_column(0, 1, 24)
    ws.set_column(2, 10, 11)
    ws.freeze_panes(4, 0)
    ws.autofilter(3, 0, max(r - 1, 4), len(TEST_HEAD) - 1)


def _write_table(wb, f, t: Table, name: str, book_title: str) -> None:
    ws = wb.add_worksheet(name)
    cols = t.columns
    ncol = len(cols)
    weighted = not np.allclose(cols["weighted_base"], cols["base"])
    ws.write(0, 0, f"{name.split(' ')[0]}. {zh(t.title)}", f["title"])
    ws.write_url(0, ncol, "internal:'目录'!A1", f["link"], string="← 返回目录")
    ws.write(1, 0, zh(f"{book_title} · 量表:{t.scale}"), f["sub"])
    # banner group header (merged over its columns), labels, letters
    r = 3
    start = 0
    groups = cols["group"].tolist()
    for j in range(1, ncol + 1):
        if j == ncol or groups[j] != groups[start]:
            if j - start > 1:
                ws.merge_range(r, 1 + start, r, j, zh(groups[start]), f["group"])
            else:
                ws.write(r, 1 + start, zh(groups[start]), f["group"])
            start = j
    ws.write(r, 0, "", f["group"])
    ws.write(r + 1, 0, "", f["head"])
    ws.write(r + 2, 0, "", f["letter"])
    for j, row in enumerate(cols.itertuples()):
        ws.write(r + 1, 1 + j, zh(row.label), f["head"])
        ws.write(r + 2, 1 + j, f"({row.letter})", f["letter"])
    r += 3
    ws.write(r, 0, zh("基数(未加权)"), f["base_label"])
    for j, row in enumerate(cols.itertuples()):
        ws.write_number(r, 1 + j, int(row.base), f["base"])
    r += 1
    if weighted:
        ws.write(r, 0, zh("基数(加权)"), f["base_label"])
        for j, row in enumerate(cols.itertuples()):
            ws.write_number(r, 1 + j, float(row.weighted_base), f["wbase"])
        r += 1
    ws.write(r, 0, "基数提示", f["label"])
    for j, row in enumerate(cols.itertuples()):
        if row.flag != "ok":
            ws.write(r, 1 + j, zh(FLAG_CN[row.flag]), f["flag"])
    ws.set_row(r, 30)
    r += 1
    freeze = r
    flags = cols["flag"].tolist()
    for label, block in t.cells.groupby("row", sort=False):
        kind = block["row_kind"].iloc[0]
        is_net = kind in ("net", "nps")
        ws.write(r, 0, zh(label), f["net_label"] if is_net else f["label"])
        for j, cell in enumerate(block.itertuples()):
            if flags[j] == "suppress" or np.isnan(cell.value):
                ws.write(r, 1 + j, "—", f["dash"])
                continue
            if kind in ("answer", "net"):
                fmt = f["net"] if is_net else (f["pct_caution"] if flags[j] == "caution" else f["pct"])
                ws.write_number(r, 1 + j, cell.value / 100, fmt)
            elif kind == "nps":
                ws.write_number(r, 1 + j, cell.value, f["nps"])
            else:
                ws.write_number(r, 1 + j, cell.value, f["mean"])
        r += 1
        if kind in ("answer", "net"):
            for j, cell in enumerate(block.itertuples()):
                if cell.sig:
                    ws.write(r, 1 + j, cell.sig, f["sig"])
            ws.set_row(r, 12)
            r += 1
    r += 1
    for line in t.notes:
        ws.write(r, 0, zh(line), f["note"])
        r += 1
    ws.set_column(0, 0, 30)
    ws.set_column(1, ncol, 11)
    ws.set_row(4, 32)
    ws.freeze_panes(freeze, 1)
    # printing / PDF: A4 landscape, one page wide, banner headers repeated on every page
    ws.set_paper(9)
    ws.set_landscape()
    if ncol <= 16:  # wider banners print across pages, the row labels repeated
        ws.fit_to_pages(1, 0)
    ws.repeat_rows(3, freeze - 1)
    ws.repeat_columns(0, 0)


# --------------------------------------------------------------------------- scopes
def _company_counts(warehouse: Path, period: str, weight: str | None,
                    survey_weights: bool = False):
    """A callable item -> value counts of the whole company in ``period`` (DuckDB aggregate).

    ``survey_weights``: weight by the report's survey weights (the company-wide table
    :func:`cxlab.report.build_weights` writes, joined on period and response id) rather than
    by a ``weight`` column of the responses.
    """
    import duckdb

    from cxlab.report._aggregates import WEIGHTS

    glob = str(warehouse / "responses" / "**" / "*.parquet")
    src = f"read_parquet('{glob}', hive_partitioning = true, union_by_name = true)"
    con = duckdb.connect()
    present = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()}
    if survey_weights and (warehouse / WEIGHTS).is_file():
        src = (f"(SELECT r.*, w.weight AS _survey_weight FROM {src} r LEFT JOIN "
               f"read_parquet('{warehouse / WEIGHTS}') w ON CAST(r.period AS VARCHAR) = "
               "CAST(w.period AS VARCHAR) AND CAST(r.response_id AS VARCHAR) = "
               "CAST(w.response_id AS VARCHAR))")
        wexpr = 'coalesce(CAST("_survey_weight" AS DOUBLE), 0)'
    elif weight and weight in present:
        wexpr = f'coalesce(CAST("{weight}" AS DOUBLE), 0)'
    else:
        wexpr = "1.0"
    cache: dict[str, pd.DataFrame | None] = {}

    def counts(item: str) -> pd.DataFrame | None:
        if item not in cache:
            if item not in present:
                cache[item] = None
            else:
                df = con.execute(
                    f'SELECT "{item}" AS v, count(*) AS n, sum({wexpr}) AS w, '
                    f"sum({wexpr} * {wexpr}) AS w2 FROM {src} "
                    f'WHERE CAST(period AS VARCHAR) = ? AND "{item}" IS NOT NULL GROUP BY 1',
                    [period]).df()
                df["v"] = [v.item() if hasattr(v, "item") else v for v in df["v"]]
                cache[item] = df.set_index("v")[["n", "w", "w2"]].astype(
                    {"n": int, "w": float, "w2": float})
        return cache[item]

    return counts


def scope_banner(ctx, frame: pd.DataFrame, *, weight: str | None,
                 periods: int = 4) -> list[BannerColumn]:
    """The banner of a report scope: the company's total, regions and branches; a region's
    total against the company and its branches; a branch's total against the company; then
    channel, value tier and the last ``periods`` periods (where those columns exist)."""
    cur = (frame["period"] == ctx.period).to_numpy()
    if ctx.is_company:
        cols = [BannerColumn(group=TOTAL, label="全公司", mask=cur)]
        regions = frame["branch"].map(
            lambda b: ctx.org.region_name(b) if b in ctx.org.branch_codes else None)
        if regions[cur].dropna().nunique() > 1:
            frame = frame.assign(_region=regions)
            order = [u.name for u in ctx.org.tree if not u.is_branch]
            cols += Banner(name="区域", column="_region", levels=order, within=cur).columns(frame)
        names = frame["branch"].map(ctx.branch_name)
        frame = frame.assign(_branch=names)
        order = [b.name for b in ctx.org.branches]
        cols += Banner(name="分支机构", column="_branch", levels=order, within=cur).columns(frame)
    else:
        # the scope's own column is its total column (A); the company total is aggregated
        cols = [BannerColumn(group="与全公司比较", label=ctx.scope_name, mask=cur)]
        cols.append(BannerColumn(group="与全公司比较", label="全公司",
                                 counts=_company_counts(ctx.warehouse, ctx.period, weight,
                                                        survey_weights=bool(ctx.weighted)
                                                        and weight == ctx.weight),
                                 contains=cur))
        if getattr(ctx, "is_region", False):
            # a region's branches (its responses hold no other branch)
            frame = frame.assign(_branch=frame["branch"].map(ctx.branch_name))
            order = [ctx.branch_name(b) for b in ctx.branches]
            cols += Banner(name="分支机构", column="_branch", levels=order,
                           within=cur).columns(frame)
    if "channel" in frame.columns and frame.loc[cur, "channel"].dropna().nunique() > 1:
        cols += Banner(name="调研渠道", column="channel", within=cur).columns(frame)
    if "_tier" in frame.columns and frame.loc[cur, "_tier"].dropna().nunique() > 1:
        cols += Banner(name="客户价值", column="_tier", levels=["高", "中", "低"],
                       within=cur).columns(frame)
    recent = [p for p in ctx.periods if p <= ctx.period][-periods:]
    if len(recent) > 1:
        cols += Banner(name="期间", column="period", levels=recent).columns(frame)
    return cols


def _with_tiers(ctx, frame: pd.DataFrame) -> pd.DataFrame:
    customers = ctx.table("customers")
    if customers.empty or "value_score" not in customers.columns or "customer_id" not in frame:
        return frame
    from cxlab.report._sections_voice import VALUE_CUTS
    from cxlab.segments import value_tiers

    customers = customers.drop_duplicates("customer_id").reset_index(drop=True)
    tiers = value_tiers(customers, cuts=VALUE_CUTS, type=None)
    tier = dict(zip(tiers["customer_id"], tiers["value_tier"].astype(object), strict=True))
    return frame.assign(_tier=frame["customer_id"].map(tier))


def tabbook(ctx, out_dir: str | Path, *, alpha: float = 0.05, adjust: str = "fdr_bh") -> Path:
    """Write the tab book of a report scope (``cxlab.report.load_context``) to
    ``<out_dir>/<ALL|region|branch>-tables.xlsx`` and return its path."""
    frame = ctx.responses.reset_index(drop=True)
    # the report's survey weights (params/weighting.yaml), else a weight item of the codebook
    weights = [i for i in ctx.codebook.ids(role="weight") if i in frame.columns]
    weight = ctx.weight or (weights[0] if weights else None)
    frame = _with_tiers(ctx, frame)
    banner = scope_banner(ctx, frame, weight=weight)
    tables = build_tables(frame, codebook=ctx.codebook, columns=banner, weight=weight,
                          alpha=alpha, adjust=adjust)
    stem = "ALL" if ctx.is_company else ctx.code
    title = f"{ctx.scope_name} {ctx.period} 交叉表"
    scope = "全公司" if ctx.is_company else ctx.scope_name
    if getattr(ctx, "is_region", False):
        scope += "(" + "、".join(ctx.branch_name(b) for b in ctx.branches) + ")"
    subtitle = (f"{ctx.codebook.survey} · 期间 {ctx.period} · 范围:{scope} · "
                f"生成于 {ctx.rendered_at}")
    return write_tabbook(tables, Path(out_dir) / f"{stem}-tables.xlsx", title=title,
                         subtitle=subtitle)


def latest_period(warehouse: str | Path) -> str:
    """The latest period in the warehouse's company aggregates."""
    from cxlab.report import load_aggregates

    return str(max(load_aggregates(warehouse)["period"].astype(str)))


def write_tables(*, period: str | None, branch: str | None = None, warehouse: str | Path = "data/warehouse",
                 params_dir: str | Path = "params", output_dir: str | Path = "reports",
                 all_branches: bool = False, adjust: str = "fdr_bh") -> list[Path]:
    """Tab books of ``period``: the company book, one branch's book (``branch``), or the company
    and every branch (``all_branches``). Written under ``<output_dir>/<period>/``."""
    from cxlab.report import build_aggregates, load_context

    warehouse = Path(warehouse)
    if not (warehouse / "responses").exists():
        raise CxlabError(f"{warehouse}: no warehouse here (run `make ingest` first)")
    build_aggregates(warehouse, params_dir=params_dir)
    period = period or latest_period(warehouse)
    scopes: list[str | None]
    if branch not in (None, "", "ALL"):
        scopes = [branch]
    else:
        scopes = [None]
        if all_branches:
            from cxlab.config import load_org

            scopes += load_org(Path(params_dir) / "org.yaml").branch_codes
    out = []
    for b in scopes:
        ctx = load_context(period=period, branch=b, warehouse=warehouse, params_dir=params_dir)
        out.append(tabbook(ctx, Path(output_dir) / period, adjust=adjust))
    return out
