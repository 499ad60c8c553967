# Replaces pyinstaller-hooks-contrib's hook-lxml.py (hooks in the spec's hookspath take precedence), which adds
# every lxml submodule to the bundle: objectify (2.8 MB), html with its diff (1.4 MB), sax, builder,
# isoschematron, … python-docx, openpyxl and fontTools import lxml.etree only, whose own hook adds the
# lxml._elementpath it loads for find()/findall(). A submodule the program imports is still found by the analysis.
hiddenimports = []
