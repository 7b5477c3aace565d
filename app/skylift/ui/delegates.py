"""Painting the queue's progress bars and Retry/Cancel buttons, and clicking them.

Nothing here is a widget: the bars and buttons are drawn with the style, so a table
of 10,000 rows holds no more widgets than an empty one.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionButton,
    QStyleOptionViewItem,
    QWidget,
)

from skylift.ui.queue_model import ACTION_ROLE, FRACTION_ROLE, ID_ROLE, STATE_ROLE, Col

AnyIndex = QModelIndex | QPersistentModelIndex

ACTION_LABELS = {"retry": "Retry", "cancel": "Cancel"}
BUTTON_MARGIN_X = 6
BUTTON_MARGIN_Y = 3
BAR_HEIGHT = 6.0
DONE_COLOR = QColor("#43a047")


def button_rect(cell: QRect, widget: QWidget | None = None) -> QRect:
    """Where the button sits in its cell (also what a click is tested against)."""
    style = widget.style() if widget is not None else QApplication.style()
    fm = widget.fontMetrics() if widget is not None else QApplication.fontMetrics()
    widest = max(fm.horizontalAdvance(t) for t in ACTION_LABELS.values())
    width = min(
        cell.width() - 2 * BUTTON_MARGIN_X,
        widest + 2 * style.pixelMetric(QStyle.PixelMetric.PM_ButtonMargin) + 12,
    )
    height = cell.height() - 2 * BUTTON_MARGIN_Y
    return QRect(
        cell.left() + (cell.width() - width) // 2,
        cell.top() + BUTTON_MARGIN_Y,
        max(0, width),
        max(0, height),
    )


class QueueDelegate(QStyledItemDelegate):
    actionClicked = Signal(int, str)  # job id, "retry" or "cancel"

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._pressed: QPersistentModelIndex | None = None

    def initStyleOption(self, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        super().initStyleOption(option, index)
        # rows are selected whole; a focus frame around one cell only looks like a bug
        option.state &= ~QStyle.StateFlag.State_HasFocus

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        col = index.column()
        if col == Col.PROGRESS:
            self._paint_progress(painter, option, index)
        elif col == Col.ACTION:
            self._paint_button(painter, option, index)
        else:
            super().paint(painter, option, index)

    def _background(
        self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex
    ) -> QStyle:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        return style

    def _paint_progress(
        self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex
    ) -> None:
        self._background(painter, option, index)
        fraction = index.data(FRACTION_ROLE)
        if fraction is None or fraction < 0:
            return
        # a slim bar and the percentage beside it: the text never sits on the bar's edge
        rect: QRect = option.rect
        fm = option.fontMetrics
        text_w = fm.horizontalAdvance("100 %") + 6
        track = QRectF(
            rect.left() + 6,
            rect.center().y() - BAR_HEIGHT / 2 + 1,
            max(10, rect.width() - text_w - 12),
            BAR_HEIGHT,
        )
        pal = option.palette
        done = index.data(STATE_ROLE) == "done"
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        base = pal.color(QPalette.ColorRole.Base)
        trough = base.darker(118) if base.lightness() > 128 else base.lighter(160)
        painter.setBrush(trough)
        painter.drawRoundedRect(track, BAR_HEIGHT / 2, BAR_HEIGHT / 2)
        if fraction > 0:
            chunk = QRectF(track)
            chunk.setWidth(max(BAR_HEIGHT, track.width() * min(1.0, fraction)))
            painter.setBrush(DONE_COLOR if done else pal.color(QPalette.ColorRole.Highlight))
            painter.drawRoundedRect(chunk, BAR_HEIGHT / 2, BAR_HEIGHT / 2)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.setPen(
            pal.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        )
        painter.drawText(
            QRect(rect.right() - text_w - 4, rect.top(), text_w, rect.height()),
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
            index.data(Qt.ItemDataRole.DisplayRole) or "",
        )
        painter.restore()

    def _paint_button(
        self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex
    ) -> None:
        style = self._background(painter, option, index)
        action = index.data(ACTION_ROLE)
        if not action:
            return
        widget = option.widget
        btn = QStyleOptionButton()
        btn.rect = button_rect(option.rect, widget)
        btn.text = ACTION_LABELS[action]
        btn.palette = option.palette
        btn.fontMetrics = option.fontMetrics
        state = QStyle.StateFlag.State_Enabled
        if option.state & QStyle.StateFlag.State_MouseOver:
            state |= QStyle.StateFlag.State_MouseOver
        pressed = self._pressed
        if pressed is not None and pressed.isValid() and pressed == QPersistentModelIndex(index):
            state |= QStyle.StateFlag.State_Sunken
        else:
            state |= QStyle.StateFlag.State_Raised
        btn.state = state
        style.drawControl(QStyle.ControlElement.CE_PushButton, btn, painter, widget)

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        hint = super().sizeHint(option, index)
        if index.column() == Col.ACTION:
            fm = option.fontMetrics
            widest = max(fm.horizontalAdvance(t) for t in ACTION_LABELS.values())
            hint.setWidth(widest + 40)
        return hint

    def editorEvent(
        self,
        event: QEvent,
        model: QAbstractItemModel,
        option: QStyleOptionViewItem,
        index: AnyIndex,
    ) -> bool:
        if index.column() != Col.ACTION or not isinstance(event, QMouseEvent):
            return False
        if event.button() not in (Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton):
            return False
        action = index.data(ACTION_ROLE)
        rect = button_rect(option.rect, option.widget)
        inside = bool(action) and rect.contains(event.position().toPoint())
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress and inside:
            self._pressed = QPersistentModelIndex(index)
            return True
        if kind == QEvent.Type.MouseButtonDblClick and inside:
            return True  # a quick second click is not a second action
        if kind == QEvent.Type.MouseButtonRelease:
            was = self._pressed
            self._pressed = None
            if was is not None and was == QPersistentModelIndex(index) and inside:
                self.actionClicked.emit(int(index.data(ID_ROLE)), str(action))
                return True
            return was is not None
        return False
