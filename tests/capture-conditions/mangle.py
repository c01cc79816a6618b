#!/usr/bin/env python3
"""Writes a mangled copy of a capture, as taps, SPAN ports and merged files deliver them, and a
JSON sidecar that says exactly what was done. Python 3 standard library only.

  mangle.py KIND IN OUT [--seed N] [--rate R]      # OUT.json is the sidecar

IN is pcap or pcapng (any number of interfaces with one link type: Ethernet, raw IP, Linux
cooked v1/v2, BSD loopback); OUT is always classic pcap (nanosecond timestamps) with IN's link
type. Kinds (R is the probability per candidate; defaults in RATES):

  swap   same-direction reordering: two consecutive segments of one direction of a TCP
         connection (payload or FIN, so data with its FIN too) trade places in the file. Only
         pairs with no payload of the other direction between them, so that the order across
         directions stays as it was (pure ACKs between them keep their place).
  repeat a segment with payload (or a FIN) appears again 1-6 packets later (as on a SPAN port
         that sees both copies of a frame).
  cross  cross-direction reordering, as in a file merged from two one-way taps: the first
         segment of an answer (the first segment with payload from the server after the
         client sent payload; the server is the side that answered the SYN, else port 110/995) is moved before the last segment of what it answers, together with
         that side's packets in between (its ACK of the command), in their order. Each
         direction keeps its own order; only the interleaving changes.
  loss   segments with payload and without SYN, FIN or RST are dropped (default 2 %), and only
         those that a later segment (payload or FIN) of the same side follows. SYN, FIN, RST and
         pure ACKs are never dropped: the connection's start and end stay in the capture, and a
         loss is always a hole inside a stream that TCP can see, never a stream that vanishes or
         a missing tail (which nothing in the capture could show).

Timestamps: the packets keep the capture's timestamps in file order (the output's timestamps
are the sorted timestamps of the packets it holds), as a capture that recorded the packets in
that order would have them.

The sidecar (OUT + ".json"): {"input", "kind", "seed", "rate", "input_packets",
"output_packets", "order": original 0-based index of every output packet, "changes": [...]},
each change with the original indexes (0-based; frame numbers are index + 1) and the TCP
identity (addresses, ports, raw sequence number, payload length, flags) of what it touched.
"""

import argparse
import ipaddress
import json
import random
import struct
import sys

RATES = {"swap": 0.25, "repeat": 0.1, "cross": 0.3, "loss": 0.02}

LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_NULL, LINKTYPE_LOOP = 1, 101, 0, 108
LINKTYPE_SLL, LINKTYPE_SLL2, LINKTYPE_IPV4, LINKTYPE_IPV6 = 113, 276, 228, 229


class Packet:
    __slots__ = ("index", "ts_ns", "data", "orig_len", "tcp")

    def __init__(self, index, ts_ns, data, orig_len):
        self.index, self.ts_ns, self.data, self.orig_len = index, ts_ns, data, orig_len
        self.tcp = None


def read_pcap(blob):
    magic = blob[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError("not a pcap file")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(endian + "I", blob[20:24])[0] & 0x0FFFFFFF
    packets, pos = [], 24
    while pos + 16 <= len(blob):
        sec, frac, incl, orig = struct.unpack(endian + "IIII", blob[pos:pos + 16])
        pos += 16
        ts = sec * 10**9 + (frac if nano else frac * 1000)
        packets.append(Packet(len(packets), ts, blob[pos:pos + incl], orig))
        pos += incl
    return linktype, packets


def read_pcapng(blob):
    packets, interfaces, pos, endian = [], [], 0, "<"
    while pos + 12 <= len(blob):
        btype = struct.unpack(endian + "I", blob[pos:pos + 4])[0]
        if btype == 0x0A0D0D0A:  # section header: byte order, interfaces start again
            bom = blob[pos + 8:pos + 12]
            endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            interfaces = []
        blen = struct.unpack(endian + "I", blob[pos + 4:pos + 8])[0]
        body = blob[pos + 8:pos + blen - 4]
        if btype == 1:  # interface description
            linktype = struct.unpack(endian + "H", body[:2])[0]
            resol = 6
            opt = 8
            while opt + 4 <= len(body):
                code, length = struct.unpack(endian + "HH", body[opt:opt + 4])
                if code == 0:
                    break
                if code == 9 and length >= 1:  # if_tsresol
                    resol = body[opt + 4]
                opt += 4 + (length + 3) // 4 * 4
            interfaces.append((linktype, resol))
        elif btype == 6:  # enhanced packet
            iface, hi, lo, incl, orig = struct.unpack(endian + "IIIII", body[:20])
            packets.append(Packet(len(packets), _ns((hi << 32) | lo, interfaces[iface][1]),
                                  body[20:20 + incl], orig))
        elif btype == 3:  # simple packet
            orig = struct.unpack(endian + "I", body[:4])[0]
            packets.append(Packet(len(packets), 0, body[4:4 + orig], orig))
        pos += blen
    kinds = {linktype for linktype, _ in interfaces}
    if len(kinds) != 1:
        raise ValueError("pcapng with %d link types; one is needed" % len(kinds))
    return kinds.pop(), packets


def _ns(units, resol):
    if resol & 0x80:
        return units * 10**9 // (2 ** (resol & 0x7F))
    return units * 10**9 // 10**resol


def read_capture(path):
    with open(path, "rb") as f:
        blob = f.read()
    if blob[:4] == b"\x0a\x0d\x0d\x0a":
        return read_pcapng(blob)
    return read_pcap(blob)


def write_pcap(path, linktype, packets, timestamps):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, linktype))
        for p, ts in zip(packets, timestamps):
            f.write(struct.pack("<IIII", ts // 10**9, ts % 10**9, len(p.data), p.orig_len))
            f.write(p.data)


class Tcp:
    """The TCP identity of a packet: endpoints, raw sequence number, payload length, flags."""
    __slots__ = ("src", "dst", "sport", "dport", "seq", "ack", "flags", "length")

    def describe(self):
        return {"src": "%s:%d" % (self.src, self.sport), "dst": "%s:%d" % (self.dst, self.dport),
                "seq": self.seq, "len": self.length, "flags": "0x%02x" % self.flags}

    @property
    def connection(self):
        a, b = (self.src, self.sport), (self.dst, self.dport)
        return (a, b) if a < b else (b, a)

    @property
    def side(self):
        return (self.src, self.sport)

    @property
    def payload_or_fin(self):
        return self.length > 0 or self.flags & 0x01


def _addr(raw):
    return str(ipaddress.ip_address(bytes(raw)))  # as tshark writes it (IPv6 compressed)


def parse_tcp(linktype, frame):
    """The packet's Tcp, or None when it is not TCP over IPv4/IPv6 (fragments are not TCP)."""
    if linktype == LINKTYPE_ETHERNET:
        ethertype, pos = struct.unpack("!H", frame[12:14])[0], 14
        while ethertype in (0x8100, 0x88A8):  # VLAN tags
            ethertype, pos = struct.unpack("!H", frame[pos + 2:pos + 4])[0], pos + 4
    elif linktype in (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6):
        ethertype, pos = (0x0800 if frame[:1] and frame[0] >> 4 == 4 else 0x86DD), 0
    elif linktype == LINKTYPE_SLL:
        ethertype, pos = struct.unpack("!H", frame[14:16])[0], 16
    elif linktype == LINKTYPE_SLL2:
        ethertype, pos = struct.unpack("!H", frame[0:2])[0], 20
    elif linktype in (LINKTYPE_NULL, LINKTYPE_LOOP):
        ethertype, pos = (0x0800 if frame[4:5] and frame[4] >> 4 == 4 else 0x86DD), 4
    else:
        raise ValueError("link type %d is not supported" % linktype)
    if ethertype == 0x0800:
        if len(frame) < pos + 20:
            return None
        ihl = (frame[pos] & 0x0F) * 4
        total = struct.unpack("!H", frame[pos + 2:pos + 4])[0]
        if frame[pos + 9] != 6 or struct.unpack("!H", frame[pos + 6:pos + 8])[0] & 0x3FFF:
            return None
        src, dst = frame[pos + 12:pos + 16], frame[pos + 16:pos + 20]
        tcp_at, end = pos + ihl, pos + total
    elif ethertype == 0x86DD:
        if len(frame) < pos + 40 or frame[pos + 6] != 6:
            return None  # extension headers are not followed
        src, dst = frame[pos + 8:pos + 24], frame[pos + 24:pos + 40]
        tcp_at, end = pos + 40, pos + 40 + struct.unpack("!H", frame[pos + 4:pos + 6])[0]
    else:
        return None
    if len(frame) < tcp_at + 20:
        return None
    t = Tcp()
    t.src, t.dst = _addr(src), _addr(dst)
    t.sport, t.dport, t.seq, t.ack, offset, t.flags = struct.unpack(
        "!HHIIBB", frame[tcp_at:tcp_at + 14])
    t.length = max(0, end - tcp_at - (offset >> 4) * 4)
    return t


def seq_after(a, b):
    """a is after b in sequence space."""
    return 0 < ((a - b) & 0xFFFFFFFF) < 0x80000000


def server_sides(packets):
    """(address, port) of the server of every connection: the side that answered a SYN, or
    else the side on port 110 or 995, or else the lower port."""
    servers, seen = set(), set()
    for p in packets:
        t = p.tcp
        if t and t.flags & 0x12 == 0x02:
            servers.add((t.dst, t.dport))
            seen.add(t.connection)
    for p in packets:
        t = p.tcp
        if t and t.connection not in seen:
            seen.add(t.connection)
            a, b = (t.src, t.sport), (t.dst, t.dport)
            if b[1] in (110, 995) or (a[1] not in (110, 995) and b[1] < a[1]):
                a, b = b, a
            servers.add(a)
    return servers


def mangle(kind, packets, rng, rate):
    """The output order (a list of Packets) and the list of changes."""
    order = list(packets)
    changes = []
    tcp = [p for p in packets if p.tcp]

    if kind == "swap":
        # Consecutive segments of one side, with no payload of the other side in between.
        last = {}  # side -> position in `order` of its last payload/FIN segment
        candidates = []
        for pos, p in enumerate(order):
            t = p.tcp
            if not t or t.flags & 0x06:  # not SYN or RST
                continue
            other = (t.connection, (t.dst, t.dport))
            if t.length > 0:
                last.pop(other, None)  # payload of the other side: no pair across it
            if t.payload_or_fin:
                key = (t.connection, t.side)
                if key in last:
                    candidates.append((last[key], pos))
                last[key] = pos
        used = set()
        for a, b in candidates:
            if a in used or b in used or rng.random() >= rate:
                continue
            used.update((a, b))
            changes.append({"op": "swap", "original": [order[a].index, order[b].index],
                            "packets": [order[a].tcp.describe(), order[b].tcp.describe()]})
            order[a], order[b] = order[b], order[a]

    elif kind == "repeat":
        copies = []
        for pos, p in enumerate(order):
            t = p.tcp
            if t and t.payload_or_fin and not t.flags & 0x06 and rng.random() < rate:
                copies.append((pos, pos + rng.randint(1, 6)))
        # Insert from the back so that earlier positions stay valid.
        for pos, at in sorted(copies, key=lambda c: c[1], reverse=True):
            original = order[pos]
            at = min(at, len(order))
            order.insert(at + 1, original)
            changes.append({"op": "repeat", "original": original.index,
                            "after_original": order[at].index, "packet": original.tcp.describe()})
        changes.reverse()

    elif kind == "cross":
        # For each connection: the first payload segment of a side after payload of the other
        # side (an answer), moved before the other side's segment that came just before it.
        servers = server_sides(order)
        moves = []
        last_payload = {}  # connection -> (side, position) of the last payload segment
        block_start = {}  # connection -> position where the current side's run began
        for pos, p in enumerate(order):
            t = p.tcp
            if not t or t.length == 0:
                continue
            conn = t.connection
            prev = last_payload.get(conn)
            if prev and prev[0] != t.side and t.side in servers:
                # The segment answered is prev (position prev[1]); move p before it, and so
                # before any packet of that side (ACKs too) between them.
                moves.append((pos, prev[1]))
            last_payload[conn] = (t.side, pos)
        taken = set()
        chosen = []
        for pos, before in moves:
            span = set(range(before, pos + 1))
            if taken & span or rng.random() >= rate:
                continue
            taken |= span
            chosen.append((pos, before))
        for pos, before in sorted(chosen, reverse=True):
            moved = order[pos]
            side, conn = moved.tcp.side, moved.tcp.connection
            # The answering side's packets from `before` on (ACKs of the command, then the
            # answer's first segment) go before the command's segment, in their own order.
            group = [i for i in range(before, pos + 1)
                     if order[i].tcp and order[i].tcp.connection == conn
                     and order[i].tcp.side == side]
            changes.append({"op": "cross", "original": moved.index,
                            "before_original": order[before].index,
                            "moved_with": [order[i].index for i in group if i != pos],
                            "packet": moved.tcp.describe(),
                            "answers": order[before].tcp.describe()})
            packets_moved = [order[i] for i in group]
            for i in reversed(group):
                del order[i]
            order[before:before] = packets_moved
        changes.reverse()

    elif kind == "loss":
        # Only segments that a later segment (payload or FIN) of the same side follows: a lost
        # tail before an RST or the end of the capture is a hole that nothing can show.
        followed, seen = set(), set()
        for p in reversed(order):
            t = p.tcp
            if t:
                key = (t.connection, t.side)
                if key in seen:
                    followed.add(id(p))
                if t.payload_or_fin:
                    seen.add(key)
        kept = []
        for p in order:
            t = p.tcp
            # The draw comes first, so that the same seed draws for the same packets.
            if (t and t.length > 0 and not t.flags & 0x07 and rng.random() < rate
                    and id(p) in followed):
                changes.append({"op": "drop", "original": p.index, "packet": t.describe()})
                continue
            kept.append(p)
        order = kept
    else:
        raise ValueError("unknown kind " + kind)
    del tcp
    return order, changes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("kind", choices=sorted(RATES))
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rate", type=float, help="probability per candidate (default per kind)")
    args = ap.parse_args()
    rate = RATES[args.kind] if args.rate is None else args.rate
    linktype, packets = read_capture(args.input)
    for p in packets:
        p.tcp = parse_tcp(linktype, p.data)
    # One generator per (kind, seed): the same input always gives the same output.
    rng = random.Random("%s:%d" % (args.kind, args.seed))
    order, changes = mangle(args.kind, packets, rng, rate)
    timestamps = sorted(p.ts_ns for p in order)
    write_pcap(args.output, linktype, order, timestamps)
    sidecar = {"input": args.input, "kind": args.kind, "seed": args.seed, "rate": rate,
               "input_packets": len(packets), "output_packets": len(order),
               "order": [p.index for p in order], "changes": changes}
    with open(args.output + ".json", "w") as f:
        json.dump(sidecar, f, indent=1)
        f.write("\n")
    print("%s: %s, %d changes, %d -> %d packets" % (args.output, args.kind, len(changes),
                                                   len(packets), len(order)), file=sys.stderr)


if __name__ == "__main__":
    main()
