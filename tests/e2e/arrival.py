#!/usr/bin/python3
# arrival.py DIR STRING SECS: wait (polling every 5 ms) for a message file containing STRING
# to appear in DIR/new or DIR/cur (Dovecot renames it there from tmp/ when the delivery
# is done); prints the wall-clock time it was first seen, in ms since the epoch.
# Exit 4 when none appears within SECS.
import os
import sys
import time

base, needle, secs = sys.argv[1], sys.argv[2].encode(), float(sys.argv[3])
seen = set()
deadline = time.monotonic() + secs
while time.monotonic() < deadline:
    for sub in ("new", "cur"):
        d = os.path.join(base, sub)
        try:
            names = os.listdir(d)
        except FileNotFoundError:
            continue
        for n in names:
            if n in seen:
                continue
            now = time.time_ns() // 1000000
            seen.add(n)
            try:
                with open(os.path.join(d, n), "rb") as f:
                    if needle in f.read(65536):
                        print(now)
                        sys.exit(0)
            except FileNotFoundError:
                seen.discard(n)  # moved from new/ to cur/ meanwhile
    time.sleep(0.005)
sys.exit(4)
