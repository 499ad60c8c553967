; Windows installer for qjgb-desktop (NSIS 3, Unicode). Per-user: no administrator rights needed.
;   makensis /DVERSION=0.1.0 installer\qjgb.nsi          (installer\build-windows.ps1 does this)
; Installs dist\qjgb\ (qjgb.exe = window, qjgb-cli.exe = console) to %LOCALAPPDATA%\Programs\qjgb-desktop,
; with a Start-menu folder, an optional desktop shortcut and an uninstaller. Installing a newer version over
; an older one upgrades in place. The user's data (%LOCALAPPDATA%\qjgb-desktop) is never touched, neither
; by an upgrade nor by the uninstaller.
Unicode true
ManifestDPIAware true
RequestExecutionLevel user
SetCompressor /SOLID lzma

!ifndef VERSION
  !define VERSION "0.0.0"
!endif
!ifndef SOURCE_DIR            ; the PyInstaller folder (paths relative to this script)
  !define SOURCE_DIR "..\dist\qjgb"
!endif
!ifndef OUTFILE
  !define OUTFILE "..\dist\qjgb-setup-${VERSION}.exe"
!endif
!ifndef ICON
  !define ICON "..\resources\icons\qjgb.ico"
!endif

!define APP_ID "qjgb-desktop"
!define APP_NAME "强基固本进展管理"
!define PUBLISHER "延庆区教育委员会"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP_ID}"
!define MENU_DIR "$SMPROGRAMS\${APP_NAME}"

Name "${APP_NAME} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${APP_ID}"
InstallDirRegKey HKCU "Software\${APP_ID}" "InstallDir"
BrandingText "${APP_NAME} ${VERSION}"

; the installer's own version resource (Properties → Details)
!searchreplace VERSION_DOTS "${VERSION}" "-" "."
VIProductVersion "${VERSION_DOTS}.0"
VIAddVersionKey /LANG=2052 "ProductName" "${APP_NAME}"
VIAddVersionKey /LANG=2052 "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=2052 "FileDescription" "${APP_NAME} 安装程序"
VIAddVersionKey /LANG=2052 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=2052 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=2052 "LegalCopyright" "${PUBLISHER}"

!include "MUI2.nsh"
!include "WinVer.nsh"
!include "LogicLib.nsh"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_COMPONENTSPAGE_NODESC
!define MUI_FINISHPAGE_RUN "$INSTDIR\qjgb.exe"
!define MUI_FINISHPAGE_RUN_TEXT "启动${APP_NAME}"

!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "SimpChinese"

Function .onInit
  ; Qt 6 needs Windows 10 1809 (build 17763) or later
!ifndef NO_WINDOWS_VERSION_CHECK  ; Wine reports Windows 7 here: installer/build-windows-wine.sh sets it
  ${IfNot} ${AtLeastWin10}
  ${OrIfNot} ${AtLeastBuild} 17763
    ; /SD: a silent install (setup.exe /S) ends with exit code 2 instead of waiting on the message
    MessageBox MB_ICONSTOP "本程序需要 Windows 10（1809 版）或更高版本。" /SD IDOK
    Abort
  ${EndIf}
!endif
FunctionEnd

Section "程序文件" SecProgram
  SectionIn RO
  SetOutPath "$INSTDIR"
  ; an upgrade: the old version's libraries go first, so no stale file of it is left beside the new ones
  RMDir /r "$INSTDIR\_internal"
  File /r "${SOURCE_DIR}\*.*"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  WriteRegStr HKCU "Software\${APP_ID}" "InstallDir" "$INSTDIR"
  WriteRegStr HKCU "Software\${APP_ID}" "Version" "${VERSION}"

  CreateDirectory "${MENU_DIR}"
  CreateShortCut "${MENU_DIR}\${APP_NAME}.lnk" "$INSTDIR\qjgb.exe" "" "$INSTDIR\qjgb.exe" 0
  ; a console already in the program folder, for qjgb-cli backup/export/import …
  CreateShortCut "${MENU_DIR}\命令行 (qjgb-cli).lnk" "$SYSDIR\cmd.exe" \
    '/k cd /d "$INSTDIR" && qjgb-cli --help' "$INSTDIR\qjgb-cli.exe" 0
  CreateShortCut "${MENU_DIR}\卸载${APP_NAME}.lnk" "$INSTDIR\uninstall.exe"

  ; Settings → Apps (per user: HKCU, no administrator)
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${APP_NAME}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\qjgb.exe"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
SectionEnd

Section /o "桌面快捷方式" SecDesktop
  CreateShortCut "$DESKTOP\${APP_NAME}.lnk" "$INSTDIR\qjgb.exe" "" "$INSTDIR\qjgb.exe" 0
SectionEnd

Section "Uninstall"
  ; only the program: the data folder (%LOCALAPPDATA%\qjgb-desktop) and backups stay
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\qjgb.exe"
  Delete "$INSTDIR\qjgb-cli.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  Delete "${MENU_DIR}\${APP_NAME}.lnk"
  Delete "${MENU_DIR}\命令行 (qjgb-cli).lnk"
  Delete "${MENU_DIR}\卸载${APP_NAME}.lnk"
  RMDir "${MENU_DIR}"
  Delete "$DESKTOP\${APP_NAME}.lnk"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
  DeleteRegKey HKCU "Software\${APP_ID}"
SectionEnd
