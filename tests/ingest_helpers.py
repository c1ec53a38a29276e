"""Shared by the ingest tests: a pseudonymisation key of each test's own, and an ingest into the
test's folder that checks the accounting invariant rows read = accepted + quarantined."""

from __future__ import annotations

import pytest

from cxlab.io import ingest


@pytest.fixture(autouse=True)
def own_pseudonym_key(tmp_path, monkeypatch):
    """Each test pseudonymises with a key of its own (import this fixture into the module)."""
    monkeypatch.setenv("CXLAB_PSEUDONYM_KEY_FILE", str(tmp_path / "pseudonym.key"))


def ingest_into(tmp_path, *paths, **kw):
    """``cxlab.io.ingest`` into ``tmp_path/wh`` (quarantine in ``tmp_path/q``)."""
    rep = ingest(list(paths), warehouse=tmp_path / "wh", quarantine_dir=tmp_path / "q", **kw)
    assert rep.rows_read == rep.accepted + rep.quarantined
    return rep
