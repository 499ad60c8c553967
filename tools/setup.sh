#!/usr/bin/env bash
# Set everything up on a Debian/Ubuntu machine, then start the program or run the whole test suite.
#   bash tools/setup.sh start [qjgb arguments]    install (only when the checkout changed), then open the window
#   bash tools/setup.sh test  [pytest arguments]  install with test tools, then run all tests (pytest)
# Installs what a fresh machine lacks: Qt's system libraries, a Chinese font, Python's venv module
# (apt-get, as root or through sudo), then the program into .venv (pip install -e).
# Test mode also installs LibreOffice Calc and Writer (headless, with python3-uno), Gnumeric and poppler-utils for the
# Excel and Word tests, and PostgreSQL for the server-mode tests.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-start}
shift || true
PY=${PYTHON:-python3}

if command -v dpkg >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  need=()
  for pkg in libgl1 libegl1 libfontconfig1 libxkbcommon0 libglib2.0-0 libdbus-1-3 fonts-noto-cjk; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
  done
  "$PY" -c "import venv, ensurepip" >/dev/null 2>&1 || need+=(python3-venv)
  if [ "$mode" = test ]; then
    # the tests open our .xlsx files in real office programs: LibreOffice (headless, no GUI), Gnumeric's
    # ssconvert, pdftotext to read the PDFs LibreOffice prints, and python3-uno (for /usr/bin/python3) to ask
    # LibreOffice for its optimal row heights (tests/office.py)
    # (a desktop LibreOffice's libreoffice-calc does as well: the -nogui one would replace it)
    dpkg -s libreoffice-calc >/dev/null 2>&1 || dpkg -s libreoffice-calc-nogui >/dev/null 2>&1 \
      || need+=(libreoffice-calc-nogui)
    # and the Word reports: Writer converts them to PDF, where pdftotext checks every heading
    dpkg -s libreoffice-writer >/dev/null 2>&1 || dpkg -s libreoffice-writer-nogui >/dev/null 2>&1 \
      || need+=(libreoffice-writer-nogui)
    # and PostgreSQL: the services' tests run on a throwaway server too (tests/pg_server.py); and nsis, whose
    # makensis compiles the Windows installer script in tests/release/test_packaging.py
    for pkg in gnumeric poppler-utils python3-uno postgresql nsis; do
      dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
    done
  fi
  if [ ${#need[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "安装系统软件包 / installing Debian packages: ${need[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    # a font cache made before the font was installed would hide it
    command -v fc-cache >/dev/null 2>&1 && fc-cache -f >/dev/null 2>&1 || true
  fi
fi

[ -x .venv/bin/python ] || "$PY" -m venv .venv

# what the installed program was installed from: pyproject.toml's hash and qjgb_desktop.__version__
install_stamp() {
  local hash version
  hash=$(sha256sum pyproject.toml | cut -d' ' -f1)
  version=$(sed -n 's/^__version__ *= *["'"'"']\([^"'"'"']*\)["'"'"'].*/\1/p' qjgb_desktop/__init__.py)
  printf '%s %s' "$hash" "$version"
}

case "$mode" in
  test)
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
    exec .venv/bin/python -m pytest "$@"
    ;;
  start)
    # Install only when the checkout changed since the last install, so a start needs no network (the
    # office PC usually has none) and costs no pip run: the stamp is pyproject.toml's hash + the version.
    stamp=.venv/qjgb-install-stamp
    want="$(install_stamp)"
    if [ ! -x .venv/bin/qjgb ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
      .venv/bin/python -m pip install -q --disable-pip-version-check -e .
      printf '%s\n' "$want" >"$stamp"
    fi
    exec .venv/bin/qjgb "$@"
    ;;
  *)
    echo "用法 / usage: bash tools/setup.sh start|test" >&2
    exit 2
    ;;
esac
