"""What the platform can tell the engine: the network came back, the computer sleeps.

Both are hints that make recovery quicker; the engine also notices outages by itself
(failed transfers, a periodic check) and sleep by itself (a jump of the wall clock).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import SLOT, QObject, Slot

from skylift.core.engine import Engine

log = logging.getLogger(__name__)


class PlatformHints(QObject):
    def __init__(self, engine: Engine, parent: QObject | None = None):
        super().__init__(parent)
        self.engine = engine
        self._network()
        self._logind()

    def _network(self) -> None:
        try:
            from PySide6.QtNetwork import QNetworkInformation
        except ImportError:
            return
        if not QNetworkInformation.loadDefaultBackend():
            return
        info = QNetworkInformation.instance()
        if info is None:
            return
        info.reachabilityChanged.connect(self._reachability)

    def _reachability(self, reachability: object) -> None:
        from PySide6.QtNetwork import QNetworkInformation

        online = reachability == QNetworkInformation.Reachability.Online
        log.info("the platform says the network is %s", "up" if online else "down")
        self.engine.network_changed(online)

    def _logind(self) -> None:
        try:
            from PySide6.QtDBus import QDBusConnection
        except ImportError:
            return
        bus = QDBusConnection.systemBus()
        if not bus.isConnected():
            return
        try:
            # PySide6 takes the slot as SLOT()'s string; its stubs say bytes, which it refuses
            ok = bus.connect(  # type: ignore[call-overload]
                "org.freedesktop.login1",
                "/org/freedesktop/login1",
                "org.freedesktop.login1.Manager",
                "PrepareForSleep",
                "b",
                self,
                SLOT("prepare_for_sleep(bool)"),
            )
        except (TypeError, ValueError, RuntimeError):  # a binding that refuses: do without
            ok = False
        if not ok:
            log.debug("cannot follow logind's PrepareForSleep")

    @Slot(bool)
    def prepare_for_sleep(self, sleeping: bool) -> None:
        log.info("the computer is %s", "going to sleep" if sleeping else "awake")
        self.engine.set_asleep(sleeping)
