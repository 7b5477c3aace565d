"""What ``--no-traverse`` costs a batch on SFTP, against two servers.

With ``--no-traverse`` rclone looks each file up on the remote instead of listing the
destination folder. On SFTP every lookup that runs beside the transfers needs an SSH
connection of its own, and rclone's sftp backend opens new connections at most ten a
second, so a batch of more files than transfers waits for connections. This script
times the same batches with and without the flag, against ``rclone serve sftp`` and,
when OpenSSH's server is installed (Debian: ``openssh-server``), against a private
``sshd`` on loopback, so the effect is seen not to be rclone's own server. It also
runs the command Skylift builds for each batch (``rclone_args.copy_batch``).

    .venv/bin/python benchmarks/sftp_lookups.py [--runs 5]

Each run uploads into an empty folder in /dev/shm (memory), with --transfers=4.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _harness as h

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

SSHD = "/usr/sbin/sshd"
TRANSFERS = 4
MB = 1024 * 1024
SETS = (("10 × 10 MB", 10, 10 * MB), ("40 × 2 MB", 40, 2 * MB), ("3 × 50 MB", 3, 50 * MB))


class OpenSsh:
    """OpenSSH's sshd on a free loopback port, key login only, for this user."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(mode=0o700)
        self.port = h.free_port()
        for name in ("host", "client"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / name)],
                check=True,
            )
        shutil.copy(folder / "client.pub", folder / "authorized_keys")
        (folder / "sshd_config").write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {folder / 'host'}\n"
            f"AuthorizedKeysFile {folder / 'authorized_keys'}\nPasswordAuthentication no\n"
            "PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n"
            f"Subsystem sftp internal-sftp\nPidFile {folder / 'sshd.pid'}\n"
        )
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege-separation folder
        self.proc = subprocess.Popen(
            [SSHD, "-D", "-f", str(folder / "sshd_config"), "-E", str(folder / "log")]
        )
        h.wait_port(self.port, interval=0.02)

    def env(self) -> dict[str, str]:
        user = os.environ.get("USER") or "root"
        return h.sftp_remote_env(self.port, user, KEY_FILE=str(self.folder / "client"))

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    from skylift.core import rclone_args

    tmp = Path(tempfile.mkdtemp(prefix="skylift-lookups-"))
    (tmp / "run").mkdir(mode=0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(tmp / "run")  # where rclone's version is noted
    rclone = h.rclone_path()
    shm = Path(tempfile.mkdtemp(prefix="skylift-lookups-", dir="/dev/shm"))
    sshd = OpenSsh(tmp / "ssh") if os.path.exists(SSHD) and os.geteuid() == 0 else None
    base = {k: v for k, v in os.environ.items() if not k.startswith("RCLONE_")}
    base["RCLONE_CONFIG"] = str(tmp / "rclone.conf")
    (tmp / "rclone.conf").write_text("")
    data = []
    for title, count, size in SETS:
        folder = tmp / f"{count}"
        files = h.make_files(folder, count, size)
        listing = tmp / f"{count}.list"
        listing.write_bytes(rclone_args.files_list(f.name for f in files))
        data.append((title, folder, listing, count))
    walls: dict[tuple[str, str, str, bool], list[float]] = {}
    try:
        for _ in range(args.runs):
            for server in ("rclone serve sftp", "OpenSSH") if sshd else ("rclone serve sftp",):
                for title, folder, listing, count in data:
                    skylift = rclone_args.copy_batch(
                        rclone,
                        str(folder),
                        f"{h.REMOTE}:{{dest}}",
                        str(listing),
                        rclone_args.Options(TRANSFERS, remote_type="sftp"),
                        files=count,
                    )
                    plain = [rclone, "copy", str(folder), f"{h.REMOTE}:{{dest}}"]
                    plain += [f"--files-from-raw={listing}", f"--transfers={TRANSFERS}"]
                    for variant, argv in (
                        ("listing the folder", plain),
                        ("--no-traverse", [*plain, "--no-traverse"]),
                        ("Skylift's command", skylift),
                    ):
                        dest = shm / "dest"
                        shutil.rmtree(dest, ignore_errors=True)
                        dest.mkdir()
                        srv = None
                        if server == "OpenSSH" and sshd is not None:
                            env = {**base, **sshd.env()}
                        else:
                            srv = h.SftpServer(rclone, dest, tmp / "keys")
                            srv.start()
                            env = {**base, **srv.env()}
                        where = str(dest) if srv is None else "/"
                        cmd = [a.replace("{dest}", where) for a in argv]
                        t0 = time.monotonic()
                        subprocess.run(cmd, env=env, check=True, stderr=subprocess.DEVNULL)
                        key = (server, title, variant, "--no-traverse" in argv)
                        walls.setdefault(key, []).append(time.monotonic() - t0)
                        if srv is not None:
                            srv.stop()
    finally:
        if sshd is not None:
            sshd.stop()
        shutil.rmtree(shm, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    rows = []
    for (server, title, variant, looked_up), ws in walls.items():
        flag = "yes" if looked_up else "no"
        runs = ", ".join(h.fmt(w) for w in ws)
        rows.append([server, title, variant, flag, h.fmt(h.median(ws)), runs])
    print(
        f"rclone copy --files-from-raw, --transfers={TRANSFERS}, into an empty folder in "
        f"memory; medians of {args.runs} runs"
        + ("" if sshd else " (OpenSSH's sshd not found or not root: rclone's server only)")
    )
    print()
    headers = ["server", "batch", "command", "--no-traverse", "wall s", "runs s"]
    print(h.markdown_table(headers, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
