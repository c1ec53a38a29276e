"""Export layouts that differ from the one-text-column-per-question form, brought back to it.

Two layouts, both configured per source in ``params/sources.yaml``:

- **Answers by position** (``positions``): a single-choice cell holds the chosen option's
  position in the question as the questionnaire shows it, 1 = first option (问卷星 "按选项序号";
  LimeSurvey's default answer codes ``A1``, ``A2``…). :func:`decode_positions` turns position *k*
  into the *k*-th answer of the item's option order (codebook ``shown``/``options``, numeric
  scales from their minimum up, the branch question in ``org.yaml`` order; a ``positions.items``
  entry overrides one item). A position outside the options is a row problem naming the column
  and the value.
- **Multi-select spread over columns** (``spread``): one column per option (问卷星 ``第N题(选项)``
  0/1, SurveyMonkey choice text or blank, LimeSurvey ``Q8[SQ001]`` ``Y``/blank, the "other"
  column holding the free text). :func:`join_spread` joins the columns of one question into one
  column of chosen options in the scale's option order, joined by ``┋``, "other" as
  ``其他〖free text〗`` — the 问卷星 text-export form that :func:`cxlab.io.split_multiselect` and
  the mapping expect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxlab.config import Codebook, Org, Scale
from cxlab.errors import CxlabError
from cxlab.io._sources import SpreadRule, SurveySource
from cxlab.io._validate import Issues, _fmt, distinct_values, is_missing_many, norm_text

__all__ = ["LayoutError", "decode_positions", "join_spread", "merge_issues"]

#: characters that may follow an option's text in a column header or answer: 其他【请注明】,
#: 其他(请注明), 其他〖free text〗
_OPTION_SUFFIX = ("〖", "【", "[", "(", "（", ":", "：")


class LayoutError(CxlabError):
    """A file's layout does not fit its ``sources.yaml`` rule (the whole file is rejected)."""


# ---- multi-select spread over one column per option --------------------------------------------

def _option_of(text: str, options: list[str]) -> str | None:
    """The scale option a column's option text names: equal after NFKC normalisation, or the
    option followed by a bracket (``其他【请注明】``, ``其他(请注明)``)."""
    t = norm_text(text)
    by_norm = {norm_text(o): o for o in options}
    if t in by_norm:
        return by_norm[t]
    for o in options:
        n = norm_text(o)
        if t.startswith(n) and t[len(n):][:1] in _OPTION_SUFFIX:
            return o
    return None


@dataclass(frozen=True, slots=True)
class _Option:
    column: str
    option: str | None      # scale option (None: not one of the scale's options)
    other: bool             # the "other, please specify" option (may hold free text)
    label: str              # the option as written in the header


def _group_options(cols: list[str], labels: list[str], rule: SpreadRule,
                   options: list[str]) -> list[_Option]:
    out = []
    for col, lab in zip(cols, labels, strict=True):
        opt: str | None
        if rule.other is not None and re.search(rule.other, lab):
            opt = options[-1]
        elif rule.option_code is not None and (m := re.search(rule.option_code, lab)):
            pos = int(m.group("pos"))
            opt = options[pos - 1] if 1 <= pos <= len(options) else None
        else:
            opt = _option_of(lab, options)
        out.append(_Option(col, opt, opt is not None and opt == options[-1], lab))
    return out


def _multi_items(codebook: Codebook) -> list[str]:
    return [i.id for i in codebook.items
            if i.role != "pii" and codebook.scales[i.scale].kind == "multi"]


def _cell_states(raw: pd.Series, opt: _Option, rule: SpreadRule, missing: frozenset[str],
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """Per row: answered (the cell is not missing), chosen, free text (or None), and the
    distinct-value problems as ``(row positions, value, reason)``."""
    codes, values = distinct_values(raw)
    miss = is_missing_many(values, missing)
    selected = {norm_text(s) for s in rule.selected}
    unselected = {norm_text(s) for s in rule.unselected}
    label = norm_text(opt.option or "")
    n = len(values)
    answered = ~miss
    chosen = np.zeros(n, dtype=bool)
    text = np.full(n, None, dtype=object)
    bad: list = []
    for k, v in enumerate(values):
        if miss[k]:
            continue
        t = norm_text(_fmt(v) if not isinstance(v, str) else v)
        if t in unselected and t not in selected:
            continue
        if t in selected:
            chosen[k] = True
        elif not selected or opt.other or t == label:
            chosen[k] = True
            # the "other" cell holds the typed text, unless it just names the option
            if opt.other and _option_of(t, [opt.option or ""]) is None:
                text[k] = str(v).strip()
        else:
            allowed = "/".join(rule.selected) + (", " + "/".join(rule.unselected)
                                                 if rule.unselected else "")
            bad.append((np.flatnonzero(codes == k), v,
                        f"unexpected value {t!r} in the column of option {opt.label!r} "
                        f"(expected {allowed} or empty)"))
    return answered[codes], chosen[codes], text[codes], bad


def join_spread(df: pd.DataFrame, spec: SurveySource, codebook: Codebook, *,
                labels: dict[str, str], file: str = "<frame>", missing: frozenset[str] = frozenset(),
                ) -> tuple[pd.DataFrame, dict[str, str], dict[str, str], Issues]:
    """Join each multi-select question spread over option columns (``spread`` rules) into one
    column.

    Returns the frame (option columns replaced by the joined column, placed where the first one
    was), the labels (the joined column labelled with its item's label), the joined item → column
    map, and the problems found in option cells (keyed by ``df``'s index, naming the option
    column). A row whose option cells are all missing is unanswered (``<NA>``); one whose cells
    choose nothing is an empty answer. A question that matches no multi item is left as it is.

    Raises :class:`LayoutError` when a rule's ``item`` does not fit the columns or when the
    options fit several multi items.
    """
    issues = Issues()
    joined: dict[str, str] = {}
    if not spec.spread:
        return df, labels, joined, issues
    multi = _multi_items(codebook)
    out = df
    labels = dict(labels)
    for rule in spec.spread:
        groups: dict[str, list[tuple[str, str]]] = {}
        rx = re.compile(rule.pattern)
        for col in out.columns:
            m = rx.search(str(col))
            if m:
                groups.setdefault(m.group("question"), []).append((col, m.group("option")))
        for question, members in groups.items():
            cols = [c for c, _ in members]
            texts = [t for _, t in members]
            if rule.item is not None:
                item = rule.item
                opts = _group_options(cols, texts, rule, list(codebook.scale_of(item).options or []))
                unknown = [o.column for o in opts if o.option is None]
                if unknown:
                    raise LayoutError(
                        f"{file}: column {unknown[0]!r} names no option of {item!r} "
                        f"(options: {', '.join(codebook.scale_of(item).options or [])}; "
                        "sources.yaml spread)")
            else:
                fits = []
                for cand in multi:
                    o = _group_options(cols, texts, rule, list(codebook.scale_of(cand).options or []))
                    if all(x.option is not None for x in o):
                        fits.append((cand, o))
                if not fits:
                    continue
                if len(fits) > 1:
                    raise LayoutError(
                        f"{file}: the option columns of {question!r} fit several multi-select "
                        f"items ({', '.join(c for c, _ in fits)}); name the item in sources.yaml "
                        "spread")
                item, opts = fits[0]
            if item in joined:
                raise LayoutError(f"{file}: item {item!r} is spread over the columns of both "
                                  f"{joined[item]!r} and {question!r}")
            value = _join_group(out, opts, rule, codebook.scale_of(item), missing, issues)
            name = question if question not in out.columns or question in cols else \
                f"{question} (joined)"
            at = list(out.columns).index(cols[0])
            out = out.drop(columns=cols)
            out.insert(min(at, len(out.columns)), name, value)
            for c in cols:
                labels.pop(c, None)
            labels[name] = codebook.item(item).label
            joined[item] = name
    return out, labels, joined, issues


def _join_group(df: pd.DataFrame, opts: list[_Option], rule: SpreadRule, scale: Scale,
                missing: frozenset[str], issues: Issues) -> pd.Series:
    n = len(df)
    order = {o: k for k, o in enumerate(scale.options or [])}
    answered_any = np.zeros(n, dtype=bool)
    parts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for opt in sorted(opts, key=lambda o: order[o.option or ""]):
        raw = df[opt.column]
        answered, chosen, text, bad = _cell_states(raw, opt, rule, missing)
        for pos, v, why in bad:
            for p in pos.tolist():
                issues.add(df.index[p], opt.column, v, why)
        answered_any |= answered
        if opt.option in parts:  # two columns for one option: either chooses it
            c0, t0 = parts[opt.option]
            parts[opt.option] = (c0 | chosen, np.where(pd.isna(t0), text, t0))
        else:
            parts[opt.option or ""] = (chosen, text)
    pieces = np.full(n, "", dtype=object)
    for option, (chosen, text) in parts.items():
        lab = np.where(pd.notna(text), np.char.add(np.char.add(option + "〖", text.astype(str)),
                                                    "〗").astype(object), option)
        add = np.where(chosen, lab, "")
        sep = np.where((pieces != "") & chosen, "┋", "")
        pieces = pieces + sep + add
    out = pd.Series(pieces, index=df.index, dtype="object")
    return out.where(answered_any, None)


# ---- answers by position ---------------------------------------------------------------------

def _position_order(item_id: str, spec: SurveySource, codebook: Codebook) -> list | None:
    scale = codebook.scale_of(item_id)
    if scale.kind not in ("ordinal", "numeric", "category"):
        return None
    override = spec.positions.items.get(item_id) if spec.positions else None
    if override is None:
        return scale.shown_order()
    if scale.kind == "ordinal":
        lookup = {norm_text(k).lower(): v for k, v in scale.label_to_code().items()}
        out = []
        for v in override:
            code = lookup.get(norm_text(v).lower())
            if code is None:
                raise LayoutError(f"sources.yaml positions.items.{item_id}: {v!r} is not an answer "
                                  f"of scale {codebook.item(item_id).scale}")
            out.append(code)
        return out
    return list(override)


def _decode(raw: pd.Series, order: list, pattern: re.Pattern, missing: frozenset[str],
            what: str, column: str, issues: Issues, shown: list | None = None) -> pd.Series:
    """Position cells → answers; other cells unchanged; bad positions → ``<NA>`` + an issue
    (``shown``: the answers as the questionnaire words them, for the message)."""
    shown = shown or order
    codes, values = distinct_values(raw)
    miss = is_missing_many(values, missing)
    new = np.empty(len(values), dtype=object)
    why: dict[int, str] = {}
    for k, v in enumerate(values):
        new[k] = v
        if miss[k]:
            new[k] = None
            continue
        m = pattern.search(norm_text(_fmt(v) if not isinstance(v, str) else v))
        if m is None:
            continue
        pos = int(m.group("pos"))
        if 1 <= pos <= len(order):
            new[k] = order[pos - 1]
        else:
            new[k] = None
            why[k] = (f"answer position {pos} is outside the {len(order)} options of {what} "
                      f"(1 = {shown[0]} … {len(order)} = {shown[-1]})")
    for k, reason in why.items():
        for p in np.flatnonzero(codes == k).tolist():
            issues.add(raw.index[p], column, values[k], reason)
    vals = [v for v in new.tolist() if v is not None]
    if vals and all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        arr = pd.array([None if v is None else int(v) for v in new.tolist()], dtype="Int64")
        return pd.Series(arr.take(codes), index=raw.index)
    if vals and all(isinstance(v, str) for v in vals):
        arr = pd.array(new.tolist(), dtype="string")
        return pd.Series(arr.take(codes), index=raw.index)
    return pd.Series(new[codes], index=raw.index, dtype="object")


def decode_positions(df: pd.DataFrame, items: dict[str, str], branch_column: str | None,
                     spec: SurveySource, codebook: Codebook, org: Org, *, reader: str | None,
                     missing: frozenset[str] = frozenset()) -> tuple[pd.DataFrame, Issues]:
    """Decode the position answers of the mapped single-choice items (``items``: item id →
    column) and of the branch column, when ``spec.positions`` applies to ``reader``.

    Returns the frame with those columns decoded (codes for ordinal and numeric scales, option
    texts for category scales, branch codes/names) and the problems (a position outside the
    options: the cell becomes ``<NA>`` and the row is quarantined).
    """
    issues = Issues()
    rule = spec.positions
    if rule is None or not rule.applies_to(reader):
        return df, issues
    pattern = re.compile(rule.pattern)
    out = df.copy(deep=False)
    for item_id, col in items.items():
        order = _position_order(item_id, spec, codebook)
        if not order:
            continue
        what = f"{item_id} ({codebook.item(item_id).label})"
        codes = codebook.scale_of(item_id).codes or {}
        out[col] = _decode(df[col], order, pattern, missing, what, col, issues,
                           [codes.get(v, v) for v in order])
    if branch_column is not None:
        order = list(rule.branch) if rule.branch else [b.code for b in org.branches]
        out[branch_column] = _decode(df[branch_column], order, pattern, missing, "the branch question",
                                     branch_column, issues)
    return out, issues


def merge_issues(first: Issues, then: Issues) -> Issues:
    """``first`` followed by the problems of ``then`` on other cells: a cell that ``first``
    already explains (a bad position, decoded to ``<NA>``) is not reported again as missing."""
    seen = {(i, c) for i, c, _, _ in first.rows}
    out = Issues()
    out.rows = first.rows + [r for r in then.rows if (r[0], r[1]) not in seen]
    return out
