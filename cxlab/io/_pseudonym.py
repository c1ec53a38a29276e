"""Keyed pseudonymisation of customer ids (HMAC-SHA256, truncated).

The key lives outside the repository: ``$CXLAB_PSEUDONYM_KEY_FILE`` if set, else
``~/.config/cxlab/pseudonym.key``. It is created on first use (32 random bytes from
:mod:`secrets`, hex-encoded, file mode 0600). The same key gives the same pseudonym for the same
customer in every file and period, so survey responses join CRM and operations tables; without
the key the pseudonyms cannot be reversed or recomputed from a list of customer ids.
"""

from __future__ import annotations

import hmac
import os
import secrets
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from cxlab.errors import CxlabError

__all__ = ["default_key_file", "load_pseudonym_key", "pseudonymise"]

ENV_VAR = "CXLAB_PSEUDONYM_KEY_FILE"
PREFIX = "p_"
HEX_CHARS = 16  # 64 bits: collisions negligible for millions of customers


def default_key_file() -> Path:
    """Where the key is looked up: ``$CXLAB_PSEUDONYM_KEY_FILE`` or ``~/.config/cxlab/pseudonym.key``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path("~/.config/cxlab/pseudonym.key").expanduser()


def load_pseudonym_key(path: str | Path | None = None, *, create: bool = True) -> bytes:
    """Read the pseudonymisation key, creating it (mode 0600) on first use."""
    path = Path(path).expanduser() if path is not None else default_key_file()
    if not path.exists():
        if not create:
            raise CxlabError(f"{path}: pseudonymisation key not found")
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # created concurrently: use that one
            if not path.is_file():
                raise CxlabError(f"{path}: cannot create the pseudonymisation key "
                                 f"({path.parent} is not a folder)") from None
        except OSError as err:
            raise CxlabError(f"{path}: cannot create the pseudonymisation key ({err.strerror}); "
                             "set CXLAB_PSEUDONYM_KEY_FILE to a writable place") from None
        else:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
    raw = path.read_bytes().strip()
    try:
        key = bytes.fromhex(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        key = raw
    if len(key) < 16:
        raise CxlabError(f"{path}: pseudonymisation key is too short (need at least 16 bytes)")
    return key


def _norm(value: object) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip()


def pseudonymise(values: pd.Series, *, key: bytes) -> pd.Series:
    """Replace each non-missing id by ``p_`` + the first 16 hex digits of HMAC-SHA256(key, id).

    Ids are NFKC-normalised and stripped first (so ``"C000123 "`` and ``"Ｃ000123"`` agree).
    Missing values stay missing.

    Examples
    --------
    >>> import pandas as pd
    >>> out = pseudonymise(pd.Series(["C000123", None, "C000123 "]), key=b"k" * 32)
    >>> out[0] == out[2], out[0].startswith("p_"), len(out[0]), pd.isna(out[1])
    (True, True, 18, True)
    """
    cache: dict[str, str] = {}

    def one(v: object) -> object:
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return pd.NA
        s = _norm(v)
        if not s:
            return pd.NA
        out = cache.get(s)
        if out is None:  # hmac.digest: OpenSSL's one-shot HMAC, same value as hmac.new(...)
            digest = hmac.digest(key, s.encode("utf-8"), "sha256").hex()
            out = cache[s] = PREFIX + digest[:HEX_CHARS]
        return out

    if values.dtype != object:  # typed column: hash each distinct id once, spread by position
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        hashed = pd.array([one(v) for v in uniques.tolist()] + [pd.NA], dtype="string")
        codes = np.where(codes < 0, len(uniques), codes)
        return pd.Series(hashed.take(codes), index=values.index, dtype="string", name=values.name)
    return pd.Series([one(v) for v in values], index=values.index, dtype="string",
                     name=values.name)
