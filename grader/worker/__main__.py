"""The worker's main loop: read a request, run its probe, write the reply; student output goes to stderr.

Started by `grader.sandbox.Worker` as `gan_worker <device> <inputs dir>`. Replies go to a private duplicate of
the original stdout; fd 1 then points at stderr, so the student's `print` cannot interleave with replies.
"""

from __future__ import annotations

import gc
import os
import sys
import traceback

from . import probes, wire
from .ops import OPS, WORKER


def main() -> None:
    main_pid = os.getpid()
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    WORKER.configure(device=sys.argv[1], inputs=sys.argv[2] or None)
    probes.load_all()
    gc.freeze()  # torch and the probes stay for the worker's life: no collection walks them again
    while True:
        message = wire.read_message(requests)
        if message is None:
            return
        handler = OPS.get(message.get("op"))
        try:
            if handler is None:
                raise KeyError(f"unknown operation {message.get('op')!r}")
            reply = {"ok": True, "result": handler(**message.get("args", {}))}
        except BaseException as error:  # noqa: BLE001 - SystemExit from student code is an answer too
            where = "".join(traceback.format_exception(error)[-3:])
            reply = {"ok": False, "error": type(error).__name__, "message": str(error)[:1000], "where": where[-1500:]}
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # what the student printed reaches the log before the parent reads it
        if os.getpid() != main_pid:
            os._exit(0)  # a process the student forked must not answer, nor read the next request
        reply["id"] = message.get("id")
        try:
            wire.write_message(replies, reply)
        except wire.WireError as error:
            wire.write_message(replies, {"ok": False, "error": "WireError", "message": str(error)})


if __name__ == "__main__":
    main()
