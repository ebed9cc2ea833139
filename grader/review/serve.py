"""Serving the review app with waitress on this machine only (127.0.0.1), with a clear error for a port in use."""

from __future__ import annotations

import errno
from pathlib import Path

from flask import Flask
from waitress.server import BaseWSGIServer, create_server

from gankit.catalogue import Task
from grader.review.app import create_app

HOST = "127.0.0.1"  # the answers and names of a class never leave this machine


class PortInUse(OSError):
    """The port asked for is taken; the message names it and the way out."""


def bind(app: Flask, port: int) -> BaseWSGIServer:
    """A waitress server for `app` bound to 127.0.0.1:`port` (0: any free port), not yet serving."""
    try:
        return create_server(app, host=HOST, port=port, threads=4)
    except OSError as error:
        if error.errno in (errno.EADDRINUSE, errno.EACCES):
            raise PortInUse(
                f"port {port} on {HOST} is in use (or not allowed): pick another with --port, or --port 0 for any "
                "free one"
            ) from None
        raise


def serve(out: Path, catalogue: dict[str, Task], port: int) -> None:
    """Serve the review of the class graded into `out` until Ctrl-C; prints the URL to open."""
    server = bind(create_app(out, catalogue), port)
    print(f"review of {out}: open http://{HOST}:{server.effective_port}/  (Ctrl-C stops it)", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        print("stopped; every save is already in the gradebook")
    finally:
        server.close()
