#!/usr/bin/env python3
"""Writes a synthetic POP3 capture of about SIZE megabytes (classic pcap, Ethernet/IPv4/TCP
port 110): a greeting, USER/PASS, then RETR of mails with 76-character base64 lines (some
dot-stuffed) in 1460-byte segments, each pair of segments acknowledged by the client.

Used to measure the plugin's memory and time against the built-in dissector:
  make-big-capture.py 100 big.pcap
  /usr/bin/time -v tshark -r big.pcap > /dev/null                          (plugin)
  /usr/bin/time -v tshark -r big.pcap -d tcp.port==110,pop > /dev/null     (built-in)
"""
import base64
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcapwriter import CLIENT, SERVER, Writer  # noqa: E402


def mail(i, size):
    lines = [b"From: Sender %d <sender%d@example.net>" % (i, i), b"To: bob@example.net",
             b"Subject: Synthetic message %d" % i, b"MIME-Version: 1.0", b""]
    counter = 0
    total = sum(len(l) + 2 for l in lines)
    while total < size:
        chunk = hashlib.sha256(b"%d-%d" % (i, counter)).digest() * 2
        line = base64.b64encode(chunk)[:76]
        if counter % 50 == 0:
            line = b"." + line[1:]
        lines.append(line)
        total += len(line) + 2
        counter += 1
    return b"\r\n".join(lines) + b"\r\n"


def main():
    megabytes = float(sys.argv[1])
    out = sys.argv[2]
    mail_size = 1_000_000
    count = max(1, int(megabytes * 1_000_000 * 1.06 / mail_size))
    with open(out, "wb") as f:
        w = Writer(f)
        w.handshake()
        w.send(SERVER, CLIENT, b"+OK ready <1.2@example.net>\r\n")
        for cmd, answer in ((b"USER bob", b"+OK"), (b"PASS secret", b"+OK Logged in.")):
            w.send(CLIENT, SERVER, cmd + b"\r\n")
            w.send(SERVER, CLIENT, answer + b"\r\n")
        for i in range(1, count + 1):
            body = mail(i, mail_size)
            w.send(CLIENT, SERVER, b"RETR %d\r\n" % i)
            stuffed = body.replace(b"\r\n.", b"\r\n..")
            if stuffed.startswith(b"."):
                stuffed = b"." + stuffed
            w.send(SERVER, CLIENT, b"+OK %d octets\r\n" % len(body) + stuffed + b".\r\n")
        w.send(CLIENT, SERVER, b"QUIT\r\n")
        w.send(SERVER, CLIENT, b"+OK Bye\r\n")


if __name__ == "__main__":
    main()
