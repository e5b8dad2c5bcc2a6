#!/usr/bin/python3
# A minimal syslog receiver for the stack: the milters can only log through syslog(3),
# and /dev/log exists only in the stack's private mount namespace. One line per datagram.
import socket
import sys

sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind("/dev/log")
with open(sys.argv[1], "ab", buffering=0) as out:
    while True:
        data = sock.recv(65536)
        out.write(data.rstrip(b"\0\n") + b"\n")
