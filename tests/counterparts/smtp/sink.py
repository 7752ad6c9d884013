#!/usr/bin/env python3
"""SMTP sink for Sportello's integration tests.

    python sink.py --dir DIR [--port 0]

Listens on 127.0.0.1:PORT (0 = a free port), no AUTH, no TLS. Every message received is
written, once per recipient, as DIR/<000001>-<rcpt>.eml holding the raw RFC 5322 bytes as
received (after SMTP dot-unstuffing). Files are written under a hidden temporary name and then
renamed, so a reader never sees half a file. When ready it prints exactly one line to stdout:

    {"ready":true,"port":N}

It exits when its stdin reaches EOF (the test process holds the pipe) or on SIGTERM/SIGINT.
"""

import argparse
import asyncio
import itertools
import json
import os
import re
import signal
import sys
import threading

from aiosmtpd.smtp import SMTP


def safe_name(rcpt: str) -> str:
    name = re.sub(r"[^A-Za-z0-9@._+-]", "_", rcpt)
    return name[:200] or "_"


class Sink:
    def __init__(self, directory: str):
        self.dir = directory
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content
        if data is None:
            data = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        for rcpt in envelope.rcpt_tos:
            with self.lock:
                n = next(self.counter)
            final = os.path.join(self.dir, f"{n:06d}-{safe_name(rcpt)}.eml")
            tmp = os.path.join(self.dir, f".tmp-{n:06d}-{os.getpid()}")
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, final)
        return "250 Message accepted for delivery"


def watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    try:
        while sys.stdin.buffer.read(65536):
            pass
    except (OSError, ValueError):
        pass
    loop.call_soon_threadsafe(stop.set)


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True, help="where to write the .eml files (created if missing)")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = a free port)")
    ap.add_argument("--ignore-stdin", action="store_true", help="do not exit on stdin EOF (manual runs)")
    args = ap.parse_args()

    os.makedirs(args.dir, exist_ok=True)
    handler = Sink(args.dir)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.localhost", enable_SMTPUTF8=True, decode_data=False),
        host="127.0.0.1",
        port=args.port,
    )
    port = server.sockets[0].getsockname()[1]
    if not args.ignore_stdin:
        threading.Thread(target=watch_stdin, args=(loop, stop), daemon=True).start()
    sys.stdout.write(json.dumps({"ready": True, "port": port}, separators=(",", ":")) + "\n")
    sys.stdout.flush()

    await stop.wait()
    server.close()
    try:
        await asyncio.wait_for(server.wait_closed(), 2)
    except asyncio.TimeoutError:
        pass
    return 0


if __name__ == "__main__":
    code = asyncio.run(main())
    sys.stdout.flush()
    os._exit(code)  # the stdin thread may still be blocked in read()
