"""Entry points: the command line, the single-instance IPC and the Python API."""
