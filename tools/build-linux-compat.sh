#!/usr/bin/env bash
# Build the Linux release on a glibc-2.28 base, for 统信UOS 20 / 银河麒麟 V10 / Debian 10 (glibc 2.28), on any
# Linux machine, without Docker: dist/compat/qjgb/ and dist/compat/qjgb-desktop_<version>_amd64.deb.
#   sudo bash tools/build-linux-compat.sh            build (the build root is kept for the next run)
#   sudo bash tools/build-linux-compat.sh --smoke    … and run tools/release-smoke.sh --bundle inside the root
#   sudo bash tools/build-linux-compat.sh --clean    remove the build root first
# How: a build root in build/compat-root (debootstrap), in it a CPython 3.11 built from source, PySide6 6.9
# (the last release with manylinux_2_28 wheels: 6.10's and 6.11's are manylinux_2_34), PyInstaller, and the
# system libraries the bundle carries (xcb-util, xkbcommon, fontconfig, freetype, glib, OpenSSL, SQLite, …), all older than glibc 2.28.
# Debian 10's archive (archive.debian.org) is used when it can be reached; otherwise the root is Ubuntu 18.04
# (glibc 2.27: Python and the system libraries need at most 2.27) with glibc 2.28 built from source and
# installed over it, so PySide6 runs there. The checkout is bind-mounted read-only: the build writes nothing
# in the tree but build/compat-* and dist/compat. All mounts live in a private mount namespace (unshare -m),
# so none outlives the script. glibc's source: GLIBC_SRC, build/compat-cache/glibc-2.28.tar.xz or ftp.gnu.org.
# Needs root, debootstrap, curl, xz, dpkg-deb, objdump; 2 cores: ~15 min the
# first time (root, CPython, FreeType, glibc), ~3 min after (PyInstaller and the .deb).
# Environment: COMPAT_BASE=auto|buster|bionic, GLIBC_SRC=<glibc-2.28 tarball>, PYTHON_SRC=<Python-3.11 tarball>.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
[ "$(id -u)" -eq 0 ] || { echo "needs root (debootstrap, mount, chroot): sudo bash $0 $*" >&2; exit 1; }
smoke=0
for arg in "$@"; do
  case "$arg" in
    --smoke) smoke=1 ;;
    --clean) rm -rf --one-file-system build/compat-root build/compat-work ;;
    *) echo "usage: sudo bash tools/build-linux-compat.sh [--clean] [--smoke]" >&2; exit 2 ;;
  esac
done
start=$(date +%s)
R=$top/build/compat-root
cache=$top/build/compat-cache
out=$top/dist/compat
mkdir -p "$cache" "$out"

PY_VERSION=3.11.2
PY_SHA256=2411c74bda5bbcfcddaf4531f66d1adc73f247f529aee981b029513aefdbf849  # Debian's python3.11_3.11.2.orig.tar.gz
PY_URL=http://deb.debian.org/debian/pool/main/p/python3.11/python3.11_${PY_VERSION}.orig.tar.gz
GLIBC_URL=https://ftp.gnu.org/gnu/glibc/glibc-2.28.tar.xz
FT_VERSION=2.13.3
FT_SHA256=686ec73cbf6783b245dd068a09ce807b729ac0f8a46dd70f7867923c32fdf4de  # Debian 13's freetype orig tarball
FT_URL=http://deb.debian.org/debian/pool/main/f/freetype/freetype_${FT_VERSION}+dfsg.orig.tar.xz

reachable() { curl -fsS -o /dev/null -m 20 "$1" 2>/dev/null; }

# ---------------------------------------------------------------- the root
base=${COMPAT_BASE:-auto}
if [ -f "$R/.compat-base" ]; then
  base=$(cat "$R/.compat-base")
elif [ "$base" = auto ]; then
  if reachable http://archive.debian.org/debian/dists/buster/Release; then base=buster; else base=bionic; fi
fi
echo "== build root: $base ($R)"

# runs a script inside the root, with /proc, /dev, /sys and the checkout (read-only, at /src) mounted in a
# private mount namespace; everything is unmounted when it returns
in_root() {
  unshare -m --propagation private bash -euo pipefail -c '
    R=$1 top=$2; shift 2
    mount -t proc proc "$R/proc"
    mount --rbind /dev "$R/dev"; mount --make-rslave "$R/dev"
    mount -t sysfs sysfs "$R/sys"
    mkdir -p "$R/src"
    mount --bind "$top" "$R/src"; mount -o remount,bind,ro "$R/src"
    cp -L /etc/resolv.conf "$R/etc/resolv.conf"
    # the host'"'"'s certificate authorities (a proxy'"'"'s own CA included): pip in the root trusts what the host trusts
    cp -L /etc/ssl/certs/ca-certificates.crt "$R/etc/ssl/host-ca.crt" 2>/dev/null || true
    rc=0
    env -i PATH=/opt/python3.11/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
      LANG=C.UTF-8 LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive PIP_CERT=/etc/ssl/host-ca.crt chroot "$R" /bin/bash -euo pipefail -c "$*" || rc=$?
    umount "$R/src" "$R/sys" "$R/proc"; umount -R "$R/dev"
    exit $rc
  ' in_root "$R" "$top" "$@"
}

packages="build-essential gawk bison python3 ca-certificates curl xz-utils file binutils patchelf
  libssl-dev libffi-dev libsqlite3-dev zlib1g-dev libbz2-dev liblzma-dev uuid-dev libexpat1-dev libmpdec-dev
  libxcb1 libx11-xcb1 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0 libxcb-xinerama0
  libxcb-randr0 libxcb-shape0 libxcb-xfixes0 libxcb-xkb1 libxcb-glx0 libxcb-shm0 libxcb-sync1 libxkbcommon0
  libxkbcommon-x11-0 libfontconfig1 libfreetype6 libdbus-1-3 libglib2.0-0 libgl1 libegl1 libopengl0"
if [ ! -f "$R/.compat-base" ]; then
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap
  rm -rf --one-file-system "$R"
  case "$base" in
    buster)
      # (archive.debian.org: Debian 10 is archived; its Release file is signed with a key Debian 12's keyring has)
      debootstrap --variant=minbase buster "$R" http://archive.debian.org/debian
      echo "deb http://archive.debian.org/debian buster main" >"$R/etc/apt/sources.list"
      packages+=" libxcb-cursor0" ;;
    bionic)
      # Ubuntu's archive key is not in Debian's keyring: the first download is not checked against it; apt in
      # the root checks everything after it with the ubuntu-keyring debootstrap installed
      debootstrap --variant=minbase --no-check-gpg --components=main,universe bionic "$R" http://archive.ubuntu.com/ubuntu
      printf '%s\n' "deb http://archive.ubuntu.com/ubuntu bionic main universe" \
        "deb http://archive.ubuntu.com/ubuntu bionic-updates main universe" \
        "deb http://security.ubuntu.com/ubuntu bionic-security main universe" >"$R/etc/apt/sources.list"
      packages+=" libxcb-cursor0" ;;
    *) echo "COMPAT_BASE must be auto, buster or bionic" >&2; exit 2 ;;
  esac
  in_root "apt-get update -qq && apt-get install -y -q --no-install-recommends $packages >/dev/null"
  echo "$base" >"$R/.compat-base"
fi

# ---------------------------------------------------------------- CPython 3.11 (before glibc: it needs only the base's)
if [ ! -x "$R/opt/python3.11/bin/python3.11" ]; then
  src=${PYTHON_SRC:-$cache/python3.11_${PY_VERSION}.orig.tar.gz}
  if [ ! -f "$src" ]; then
    curl -fsS -m 600 -o "$src.part" "$PY_URL" && mv "$src.part" "$src"
    echo "$PY_SHA256  $src" | sha256sum -c --quiet
  fi
  echo "== CPython $PY_VERSION (from source, in the root)"
  mkdir -p "$R/build"; rm -rf "$R/build/python"; mkdir "$R/build/python"
  tar xf "$src" -C "$R/build/python" --strip-components=1
  in_root "cd /build/python && ./configure -q --prefix=/opt/python3.11 --enable-shared --with-ensurepip=install \
             LDFLAGS=-Wl,-rpath,/opt/python3.11/lib >/build/python-configure.log \
           && make -s -j$(nproc) >/build/python-make.log 2>&1 && make -s install >/build/python-install.log 2>&1 \
           && /opt/python3.11/bin/python3.11 -c 'import ssl, sqlite3, ctypes, lzma, bz2, zlib, uuid, decimal, hashlib'"
  rm -rf "$R/build/python"
fi

# ---------------------------------------------------------------- FreeType 2.13 (Qt 6.9 needs 2.9's FT_Done_MM_Var;
# Ubuntu 18.04 has 2.8.1). In /usr/local/lib, which ld.so.conf lists first: PyInstaller bundles this one.
if [ ! -e "$R/usr/local/lib/libfreetype.so.6" ]; then
  src=$cache/freetype_${FT_VERSION}+dfsg.orig.tar.xz
  if [ ! -f "$src" ]; then
    curl -fsS -m 600 -o "$src.part" "$FT_URL" && mv "$src.part" "$src"
  fi
  echo "$FT_SHA256  $src" | sha256sum -c --quiet
  echo "== FreeType $FT_VERSION (from source, in the root)"
  rm -rf "$R/build/freetype"; mkdir -p "$R/build/freetype"
  tar xf "$src" -C "$R/build/freetype" --strip-components=1
  in_root "apt-get install -y -q --no-install-recommends pkg-config libpng-dev zlib1g-dev >/dev/null \
           && cd /build/freetype && ./configure -q --prefix=/usr/local --with-zlib=yes --with-png=yes --with-bzip2=no \
                --with-harfbuzz=no --with-brotli=no >/build/freetype-configure.log 2>&1 \
           && make -s -j$(nproc) >/build/freetype-make.log 2>&1 && make -s install >/build/freetype-install.log 2>&1 \
           && rm -f /usr/local/lib/libfreetype.a && ldconfig"
  rm -rf "$R/build/freetype"
fi

# ---------------------------------------------------------------- glibc 2.28 (Ubuntu 18.04 has 2.27)
if [ "$base" = bionic ] && ! grep -q "2.28" <(in_root "ldd --version | head -1"); then
  src=${GLIBC_SRC:-$cache/glibc-2.28.tar.xz}
  [ -f "$src" ] || { curl -fsS -m 600 -o "$src.part" "$GLIBC_URL" && mv "$src.part" "$src"; }
  echo "== glibc 2.28 (from source, in the root)"
  rm -rf "$R/build/glibc" "$R/build/glibc-build" "$R/build/glibc-inst"; mkdir -p "$R/build/glibc" "$R/build/glibc-build"
  tar xf "$src" -C "$R/build/glibc" --strip-components=1
  # (a copy made from the git history may lack test data files: the build does not read them)
  for f in $(cat "$cache/glibc-2.28.missing" 2>/dev/null); do touch "$R/build/glibc/$f"; done
  # Debian's layout (multiarch): the new files replace the base's in place
  printf '%s\n' "slibdir=/lib/x86_64-linux-gnu" "rtlddir=/lib64" >"$R/build/glibc-build/configparms"
  in_root "cd /build/glibc-build && ../glibc/configure -q --prefix=/usr --libdir=/usr/lib/x86_64-linux-gnu \
             --libexecdir=/usr/lib/x86_64-linux-gnu --enable-kernel=3.2 --disable-werror --disable-profile \
             --without-selinux --enable-stack-protector=strong >/build/glibc-configure.log 2>&1 \
           && make -s -j$(nproc) >/build/glibc-make.log 2>&1 \
           && make -s install DESTDIR=/build/glibc-inst >/build/glibc-install.log 2>&1"
  # installed from outside the root: nothing running uses the files being replaced. The base's C.UTF-8 locale
  # (Debian's patch, 2.27's format) does not load with 2.28 (which looks in /usr/lib/x86_64-linux-gnu/locale and
  # has no C.UTF-8 of its own): en_US's rules stand in.
  rm -rf "$R/build/glibc-inst/etc" "$R/build/glibc-inst/var"
  cp -a "$R/build/glibc-inst/." "$R/"
  # the base keeps glibc's architecture headers (bits/, gnu/, sys/, …) in /usr/include/x86_64-linux-gnu, which
  # the compiler reads first: the 2.28 ones replace them there
  in_root "dpkg -L libc6-dev | grep '^/usr/include/x86_64-linux-gnu/.*\.h\$'" | while read -r h; do
    new=$R/usr/include/${h#/usr/include/x86_64-linux-gnu/}
    if [ -f "$new" ]; then cp -a "$new" "$R$h"; else rm -f "$R$h"; fi
  done
  in_root "ldconfig && apt-mark hold libc6 libc-bin libc6-dev libc-dev-bin >/dev/null \
           && mkdir -p /usr/lib/x86_64-linux-gnu/locale && localedef -i en_US -f UTF-8 C.UTF-8"
  rm -rf "$R/build/glibc" "$R/build/glibc-build" "$R/build/glibc-inst"
fi
in_root "ldd --version | head -1"

# ---------------------------------------------------------------- the Python packages
# the program's dependencies (pyproject.toml) with PySide6 held to 6.9 (manylinux_2_28), and PyInstaller
if ! in_root "test -x /opt/venv/bin/pyinstaller && /opt/venv/bin/python -c 'import PySide6, sys; sys.exit(PySide6.__version_info__[:2] >= (6, 10))'"; then
  echo "== Python packages"
  cat >"$R/build/venv.sh" <<'VENV'
rm -rf /opt/venv
/opt/python3.11/bin/python3.11 -m venv /opt/venv
/opt/venv/bin/python -m pip install -q --disable-pip-version-check -U pip
/opt/venv/bin/python - >/build/requirements.txt <<'PY'
import tomllib
project = tomllib.load(open("/src/pyproject.toml", "rb"))["project"]
# PySide6-Essentials 6.10 and later are manylinux_2_34 (glibc 2.34): 6.9 is the last release built for glibc 2.28
deps = ["PySide6-Essentials>=6.9,<6.10" if d.replace("_", "-").lower().startswith("pyside6-essentials") else d
        for d in project["dependencies"] + project["optional-dependencies"]["build"]]
print("\n".join(deps))
PY
/opt/venv/bin/python -m pip install -q --disable-pip-version-check --only-binary=:all: -r /build/requirements.txt
/opt/venv/bin/python -m pip list --format=freeze >/build/installed.txt
VENV
  in_root "bash -euo pipefail /build/venv.sh"
fi

# ---------------------------------------------------------------- the bundle (installer.spec, as tools/build-linux.sh)
version=$(sed -n 's/^__version__ *= *"\([^"]*\)".*/\1/p' qjgb_desktop/__init__.py)
echo "== PyInstaller: dist/compat/qjgb (qjgb-desktop $version)"
rm -rf "$R/build/dist" "$R/build/work"
in_root "cd /src && PYTHONDONTWRITEBYTECODE=1 /opt/venv/bin/pyinstaller --noconfirm --log-level WARN \
           --distpath /build/dist --workpath /build/work installer.spec"
test -x "$R/build/dist/qjgb/qjgb" && test -L "$R/build/dist/qjgb/qjgb-cli"
rm -rf "$out/qjgb"
cp -a "$R/build/dist/qjgb" "$out/qjgb"

# the newest glibc symbol any bundled file needs
glibc=$(find "$out/qjgb" -type f -exec sh -c 'head -c4 "$1" | grep -q "ELF" && objdump -T "$1"' _ {} \; 2>/dev/null \
        | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
echo "newest GLIBC_ symbol version needed: $glibc"
if [ "$(printf '%s\n' "$glibc" 2.28 | sort -V | tail -1)" != 2.28 ]; then
  echo "the bundle needs glibc $glibc: more than 2.28" >&2; exit 1
fi
# the libraries the bundle's files link against that it does not carry: the system (Depends:) gives them
shipped=$(find "$out/qjgb" \( -type f -o -type l \) -name "*.so*" -printf '%f\n' | sort -u)
needed=$(find "$out/qjgb" -type f -exec sh -c 'head -c4 "$1" | grep -q "ELF" && objdump -p "$1"' _ {} \; 2>/dev/null \
         | awk '$1 == "NEEDED" {print $2}' | sort -u)
echo "from the system: $(comm -23 <(echo "$needed") <(echo "$shipped") | tr '\n' ' ')"

# ---------------------------------------------------------------- the .deb (as tools/build-linux.sh)
echo "== .deb"
arch=amd64
# The bundle carries the xcb-util libraries (xcb-cursor, icccm, image, keysyms, render-util), xkbcommon(-x11),
# fontconfig, freetype and glib (PyInstaller collects them from the root); the system gives what the spec leaves
# out or PyInstaller never bundles ("from the system" above): libc, libxcb, OpenGL/EGL (the GPU driver's), D-Bus,
# and a CJK font. Every name exists in Debian 10 (UOS 20), Ubuntu 18.04+ and Debian 12/13.
depends="libc6 (>= $glibc), libxcb1, libgl1, libegl1, libdbus-1-3,"
depends+=" fonts-noto-cjk | fonts-wqy-microhei | fonts-wqy-zenhei"
deb=$out/qjgb-desktop_${version}_${arch}.deb
# shellcheck source=tools/deb.sh
. tools/deb.sh
build_deb "$out/qjgb" "$top/build/compat-deb/qjgb-desktop_${version}_${arch}" "$deb" "$version" "$arch" "$depends"

if [ "$smoke" = 1 ]; then
  echo "== smoke inside the root ($(in_root "ldd --version | head -1"))"
  # tools/release-smoke.sh --bundle smokes <its checkout>/dist/qjgb: a copy of it beside this bundle
  rm -rf "$R/build/smoke"; mkdir -p "$R/build/smoke/tools"
  cp tools/release-smoke.sh "$R/build/smoke/tools/"
  ln -s /build/dist "$R/build/smoke/dist"
  in_root "bash /build/smoke/tools/release-smoke.sh --bundle"
fi
echo "== done in $(( $(date +%s) - start )) s"
echo "dist/compat/qjgb: $(du -sh "$out/qjgb" | cut -f1) ($(find "$out/qjgb" -type f | wc -l) files), needs glibc $glibc"
echo "${deb#$top/}: $(du -h "$deb" | cut -f1)"
