"""The core: settings, queue store, rclone driving and the upload engine (QtCore only)."""
