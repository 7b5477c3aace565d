"""The desktop UI: tray icon, queue window, settings dialog."""
