"""The Qt binding in use must not corrupt Python's reference counts on the paths every model read takes."""

import os
import subprocess
import sys

SCRIPT = """
import sys
from PySide6.QtCore import QAbstractListModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QApplication
app = QApplication([])
class Model(QAbstractListModel):
    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else 5
    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        return None
model = Model()
proxy = QSortFilterProxyModel()
proxy.setSourceModel(model)
before = sys.getrefcount(None)
for _ in range(20000):
    model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    proxy.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    proxy.data(proxy.index(0, 0), Qt.ItemDataRole.ToolTipRole)
print(sys.getrefcount(None) - before)
"""


def test_empty_model_values_keep_none_alive():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr[-500:]
    assert abs(int(out.stdout.strip().splitlines()[-1])) < 1000
