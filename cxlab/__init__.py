"""cxlab: a research and reporting workbench for customer-experience (CX) teams.

Subpackages: ``io`` (readers, ingest, warehouse), ``metrics``, ``kano``, ``ipa``, ``drivers``,
``ops``, ``text``, ``segments``, ``plots``, ``report``, ``datasets``; ``config`` for ``params/``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cxlab")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

__all__ = ["__version__"]
