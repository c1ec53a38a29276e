#!/usr/bin/env bash
# Install the Debian packages cxlab needs beyond Python: CJK fonts (Noto Sans CJK SC for screens
# and figures; WenQuanYi Micro Hei and DejaVu, TrueType, for fast PDF font subsetting), Pango for
# WeasyPrint (libharfbuzz-subset0: WeasyPrint subsets fonts with it in ~0.1 s a page instead of
# seconds with fontTools), poppler-utils for PDF checks, Chromium for the dashboard's browser tests (Playwright drives the
# system browser; nothing is downloaded at run time). Idempotent; no-op when all are present.
set -euo pipefail
pkgs=(fonts-noto-cjk fonts-wqy-microhei fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
      libharfbuzz0b poppler-utils chromium)
command -v dpkg-query >/dev/null 2>&1 || { echo "system-deps: not a Debian system; install CJK fonts and Pango yourself" >&2; exit 0; }
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
    echo "system-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fc-cache -f >/dev/null 2>&1 || true
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "system-deps: installing ${missing[*]} (sudo)"
    sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "system-deps: missing ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
    echo "system-deps: without them Chinese text may render as boxes and PDF export may fail" >&2
fi
