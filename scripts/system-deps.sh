#!/usr/bin/env bash
# Install the Debian packages cxlab needs beyond Python. Idempotent; no-op when all are present.
#
#   scripts/system-deps.sh          what reports need (run by `make setup`): CJK fonts (Noto Sans
#                                   CJK SC for screens and figures; WenQuanYi Micro Hei and DejaVu,
#                                   TrueType, for fast PDF font subsetting), Pango for WeasyPrint
#                                   (libharfbuzz-subset0: fonts subset in ~0.1 s a page instead of
#                                   seconds with fontTools), poppler-utils for PDF checks.
#   scripts/system-deps.sh --test   also the real parts the tests start (run by `make test`):
#                                   R with the survey and boot packages (live cross-checks of the
#                                   weighting, design-based statistics and bootstrap intervals),
#                                   LibreOffice Impress (renders the PowerPoint decks), Chromium
#                                   (the dashboard's browser tests).
set -euo pipefail
pkgs=(fonts-noto-cjk fonts-wqy-microhei fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
      libharfbuzz0b poppler-utils)
if [ "${1:-}" = "--test" ]; then
    pkgs+=(r-base-core r-cran-survey r-cran-boot libreoffice-impress chromium)
fi
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
    echo "system-deps: without them Chinese text may render as boxes, PDF export may fail, and" >&2
    echo "system-deps: the tests that need R, LibreOffice or Chromium skip (CI=true: they fail)" >&2
fi
