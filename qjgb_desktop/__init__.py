"""qjgb-desktop: 延庆区“强基固本”教育改革与发展三年行动计划 进展管理."""

import os as _os

__version__ = "0.1.0"

# openpyxl writes through lxml whenever lxml is importable (python-docx brings it along); the workbooks the program
# writes, and what the office-suite round trips were checked with, are its standard-library writer's. One writer,
# whatever else is installed (set before openpyxl is first imported; it reads this once).
_os.environ.setdefault("OPENPYXL_LXML", "False")
