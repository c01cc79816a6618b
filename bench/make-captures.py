#!/usr/bin/env python3
"""Writes POP3 benchmark captures (pcap, Ethernet/IPv4/TCP) without any server.

Every TCP connection has its three-way handshake, correct sequence and acknowledgement
numbers, segments of at most --mss payload bytes, an ACK from the receiver every second
segment, and a FIN exchange; IPv4 and TCP checksums are correct. Mail bodies are MIME messages
with text parts (some lines starting with ".", dot-stuffed on the wire) and base64 attachments
in 76-character lines. Deterministic for a given --seed.

  make-captures.py many OUT.pcap [--mb 100]      # thousands of sessions, interleaved
  make-captures.py many OUT.pcap --sessions 10000 --empty-share 1   # exactly N sessions
  make-captures.py single OUT.pcap --mb 20        # one session, one RETR of about 20 MB
"""

import argparse
import base64
import random
import struct
import sys

CLIENT_MAC = bytes.fromhex("020000000001")
SERVER_MAC = bytes.fromhex("020000000002")
SERVER_IP = bytes([192, 0, 2, 110])
POP3_PORT = 110

WORDS = ("the message server mailbox attached report meeting please review quarter budget and "
         "of to in for with regards thanks update project draft final numbers schedule team "
         "customer invoice delivery office monday friday agenda minutes notes question answer "
         "week month year is are was will be a an this").split()
DOT_STARTS = (".", "...", ".signature", "..")


class Pcap:
    def __init__(self, f):
        self.f = f
        self.t = 1704067200.0  # 2024-01-01T00:00:00Z
        self.bytes = 0
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))

    def packet(self, frame, dt=0.00001):
        self.t += dt
        sec = int(self.t)
        usec = int(round((self.t - sec) * 1e6))
        if usec >= 1000000:
            sec, usec = sec + 1, usec - 1000000
        self.f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
        self.f.write(frame)
        self.bytes += len(frame)


def checksum(data):
    # The ones' complement sum of 16-bit big-endian words is the number mod 0xFFFF.
    if len(data) % 2:
        data += b"\0"
    n = int.from_bytes(data, "big")
    s = n % 0xFFFF
    if s == 0 and n != 0:
        s = 0xFFFF  # a non-zero sum is never 0 in ones' complement
    return ~s & 0xFFFF


class Connection:
    """One TCP connection; yields Ethernet frames."""

    def __init__(self, pcap, index, rng):
        self.pcap = pcap
        self.client_ip = bytes([10, (index >> 16) & 0xFF, (index >> 8) & 0xFF, (index & 0xFF) or 1])
        self.client_port = 20000 + index % 40000
        self.seq = {0: rng.getrandbits(32), 1: rng.getrandbits(32)}  # 0 client, 1 server
        self.ack_pending = 0
        self.mss = 1460

    def frame(self, side, flags, payload=b""):
        if side == 0:
            src_mac, dst_mac, src, dst = CLIENT_MAC, SERVER_MAC, self.client_ip, SERVER_IP
            sport, dport = self.client_port, POP3_PORT
        else:
            src_mac, dst_mac, src, dst = SERVER_MAC, CLIENT_MAC, SERVER_IP, self.client_ip
            sport, dport = POP3_PORT, self.client_port
        seq = self.seq[side]
        ack = self.seq[1 - side] if flags & 0x10 else 0
        options = b"\x02\x04\x05\xb4\x01\x03\x03\x07" if flags & 0x02 else b""  # MSS, wscale
        offset_words = (20 + len(options)) // 4
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, offset_words << 4, flags, 65535,
                          0, 0) + options
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
        csum = checksum(pseudo + tcp + payload)
        tcp = tcp[:16] + struct.pack("!H", csum) + tcp[18:]
        total = 20 + len(tcp) + len(payload)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        advance = len(payload) + (1 if flags & 0x03 else 0)  # SYN and FIN take a number
        self.seq[side] = (seq + advance) & 0xFFFFFFFF
        return dst_mac + src_mac + b"\x08\x00" + ip + tcp + payload

    def handshake(self):
        yield self.frame(0, 0x02)          # SYN
        yield self.frame(1, 0x12)          # SYN, ACK
        yield self.frame(0, 0x10)          # ACK

    def send(self, side, data):
        for i in range(0, len(data), self.mss):
            yield self.frame(side, 0x18, data[i:i + self.mss])  # PSH, ACK
            self.ack_pending += 1
            if self.ack_pending == 2:  # delayed ACK: one for every second segment
                self.ack_pending = 0
                yield self.frame(1 - side, 0x10)
        if self.ack_pending:
            self.ack_pending = 0
            yield self.frame(1 - side, 0x10)

    def close(self):
        yield self.frame(0, 0x11)  # FIN, ACK
        yield self.frame(1, 0x11)
        yield self.frame(0, 0x10)


def text_line(rng):
    target = rng.randint(40, 76)
    parts = [rng.choice(DOT_STARTS)] if rng.randrange(100) == 0 else []
    length = sum(map(len, parts))
    while length < target:
        w = rng.choice(WORDS)
        parts.append(w)
        length += len(w) + 1
    line = " ".join(parts)
    if rng.randrange(6) == 0:
        line += "."
    return line.encode() + b"\r\n"


def message(size, rng):
    """An RFC 5322/MIME message of about `size` bytes (not dot-stuffed)."""
    out = [
        b"Return-Path: <alice@example.org>\r\n",
        b"Received: from mx1.example.org (mx1.example.org [192.0.2.25])\r\n"
        b"\tby mail.example.net (Postfix) with ESMTPS id 4T2kQ71xZ3z9sV\r\n"
        b"\tfor <bob@example.net>; Mon, 1 Jan 2024 09:00:00 +0000 (UTC)\r\n",
        b"From: Alice Example <alice@example.org>\r\n",
        b"To: Bob Example <bob@example.net>\r\n",
        b"Subject: Quarterly report and attachments\r\n",
        b"Date: Mon, 1 Jan 2024 09:00:00 +0000\r\n",
        b"Message-ID: <%d.4T2kQ71xZ3z9sV@mx1.example.org>\r\n" % rng.getrandbits(48),
        b"MIME-Version: 1.0\r\n",
        b'Content-Type: multipart/mixed; boundary="=_boundary_7f3a"\r\n',
        b"\r\n",
        b"This is a multi-part message in MIME format.\r\n",
    ]
    length = sum(map(len, out))
    part = 0
    while length < size:
        left = size - length
        chunk = [b"\r\n--=_boundary_7f3a\r\n"]
        if part % 2 == 0:
            chunk.append(b"Content-Type: text/plain; charset=utf-8\r\n\r\n")
            want = min(left, 4096 + rng.randrange(8192))
            n = 0
            while n < want:
                line = text_line(rng)
                chunk.append(line)
                n += len(line)
        else:
            chunk.append(b'Content-Type: application/pdf; name="report.pdf"\r\n'
                         b"Content-Transfer-Encoding: base64\r\n"
                         b'Content-Disposition: attachment; filename="report.pdf"\r\n\r\n')
            # Small messages carry 48-80 KB attachments, large ones a few big attachments
            # (a multipart body of hundreds of parts would exceed Wireshark's layer limit).
            typical = (48 * 1024 + rng.randrange(32 * 1024) if size < 1 << 20
                       else size // 8 + rng.randrange(size // 8))
            want = min(left, typical)
            encoded = base64.b64encode(rng.randbytes(want * 3 // 4))
            chunk.append(b"\r\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76)))
            chunk.append(b"\r\n")
        part += 1
        for c in chunk:
            length += len(c)
        out.extend(chunk)
    out.append(b"\r\n--=_boundary_7f3a--\r\n")
    return b"".join(out)


def dot_stuff(msg):
    lines = msg.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines)


def retr_response(msg):
    return b"+OK %d octets\r\n" % len(msg) + dot_stuff(msg) + b".\r\n"


def message_sizes(rng, n):
    sizes = []
    for _ in range(n):
        r = rng.random()
        if r < 0.85:
            sizes.append(rng.randint(2_000, 30_000))       # plain mail
        elif r < 0.99:
            sizes.append(rng.randint(30_000, 200_000))     # an attachment
        else:
            sizes.append(rng.randint(500_000, 3_000_000))  # large attachments
    return sizes


def scram_exchange(c, rng, user):
    b64 = lambda s: base64.b64encode(s).decode()
    cnonce = b64(rng.randbytes(18))
    snonce = cnonce + b64(rng.randbytes(12))
    client_first = f"n,,n={user},r={cnonce}".encode()
    server_first = f"r={snonce},s={b64(rng.randbytes(16))},i=4096".encode()
    client_final = f"c=biws,r={snonce},p={b64(rng.randbytes(32))}".encode()
    server_final = f"v={b64(rng.randbytes(32))}".encode()
    yield from c.send(0, b"AUTH SCRAM-SHA-256\r\n")
    yield from c.send(1, b"+ \r\n")
    yield from c.send(0, base64.b64encode(client_first) + b"\r\n")
    yield from c.send(1, b"+ " + base64.b64encode(server_first) + b"\r\n")
    yield from c.send(0, base64.b64encode(client_final) + b"\r\n")
    yield from c.send(1, b"+ " + base64.b64encode(server_final) + b"\r\n")
    yield from c.send(0, b"\r\n")
    yield from c.send(1, b"+OK Logged in.\r\n")


def session(pcap, index, rng, messages):
    """A whole POP3 session: greeting, CAPA, a login, STAT, LIST, UIDL, RETR/DELE, QUIT."""
    c = Connection(pcap, index, rng)
    user = f"user{index}@example.net"
    yield from c.handshake()
    yield from c.send(1, b"+OK Dovecot (Debian) ready. <%d.%d@mail.example.net>\r\n"
                      % (index, rng.getrandbits(32)))
    yield from c.send(0, b"CAPA\r\n")
    yield from c.send(1, b"+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\n"
                      b"AUTH-RESP-CODE\r\nUSER\r\nSASL PLAIN LOGIN SCRAM-SHA-256\r\n.\r\n")
    kind = index % 3
    if kind == 0:
        yield from c.send(0, f"USER {user}\r\n".encode())
        yield from c.send(1, b"+OK\r\n")
        yield from c.send(0, b"PASS secret%d\r\n" % index)
        yield from c.send(1, b"+OK Logged in.\r\n")
    elif kind == 1:
        plain = base64.b64encode(b"\0" + user.encode() + b"\0secret%d" % index)
        yield from c.send(0, b"AUTH PLAIN " + plain + b"\r\n")
        yield from c.send(1, b"+OK Logged in.\r\n")
    else:
        yield from scram_exchange(c, rng, user)
    total = sum(len(m) for m in messages)
    yield from c.send(0, b"STAT\r\n")
    yield from c.send(1, b"+OK %d %d\r\n" % (len(messages), total))
    yield from c.send(0, b"LIST\r\n")
    yield from c.send(1, b"+OK %d messages:\r\n" % len(messages)
                      + b"".join(b"%d %d\r\n" % (i + 1, len(m)) for i, m in enumerate(messages))
                      + b".\r\n")
    yield from c.send(0, b"UIDL\r\n")
    yield from c.send(1, b"+OK\r\n" + b"".join(
        b"%d %d.M%dP%d.mail,S=%d\r\n" % (i + 1, 1704000000 + i, i, index, len(m))
        for i, m in enumerate(messages)) + b".\r\n")
    for i, m in enumerate(messages):
        yield from c.send(0, b"RETR %d\r\n" % (i + 1))
        yield from c.send(1, retr_response(m))
        yield from c.send(0, b"DELE %d\r\n" % (i + 1))
        yield from c.send(1, b"+OK Marked to be deleted.\r\n")
    yield from c.send(0, b"QUIT\r\n")
    yield from c.send(1, b"+OK Logging out, messages deleted.\r\n")
    yield from c.close()


def many(pcap, rng, target_bytes, concurrent, max_sessions=None, empty_share=0.6):
    """Sessions (`empty_share` polling an empty mailbox, the others fetching 1..8 messages),
    `concurrent` at a time, their packets interleaved; until `target_bytes` of payload or
    `max_sessions` sessions."""
    active = []
    index = 0
    payload = 0
    sessions = 0
    while True:
        while len(active) < concurrent and payload < target_bytes and (
                max_sessions is None or sessions < max_sessions):
            index += 1
            # Most connections are clients polling an empty mailbox.
            count = 0 if rng.random() < empty_share else rng.randint(1, 8)
            msgs = [message(s, rng) for s in message_sizes(rng, count)]
            payload += sum(len(m) for m in msgs) + 600
            active.append(session(pcap, index, rng, msgs))
            sessions += 1
        if not active:
            break
        k = rng.randrange(len(active))
        # A short burst from one connection, as a busy server interleaves them.
        for _ in range(rng.randint(1, 8)):
            try:
                pcap.packet(next(active[k]))
            except StopIteration:
                active.pop(k)
                break
    return sessions


def single(pcap, rng, size):
    c = Connection(pcap, 1, rng)
    msg = message(size, rng)
    steps = [c.handshake(),
             c.send(1, b"+OK Dovecot (Debian) ready.\r\n"),
             c.send(0, b"USER bob\r\n"), c.send(1, b"+OK\r\n"),
             c.send(0, b"PASS builder42\r\n"), c.send(1, b"+OK Logged in.\r\n"),
             c.send(0, b"RETR 1\r\n"), c.send(1, retr_response(msg)),
             c.send(0, b"QUIT\r\n"), c.send(1, b"+OK Logging out.\r\n"), c.close()]
    for step in steps:
        for frame in step:
            pcap.packet(frame)
    return len(msg)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("kind", choices=("many", "single"))
    ap.add_argument("output")
    ap.add_argument("--mb", type=float, default=100, help="payload size in MB (10^6 bytes)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--concurrent", type=int, default=24, help="sessions open at once (many)")
    ap.add_argument("--sessions", type=int, help="stop after this many sessions (many)")
    ap.add_argument("--empty-share", type=float, default=0.6,
                    help="share of sessions polling an empty mailbox (many)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with open(args.output, "wb") as f:
        pcap = Pcap(f)
        if args.kind == "many":
            target = int(args.mb * 1e6) if args.sessions is None else float("inf")
            n = many(pcap, rng, target, args.concurrent, args.sessions, args.empty_share)
            what = f"{n} sessions"
        else:
            n = single(pcap, rng, int(args.mb * 1e6))
            what = f"one RETR of {n} bytes"
    print(f"{args.output}: {what}, {pcap.bytes / 1e6:.1f} MB of frames", file=sys.stderr)


if __name__ == "__main__":
    main()
