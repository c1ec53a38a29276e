"""Models of the parameter files shared across cxlab: codebook, organisation, targets."""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import Field, model_validator

from cxlab.config._base import Strict

__all__ = ["Codebook", "Item", "KanoPair", "Org", "Scale", "Targets", "Kpi", "Branch", "Region"]

ScaleKind = Literal["numeric", "ordinal", "multi", "text", "category"]
Role = Literal["measure", "dimension", "pii", "id", "weight", "text"]


class Scale(Strict):
    """A response scale. ``shown`` (ordinal) and ``options`` (category, multi) give the choices in
    the order the questionnaire shows them: an export that answers by option position (问卷星
    按选项序号, LimeSurvey ``A1``…) is decoded with this order (see :meth:`shown_order`)."""

    kind: ScaleKind
    label: str
    min: float | None = None
    max: float | None = None
    codes: dict[int, str] | None = None
    aliases: dict[str, int] = Field(default_factory=dict)
    options: list[str] | None = None
    shown: list[int] | None = None

    @model_validator(mode="after")
    def _check(self) -> Scale:
        if self.kind == "numeric" and (self.min is None or self.max is None):
            raise ValueError("a numeric scale needs min and max")
        if self.kind == "ordinal" and not self.codes:
            raise ValueError("an ordinal scale needs codes")
        if self.kind == "multi" and not self.options:
            raise ValueError("a multi scale needs options")
        if self.options is not None and self.kind not in ("multi", "category"):
            raise ValueError(f"options are for multi and category scales, not {self.kind}")
        if self.codes:
            bad = sorted(set(self.aliases.values()) - set(self.codes))
            if bad:
                raise ValueError(f"aliases point to codes {bad} that the scale does not have")
        if self.shown is not None:
            if self.kind != "ordinal":
                raise ValueError(f"shown is for ordinal scales, not {self.kind}")
            if sorted(self.shown) != sorted(self.codes or {}):
                raise ValueError(f"shown {self.shown} must list every code "
                                 f"{sorted(self.codes or {})} once")
        return self

    def shown_order(self) -> list[int | str] | None:
        """The answers in the order the questionnaire shows them (position 1 first).

        Ordinal: ``shown`` (default: ``codes`` in the order listed); integral numeric: ``min``
        … ``max``; category and multi: ``options``; ``None`` for text scales and fractional
        numeric scales, which are never answered by position.

        >>> Scale(kind="ordinal", label="x", codes={5: "好", 1: "差"}).shown_order()
        [5, 1]
        >>> Scale(kind="numeric", label="x", min=0, max=3).shown_order()
        [0, 1, 2, 3]
        """
        if self.kind == "ordinal":
            return list(self.shown) if self.shown is not None else list(self.codes or {})
        if self.kind == "numeric":
            lo, hi = self.min, self.max
            if lo is None or hi is None or not (float(lo).is_integer() and float(hi).is_integer()):
                return None
            return list(range(int(lo), int(hi) + 1))
        if self.options:
            return list(self.options)
        return None

    @property
    def lo(self) -> float | None:
        return min(self.codes) if self.codes else self.min

    @property
    def hi(self) -> float | None:
        return max(self.codes) if self.codes else self.max

    def label_to_code(self) -> dict[str, int]:
        """Every accepted label (Chinese label, alias, lower-cased) mapped to its code."""
        out: dict[str, int] = {}
        for code, lab in (self.codes or {}).items():
            out[lab] = code
            out[str(code)] = code
        for alias, code in self.aliases.items():
            out[alias.lower()] = code
        return out


class Item(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    section: str
    scale: str
    role: Role
    journey: str | None = None
    touchpoint: str | None = None
    required: bool = False


class KanoPair(Strict):
    feature: str
    functional: str
    dysfunctional: str


class Codebook(Strict):
    """The survey instrument: scales, items (with section, journey, touchpoint, role), Kano pairs."""

    version: Literal[1]
    survey: str
    scales: dict[str, Scale]
    journey: list[str]
    items: list[Item]
    kano: list[KanoPair] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Codebook:
        ids = [i.id for i in self.items]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate item ids: {dup}")
        for it in self.items:
            if it.scale not in self.scales:
                raise ValueError(
                    f"item {it.id!r}: unknown scale {it.scale!r} (allowed: {sorted(self.scales)})"
                )
            if it.journey is not None and it.journey not in self.journey:
                raise ValueError(
                    f"item {it.id!r}: unknown journey stage {it.journey!r} (allowed: {self.journey})"
                )
        known = set(ids)
        for pair in self.kano:
            for col in (pair.functional, pair.dysfunctional):
                if col not in known:
                    raise ValueError(f"kano feature {pair.feature!r}: unknown item {col!r}")
        return self

    @cached_property
    def by_id(self) -> dict[str, Item]:
        return {i.id: i for i in self.items}

    def item(self, item_id: str) -> Item:
        try:
            return self.by_id[item_id]
        except KeyError:
            raise KeyError(f"unknown codebook item {item_id!r}") from None

    def scale_of(self, item_id: str) -> Scale:
        return self.scales[self.item(item_id).scale]

    def ids(self, *, role: str | None = None, scale: str | None = None,
            section: str | None = None) -> list[str]:
        """Item ids in codebook order, optionally filtered by role, scale name or section."""
        return [
            i.id for i in self.items
            if (role is None or i.role == role)
            and (scale is None or i.scale == scale)
            and (section is None or i.section == section)
        ]

    def labels(self) -> dict[str, str]:
        """Item id -> Chinese label."""
        return {i.id: i.label for i in self.items}

    @property
    def attribute_items(self) -> list[str]:
        """The verbal 5-point attribute items (drivers, IPA, 结果汇总表)."""
        return self.ids(scale="verbal5")

    @property
    def pii_items(self) -> list[str]:
        return self.ids(role="pii")


class Branch(Strict):
    code: str = Field(pattern=r"^[A-Z0-9]+$")
    name: str
    owner: str


class Region(Strict):
    code: str
    name: str
    branches: list[Branch]


class Company(Strict):
    code: str
    name: str


class Org(Strict):
    """Company -> regions -> branches, plus customer types and industries."""

    version: Literal[1]
    company: Company
    regions: list[Region]
    customer_types: list[str]
    industries: list[str]

    @model_validator(mode="after")
    def _check(self) -> Org:
        codes = [b.code for r in self.regions for b in r.branches]
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            raise ValueError(f"duplicate branch codes: {dup}")
        if self.company.code in codes:
            raise ValueError(f"company code {self.company.code!r} is also a branch code")
        return self

    @property
    def branches(self) -> list[Branch]:
        return [b for r in self.regions for b in r.branches]

    @property
    def branch_codes(self) -> list[str]:
        return [b.code for b in self.branches]

    def branch(self, code: str) -> Branch:
        for b in self.branches:
            if b.code == code:
                return b
        raise KeyError(f"unknown branch {code!r} (known: {', '.join(self.branch_codes)})")

    def region_of(self, code: str) -> Region:
        for r in self.regions:
            if any(b.code == code for b in r.branches):
                return r
        raise KeyError(f"unknown branch {code!r}")

    def name_to_code(self) -> dict[str, str]:
        """Branch name (and code) -> branch code, for exports that carry the name."""
        out = {b.name: b.code for b in self.branches}
        out.update({b.code: b.code for b in self.branches})
        return out


class Kpi(Strict):
    id: str
    label: str
    unit: str
    op: Literal[">=", ">", "<=", "<"]
    target: float
    source: str | None = None

    def met(self, value: float) -> bool:
        return {
            ">=": value >= self.target, ">": value > self.target,
            "<=": value <= self.target, "<": value < self.target,
        }[self.op]


class Targets(Strict):
    version: Literal[1]
    kpis: list[Kpi]

    def kpi(self, kpi_id: str) -> Kpi:
        for k in self.kpis:
            if k.id == kpi_id:
                return k
        raise KeyError(f"unknown KPI {kpi_id!r} (known: {', '.join(k.id for k in self.kpis)})")
