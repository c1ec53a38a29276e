"""cxlab.kano."""
