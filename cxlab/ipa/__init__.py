"""cxlab.ipa."""
