"""Root pytest configuration, shared by the tests and the doctests in ``cxlab/``."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    """Every test and doctest starts without open figures (``plt.gca()`` is never stale)."""
    plt.close("all")
    yield
    plt.close("all")
