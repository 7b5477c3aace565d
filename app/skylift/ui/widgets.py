"""Small widgets shared by the windows: a busy spinner and a message banner."""

from __future__ import annotations

import enum

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QWidget,
)


class Spinner(QWidget):
    """A turning arc while something runs; it takes no time when stopped or hidden."""

    def __init__(self, parent: QWidget | None = None, size: int = 16):
        super().__init__(parent)
        self._size = size
        self._angle = 0
        self._timer = QTimer(self)
        self._timer.setInterval(40)
        self._timer.timeout.connect(self._turn)
        self.setFixedSize(size, size)
        self.setVisible(False)
        self.setAccessibleName("Working")

    def sizeHint(self) -> QSize:
        return QSize(self._size, self._size)

    def start(self) -> None:
        self.setVisible(True)
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self.setVisible(False)

    @property
    def spinning(self) -> bool:
        return self._timer.isActive()

    def _turn(self) -> None:
        self._angle = (self._angle + 30) % 360
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), max(2.0, self._size / 8))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        m = pen.widthF()
        r = QRectF(m, m, self._size - 2 * m, self._size - 2 * m)
        p.drawArc(r, -self._angle * 16, 270 * 16)
        p.end()


class Tone(enum.Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


_TONES = {
    # background, border (light theme); dark themes get a darker mix below
    Tone.INFO: ("#e8f1fb", "#8db7e8"),
    Tone.WARNING: ("#fff6e0", "#e6b94f"),
    Tone.ERROR: ("#fdecea", "#e57373"),
}


class Banner(QFrame):
    """One message across the top of a window, with an optional button and a close box."""

    closed = Signal()
    actionTriggered = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("banner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByMouse
        )
        self.label.setOpenExternalLinks(True)
        self.button = QPushButton(self)
        self.button.setVisible(False)
        self.button.clicked.connect(self.actionTriggered)
        self.close_button = QToolButton(self)
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Hide this message")
        self.close_button.clicked.connect(self._close)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 6, 6)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.button, 0, Qt.AlignmentFlag.AlignVCenter)
        lay.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.tone = Tone.INFO
        self.setVisible(False)

    def show_message(
        self,
        text: str,
        tone: Tone = Tone.INFO,
        action: str = "",
        closable: bool = True,
    ) -> None:
        self.tone = tone
        self.label.setText(text)
        self.button.setText(action)
        self.button.setVisible(bool(action))
        self.close_button.setVisible(closable)
        bg, border = _TONES[tone]
        if self.palette().color(QPalette.ColorRole.Window).lightness() < 128:
            bg = QColor(border).darker(300).name()
        self.setStyleSheet(
            f"QFrame#banner {{ background: {bg}; border: 1px solid {border}; border-radius: 4px; }}"
        )
        self.setVisible(True)

    @property
    def text(self) -> str:
        return str(self.label.text())

    def _close(self) -> None:
        self.setVisible(False)
        self.closed.emit()
