#!/usr/bin/python3
# waitports.py SECONDS HOST:PORT...: wait until every TCP port accepts a connection.
# Exits 0 when all do, 1 (naming the missing ones) when the deadline passes.
import socket
import sys
import time

deadline = time.monotonic() + float(sys.argv[1])
todo = list(sys.argv[2:])
while todo:
    for hp in list(todo):
        host, port = hp.rsplit(":", 1)
        try:
            socket.create_connection((host, int(port)), timeout=0.5).close()
            todo.remove(hp)
        except OSError:
            pass
    if todo and time.monotonic() > deadline:
        print("not answering: " + " ".join(todo), file=sys.stderr)
        sys.exit(1)
    if todo:
        time.sleep(0.05)
