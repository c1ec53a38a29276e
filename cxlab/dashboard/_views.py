"""Saved views: a user's named filter + view settings, stored per user as JSON.

Stored under ``<warehouse>/_dashboard/views/<sha256(user)[:24]>.json`` (the file name is a hash,
so no user name can reach outside the folder). A saved view holds widget values only; opening
it goes through the same scope sanitiser as a URL, so a view can never widen the scope.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path

from cxlab.errors import CxlabError

__all__ = ["delete_view", "list_views", "load_view", "save_view"]

_MAX_VIEWS = 200
_MAX_NAME = 60


def _path(root: str | Path, user: str) -> Path:
    digest = hashlib.sha256(user.encode("utf-8")).hexdigest()[:24]
    return Path(root) / "_dashboard" / "views" / f"{digest}.json"


def _read(root, user) -> dict:
    p = _path(root, user)
    if not p.is_file():
        return {}
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise CxlabError(f"{p}: corrupt saved views ({err})") from None
    return data if isinstance(data, dict) else {}


def _write(root, user, data: dict) -> None:
    p = _path(root, user)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, p)


def list_views(root: str | Path, user: str) -> list[str]:
    """The names of the user's saved views, sorted."""
    return sorted(_read(root, user))


def load_view(root: str | Path, user: str, name: str) -> dict:
    """The widget values of one saved view (``{}`` when there is none by that name)."""
    v = _read(root, user).get(name, {})
    return v if isinstance(v, dict) else {}


def save_view(root: str | Path, user: str, name: str, values: dict) -> None:
    """Save (or replace) the view ``name`` of ``user`` with JSON-serialisable widget values."""
    name = name.strip()
    if not name or len(name) > _MAX_NAME:
        raise CxlabError(f"a view name needs 1 to {_MAX_NAME} characters")
    data = _read(root, user)
    if name not in data and len(data) >= _MAX_VIEWS:
        raise CxlabError(f"at most {_MAX_VIEWS} saved views per user")
    data[name] = json.loads(json.dumps(values, ensure_ascii=False))
    _write(root, user, data)


def delete_view(root: str | Path, user: str, name: str) -> None:
    """Delete one saved view (no error when it does not exist)."""
    data = _read(root, user)
    if data.pop(name, None) is not None:
        _write(root, user, data)
