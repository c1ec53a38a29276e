"""Journey stages and touchpoints (seed 001), price perception and purchase channel (seed 000 §04.6)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxlab.config import Scale
from cxlab.metrics._common import kish_n_eff, weights_array
from cxlab.ops._common import as_by, need_columns, scale_for, to_codes
from cxlab.ops._targets import _per_group

__all__ = ["PriceGapResult", "channel_preference", "journey_scores", "price_gap",
           "weakest_touchpoints"]

#: seed 000 §04.6 price bands and channels, used when no codebook is passed.
DEFAULT_PRICE_SCALE = Scale(kind="ordinal", label="价格区间",
                            codes={1: "300元以下", 2: "300~500元", 3: "500~700元",
                                   4: "700~1,000元", 5: "1,000元以上"})
DEFAULT_CHANNELS = ("官方网站", "实体店", "电商平台", "网红带货", "其他")
OTHER = "其他"
_MISSING_TEXT = {"", "(跳过)", "(空)", "-2", "-3", "nan", "None"}


def _five_point_items(codebook) -> list[str]:
    out = []
    for it in codebook.items:
        sc = codebook.scales[it.scale]
        if (it.role == "measure" and it.journey and it.touchpoint and sc.kind == "ordinal"
                and sc.codes and sorted(sc.codes) == [1, 2, 3, 4, 5]):
            out.append(it.id)
    return out


def journey_scores(responses: pd.DataFrame, *, codebook, by=None, items=None,
                   weight: str | None = None) -> pd.DataFrame:
    """Mean and top-2-box of the 5-point items by journey stage and touchpoint.

    Parameters
    ----------
    responses : DataFrame
        Canonical responses; item columns hold codes 1-5 or their labels.
    codebook : Codebook
        Supplies each item's ``journey`` and ``touchpoint`` and the labels → codes mapping.
    by : str or sequence, optional
        Extra grouping, e.g. ``"branch"`` or ``["period", "branch"]``.
    items : sequence of str, optional
        Items to use; default every measure item on a 1-5 ordinal scale (the verbal items and
        CSAT) that has a journey stage and touchpoint.
    weight : str, optional
        Column of survey weights: every answer counts with its respondent's weight (``mean``
        and ``top2`` weighted) and ``weighted_n`` (sum of the answers' weights) is added.

    Returns
    -------
    DataFrame
        ``[by…], journey, touchpoint, n_items, n, mean, top2``: answers of all the touchpoint's
        items pooled; ``n`` answers (unweighted); ``mean`` on 1-5; ``top2`` = % of answers in
        the scale's top box (``Scale.top_codes``: 4-5, 好/良好, unless the codebook sets
        ``top_box``); with ``weight`` also ``weighted_n``. Journey stages in codebook order,
        touchpoints in order of first appearance.
    """
    by = as_by(by)
    items = list(items) if items is not None else _five_point_items(codebook)
    items = [i for i in items if i in responses.columns]
    if not items:
        raise ValueError("responses hold none of the journey items of the codebook")
    need_columns(responses, by + ([weight] if weight else []), what="responses")
    wts = (pd.to_numeric(responses[weight], errors="coerce").to_numpy(dtype=float) if weight
           else np.ones(len(responses)))
    if weight and (not np.isfinite(wts).all() or (wts < 0).any()):
        raise ValueError(f"column {weight!r}: weights must be finite and non-negative")
    long = []
    for it in items:
        meta = codebook.item(it)
        long.append(pd.DataFrame({
            **{b: responses[b].to_numpy() for b in by},
            "journey": meta.journey, "touchpoint": meta.touchpoint, "item": it,
            "code": to_codes(responses[it], codebook.scale_of(it)).to_numpy(),
            "top_from": codebook.scale_of(it).top_threshold, "_w": wts,
        }))
    df = pd.concat(long, ignore_index=True).dropna(subset=["code"])
    df["top"] = df["code"] >= df["top_from"]   # the scale's top box (4-5 on 1-5)
    df["_wc"], df["_wt"] = df["_w"] * df["code"], df["_w"] * df["top"]
    tp_order = list(dict.fromkeys(codebook.item(i).touchpoint for i in items))
    g = df.groupby(by + ["journey", "touchpoint"], sort=False, observed=True)
    if weight:
        wsum = g["_w"].sum()
        out = pd.DataFrame({"n_items": g["item"].nunique(), "n": g.size(),
                            "mean": g["_wc"].sum() / wsum, "top2": 100.0 * g["_wt"].sum() / wsum,
                            "weighted_n": wsum}).reset_index()
    else:
        out = pd.DataFrame({"n_items": g["item"].nunique(), "n": g.size(),
                            "mean": g["code"].mean(), "top2": 100.0 * g["top"].mean()}).reset_index()
    out["_j"] = out["journey"].map({j: i for i, j in enumerate(codebook.journey)})
    out["_t"] = out["touchpoint"].map({t: i for i, t in enumerate(tp_order)})
    out = out.sort_values(by + ["_j", "_t"], kind="stable").drop(columns=["_j", "_t"])
    return out.reset_index(drop=True)


def weakest_touchpoints(responses: pd.DataFrame, *, codebook, by="branch", k: int = 3,
                        min_n: int = 30, metric: str = "mean",
                        weight: str | None = None) -> pd.DataFrame:
    """The ``k`` lowest-scoring touchpoints of each branch, compared with the whole company.

    Parameters
    ----------
    by : str or sequence
        The unit (default ``branch``).
    k : int
        Touchpoints per unit.
    min_n : int
        Touchpoints with fewer answers in the unit are not ranked (small bases).
    metric : {"mean", "top2"}
        What "weakest" means.
    weight : str, optional
        Survey weights for the unit's and the company's scores (:func:`journey_scores`);
        ``min_n`` applies to the unweighted answers.

    Returns
    -------
    DataFrame
        ``[by…], rank, journey, touchpoint, n, mean, top2, company_mean, company_top2, gap``
        with ``gap = metric − company metric`` (negative: worse than the company).
    """
    if metric not in ("mean", "top2"):
        raise ValueError(f"metric must be one of 'mean', 'top2', got {metric!r}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    by = as_by(by)
    unit = journey_scores(responses, codebook=codebook, by=by, weight=weight)
    comp = journey_scores(responses, codebook=codebook, weight=weight).rename(
        columns={"mean": "company_mean", "top2": "company_top2"})
    unit = unit[unit["n"] >= min_n].merge(
        comp[["journey", "touchpoint", "company_mean", "company_top2"]],
        on=["journey", "touchpoint"], how="left")
    unit["gap"] = unit[metric] - unit["company_" + metric]
    unit = unit.sort_values(by + [metric, "touchpoint"], kind="stable")
    unit["rank"] = unit.groupby(by, sort=False).cumcount() + 1 if by else np.arange(1, len(unit) + 1)
    unit = unit[unit["rank"] <= k]
    cols = by + ["rank", "journey", "touchpoint", "n", "mean", "top2", "company_mean",
                 "company_top2", "gap"]
    return unit[cols].reset_index(drop=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceGapResult:
    """Perceived price (直估价格) against expected value (心理预期价值), seed 000 §04.6."""

    bands: pd.DataFrame    #: band_code, band, direct_n, direct_pct, expected_n, expected_pct
    gaps: pd.DataFrame     #: gap (expected − direct, in bands), n, pct
    summary: pd.DataFrame  #: [by…], n, mean_direct, mean_expected, mean_gap, pct_above, pct_equal, pct_below

    def to_frame(self) -> pd.DataFrame:
        """The summary table."""
        return self.summary

    def _repr_html_(self) -> str:
        return ("<h4>价格认知</h4>" + self.summary.to_html(index=False)
                + "<h4>价格区间分布</h4>" + self.bands.to_html(index=False)
                + "<h4>差距分布</h4>" + self.gaps.to_html(index=False))


def price_gap(responses: pd.DataFrame, *, direct: str = "price_direct",
              expected: str = "price_expected", codebook=None, by=None,
              weight: str | None = None) -> PriceGapResult:
    """Distribution of 直估价格 and 心理预期价值 bands and the gap between them.

    Parameters
    ----------
    responses : DataFrame
        Band columns as codes 1-5 or labels (300元以下 … 1,000元以上).
    codebook : Codebook, optional
        The band scale; default the five bands of seed 000 §04.6.
    by : str or sequence, optional
        Grouping of the summary.
    weight : str, optional
        Column of survey weights: every percentage and mean is then weighted (counts ``n``,
        ``direct_n``, ``expected_n`` stay unweighted) and ``weighted_n`` (sum of the weights of
        the respondents answering both) and ``effective_n`` (Kish) are added to ``summary``.

    Returns
    -------
    PriceGapResult
        ``gap = expected band − direct band`` per respondent answering both. ``pct_above``:
        expected value above the perceived price (物超所值); ``pct_below``: perceived price
        above the value they expect (价格偏高). Percentages of respondents answering both,
        except ``bands`` (% of answers to each question).

    Examples
    --------
    >>> r = pd.DataFrame({"price_direct": [1, 2, 3, 3], "price_expected": [2, 2, 1, 3]})
    >>> price_gap(r).summary[["n", "mean_gap", "pct_above", "pct_equal", "pct_below"]]
       n  mean_gap  pct_above  pct_equal  pct_below
    0  4      -0.25       25.0       50.0       25.0
    """
    need_columns(responses, [direct, expected] + as_by(by) + ([weight] if weight else []),
                 what="responses")
    by = as_by(by)
    wts = pd.Series(weights_array(responses, weight) if weight else np.ones(len(responses)),
                    index=responses.index)
    sc_d = scale_for(codebook, direct) or DEFAULT_PRICE_SCALE
    sc_e = scale_for(codebook, expected) or DEFAULT_PRICE_SCALE
    d = to_codes(responses[direct], sc_d)
    e = to_codes(responses[expected], sc_e)
    codes = sc_d.codes or DEFAULT_PRICE_SCALE.codes
    nd, ne = int(d.notna().sum()), int(e.notna().sum())
    bands = pd.DataFrame({"band_code": list(codes), "band": list(codes.values())})
    bands["direct_n"] = [int((d == c).sum()) for c in codes]
    bands["expected_n"] = [int((e == c).sum()) for c in codes]
    wd, we = float(wts[d.notna()].sum()), float(wts[e.notna()].sum())
    bands["direct_pct"] = ([100.0 * float(wts[d == c].sum()) / wd for c in codes]
                           if nd and wd > 0 else np.nan)
    bands["expected_pct"] = ([100.0 * float(wts[e == c].sum()) / we for c in codes]
                             if ne and we > 0 else np.nan)
    bands = bands[["band_code", "band", "direct_n", "direct_pct", "expected_n", "expected_pct"]]
    both = pd.DataFrame({b: responses[b].to_numpy() for b in by})
    both["d"], both["e"] = d.to_numpy(), e.to_numpy()
    both["_w"] = wts.to_numpy()
    both = both.dropna(subset=["d", "e"])
    both["gap"] = both["e"] - both["d"]
    span = len(codes) - 1
    gaps = pd.DataFrame({"gap": np.arange(-span, span + 1)})
    gaps["n"] = [int((both["gap"] == g).sum()) for g in gaps["gap"]]
    wb = float(both["_w"].sum())
    gaps["pct"] = ([100.0 * float(both["_w"][both["gap"] == g].sum()) / wb for g in gaps["gap"]]
                   if len(both) and wb > 0 else np.nan)

    def rows(sub: pd.DataFrame) -> list[dict]:
        n, w = len(sub), sub["_w"].to_numpy()
        if n == 0 or w.sum() <= 0:
            return [{"n": n} | ({"weighted_n": float(w.sum()), "effective_n": 0.0} if weight else {})]

        def mean(x) -> float:
            return float(np.dot(w, np.asarray(x, dtype=float)) / w.sum())

        out = {"n": n}
        if weight:
            out |= {"weighted_n": float(w.sum()), "effective_n": kish_n_eff(w)}
        return [out | {"mean_direct": mean(sub["d"]), "mean_expected": mean(sub["e"]),
                       "mean_gap": mean(sub["gap"]), "pct_above": 100.0 * mean(sub["gap"] > 0),
                       "pct_equal": 100.0 * mean(sub["gap"] == 0),
                       "pct_below": 100.0 * mean(sub["gap"] < 0)}]

    cols = by + ["n"] + (["weighted_n", "effective_n"] if weight else []) + [
        "mean_direct", "mean_expected", "mean_gap", "pct_above", "pct_equal", "pct_below"]
    summary = pd.DataFrame(_per_group(both, by, rows), columns=cols)
    return PriceGapResult(bands=bands, gaps=gaps, summary=summary)


_FREE_TEXT = re.compile(r"〖[^〗]*〗|【[^】]*】")
_SEP = re.compile(r"[┋,,;;|]")


def _tokens(value, options: list[str]) -> set[str] | None:
    if value is None or (not isinstance(value, list | tuple | set | np.ndarray) and pd.isna(value)):
        return None
    raw = list(value) if isinstance(value, list | tuple | set | np.ndarray) else \
        _SEP.split(_FREE_TEXT.sub("", str(value)))
    picked: set[str] = set()
    for tok in raw:
        tok = str(tok).strip()
        if tok in _MISSING_TEXT:
            continue
        if re.fullmatch(r"\d+(\.0)?", tok):
            i = int(float(tok))
            if not 1 <= i <= len(options):
                raise ValueError(f"channel code {tok!r} outside 1..{len(options)}")
            picked.add(options[i - 1])
        elif tok in options:
            picked.add(tok)
        elif tok.startswith(OTHER) and OTHER in options:
            picked.add(OTHER)
        else:
            raise ValueError(f"unknown channel {tok!r} (allowed: {', '.join(options)})")
    return picked or None


def channel_preference(responses: pd.DataFrame, *, column: str = "purchase_channel", by=None,
                       codebook=None, weight: str | None = None) -> pd.DataFrame:
    """Share of respondents choosing each purchase channel (multi-select, seed 000 §04.6).

    Parameters
    ----------
    responses : DataFrame
        ``column`` holds the joined answer (问卷星 ``┋``, Qualtrics ``,`` with codes 1-5) or a
        list of options. ``其他〖free text〗`` counts for 其他; the free text is ignored.
    by : str or sequence, optional
        Grouping, e.g. ``"branch"``.
    codebook : Codebook, optional
        The option list; default 官方网站, 实体店, 电商平台, 网红带货, 其他.
    weight : str, optional
        Column of survey weights: ``pct`` is then the weighted share of the respondents who
        answered (counts stay unweighted) and ``weighted_n`` (their sum of weights) is added.

    Returns
    -------
    DataFrame
        ``[by…], channel, n_respondents, n_selected, pct``: ``pct`` = % of respondents who
        answered the question and chose the channel (shares do not sum to 100: multi-select).

    Raises
    ------
    ValueError
        For a token that is neither an option, a code nor an "其他…" answer.

    Examples
    --------
    >>> r = pd.DataFrame({"purchase_channel": ["官方网站┋实体店", "电商平台", "1,3", None]})
    >>> channel_preference(r)[["channel", "n_selected", "pct"]]
      channel  n_selected       pct
    0    官方网站           2  66.666667
    1     实体店           1  33.333333
    2    电商平台           2  66.666667
    3    网红带货           0   0.000000
    4      其他           0   0.000000
    """
    by = as_by(by)
    need_columns(responses, [column] + by + ([weight] if weight else []), what="responses")
    sc = scale_for(codebook, column)
    options = list(sc.options) if sc is not None and sc.options else list(DEFAULT_CHANNELS)
    picks = [_tokens(v, options) for v in responses[column].tolist()]
    frame = pd.DataFrame({b: responses[b].to_numpy() for b in by})
    for opt in options:
        frame[opt] = [p is not None and opt in p for p in picks]
    frame["_answered"] = [p is not None for p in picks]
    frame["_w"] = (pd.to_numeric(responses[weight], errors="coerce").to_numpy(dtype=float)
                   if weight else 1.0)

    def rows(sub: pd.DataFrame) -> list[dict]:
        ans = sub[sub["_answered"]]
        n, wn = len(ans), float(ans["_w"].sum())
        out = [{"channel": opt, "n_respondents": n, "n_selected": int(ans[opt].sum()),
                "pct": 100.0 * float(ans["_w"][ans[opt]].sum()) / wn if wn > 0 else np.nan}
               for opt in options]
        if weight:
            for r in out:
                r["weighted_n"] = wn
        return out

    cols = by + ["channel", "n_respondents", "n_selected", "pct"] + (
        ["weighted_n"] if weight else [])
    return pd.DataFrame(_per_group(frame, by, rows), columns=cols)
