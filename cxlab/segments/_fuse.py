"""Fusing survey responses with CRM attributes by pseudonymised customer id."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

__all__ = ["FusionResult", "fuse"]

#: CRM columns holding personal data; never carried into the fused frame.
CRM_PII = ("name", "company", "phone", "email")


@dataclass(frozen=True, slots=True, kw_only=True)
class FusionResult:
    """Responses joined with CRM attributes.

    Attributes
    ----------
    data : DataFrame
        Every response (none dropped), CRM columns added (suffix ``_crm`` on name clashes),
        plus boolean ``crm_matched``.
    n_responses : int
        Rows of the responses frame.
    matched : int
        Responses whose id was found in the CRM.
    unmatched : int
        Responses without a CRM record (``n_responses = matched + unmatched``), including
        responses with a missing id.
    missing_id : int
        Responses with no customer id at all.
    unmatched_ids : tuple
        Distinct ids (present but not in the CRM), sorted.
    customers_without_response : int
        CRM customers with no response.
    """

    data: pd.DataFrame
    n_responses: int
    matched: int
    unmatched: int
    missing_id: int
    unmatched_ids: tuple
    customers_without_response: int

    def to_frame(self) -> pd.DataFrame:
        """The counts as a one-row frame."""
        return pd.DataFrame([{
            "n_responses": self.n_responses, "matched": self.matched, "unmatched": self.unmatched,
            "missing_id": self.missing_id, "unmatched_ids": len(self.unmatched_ids),
            "customers_without_response": self.customers_without_response,
        }])

    def _repr_html_(self) -> str:
        return (f"<p>{html.escape('Fused responses with CRM')}</p>"
                + self.to_frame().to_html(index=False))


def fuse(
    responses: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    on: str = "customer_id",
    columns: Sequence[str] | None = None,
    drop_pii: Sequence[str] = CRM_PII,
) -> FusionResult:
    """Attach CRM attributes to survey responses by (pseudonymised) customer id.

    A left join: every response is kept; those without a CRM record are counted, listed and
    flagged (``crm_matched`` False), never dropped silently. CRM personal-data columns
    (``name, company, phone, email``) are not carried over.

    Parameters
    ----------
    responses, customers : DataFrame
        Both with the id column ``on``; ids must be pseudonymised the same way (as the warehouse
        does). ``customers`` must have one row per id.
    columns : sequence of str, optional
        CRM columns to attach (default: all but ``on`` and ``drop_pii``).

    Returns
    -------
    FusionResult

    Raises
    ------
    ValueError
        If ``on`` is missing or the CRM has duplicate ids.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"response_id": [1, 2, 3], "customer_id": ["a", "b", "x"]})
    >>> c = pd.DataFrame({"customer_id": ["a", "b", "c"], "customer_type": ["大客户", "普通客户", "普通客户"],
    ...                   "phone": ["1", "2", "3"]})
    >>> f = fuse(r, c)
    >>> f.matched, f.unmatched, f.unmatched_ids, list(f.data.columns)
    (2, 1, ('x',), ['response_id', 'customer_id', 'customer_type', 'crm_matched'])
    """
    for name, frame in (("responses", responses), ("customers", customers)):
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
        if on not in frame.columns:
            raise ValueError(f"{name} has no id column {on!r}; columns are {list(frame.columns)}")
    dup = customers[on].dropna().duplicated()
    if dup.any():
        ids = sorted(map(str, customers[on].dropna()[dup].unique()))[:5]
        raise ValueError(f"customers has {int(dup.sum())} duplicate {on!r} values, e.g. {ids}")
    if columns is None:
        columns = [c for c in customers.columns if c != on and c not in set(drop_pii)]
    else:
        missing = [c for c in columns if c not in customers.columns]
        if missing:
            raise ValueError(f"columns {missing} not in customers; columns are {list(customers.columns)}")
        columns = [c for c in columns if c != on]
    crm = customers[[on, *columns]].copy()
    crm = crm.rename(columns={c: f"{c}_crm" for c in columns if c in responses.columns})
    crm["crm_matched"] = True
    left = responses.reset_index(drop=True)
    key = left[on].astype("object").where(left[on].notna(), None)
    crm_key = crm[on].astype("object")
    merged = left.assign(**{on: key}).merge(crm.assign(**{on: crm_key}), on=on, how="left",
                                             sort=False, validate="many_to_one")
    merged[on] = left[on].to_numpy()
    merged["crm_matched"] = merged["crm_matched"].eq(True).astype(bool)
    missing_id = int(left[on].isna().sum())
    unmatched_mask = ~merged["crm_matched"]
    unmatched_ids = tuple(sorted(map(str, left.loc[unmatched_mask & left[on].notna(), on].unique())))
    answered = set(left[on].dropna())
    return FusionResult(
        data=merged,
        n_responses=len(left),
        matched=int(merged["crm_matched"].sum()),
        unmatched=int(unmatched_mask.sum()),
        missing_id=missing_id,
        unmatched_ids=unmatched_ids,
        customers_without_response=int((~customers[on].isin(answered)).sum()),
    )
