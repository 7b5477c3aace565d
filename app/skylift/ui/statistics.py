"""The Statistics page of the queue window: the figures, and the last hour of bandwidth.

It reads ``engine.metrics()`` once a second while it is shown and not at all while
hidden. The chart is drawn with QPainter (PySide6-Essentials has no QtCharts).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QHideEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QShowEvent,
)
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from skylift.core.engine import Engine
from skylift.core.metrics import STEP_S, WINDOW_S, Metrics
from skylift.ui import format as fmt

REFRESH_MS = 1000


def nice_ceiling(value: float) -> float:
    """The axis top for ``value``: 1, 2 or 5 times a power of ten, at least 1 KB/s."""
    value = max(value, 1000.0)
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover


def chart_points(
    points: Sequence[Sequence[float]], now: float, step: float = STEP_S
) -> list[tuple[float, float]]:
    """The line to draw: idle stretches (no samples) drop to zero instead of a slope
    from the last speed to the next."""
    out: list[tuple[float, float]] = []
    prev: float | None = None
    for t, bps in points:
        if prev is not None and t - prev > 1.5 * step:
            out.append((prev + step, 0.0))
            out.append((t - step, 0.0))
        elif prev is None:
            out.append((t - step, 0.0))
        out.append((t, bps))
        prev = t
    if prev is not None and now - prev > 1.5 * step:
        out.append((prev + step, 0.0))
        out.append((now, 0.0))
    return out


class BandwidthChart(QWidget):
    """Upload speed over the last hour: an area under a line, with a light grid."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.points: list[list[float]] = []
        self.now = time.time()
        self.setMinimumHeight(160)
        self.setAccessibleName("Upload speed over the last hour")

    def sizeHint(self) -> QSize:
        return QSize(600, 200)

    def set_points(self, points: Sequence[Sequence[float]], now: float) -> None:
        self.points = [[float(t), float(b)] for t, b in points]
        self.now = now
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.WindowText)
        muted = pal.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText)
        grid = QColor(text)
        grid.setAlphaF(0.12)
        accent = pal.color(QPalette.ColorRole.Highlight)
        fm = self.fontMetrics()

        pts = chart_points(self.points, self.now)
        top = nice_ceiling(max((b for _, b in pts), default=0.0))
        labels = [fmt.speed(top * k / 4) or "0" for k in range(5)]
        left = max(fm.horizontalAdvance(s) for s in labels) + 10
        area = QRectF(left, fm.height() / 2, self.width() - left - 8, 0)
        area.setBottom(self.height() - fm.height() - 8)
        if area.width() < 20 or area.height() < 20:
            p.end()
            return

        # horizontal grid with speeds, vertical every 10 minutes
        p.setPen(QPen(grid, 1))
        for k in range(5):
            y = area.bottom() - area.height() * k / 4
            p.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            p.setPen(muted)
            p.drawText(
                QRectF(0, y - fm.height() / 2, left - 6, fm.height()),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                labels[k],
            )
            p.setPen(QPen(grid, 1))
        start = self.now - WINDOW_S
        for minutes in range(0, 61, 10):
            x = area.left() + area.width() * (60 - minutes) / 60
            p.setPen(QPen(grid, 1))
            p.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()))
            label = "now" if minutes == 0 else f"−{minutes} min"
            w = fm.horizontalAdvance(label)
            lx = min(max(x - w / 2, area.left()), area.right() - w)
            p.setPen(muted)
            p.drawText(QPointF(lx, area.bottom() + fm.ascent() + 4), label)

        if not pts:
            p.setPen(muted)
            p.drawText(
                area,
                int(Qt.AlignmentFlag.AlignCenter),
                "Nothing uploaded in the last hour",
            )
            p.end()
            return

        def at(t: float, bps: float) -> QPointF:
            x = area.left() + area.width() * (min(max(t, start), self.now) - start) / WINDOW_S
            y = area.bottom() - area.height() * min(bps, top) / top
            return QPointF(x, y)

        line = QPainterPath(at(*pts[0]))
        for t, bps in pts[1:]:
            line.lineTo(at(t, bps))
        fill = QPainterPath(line)
        fill.lineTo(at(pts[-1][0], 0))
        fill.lineTo(at(pts[0][0], 0))
        fill.closeSubpath()
        shade = QColor(accent)
        shade.setAlphaF(0.25)
        p.fillPath(fill, shade)
        p.setPen(QPen(accent, 2))
        p.drawPath(line)
        p.end()


class Figure(QFrame):
    """One number with its name above it and a line of context below."""

    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("figure")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(title, self)
        self.value = QLabel("—", self)
        self.value.setObjectName("figureValue")
        font = self.value.font()
        font.setPointSizeF(font.pointSizeF() * 1.7)
        font.setBold(True)
        self.value.setFont(font)
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hint = QLabel("", self)
        self.hint.setWordWrap(True)
        muted = self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText)
        for label in (self.title, self.hint):
            pal = label.palette()
            pal.setColor(QPalette.ColorRole.WindowText, muted)
            label.setPalette(pal)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 8, 12, 10)
        lay.setSpacing(2)
        lay.addWidget(self.title)
        lay.addWidget(self.value)
        lay.addWidget(self.hint)
        lay.addStretch(1)

    def set(self, value: str, hint: str = "") -> None:
        if self.value.text() != value:
            self.value.setText(value)
        if self.hint.text() != hint:
            self.hint.setText(hint)


class StatisticsPanel(QWidget):
    """Success rate, average upload time, failures, retries, queue and bandwidth."""

    def __init__(self, engine: Engine, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("statistics")
        self.engine = engine
        self.metrics: Metrics | None = None
        self.success = Figure("Success rate", self)
        self.average = Figure("Average upload time", self)
        self.failed = Figure("Failed", self)
        self.retries = Figure("Retry success rate", self)
        self.queue = Figure("In the queue", self)
        self.bandwidth = Figure("Upload speed now", self)
        self.figures = [
            self.success,
            self.average,
            self.failed,
            self.retries,
            self.queue,
            self.bandwidth,
        ]
        grid = QGridLayout()
        grid.setSpacing(8)
        for i, f in enumerate(self.figures):
            grid.addWidget(f, i // 3, i % 3)
        for c in range(3):
            grid.setColumnStretch(c, 1)
        self.chart_title = QLabel("Upload speed, last hour", self)
        font = self.chart_title.font()
        font.setBold(True)
        self.chart_title.setFont(font)
        self.chart = BandwidthChart(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 4, 0, 0)
        lay.setSpacing(8)
        lay.addLayout(grid)
        lay.addSpacing(4)
        lay.addWidget(self.chart_title)
        lay.addWidget(self.chart, 1)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()
        self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._timer.stop()

    @property
    def refreshing(self) -> bool:
        return bool(self._timer.isActive())

    def refresh(self) -> None:
        m = self.engine.metrics()
        self.metrics = m
        uploaded = m["uploaded_bytes"]
        self.success.set(
            fmt.rate(m["success_rate"]),
            f"{fmt.size(uploaded)} uploaded in all" if uploaded else "of finished uploads",
        )
        self.average.set(
            fmt.average_time(m["average_upload_seconds"]),
            "per file, from start to finish",
        )
        failed = m["failed"]
        self.failed.set(f"{failed:,}", "waiting for Retry" if failed else "nothing failed")
        retried = m["retried"]
        self.retries.set(
            fmt.rate(m["retry_success_rate"]),
            f"of {fmt.count(retried, 'upload')} that needed more than one try"
            if retried
            else "no upload needed a second try",
        )
        queued = m["queue_size"]
        self.queue.set(f"{queued:,}", "waiting or uploading")
        bps = m["bandwidth_bps"]
        self.bandwidth.set(fmt.speed(bps) or "—", "all transfers together")
        self.chart.set_points(m["bandwidth_history"], time.time())
