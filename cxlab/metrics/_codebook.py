"""One vocabulary across the statistics: scales, category order and renamed keywords.

``scale=`` has one type everywhere in :mod:`cxlab.metrics`, :mod:`cxlab.ipa` and
:mod:`cxlab.segments`: either a :class:`cxlab.config.Scale` (the codebook's scale of the item:
its codes, labels, aliases and ``top_box``) or an ``int`` *k*, the number of points of a scale
coded 1..k (higher = better). :func:`resolve_scale` turns either into a :class:`ScaleSpec`.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cxlab.metrics._common import numeric_scores

__all__ = ["ScaleSpec", "category_order", "codebook_scale", "renamed_keywords", "resolve_scale",
           "to_codes"]


def renamed_keywords(**old_to_new: str) -> Callable:
    """Decorator: accept the old keyword names ``old=`` of a function with a DeprecationWarning.

    Passing both the old and the new name is a ``TypeError``.
    """

    def deco(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{func.__name__}() got both {old}= and {new}=; "
                                        f"use {new}= only ({old}= is deprecated)")
                    warnings.warn(f"{func.__name__}({old}=...) is deprecated; use {new}=...",
                                  DeprecationWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper

    return deco


@dataclass(frozen=True)
class ScaleSpec:
    """A rating scale resolved for computation.

    ``codes`` ascending (higher = better answer); ``top`` the top-box codes (best first);
    ``labels`` every accepted text answer → code; ``names`` code → display label.
    """

    codes: tuple[float, ...]
    top: tuple[float, ...]
    labels: dict[str, float] = field(default_factory=dict)
    names: dict[float, str] = field(default_factory=dict)

    @property
    def lo(self) -> float:
        return self.codes[0]

    @property
    def hi(self) -> float:
        return self.codes[-1]


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else float(x)


def resolve_scale(scale: object, *, top_box: int | None = None, name: str = "scale") -> ScaleSpec:
    """A :class:`ScaleSpec` from a :class:`cxlab.config.Scale` or an int number of points.

    ``top_box=None`` takes the Scale's ``top_box`` (default 2; 2 for an int scale).
    """
    from cxlab.config import Scale

    if isinstance(scale, Scale):
        if scale.kind == "ordinal":
            codes = sorted(scale.codes or {})
            labels: dict[str, float] = {}
            for key, code in scale.label_to_code().items():
                labels[key] = code
            names = {c: lab for c, lab in (scale.codes or {}).items()}
        elif scale.kind == "numeric" and scale.shown_order() is not None:
            codes = sorted(scale.shown_order())  # type: ignore[arg-type]
            labels, names = {}, {}
        else:
            raise ValueError(f"{name}: a {scale.kind} scale ({scale.label}) has no rating codes; "
                             "expected an ordinal or integral numeric scale")
        k = (scale.top_box or 2) if top_box is None else top_box
    elif isinstance(scale, (int, np.integer)) and not isinstance(scale, bool):
        if scale < 2:
            raise ValueError(f"{name}={scale!r} must be an integer >= 2 (number of points 1..k) "
                             "or a cxlab.config.Scale")
        codes = list(range(1, int(scale) + 1))
        labels, names = {}, {}
        k = 2 if top_box is None else top_box
    else:
        raise TypeError(f"{name} must be a cxlab.config.Scale or an int number of points, "
                        f"got {scale!r}")
    if not (isinstance(k, (int, np.integer)) and 1 <= k < len(codes)):
        raise ValueError(f"top_box={k!r} must be an integer in 1..{len(codes) - 1}")
    codes_t = tuple(_num(c) for c in codes)
    return ScaleSpec(codes=codes_t, top=tuple(sorted(codes_t, reverse=True)[: int(k)]),
                     labels=labels, names=names)


def to_codes(series: pd.Series, spec: ScaleSpec, *, column: str) -> np.ndarray:
    """Float codes (NaN for missing) of answers given as codes or as the scale's labels.

    Raises ``ValueError`` naming the column for a value that is neither.
    """
    s = series.astype(object) if isinstance(series.dtype, pd.CategoricalDtype) else series
    if spec.labels and not pd.api.types.is_numeric_dtype(s):
        lower = {k.lower(): v for k, v in spec.labels.items()}

        def code(v):
            if isinstance(v, str):
                t = v.strip()
                return spec.labels.get(t, lower.get(t.lower(), v))
            return v

        s = s.astype(object).map(code)
    x = numeric_scores(pd.Series(s, index=series.index), column=column, low=_num(spec.lo),
                       high=_num(spec.hi))
    finite = ~np.isnan(x)
    bad = finite & ~np.isin(x, np.asarray(spec.codes, dtype=float))
    if bad.any():
        raise ValueError(f"column {column!r}: value {x[bad][0]:g} is not a code of the scale "
                         f"(expected one of {list(spec.codes)})")
    return x


def codebook_scale(codebook: object, item: str) -> object | None:
    """The codebook's :class:`cxlab.config.Scale` of ``item`` (``None`` without a codebook or
    when the item is not in it)."""
    if codebook is None:
        return None
    by_id = codebook.by_id  # type: ignore[attr-defined]
    return codebook.scales[by_id[item].scale] if item in by_id else None  # type: ignore[attr-defined]


def _sort_key(v: object) -> tuple:
    return (str(type(v)), v)


def category_order(values: Iterable[object], *, order: Sequence[object] | None = None,
                   scale: object | None = None) -> list[object]:
    """The distinct ``values`` in analysis order; values not covered come last, sorted.

    ``order`` (explicit list) wins; else a :class:`cxlab.config.Scale`: ordinal answers by
    code (a label counts as its code), category and multi answers in ``options`` order,
    numeric answers ascending. Without either: sorted (numbers ascending, text by code point).
    """
    present = list(dict.fromkeys(v for v in values if not _isna(v)))
    rank: dict[object, float] = {}
    if order is not None:
        rank = {v: i for i, v in enumerate(order)}
    elif scale is not None:
        kind = getattr(scale, "kind", None)
        if kind == "ordinal":
            l2c = scale.label_to_code()  # type: ignore[attr-defined]
            for v in present:
                c = _code_of(v, l2c)
                if c is not None:
                    rank[v] = c
        elif kind in ("category", "multi") and scale.options:  # type: ignore[attr-defined]
            rank = {v: i for i, v in enumerate(scale.options)}  # type: ignore[attr-defined]
        elif kind == "numeric":
            for v in present:
                c = _code_of(v, {})
                if c is not None:
                    rank[v] = c
    known = sorted((v for v in present if v in rank), key=lambda v: (rank[v], _sort_key(v)))
    rest = sorted((v for v in present if v not in rank), key=_sort_key)
    return known + rest


def _isna(v: object) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _code_of(v: object, label_to_code: dict[str, int]) -> float | None:
    if isinstance(v, str):
        t = v.strip()
        if t in label_to_code:
            return float(label_to_code[t])
        if t.lower() in label_to_code:
            return float(label_to_code[t.lower()])
        try:
            return float(t)
        except ValueError:
            return None
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        return float(v)
    return None
