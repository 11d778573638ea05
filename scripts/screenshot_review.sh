#!/bin/sh
# Screenshot a filterlog review report with headless Chromium (Debian's "chromium" package).
#
#   scripts/screenshot_review.sh REPORT.html OUT.png [WIDTHxHEIGHT]
#   scripts/screenshot_review.sh REPORT.html OUT.pdf          # prints to PDF (A4, the report's print CSS)
#
# Installs chromium with apt-get if /usr/bin/chromium is missing (with sudo unless run as root).
# The browser runs offline: the report is one self-contained file and needs no network.
set -eu
umask 077  # the picture shows what the report shows: personal data

if [ "$#" -lt 2 ]; then
    echo "usage: $0 REPORT.html OUT.png|OUT.pdf [WIDTHxHEIGHT]" >&2
    exit 2
fi
report=$1
out=$2
size=${3:-1200x3000}

if [ ! -f "$report" ]; then
    echo "$0: $report: no such file" >&2
    exit 1
fi

chromium=/usr/bin/chromium
if [ ! -x "$chromium" ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo=sudo
    fi
    echo "installing chromium (Debian package) ..." >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

abs_report=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
case $out in
    /*) abs_out=$out ;;
    *) abs_out=$(pwd)/$out ;;
esac
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

set -- --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$profile" --hide-scrollbars
case $abs_out in
    *.pdf) set -- "$@" --no-pdf-header-footer --print-to-pdf="$abs_out" ;;
    *) set -- "$@" --window-size="$(echo "$size" | tr x ,)" --screenshot="$abs_out" ;;
esac
"$chromium" "$@" "file://$abs_report" 2>"$profile/chromium.log" || {
    cat "$profile/chromium.log" >&2
    exit 1
}
if [ ! -s "$abs_out" ]; then
    cat "$profile/chromium.log" >&2
    echo "$0: chromium wrote nothing to $abs_out" >&2
    exit 1
fi
chmod 600 "$abs_out"
echo "$abs_out"
