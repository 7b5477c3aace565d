"""Editing named destinations (presets): "Smith wedding" -> dropbox:/Clients/Smith/2026-11."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


class PresetEditor(QWidget):
    """A two-column list (name, REMOTE:PATH) with Add and Remove."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.table = QTableWidget(0, 2, self)
        self.table.setObjectName("presetTable")
        self.table.setHorizontalHeaderLabels(["Name", "Destination (REMOTE:PATH)"])
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(0, 14 * self.fontMetrics().horizontalAdvance("M"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        rows = self.fontMetrics().height() + 10
        self.table.setMinimumHeight(rows * 4)
        self.table.setMaximumHeight(rows * 6)
        self.table.setToolTip(
            "Named destinations, chosen in the queue window, the tray menu, or with "
            "'skylift upload --preset NAME'. Double-click a cell to edit it."
        )
        self.table.itemChanged.connect(self._item_changed)
        self.add_button = QPushButton("&Add preset", self)
        self.add_button.clicked.connect(self.add_row)
        self.remove_button = QPushButton("Remo&ve", self)
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.table)
        lay.addLayout(buttons)

    def set_presets(self, presets: Sequence[dict[str, str]]) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        for p in presets:
            self._append(p["name"], p["destination"])
        self.table.blockSignals(False)

    def presets(self) -> list[dict[str, str]]:
        """The rows as typed; empty rows are left out, the rest validated by settings."""
        out = []
        for row in range(self.table.rowCount()):
            name = self._text(row, 0)
            dest = self._text(row, 1)
            if name or dest:
                out.append({"name": name, "destination": dest})
        return out

    def add_row(self, name: str = "", destination: str = "") -> None:
        self._append(name, destination)
        row = self.table.rowCount() - 1
        self.table.setCurrentCell(row, 0)
        item = self.table.item(row, 0)
        if not name and item is not None:
            self.table.editItem(item)
        self.changed.emit()

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        for row in rows:
            self.table.removeRow(row)
        if rows:
            self.changed.emit()

    def _append(self, name: str, destination: str) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for col, text in enumerate((name, destination)):
            item = QTableWidgetItem(text)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(row, col, item)

    def _text(self, row: int, col: int) -> str:
        item = self.table.item(row, col)
        return item.text().strip() if item is not None else ""

    def _item_changed(self, _item: QTableWidgetItem) -> None:
        self.changed.emit()
