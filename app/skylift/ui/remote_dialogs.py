"""The settings dialog's helpers: browsing a remote's folders, and making a new remote."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from skylift.core.remotes import BACKENDS, Answer, Backend, Call, RcloneQueries, RemoteCreation
from skylift.core.settings import SettingError, validate_remote
from skylift.ui.widgets import Spinner

PATH_ROLE = Qt.ItemDataRole.UserRole + 1
LOADED_ROLE = Qt.ItemDataRole.UserRole + 2


class BrowseDialog(QDialog):
    """The remote's folders, one level at a time (``rclone lsjson --dirs-only``)."""

    def __init__(
        self, queries: RcloneQueries, remote: str, start: str = "/", parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.setWindowTitle(f"Choose a folder on {remote} — Skylift")
        self.queries = queries
        self.remote = remote
        self._calls: dict[int, Call] = {}
        self.tree = QTreeWidget(self)
        self.tree.setHeaderHidden(True)
        self.tree.itemExpanded.connect(self._expand)
        self.tree.currentItemChanged.connect(self._current)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.spinner = Spinner(self)
        self.path_label = QLabel(self)
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Choose")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        status_row = QHBoxLayout()
        status_row.addWidget(self.spinner)
        status_row.addWidget(self.status, 1)
        lay = QVBoxLayout(self)
        lay.addWidget(self.tree, 1)
        lay.addLayout(status_row)
        lay.addWidget(self.path_label)
        lay.addWidget(self.buttons)
        self.resize(460, 420)

        root = QTreeWidgetItem([f"{remote}:/"])
        root.setData(0, PATH_ROLE, "/")
        root.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
        self.tree.addTopLevelItem(root)
        self.tree.setCurrentItem(root)
        root.setExpanded(True)
        self._start = start

    @property
    def path(self) -> str:
        item = self.tree.currentItem()
        return str(item.data(0, PATH_ROLE)) if item is not None else "/"

    def _current(self, item: QTreeWidgetItem | None) -> None:
        self.path_label.setText(f"Uploads will go to {self.remote}:{self.path}")

    def _expand(self, item: QTreeWidgetItem) -> None:
        if item.data(0, LOADED_ROLE):
            return
        item.setData(0, LOADED_ROLE, True)
        path = str(item.data(0, PATH_ROLE))
        call = self.queries.folders(self.remote, path)
        self._calls[id(item)] = call
        self.spinner.start()
        self.status.setText(f"Reading the folders in {self.remote}:{path}…")
        call.finished.connect(lambda a, item=item: self._listed(item, a))

    def _listed(self, item: QTreeWidgetItem, answer: Answer) -> None:
        self._calls.pop(id(item), None)
        if not self._calls:
            self.spinner.stop()
        if answer.cancelled:
            return
        if not answer.ok:
            item.setData(0, LOADED_ROLE, False)
            item.setExpanded(False)
            self.status.setText(answer.message)
            if answer.value == []:  # the folder does not exist yet
                item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.DontShowIndicator)
            return
        folders = answer.value
        self.status.setText(
            "" if folders else f"{self.remote}:{item.data(0, PATH_ROLE)} has no folders in it."
        )
        for f in folders:
            child = QTreeWidgetItem([f.name])
            child.setData(0, PATH_ROLE, f.path)
            child.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
            item.addChild(child)
        if not folders:
            item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.DontShowIndicator)

    def done(self, result: int) -> None:
        for call in list(self._calls.values()):
            call.cancel()
        self._calls.clear()
        super().done(result)


def unique_name(base: str, taken: Iterable[str]) -> str:
    names = {t.casefold() for t in taken}
    if base.casefold() not in names:
        return base
    n = 2
    while f"{base}{n}".casefold() in names:
        n += 1
    return f"{base}{n}"


_SUGGESTED = {"drive": "gdrive"}

_OAUTH_TEXT = (
    "Skylift asks rclone to open your web browser at {label}'s sign-in page. Sign in "
    "there and allow rclone access; this window closes by itself when {label} says yes. "
    "Nothing is stored until then, and Cancel stops waiting."
)


class NewRemoteDialog(QDialog):
    """Creates a Dropbox, Google Drive, OneDrive, S3, SFTP or WebDAV remote through
    ``rclone config create``."""

    def __init__(
        self, queries: RcloneQueries, existing: Iterable[str], parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.setWindowTitle("New remote — Skylift")
        self.queries = queries
        self.existing = list(existing)
        self.created_name = ""
        self.creation: RemoteCreation | None = None
        self._fields: dict[str, dict[str, QLineEdit | QComboBox]] = {}

        self.type_combo = QComboBox(self)
        for b in BACKENDS:
            self.type_combo.addItem(b.label, b.type)
        self.name_edit = QLineEdit(self)
        self.name_edit.setToolTip("The name Skylift and rclone use for this remote")
        self.stack = QStackedWidget(self)
        for b in BACKENDS:
            self.stack.addWidget(self._page(b))
        self.type_combo.currentIndexChanged.connect(self._type_changed)

        self.spinner = Spinner(self)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setOpenExternalLinks(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.create_button = QPushButton("Create", self)
        self.create_button.setDefault(True)
        self.buttons.addButton(self.create_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.create_button.clicked.connect(self.create_remote)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Service:", self.type_combo)
        form.addRow("Name:", self.name_edit)
        status_row = QHBoxLayout()
        status_row.addWidget(self.spinner, 0, Qt.AlignmentFlag.AlignTop)
        status_row.addWidget(self.status, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.stack)
        lay.addLayout(status_row)
        lay.addStretch(1)
        lay.addWidget(self.buttons)
        self.setMinimumWidth(520)
        self._type_changed(0)

    def _page(self, b: Backend) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        widgets: dict[str, QLineEdit | QComboBox] = {}
        if b.oauth:
            note = QLabel(_OAUTH_TEXT.format(label=b.label), page)
            note.setWordWrap(True)
            form.addRow(note)
        for f in b.fields:
            w: QLineEdit | QComboBox
            if f.choices:
                combo = QComboBox(page)
                for value, label in f.choices:
                    combo.addItem(label, value)
                combo.setCurrentIndex(max(0, combo.findData(f.default)))
                w = combo
            else:
                edit = QLineEdit(page)
                edit.setText(f.default)
                edit.setPlaceholderText(f.placeholder)
                if f.secret or f.sensitive:
                    edit.setEchoMode(QLineEdit.EchoMode.Password)
                w = edit
            widgets[f.key] = w
            form.addRow(f"{f.label}:", w)
        self._fields[b.type] = widgets
        return page

    @property
    def backend(self) -> Backend:
        return BACKENDS[self.type_combo.currentIndex()]

    def _type_changed(self, index: int) -> None:
        self.stack.setCurrentIndex(index)
        b = BACKENDS[index]
        suggested = _SUGGESTED.get(b.type, b.type)
        current = self.name_edit.text().strip()
        if not current or current in {
            unique_name(_SUGGESTED.get(x.type, x.type), self.existing) for x in BACKENDS
        }:
            self.name_edit.setText(unique_name(suggested, self.existing))
        self.status.setText("")

    def values(self) -> dict[str, str]:
        out = {}
        for key, w in self._fields[self.backend.type].items():
            out[key] = str(w.currentData()) if isinstance(w, QComboBox) else w.text().strip()
        return out

    def validate(self) -> str:
        """The first problem with what was typed, as one sentence; "" when it is fine."""
        try:
            name = validate_remote(self.name_edit.text())
        except SettingError as e:
            return str(e)
        if not name:
            return "Give the remote a name, such as 'dropbox' or 'studio-nas'."
        if name.casefold() in {e.casefold() for e in self.existing}:
            return f"There already is a remote called '{name}'; choose another name."
        values = self.values()
        for f in self.backend.fields:
            if f.required and not values.get(f.key):
                return f"{f.label} is needed for {self.backend.label}."
        port = values.get("port")
        if port is not None and port and not (port.isdigit() and 0 < int(port) < 65536):
            return "The port must be a number from 1 to 65535."
        return ""

    def create_remote(self) -> None:
        problem = self.validate()
        if problem:
            self.status.setText(problem)
            return
        name = validate_remote(self.name_edit.text())
        self._set_running(True)
        if self.backend.oauth:
            self.status.setText(
                f"Waiting for you to sign in to {self.backend.label} in your web browser…"
            )
        else:
            self.status.setText(f"Creating the remote '{name}'…")
        self.creation = RemoteCreation(self.queries, name, self.backend.type, self.values(), self)
        self.creation.link.connect(self._link)
        self.creation.finished.connect(self._finished)
        self.creation.start()

    def _link(self, url: str) -> None:
        self.status.setText(
            f"Waiting for you to sign in to {self.backend.label} in your web browser…<br>"
            f'If no browser opened, open <a href="{url}">{url}</a>.'
        )

    def _finished(self, answer: Answer) -> None:
        self._set_running(False)
        self.creation = None
        if answer.cancelled:
            return
        if answer.ok:
            self.created_name = str(answer.value)
            self.accept()
        else:
            self.status.setText(answer.message)

    def _set_running(self, on: bool) -> None:
        if on:
            self.spinner.start()
        else:
            self.spinner.stop()
        self.create_button.setEnabled(not on)
        self.type_combo.setEnabled(not on)
        self.name_edit.setEnabled(not on)
        self.stack.setEnabled(not on)

    def done(self, result: int) -> None:
        if self.creation is not None:
            self.creation.cancel()
            self.creation = None
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.creation is not None:
            self.creation.cancel()
            self.creation = None
        super().closeEvent(event)
