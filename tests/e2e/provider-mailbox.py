#!/usr/bin/python3
# provider-mailbox.py HOST CAFILE USER PASSWORD-FILE setup|cleanup TAG
# Lays the test mailbox out like Gmail's and Outlook's (English and Dutch folder names,
# none with SPECIAL-USE) and appends messages carrying each provider's headers (fixtures/
# messages), each with its own test id MP-<CASE>-TAG.  cleanup deletes those folders and
# the INBOX copies again.  Exit 0 ok, 1 with the reason.
import imaplib
import os
import ssl
import sys
import time

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
FOLDERS = ["[Gmail]/Spam", "Junk Email", "Ongewenste e-mail", "INBOX/Junk E-mail"]
# case: (fixture, folder)
CASES = {
    "PNL": ("receiver-m365.eml", "Ongewenste e-mail"),
    "PEN": ("receiver-m365.eml", "Junk Email"),
    "PSUB": ("receiver-m365.eml", "INBOX/Junk E-mail"),
    "PSPM": ("provider-m365-marked-spam.eml", "INBOX"),
    "PCLN": ("receiver-m365.eml", "INBOX"),
    "PFRG": ("provider-m365-forged-verdict.eml", "INBOX"),
    "PGSP": ("receiver-gmail.eml", "[Gmail]/Spam"),
    "PGIN": ("receiver-gmail.eml", "INBOX"),
}


def quote(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def message(fixture, test_id):
    with open(os.path.join(TOP, "fixtures/messages", fixture), "rb") as f:
        lines = f.read().replace(b"\r\n", b"\n").split(b"\n")
    out = [b"X-Mailproof-Test-Id: " + test_id.encode() if l.lower().startswith(
        b"x-mailproof-test-id:") else l for l in lines]
    return b"\r\n".join(out)


def main():
    host, cafile, user, pwfile, cmd = sys.argv[1:6]
    with open(pwfile) as f:
        password = f.read().strip()
    imap = imaplib.IMAP4_SSL(host, 993, ssl_context=ssl.create_default_context(cafile=cafile),
                             timeout=10)
    imap.login(user, password)
    tag = sys.argv[6]
    if cmd == "setup":
        for folder in FOLDERS:
            imap.create(quote(folder))  # NO when it exists already: fine
        for case, (fixture, folder) in CASES.items():
            typ, data = imap.append(quote(folder), None, imaplib.Time2Internaldate(time.time()),
                                    message(fixture, "MP-%s-%s" % (case, tag)))
            if typ != "OK":
                sys.exit("provider-mailbox: APPEND to %s failed: %r" % (folder, data))
    else:
        for folder in FOLDERS + ["[Gmail]"]:
            imap.delete(quote(folder))
        imap.select("INBOX")
        for case in CASES:
            typ, data = imap.search(None, "HEADER", "X-Mailproof-Test-Id",
                                    "MP-%s-%s" % (case, tag))
            for num in (data[0].split() if typ == "OK" and data[0] else []):
                imap.store(num, "+FLAGS", "\\Deleted")
        imap.expunge()
    imap.logout()


if __name__ == "__main__":
    main()
