#!/usr/bin/env bash
# Compile the Windows installer script (installer/qjgb.nsi) with Debian's makensis, to catch script errors
# on Linux CI. The programs in it are stand-ins: a Windows build is made by installer/build-windows.ps1.
#   bash tools/check-nsis.sh           (installs the nsis package when makensis is missing)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v makensis >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nsis >/dev/null
fi
version=$(sed -n 's/^__version__ *= *"\([^"]*\)".*/\1/p' qjgb_desktop/__init__.py)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/qjgb/_internal"
printf 'MZ stand-in\n' >"$work/qjgb/qjgb.exe"
printf 'MZ stand-in\n' >"$work/qjgb/qjgb-cli.exe"
printf 'stand-in\n' >"$work/qjgb/_internal/base_library.zip"
makensis -V2 -WX -DVERSION="$version" -DSOURCE_DIR="$work/qjgb" -DOUTFILE="$work/qjgb-setup-$version.exe" \
  installer/qjgb.nsi
test -s "$work/qjgb-setup-$version.exe"
echo "installer/qjgb.nsi compiles: qjgb-setup-$version.exe ($(du -h "$work/qjgb-setup-$version.exe" | cut -f1), stand-in programs)"
