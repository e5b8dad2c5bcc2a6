#!/usr/bin/python3
# Helpers of the scenario tests, kept out of shell for robust header handling:
#   mailcheck.py msgid FILE                 Message-ID of a saved message
#   mailcheck.py find MAILDIR STRING SECS   wait for a delivered message containing STRING;
#                                           prints "FOLDER PATH" (INBOX or Junk); exit 4 if none
#   mailcheck.py ar FILE AUTHSERV-ID        that host's Authentication-Results, unfolded,
#                                           whitespace collapsed, one per line
#   mailcheck.py json FILE KEY=VALUE...     check fields of messages[0] of a mailproof/report-1
#                                           report (KEY like dkim.0.result); exit 1 on mismatch
import email.parser
import email.policy
import json
import os
import re
import sys
import time


def headers(path):
    with open(path, "rb") as f:
        return email.parser.BytesHeaderParser(policy=email.policy.compat32).parse(f)


def unfold(value):
    return re.sub(r"\s+", " ", str(value)).strip()


def cmd_msgid(path):
    mid = headers(path).get("Message-ID")
    if not mid:
        sys.exit("no Message-ID in " + path)
    print(unfold(mid))


def cmd_find(maildir, needle, secs):
    folders = (("INBOX", maildir), ("Junk", os.path.join(maildir, ".Junk")))
    deadline = time.monotonic() + float(secs)
    needle = needle.encode()
    while True:
        for name, base in folders:
            for sub in ("new", "cur"):
                d = os.path.join(base, sub)
                if not os.path.isdir(d):
                    continue
                for entry in sorted(os.listdir(d)):
                    p = os.path.join(d, entry)
                    with open(p, "rb") as f:
                        if needle in f.read():
                            print(name, p)
                            return
        if time.monotonic() > deadline:
            sys.exit(4)
        time.sleep(0.1)


def cmd_ar(path, authserv):
    for value in headers(path).get_all("Authentication-Results") or []:
        v = unfold(value)
        if v.split(";", 1)[0].strip().lower() == authserv.lower():
            print(v)


def cmd_json(path, *checks):
    with open(path) as f:
        msg = json.load(f)["messages"][0]
    bad = 0
    for check in checks:
        key, _, want = check.partition("=")
        node = msg
        try:
            for part in key.split("."):
                node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            node = None
        got = "null" if node is None else str(node).lower()
        if got != want:
            print("report: %s is %s, expected %s" % (key, got, want), file=sys.stderr)
            bad = 1
    sys.exit(bad)


if __name__ == "__main__":
    cmds = {"msgid": cmd_msgid, "find": cmd_find, "ar": cmd_ar, "json": cmd_json}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__ if __doc__ else "usage: mailcheck.py msgid|find|ar|json ...")
    cmds[sys.argv[1]](*sys.argv[2:])
