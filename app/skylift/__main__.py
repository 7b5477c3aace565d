from skylift.entry.cli import run

run()
