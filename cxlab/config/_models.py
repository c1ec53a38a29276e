"""Models of the parameter files shared across cxlab: codebook, organisation, targets."""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import Field, model_validator

from cxlab.config._base import Strict

__all__ = ["Codebook", "Item", "KanoPair", "Org", "Roles", "Scale", "Targets", "Kpi", "Branch",
           "Region", "Unit", "Owner", "Robot"]

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
    top_box: int | None = Field(default=None, ge=1)

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
        if self.top_box is not None and self.kind not in ("ordinal", "numeric"):
            raise ValueError(f"top_box is for ordinal and numeric scales, not {self.kind}")
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

    @property
    def top_codes(self) -> list[float]:
        """The best ``top_box`` answers (default 2): CSAT-style "top-2 box" of a rating scale.

        Codes are ordered so that a higher code is a better answer (the draft codes every scale
        that way). Empty for scales that are not ordinal or integral numeric.

        >>> Scale(kind="ordinal", label="x", codes={5: "很好", 4: "好", 3: "一般", 2: "差", 1: "很差"}).top_codes
        [5, 4]
        >>> Scale(kind="numeric", label="x", min=1, max=10, top_box=3).top_codes
        [10, 9, 8]
        """
        if self.kind == "ordinal":
            codes = sorted(self.codes or {}, reverse=True)
        elif self.kind == "numeric" and self.shown_order() is not None:
            codes = sorted(self.shown_order(), reverse=True)
        else:
            return []
        return codes[: self.top_box or 2]

    @property
    def top_threshold(self) -> float | None:
        """The lowest answer that counts as top box (``value >= top_threshold``)."""
        top = self.top_codes
        return min(top) if top else None

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


class Roles(Strict):
    """Which items play which part in the analysis and the reports.

    Every field is optional: a questionnaire without a recommend question has no ``nps``, and
    the report sections built on it are left out. Defaults (see :class:`Codebook`): ``nps`` is
    the one measure item on a 0–10 numeric scale; ``overall`` (the outcome of key drivers and
    IPA) is ``nps``, else ``csat``; ``attributes`` are the measure items on ordinal rating scales
    that are neither a headline item nor part of a Kano pair; ``comment`` is the first open-text
    item.
    """

    nps: str | None = None          # likelihood to recommend, 0–10
    csat: str | None = None         # overall satisfaction (top-box share = CSAT)
    ces: str | None = None          # customer effort (higher = easier)
    overall: str | None = None      # outcome of key drivers and IPA
    attributes: list[str] | None = None   # attribute ratings: drivers, IPA, 结果汇总表
    comment: str | None = None      # the open-text question read by the text analysis


class Codebook(Strict):
    """The survey instrument: scales, items (with section, journey, touchpoint, role), Kano
    pairs, and the analysis roles of the items (:class:`Roles`)."""

    version: Literal[1]
    survey: str
    scales: dict[str, Scale]
    journey: list[str] = Field(default_factory=list)
    items: list[Item]
    kano: list[KanoPair] = Field(default_factory=list)
    roles: Roles = Field(default_factory=Roles)

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
        r = self.roles
        for name in ("nps", "csat", "ces", "overall", "comment"):
            item_id = getattr(r, name)
            if item_id is not None and item_id not in known:
                raise ValueError(f"roles.{name}: unknown item {item_id!r}")
        for item_id in r.attributes or []:
            if item_id not in known:
                raise ValueError(f"roles.attributes: unknown item {item_id!r}")
        if r.nps is not None:
            sc = self.scales[self.by_id[r.nps].scale]
            if sc.kind != "numeric" or (sc.min, sc.max) != (0, 10):
                raise ValueError(f"roles.nps: item {r.nps!r} must be on a 0-10 numeric scale "
                                 f"(its scale {self.by_id[r.nps].scale!r} is not)")
        for name in ("csat", "ces", "overall"):
            item_id = getattr(r, name)
            if item_id is not None and self.scales[self.by_id[item_id].scale].kind not in (
                    "ordinal", "numeric"):
                raise ValueError(f"roles.{name}: item {item_id!r} must be on an ordinal or "
                                 "numeric scale")
        if r.comment is not None and self.scales[self.by_id[r.comment].scale].kind != "text":
            raise ValueError(f"roles.comment: item {r.comment!r} must be on a text scale")
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

    # ------------------------------------------------------------------ roles, with defaults
    @cached_property
    def nps_item(self) -> str | None:
        """The 0–10 likelihood-to-recommend item, or ``None`` when the survey has none."""
        if self.roles.nps is not None:
            return self.roles.nps
        cands = [i.id for i in self.items if i.role == "measure"
                 and self.scales[i.scale].kind == "numeric"
                 and (self.scales[i.scale].min, self.scales[i.scale].max) == (0, 10)]
        return cands[0] if len(cands) == 1 else None

    @property
    def csat_item(self) -> str | None:
        """The overall-satisfaction item (its top-box share is CSAT), or ``None``."""
        return self.roles.csat

    @property
    def ces_item(self) -> str | None:
        """The customer-effort item (higher = easier), or ``None``."""
        return self.roles.ces

    @property
    def outcome_item(self) -> str | None:
        """The outcome of key drivers and IPA: ``roles.overall``, else NPS, else CSAT."""
        return self.roles.overall or self.nps_item or self.csat_item

    @property
    def comment_item(self) -> str | None:
        """The open-text item the text analysis reads, or ``None``."""
        if self.roles.comment is not None:
            return self.roles.comment
        texts = [i.id for i in self.items if i.role == "text"]
        return texts[0] if texts else None

    @cached_property
    def kano_items(self) -> list[str]:
        return [c for p in self.kano for c in (p.functional, p.dysfunctional)]

    @cached_property
    def attribute_items(self) -> list[str]:
        """The attribute ratings (drivers, IPA, 结果汇总表): ``roles.attributes``, else every
        measure item on an ordinal scale that is not a headline item (NPS, CSAT, CES, overall)
        and not part of a Kano pair."""
        if self.roles.attributes is not None:
            return list(self.roles.attributes)
        skip = {self.nps_item, self.csat_item, self.ces_item, self.roles.overall,
                *self.kano_items}
        return [i.id for i in self.items if i.role == "measure" and i.id not in skip
                and self.scales[i.scale].kind == "ordinal"]

    def scale_range(self, item_id: str) -> tuple[float, float] | None:
        """(lowest, highest) code of an item's scale, ``None`` for text and category items."""
        sc = self.scale_of(item_id)
        return None if sc.lo is None or sc.hi is None else (float(sc.lo), float(sc.hi))

    @property
    def pii_items(self) -> list[str]:
        return self.ids(role="pii")


_ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"
_EMAIL = r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$"


def _env_name(value: str, key: str) -> str:
    """``value`` must name an environment variable, never hold a secret (a pasted webhook URL,
    access token or signing secret in params/ would be committed with the project)."""
    import re

    if not re.fullmatch(_ENV_NAME, value):
        shown = value if len(value) <= 12 else value[:8] + "…"
        raise ValueError(f"{key} must name an environment variable (A-Z, 0-9, _), not hold "
                         f"the value itself (got {shown!r}); put the secret in the environment")
    return value


class Robot(Strict):
    """A group robot (WeCom 企业微信, DingTalk 钉钉, Feishu 飞书) that receives an owner's
    notifications. Its webhook address carries an access token and DingTalk/Feishu sign with a
    secret: both are read from the environment at send time, never written in params/."""

    url_env: str                        # environment variable holding the webhook URL
    secret_env: str | None = None       # environment variable holding the signing secret

    @model_validator(mode="after")
    def _check(self) -> Robot:
        _env_name(self.url_env, "url_env")
        if self.secret_env is not None:
            _env_name(self.secret_env, "secret_env")
        return self


class Owner(Strict):
    """A person responsible for a unit, with the channels that reach them."""

    name: str
    email: str | None = Field(default=None, pattern=_EMAIL)
    wecom: Robot | None = None
    dingtalk: Robot | None = None
    feishu: Robot | None = None

    @property
    def channels(self) -> list[str]:
        """The channels configured for this owner: ``email``, ``wecom``, ``dingtalk``, ``feishu``."""
        return [c for c in ("email", "wecom", "dingtalk", "feishu") if getattr(self, c)]


class _Owned(Strict):
    """Owner fields shared by the company and every unit."""

    owner: str | None = None            # the responsible person's name (ticket handler)
    owners: list[Owner] = Field(default_factory=list)   # owners with their contacts
    #: environment variable holding the password of this audience's PDFs (`cxlab publish`)
    pdf_password_env: str | None = None

    @model_validator(mode="after")
    def _check_password_env(self):
        if self.pdf_password_env is not None:
            _env_name(self.pdf_password_env, "pdf_password_env")
        return self

    @property
    def contacts(self) -> list[Owner]:
        """``owners``, or the plain ``owner`` name (no channel) when no owners are listed."""
        return _contacts(self.owner, self.owners)


def _contacts(owner: str | None, owners: list[Owner]) -> list[Owner]:
    if owners:
        return list(owners)
    return [Owner(name=owner)] if owner else []


class Branch(_Owned):
    code: str = Field(pattern=r"^[A-Z0-9]+$")
    name: str


class Region(_Owned):
    code: str
    name: str
    branches: list[Branch]


class Unit(_Owned):
    """One unit of the organisation at any depth (region, city, branch, outlet…).

    A unit without sub-units is a **branch**: the level responses are tagged with (the
    ``branch`` column of the warehouse). Units with sub-units group them (a region's report
    covers its branches).
    """

    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_-]*$")
    name: str
    level: str | None = None            # 区域, 城市, 分支机构 …: shown in reports
    units: list[Unit] = Field(default_factory=list)

    @property
    def is_branch(self) -> bool:
        return not self.units

    def codes(self) -> list[str]:
        """This unit's code and the codes of every unit below it, depth first."""
        return [u.code for u, _ in self.walk()]

    def walk(self, parents: tuple[Unit, ...] = ()):
        """Yield ``(unit, parents)`` for this unit and every unit below it, depth first."""
        yield self, parents
        for u in self.units:
            yield from u.walk((*parents, self))


class Company(_Owned):
    code: str
    name: str


class Org(Strict):
    """The organisation: company -> units of any depth (regions -> branches, or deeper), plus
    customer types and industries.

    Either ``regions`` (two levels: regions with their branches) or ``units`` (any depth; a unit
    without sub-units is a branch; top-level branches without a region are allowed) describes
    the tree; both may be given. Branch codes are unique across the tree.
    """

    version: Literal[1]
    company: Company
    regions: list[Region] = Field(default_factory=list)
    units: list[Unit] = Field(default_factory=list)
    customer_types: list[str] = Field(default_factory=list)
    industries: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Org:
        codes = [u.code for u, _ in self.walk()]
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            raise ValueError(f"duplicate unit codes: {dup}")
        if not self.branches:
            raise ValueError("the organisation has no branch (regions or units)")
        if self.company.code in codes:
            raise ValueError(f"company code {self.company.code!r} is also a unit code")
        return self

    @cached_property
    def tree(self) -> list[Unit]:
        """The top-level units, ``regions`` converted to units (level 区域) then ``units``."""
        out = [Unit(code=r.code, name=r.name, level="区域", owner=r.owner, owners=r.owners,
                    pdf_password_env=r.pdf_password_env,
                    units=[Unit(code=b.code, name=b.name, owner=b.owner, owners=b.owners,
                                pdf_password_env=b.pdf_password_env) for b in r.branches])
               for r in self.regions]
        return out + list(self.units)

    def walk(self):
        """Yield ``(unit, parents)`` for every unit of the tree, depth first."""
        for top in self.tree:
            yield from top.walk()

    @cached_property
    def branches(self) -> list[Unit]:
        """The leaf units (branches), in tree order."""
        return [u for u, _ in self.walk() if u.is_branch]

    @property
    def branch_codes(self) -> list[str]:
        return [b.code for b in self.branches]

    def branch(self, code: str) -> Unit:
        for b in self.branches:
            if b.code == code:
                return b
        raise KeyError(f"unknown branch {code!r} (known: {', '.join(self.branch_codes)})")

    def unit(self, code: str) -> Unit:
        """Any unit of the tree by its code."""
        for u, _ in self.walk():
            if u.code == code:
                return u
        raise KeyError(f"unknown unit {code!r}")

    def parents_of(self, code: str) -> tuple[Unit, ...]:
        """The units above ``code``, top first (empty for a top-level unit)."""
        for u, parents in self.walk():
            if u.code == code:
                return parents
        raise KeyError(f"unknown unit {code!r}")

    def region_of(self, code: str) -> Unit | None:
        """The branch's top-level grouping unit (its region), ``None`` for an ungrouped branch."""
        parents = self.parents_of(code)
        return parents[0] if parents else None

    def region_name(self, code: str) -> str:
        """The name of the branch's region, "—" when it has none."""
        r = self.region_of(code)
        return r.name if r is not None else "—"

    def scope(self, code: str) -> list[str]:
        """The unit codes an owner of ``code`` may read: the unit and every unit below it; the
        company code reads everything (company code first, then every unit)."""
        if code == self.company.code:
            return [code, *(u.code for u, _ in self.walk())]
        return self.unit(code).codes()

    def superior_of(self, code: str) -> str | None:
        """The code of the unit directly above ``code`` (the company code for a top-level unit,
        ``None`` for the company itself): whose owners a case escalates to."""
        if code == self.company.code:
            return None
        parents = self.parents_of(code)
        return parents[-1].code if parents else self.company.code

    def contacts(self, code: str) -> list[Owner]:
        """The owners of a unit or of the company."""
        if code == self.company.code:
            return self.company.contacts
        return self.unit(code).contacts

    def audience(self, code: str) -> _Owned:
        """The company or the unit ``code`` (its owners and PDF password setting)."""
        return self.company if code == self.company.code else self.unit(code)

    def name_of(self, code: str) -> str:
        """The name of a unit or of the company."""
        return self.company.name if code == self.company.code else self.unit(code).name

    def name_to_code(self) -> dict[str, str]:
        """Branch name (and code, any letter case) -> branch code, for exports and arguments
        that carry the name."""
        out = {b.name: b.code for b in self.branches}
        out.update({b.code: b.code for b in self.branches})
        out.update({b.code.lower(): b.code for b in self.branches})
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
