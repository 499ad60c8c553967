#!/usr/bin/env bash
# Build the Linux release: dist/qjgb/ (PyInstaller one-folder bundle: qjgb = window, qjgb-cli = console)
# and dist/qjgb-desktop_<version>_amd64.deb for 统信UOS / 银河麒麟 / Debian / Ubuntu.
#   bash tools/build-linux.sh
# Installs its own build tools into .venv when missing (pip install -e ".[build]"); needs dpkg-deb.
# The .deb installs to /opt/qjgb-desktop, puts qjgb and qjgb-cli in /usr/bin, a menu entry (办公) and
# the icon. It runs on systems whose glibc is at least the build machine's (Depends: says which): build on
# the oldest system you ship to.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

[ -x .venv/bin/python ] || "$PY" -m venv .venv
if ! .venv/bin/python -c "import PyInstaller" >/dev/null 2>&1; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[build]"
fi
# the bundle is built from the checkout: the installed copy must be this checkout (editable), not an older one
.venv/bin/python -c "import qjgb_desktop, pathlib, sys; sys.exit(pathlib.Path(qjgb_desktop.__file__).resolve().parent != pathlib.Path('qjgb_desktop').resolve())" \
  || .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .

version=$(.venv/bin/python -c "import sys; sys.path.insert(0, '.'); import qjgb_desktop; print(qjgb_desktop.__version__)")
echo "== PyInstaller: dist/qjgb (qjgb-desktop $version)"
LANG=C.UTF-8 .venv/bin/pyinstaller --noconfirm --log-level WARN installer.spec
test -x dist/qjgb/qjgb && test -x dist/qjgb/qjgb-cli

echo "== .deb"
arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
# the newest glibc symbol any bundled file needs: the oldest system the package can install on
glibc=$(find dist/qjgb -type f \( -name "*.so*" -o -name "qjgb*" \) -exec objdump -T {} + 2>/dev/null \
        | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1 || true)
depends="libc6 (>= ${glibc:-2.28}), libxcb1, libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, libxcb-image0,"
depends+=" libxcb-render-util0, libxcb-xinerama0, libxcb-randr0, libxcb-shape0, libxcb-xfixes0, libxcb-xkb1,"
depends+=" libxkbcommon0, libxkbcommon-x11-0, libgl1, libegl1, libfontconfig1, libfreetype6, libdbus-1-3,"
depends+=" libglib2.0-0 | libglib2.0-0t64, fonts-noto-cjk | fonts-wqy-microhei | fonts-wqy-zenhei"
deb=dist/qjgb-desktop_${version}_${arch}.deb
# shellcheck source=tools/deb.sh
. tools/deb.sh
build_deb dist/qjgb "build/deb/qjgb-desktop_${version}_${arch}" "$deb" "$version" "$arch" "$depends"
echo "== done"
echo "dist/qjgb: $(du -sh dist/qjgb | cut -f1) ($(find dist/qjgb -type f | wc -l) files)"
echo "$deb: $(du -h "$deb" | cut -f1)"
