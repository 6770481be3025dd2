"""``python -m cli.portcheck HOST PORT``: exit 1 with one line when the port is taken.

``make run`` calls it before anything else, so that a taken port is said in one line
(with how to pick another) instead of a Python error after minutes of training.
"""

from __future__ import annotations

import socket
import sys


def port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on ``host:port`` (None when it could)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno in {98, 48, 10048}:  # EADDRINUSE on Linux, macOS, Windows
                return (
                    f"port {port} on {host} is taken (another server is running there?): "
                    f"stop it, or pick another port, e.g. make run PORT={port + 1}"
                )
            return f"cannot listen on {host}:{port} ({exc.strerror}); pick another HOST or PORT"
    return None


def main(argv: list[str] | None = None) -> int:
    """Check the port named on the command line; 0 when free, 1 (and one line) when not."""
    args = sys.argv[1:] if argv is None else argv
    try:
        host, port = args[0], int(args[1])
    except (IndexError, ValueError):
        print("usage: python -m cli.portcheck HOST PORT", file=sys.stderr)
        return 1
    problem = port_problem(host, port)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
