#!/usr/bin/python3
# imapcheck.py HOST CAFILE USER PASSWORD-FILE: Dovecot as the IMAP tests will meet it.
# Port 143 refuses to log in before STARTTLS and works after it (verified against
# CAFILE); 993 speaks TLS; the mailbox lists a \Junk folder. Exit 0 ok, 1 with reasons.
import imaplib
import ssl
import sys

host, cafile, user, pwfile = sys.argv[1:5]
with open(pwfile) as f:
    password = f.read().strip()
ctx = ssl.create_default_context(cafile=cafile)
problems = []

plain = imaplib.IMAP4(host, 143, timeout=10)
if "LOGINDISABLED" not in plain.capabilities:
    problems.append("143 offers LOGIN before STARTTLS")
plain.starttls(ssl_context=ctx)
plain.login(user, password)
plain.logout()

imaps = imaplib.IMAP4_SSL(host, 993, ssl_context=ctx, timeout=10)
imaps.login(user, password)
typ, folders = imaps.list()
if not any(b"\\Junk" in line for line in folders):
    problems.append("no \\Junk folder in LIST: %r" % folders)
imaps.logout()

for p in problems:
    print("imapcheck: " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
