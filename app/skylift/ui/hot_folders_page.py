"""The "Hot folders" page of the settings dialog: folders whose exports upload by themselves."""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from skylift.core.settings import SettingError, Settings, validate_destination

AFTER_UPLOAD = (
    ("leave", "Leave it where it is"),
    ("move", "Move it to the “Uploaded” folder inside"),
)


def unavailable_text(paths: list[str]) -> str:
    """One plain sentence for watched folders that are missing."""
    if len(paths) == 1:
        return (
            f"The watched folder {paths[0]} is not available; it is watched again as soon "
            "as it returns, and what was queued from it waits for it."
        )
    return (
        f"{len(paths)} watched folders are not available ({', '.join(paths)}); they are "
        "watched again as soon as they return, and what was queued from them waits."
    )


class HotFoldersPage(QWidget):
    """Edits ``watch_folders`` and ``settle_seconds``; saving is the dialog's job."""

    browseRequested = Signal()  # the dialog opens its remote folder browser

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("hotFoldersPage")
        self.entries: list[dict[str, Any]] = []
        self.status_source: Any = None  # a HotFolders, when the engine runs here
        self.folder_dialog: QFileDialog | None = None
        self._loading = False

        intro = QLabel(
            "Files exported into these folders (by Lightroom, Capture One, darktable…) "
            "are uploaded on their own, each once it is complete. Files already in a "
            "folder when it is added are uploaded too.",
            self,
        )
        intro.setWordWrap(True)

        self.list = QListWidget(self)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setMinimumHeight(6 * self.fontMetrics().height())
        self.list.currentRowChanged.connect(self._selected)
        self.add_button = QPushButton("&Add folder…", self)
        self.add_button.clicked.connect(self.choose_folder)
        self.remove_button = QPushButton("Re&move", self)
        self.remove_button.setToolTip("Stop watching the folder (no file is touched)")
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QVBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.list, 1)
        top.addLayout(buttons)

        self.details = QWidget(self)
        grid = QGridLayout(self.details)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setColumnStretch(1, 1)
        self.dest_edit = QLineEdit(self.details)
        self.dest_edit.setToolTip("REMOTE:PATH, for example dropbox:/Clients/Smith")
        self.dest_edit.textEdited.connect(self._dest_edited)
        self.dest_browse = QPushButton("Bro&wse…", self.details)
        self.dest_browse.clicked.connect(self.browseRequested)
        row = QHBoxLayout()
        row.addWidget(self.dest_edit, 1)
        row.addWidget(self.dest_browse)
        dest_label = QLabel("&Upload to:", self.details)
        dest_label.setBuddy(self.dest_edit)
        grid.addWidget(dest_label, 0, 0)
        grid.addLayout(row, 0, 1)
        self.dest_error = QLabel(self.details)
        self.dest_error.setWordWrap(True)
        self.dest_error.setStyleSheet("color: #c62828;")
        self.dest_error.setVisible(False)
        grid.addWidget(self.dest_error, 1, 1)
        self.subfolders_check = QCheckBox("&Keep subfolders (unticked: all files side by side)")
        self.subfolders_check.toggled.connect(self._subfolders_toggled)
        grid.addWidget(self.subfolders_check, 2, 1)
        after_label = QLabel("After &upload:", self.details)
        self.after_combo = QComboBox(self.details)
        for value, text in AFTER_UPLOAD:
            self.after_combo.addItem(text, value)
        self.after_combo.setToolTip("Skylift never deletes your files")
        self.after_combo.currentIndexChanged.connect(self._after_changed)
        after_label.setBuddy(self.after_combo)
        grid.addWidget(after_label, 3, 0)
        grid.addWidget(self.after_combo, 3, 1, Qt.AlignmentFlag.AlignLeft)

        self.settle_spin = QDoubleSpinBox(self)
        self.settle_spin.setRange(0.5, 3600)
        self.settle_spin.setDecimals(1)
        self.settle_spin.setSuffix(" s")
        self.settle_spin.setMinimumWidth(10 * self.fontMetrics().horizontalAdvance("M"))
        self.settle_spin.setToolTip(
            "How long a file must stay unchanged before it counts as completely exported"
        )
        settle_label = QLabel("&Wait until a file is unchanged for:", self)
        settle_label.setBuddy(self.settle_spin)
        settle_row = QHBoxLayout()
        settle_row.addWidget(settle_label)
        settle_row.addWidget(self.settle_spin)
        settle_row.addStretch(1)

        self.error = QLabel(self)  # what the dialog's validation says about the list
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.error.setVisible(False)

        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(top, 1)
        lay.addWidget(self.details)
        lay.addLayout(settle_row)
        lay.addWidget(self.error)
        self._selected(-1)

    # --- loading and reading ------------------------------------------------------------

    def load(self, settings: Settings) -> None:
        self.entries = [dict(f) for f in settings["watch_folders"]]
        self.settle_spin.setValue(float(settings["settle_seconds"]))
        self.set_default_destination(settings.destination_root)
        self._fill()

    def values(self) -> dict[str, Any]:
        return {"watch_folders": [dict(e) for e in self.entries], "settle_seconds": self.settle()}

    def settle(self) -> float:
        return float(self.settle_spin.value())

    def set_default_destination(self, root: str) -> None:
        self.dest_edit.setPlaceholderText(
            f"the default destination ({root})" if root else "the default destination (none set)"
        )

    def watch_status(self, source: QObject) -> None:
        """Show which folders the running watcher finds missing, as it changes."""
        self.status_source = source
        source.foldersChanged.connect(self.refresh_status)  # type: ignore[attr-defined]
        self.refresh_status()

    # --- the list -----------------------------------------------------------------------

    def _available(self) -> dict[str, bool]:
        known: dict[str, bool] = {}
        if self.status_source is not None:
            known = {s["path"]: bool(s["available"]) for s in self.status_source.status()}
        return {e["path"]: known.get(e["path"], os.path.isdir(e["path"])) for e in self.entries}

    def _fill(self) -> None:
        row = self.list.currentRow()
        self.list.clear()
        for e in self.entries:
            self.list.addItem(QListWidgetItem(e["path"]))
        self.refresh_status()
        if self.entries:
            self.list.setCurrentRow(min(max(row, 0), len(self.entries) - 1))
        else:
            self._selected(-1)

    def refresh_status(self) -> None:
        available = self._available()
        warn = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        for i, e in enumerate(self.entries):
            item = self.list.item(i)
            if item is None:
                continue
            ok = available.get(e["path"], True)
            item.setText(e["path"] if ok else f"{e['path']} — not available")
            item.setIcon(warn if not ok else self._folder_icon())
            item.setToolTip(
                ""
                if ok
                else "This folder is missing (a card or drive unplugged?); "
                "it is watched again when it returns."
            )

    def _folder_icon(self) -> Any:
        return self.style().standardIcon(QStyle.StandardPixmap.SP_DirIcon)

    def current(self) -> dict[str, Any] | None:
        row = self.list.currentRow()
        return self.entries[row] if 0 <= row < len(self.entries) else None

    def _selected(self, row: int) -> None:
        e = self.current()
        self.details.setEnabled(e is not None)
        self.remove_button.setEnabled(e is not None)
        self._loading = True
        self.dest_edit.setText(e["destination"] if e else "")
        self.subfolders_check.setChecked(bool(e["subfolders"]) if e else True)
        self.after_combo.setCurrentIndex(
            max(0, self.after_combo.findData(e["after_upload"])) if e else 0
        )
        self._loading = False
        self._check_destination()

    # --- editing ------------------------------------------------------------------------

    def choose_folder(self) -> None:
        dlg = QFileDialog(self, "Choose a folder to watch")
        dlg.setFileMode(QFileDialog.FileMode.Directory)
        dlg.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.fileSelected.connect(self.add_folder)
        dlg.open()
        self.folder_dialog = dlg

    def add_folder(self, path: str) -> str:
        """Add a chosen folder; returns "" or the sentence saying why it was not added."""
        folder = os.path.normpath(os.path.abspath(path)) if path else ""
        problem = ""
        if not folder or not os.path.isdir(folder):
            problem = f"{path} is not a folder."
        for e in self.entries:
            if problem:
                break
            if e["path"] == folder:
                problem = f"{folder} is already watched."
            elif os.path.commonpath([folder, e["path"]]) in (folder, e["path"]):
                problem = (
                    f"{folder} is inside or around the watched folder {e['path']}, so its "
                    "files would be uploaded twice; watch one of them only."
                )
        self.error.setText(problem)
        self.error.setVisible(bool(problem))
        if problem:
            return problem
        self.entries.append(
            {"path": folder, "destination": "", "subfolders": True, "after_upload": "leave"}
        )
        self._fill()
        self.list.setCurrentRow(len(self.entries) - 1)
        return ""

    def remove_selected(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.entries):
            del self.entries[row]
            self.error.setVisible(False)
            self._fill()

    def set_destination(self, text: str) -> None:
        self.dest_edit.setText(text)
        self._dest_edited(text)

    def _dest_edited(self, text: str) -> None:
        e = self.current()
        if e is not None and not self._loading:
            e["destination"] = text.strip()
        self._check_destination()

    def _check_destination(self) -> None:
        text = self.dest_edit.text().strip()
        try:
            if text:
                validate_destination(text)
            self.dest_error.setVisible(False)
        except SettingError:
            self.dest_error.setText(
                f"“{text}” is not a destination: write it as REMOTE:PATH, for example "
                "dropbox:/Clients/Smith, or leave it empty for the default destination."
            )
            self.dest_error.setVisible(True)

    def _subfolders_toggled(self, on: bool) -> None:
        e = self.current()
        if e is not None and not self._loading:
            e["subfolders"] = on

    def _after_changed(self, _index: int) -> None:
        e = self.current()
        if e is not None and not self._loading:
            e["after_upload"] = self.after_combo.currentData()

    def destination_remote(self) -> tuple[str, str]:
        """(remote, folder) the Browse button should start from; remote "" for the default."""
        text = self.dest_edit.text().strip()
        remote, sep, path = text.partition(":")
        return (remote, path or "/") if sep and remote else ("", "/")
