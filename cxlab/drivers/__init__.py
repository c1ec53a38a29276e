"""cxlab.drivers."""
