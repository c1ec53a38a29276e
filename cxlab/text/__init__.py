"""cxlab.text."""
