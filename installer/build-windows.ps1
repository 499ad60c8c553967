# Build the Windows installer qjgb-setup-<version>.exe on any Windows 10/11 PC with Python 3.11+ (64-bit):
#   powershell -ExecutionPolicy Bypass -File installer\build-windows.ps1
# Needs NSIS 3 (https://nsis.sourceforge.io; makensis.exe on PATH or in its default folder).
# Steps: a venv in .venv-build, pip install -e .[build], PyInstaller (dist\qjgb\ with qjgb.exe and
# qjgb-cli.exe), a quick check of the bundle (charts, export, the Word report, backup), then makensis ->
# dist\qjgb-setup-<version>.exe. installer/build-windows-wine.sh does the same on Linux under Wine (a manual check).
$ErrorActionPreference = "Stop"
Set-Location (Split-Path -Parent $PSScriptRoot)

function Run([string]$exe, [string[]]$arguments) {
    & $exe @arguments
    if ($LASTEXITCODE -ne 0) { throw "failed ($LASTEXITCODE): $exe $($arguments -join ' ')" }
}

$python = if ($env:PYTHON) { $env:PYTHON } else { "py" }
$pyArgs = if ($python -eq "py") { @("-3") } else { @() }
if (-not (Test-Path ".venv-build\Scripts\python.exe")) {
    Run $python ($pyArgs + @("-m", "venv", ".venv-build"))
}
$venvPy = ".venv-build\Scripts\python.exe"
Run $venvPy @("-m", "pip", "install", "-q", "--disable-pip-version-check", "-e", ".[build]")
$version = (& $venvPy -c "import qjgb_desktop; print(qjgb_desktop.__version__)").Trim()
Write-Host "== PyInstaller: dist\qjgb (qjgb-desktop $version)"
Run ".venv-build\Scripts\pyinstaller.exe" @("--noconfirm", "installer.spec")

Write-Host "== check the bundle"
Run "dist\qjgb\qjgb-cli.exe" @("--version")
$data = Join-Path $env:TEMP ("qjgb-check-" + [guid]::NewGuid())
try {
    Run "dist\qjgb\qjgb-cli.exe" @("init", "--data-dir", $data)
    foreach ($ext in "png", "svg", "pdf") {
        Run "dist\qjgb\qjgb-cli.exe" @("--data-dir", $data, "chart", "--kind", "overview", "--out", "$data\chart.$ext")
    }
    Run "dist\qjgb\qjgb-cli.exe" @("--data-dir", $data, "export", "--out", "$data\export.xlsx")
    Run "dist\qjgb\qjgb-cli.exe" @("--data-dir", $data, "report", "--year", "2025", "--out", "$data\report.docx")
    Run "dist\qjgb\qjgb-cli.exe" @("--data-dir", $data, "backup", "--out", "$data\backup.sqlite3")
} finally {
    Remove-Item -Recurse -Force $data -ErrorAction SilentlyContinue
}

Write-Host "== NSIS"
$makensis = (Get-Command makensis.exe -ErrorAction SilentlyContinue).Source
if (-not $makensis) {
    foreach ($dir in "${env:ProgramFiles(x86)}\NSIS", "$env:ProgramFiles\NSIS") {
        if (Test-Path "$dir\makensis.exe") { $makensis = "$dir\makensis.exe"; break }
    }
}
if (-not $makensis) { throw "makensis.exe not found: install NSIS 3 from https://nsis.sourceforge.io" }
Run $makensis @("/V2", "/DVERSION=$version", "installer\qjgb.nsi")
$setup = "dist\qjgb-setup-$version.exe"
Write-Host ("done: {0} ({1:N0} MB); dist\qjgb {2:N0} MB" -f $setup, ((Get-Item $setup).Length / 1MB),
    ((Get-ChildItem -Recurse dist\qjgb | Measure-Object -Sum Length).Sum / 1MB))
