"""Rewrites a TCP port in a pcap or pcapng capture of Ethernet frames (IPv4 or IPv6), so that a
recorded conversation appears on another port. Checksums are left as they are: Wireshark does
not check TCP checksums by default."""
import struct
import sys


def _rewrite_frame(frame, old, new):
    if len(frame) < 14:
        return frame
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    off = 14
    if ethertype == 0x0800 and len(frame) >= off + 20:
        proto = frame[off + 9]
        off += (frame[off] & 0x0F) * 4
    elif ethertype == 0x86DD and len(frame) >= off + 40:
        proto = frame[off + 6]
        off += 40
    else:
        return frame
    if proto != 6 or len(frame) < off + 4:
        return frame
    sport, dport = struct.unpack_from("!HH", frame, off)
    sport = new if sport == old else sport
    dport = new if dport == old else dport
    b = bytearray(frame)
    struct.pack_into("!HH", b, off, sport, dport)
    return bytes(b)


def rewrite(src_path, dst_path, old, new):
    with open(src_path, "rb") as f:
        data = bytearray(f.read())
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"):
        e = "<" if magic[0] in (0xD4, 0x4D) else ">"
        if struct.unpack_from(e + "I", data, 20)[0] != 1:
            raise ValueError("only Ethernet captures")
        pos = 24
        while pos + 16 <= len(data):
            caplen = struct.unpack_from(e + "I", data, pos + 8)[0]
            start = pos + 16
            data[start:start + caplen] = _rewrite_frame(bytes(data[start:start + caplen]), old, new)
            pos = start + caplen
    elif magic == b"\x0a\x0d\x0d\x0a":
        e = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        linktypes = []
        pos = 0
        while pos + 12 <= len(data):
            btype, blen = struct.unpack_from(e + "II", data, pos)
            if btype == 0x0A0D0D0A:
                linktypes = []
            elif btype == 1:
                linktypes.append(struct.unpack_from(e + "H", data, pos + 8)[0])
            elif btype == 6:
                iface, _, _, caplen = struct.unpack_from(e + "IIII", data, pos + 8)
                if linktypes[iface] == 1:
                    start = pos + 28
                    data[start:start + caplen] = _rewrite_frame(bytes(data[start:start + caplen]),
                                                                old, new)
            pos += blen
    else:
        raise ValueError("not a pcap or pcapng file")
    with open(dst_path, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    rewrite(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
