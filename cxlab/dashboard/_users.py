"""Dashboard users: a credentials file outside the repository, password hashes, org scopes.

The file (path from ``CXLAB_DASHBOARD_USERS``) is YAML, one entry per user::

    zhang.wei:
      password_hash: pbkdf2_sha256$600000$<salt hex>$<hash hex>
      unit: SH01          # an org unit code (region, branch, …) or the company code

Hashes: ``pbkdf2_sha256$<iterations>$<salt>$<hex>`` (recommended; :func:`hash_password` writes
it) or ``sha256$<hex>`` / ``sha256$<salt>$<hex>`` (sha256 of salt + password; accepted for
files made with ``sha256sum``, not recommended). Passwords are never stored or logged.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml

from cxlab.config import Org
from cxlab.errors import CxlabError

__all__ = ["ENV_USERS", "Scope", "User", "hash_password", "load_users", "scope_branches",
           "scope_for", "verify_password"]

#: Environment variable naming the credentials file.
ENV_USERS = "CXLAB_DASHBOARD_USERS"
_PBKDF2_ITERATIONS = 600_000   # OWASP 2023 recommendation for PBKDF2-HMAC-SHA256


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    """One dashboard user: name, password hash and the org unit whose data they may read."""

    name: str
    password_hash: str
    unit: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """What one user may read: the branches (leaf units) of their unit.

    ``company`` is True for the company code (every branch). ``company_total`` is True for every
    user: the company-wide aggregate (全公司, no branch breakdown) is shown to everyone as the
    reports' benchmark; respondent rows, verbatims and per-branch figures stay inside
    ``branches``.
    """

    user: str
    unit: str
    unit_name: str
    branches: tuple[str, ...]
    company: bool

    def allowed(self, codes) -> list[str]:
        """The given branch codes that lie in the scope (order kept, duplicates dropped)."""
        own = set(self.branches)
        out: list[str] = []
        for c in codes or ():
            if isinstance(c, str) and c in own and c not in out:
                out.append(c)
        return out


def hash_password(password: str, *, iterations: int = _PBKDF2_ITERATIONS,
                  salt: str | None = None) -> str:
    """A ``pbkdf2_sha256$iterations$salt$hex`` hash of ``password`` for the users file.

    Examples
    --------
    >>> h = hash_password("s3cret", iterations=1000)
    >>> h.startswith("pbkdf2_sha256$1000$"), verify_password("s3cret", h), verify_password("x", h)
    (True, True, False)
    """
    salt = salt if salt is not None else secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt.encode("utf-8"), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches the stored hash (constant-time comparison)."""
    parts = stored.split("$")
    try:
        if parts[0] == "pbkdf2_sha256" and len(parts) == 4:
            _, iters, salt, want = parts
            got = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt.encode("utf-8"),
                                      int(iters)).hex()
        elif parts[0] == "sha256" and len(parts) in (2, 3):
            salt = parts[1] if len(parts) == 3 else ""
            want = parts[-1]
            got = hashlib.sha256((salt + password).encode("utf-8")).hexdigest()
        else:
            return False
    except ValueError:
        return False
    return hmac.compare_digest(got, want.lower())


def _check_hash(path: Path, name: str, value: object) -> str:
    if not isinstance(value, str):
        raise CxlabError(f"{path}: user {name!r}: password_hash must be a string")
    parts = value.split("$")
    ok = ((parts[0] == "pbkdf2_sha256" and len(parts) == 4 and parts[1].isdigit())
          or (parts[0] == "sha256" and len(parts) in (2, 3) and len(parts[-1]) == 64))
    if not ok:
        raise CxlabError(f"{path}: user {name!r}: password_hash must be pbkdf2_sha256$iterations$salt$hex "
                         "or sha256$[salt$]hex (make one with `cxlab dashboard --hash-password`)")
    return value


def load_users(path: str | Path | None = None, *, org: Org) -> dict[str, User]:
    """Read and validate the users file (default: ``$CXLAB_DASHBOARD_USERS``).

    Every user's ``unit`` must be the company code or a unit of ``org``.

    Raises
    ------
    CxlabError
        When the file is missing, malformed, or names an unknown unit.
    """
    if path is None:
        path = os.environ.get(ENV_USERS)
        if not path:
            raise CxlabError(f"no dashboard users: set {ENV_USERS} to a YAML users file kept "
                             "outside the repository")
    path = Path(path)
    if not path.is_file():
        raise CxlabError(f"{path}: dashboard users file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise CxlabError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(raw, dict) or not raw:
        raise CxlabError(f"{path}: expected a mapping username -> {{password_hash, unit}}")
    units = {u.code for u, _ in org.walk()} | {org.company.code}
    users: dict[str, User] = {}
    for name, entry in raw.items():
        name = str(name)
        if not isinstance(entry, dict) or set(entry) - {"password_hash", "unit"}:
            raise CxlabError(f"{path}: user {name!r}: expected keys password_hash and unit")
        unit = str(entry.get("unit", ""))
        if unit not in units:
            raise CxlabError(f"{path}: user {name!r}: unknown unit {unit!r} "
                             f"(known: {', '.join(sorted(units))})")
        users[name] = User(name=name, unit=unit,
                           password_hash=_check_hash(path, name, entry.get("password_hash")))
    return users


def scope_branches(org: Org, unit: str) -> tuple[str, ...]:
    """The branch codes at or below ``unit``; every branch for the company code.

    Examples
    --------
    >>> from cxlab.config import load_org
    >>> org = load_org("params/org.yaml")
    >>> scope_branches(org, "SOUTH")
    ('GZ01', 'SZ01', 'XM01')
    >>> scope_branches(org, "SH01")
    ('SH01',)
    """
    if unit == org.company.code:
        return tuple(org.branch_codes)
    try:
        top = org.unit(unit)
    except KeyError:
        raise CxlabError(f"unknown org unit {unit!r}") from None
    return tuple(u.code for u, _ in top.walk() if u.is_branch)


def scope_for(user: User, org: Org) -> Scope:
    """The :class:`Scope` of one user."""
    company = user.unit == org.company.code
    name = org.company.name if company else org.unit(user.unit).name
    return Scope(user=user.name, unit=user.unit, unit_name=name,
                 branches=scope_branches(org, user.unit), company=company)
