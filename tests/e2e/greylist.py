#!/usr/bin/python3
# Greylisting policy service for the MX (Postfix policy delegation protocol): the first
# attempt of a (client address, sender, recipient) triple gets 450; a retry after
# DELAY seconds passes. The relay 192.0.2.25 is a known sender and never greylisted.
# Usage: greylist.py STATEDIR [DELAY]
import hashlib
import os
import sys
import time

WHITELIST = {"192.0.2.25"}
state = sys.argv[1]
delay = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0


def decide(attrs):
    client = attrs.get("client_address", "")
    if attrs.get("request") != "smtpd_access_policy" or client in WHITELIST:
        return "DUNNO"
    triple = "\0".join((client, attrs.get("sender", "").lower(),
                        attrs.get("recipient", "").lower()))
    path = os.path.join(state, hashlib.sha256(triple.encode()).hexdigest())
    now = time.time()
    try:
        first = os.stat(path).st_mtime
    except FileNotFoundError:
        with open(path, "w") as f:
            f.write(triple.replace("\0", " ") + "\n")
        first = now
    if now - first >= delay:
        return "DUNNO"
    return "450 4.7.1 Greylisted, please try again in %d seconds" % (delay - (now - first) + 1)


attrs = {}
for line in sys.stdin:
    line = line.rstrip("\n")
    if line:
        key, _, value = line.partition("=")
        attrs[key] = value
        continue
    sys.stdout.write("action=%s\n\n" % decide(attrs))
    sys.stdout.flush()
    attrs = {}
