#!/usr/bin/python3
"""A minimal RFC 1939 POP3 server (no CAPA, no APOP, no SASL).

Usage: minipop.py ADDRESS PORT SESSIONS

Serves SESSIONS connections one after the other, then exits.  Users and
mailbox contents are those of mkmail.py (alice / wonderland, ...).  It
exists because curl uses USER/PASS only with a server that offers neither
SASL nor APOP, and Dovecot always offers SASL.  Commands: USER, PASS, STAT,
LIST, UIDL, RETR, TOP, DELE, NOOP, RSET, QUIT; anything else (CAPA too) gets
"-ERR".
"""
import hashlib
import os
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mkmail  # noqa: E402

USERS = {"alice": "wonderland", "bob": "builder42", "carol": "carol-empty"}


def wire(text):
    """Message text (LF) as sent: CRLF line ends, dot-stuffed, terminated."""
    data = text.encode("utf-8").replace(b"\n", b"\r\n")
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    lines = [(b"." + ln if ln.startswith(b".") else ln) for ln in data.split(b"\r\n")]
    return b"\r\n".join(lines) + b".\r\n"


def session(conn):
    f = conn.makefile("rb")

    def send(text):
        conn.sendall(text.encode() + b"\r\n")

    send("+OK minimal POP3 server ready")
    user = None
    msgs = None
    deleted = set()
    while True:
        raw = f.readline()
        if not raw:
            return
        line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
        cmd, _, arg = line.partition(" ")
        cmd = cmd.upper()
        if msgs is None:
            if cmd == "USER" and arg:
                user = arg
                send("+OK send PASS")
            elif cmd == "PASS" and user:
                if USERS.get(user) == arg:
                    msgs = [m.encode("utf-8") for m in mkmail.MAILBOXES[user]]
                    send("+OK %s has %d messages" % (user, len(msgs)))
                else:
                    user = None
                    send("-ERR invalid password")
            elif cmd == "QUIT":
                send("+OK bye")
                return
            else:
                send("-ERR unknown command or wrong state")
            continue

        def pick(a):
            try:
                n = int(a)
            except ValueError:
                return None
            if 1 <= n <= len(msgs) and n not in deleted:
                return n
            return None

        size = lambda n: len(msgs[n - 1].replace(b"\n", b"\r\n"))  # noqa: E731
        live = [n for n in range(1, len(msgs) + 1) if n not in deleted]
        if cmd == "STAT":
            send("+OK %d %d" % (len(live), sum(size(n) for n in live)))
        elif cmd in ("LIST", "UIDL") and not arg:
            conn.sendall(b"+OK\r\n" + b"".join(
                b"%d %s\r\n" % (n, (str(size(n)) if cmd == "LIST" else
                                    hashlib.md5(msgs[n - 1]).hexdigest()[:16]).encode())
                for n in live) + b".\r\n")
        elif cmd in ("LIST", "UIDL"):
            n = pick(arg)
            if n is None:
                send("-ERR no such message")
            elif cmd == "LIST":
                send("+OK %d %d" % (n, size(n)))
            else:
                send("+OK %d %s" % (n, hashlib.md5(msgs[n - 1]).hexdigest()[:16]))
        elif cmd in ("RETR", "TOP"):
            parts = arg.split()
            n = pick(parts[0]) if parts else None
            if n is None or (cmd == "TOP" and (len(parts) != 2 or not parts[1].isdigit())):
                send("-ERR no such message")
                continue
            text = msgs[n - 1].decode("utf-8")
            if cmd == "TOP":
                head, _, body = text.partition("\n\n")
                text = head + "\n\n" + "".join(body.splitlines(True)[:int(parts[1])])
            conn.sendall(b"+OK\r\n" + wire(text))
        elif cmd == "DELE":
            n = pick(arg)
            if n is None:
                send("-ERR no such message")
            else:
                deleted.add(n)
                send("+OK message %d deleted" % n)
        elif cmd == "NOOP":
            send("+OK")
        elif cmd == "RSET":
            deleted.clear()
            send("+OK")
        elif cmd == "QUIT":
            send("+OK bye")
            return
        else:
            send("-ERR unknown command")


def main():
    addr, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(4)
    print("ready", flush=True)
    for _ in range(count):
        conn, _ = srv.accept()
        with conn:
            session(conn)
    srv.close()


if __name__ == "__main__":
    main()
