"""A minimal classic-pcap writer of Ethernet/IPv4/TCP packets, for synthetic test captures."""
import struct

CLIENT = (bytes([10, 0, 0, 1]), 40000)
SERVER = (bytes([10, 0, 0, 2]), 110)


class Writer:
    def __init__(self, f, client=CLIENT, server=SERVER):
        self.f = f
        self.t = 1704067200.0
        self.client, self.server = client, server
        self.seq = {client: 1000, server: 5000}
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))

    def packet(self, src, dst, payload=b"", flags=0x18, seq=None):
        """One segment; seq defaults to the next byte of src's stream (which then advances)."""
        self.t += 0.0001
        s = self.seq[src] if seq is None else seq
        tcp = struct.pack("!HHIIBBHHH", src[1], dst[1], s & 0xFFFFFFFF, self.seq[dst],
                          5 << 4, flags, 65535, 0, 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0x4000, 64,
                         6, 0, src[0], dst[0])
        eth = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00"
        frame = eth + ip + tcp + payload
        sec = int(self.t)
        self.f.write(struct.pack("<IIII", sec, int((self.t - sec) * 1e6), len(frame), len(frame)))
        self.f.write(frame)
        if seq is None:
            self.seq[src] = (self.seq[src] + len(payload)) & 0xFFFFFFFF

    def handshake(self):
        c, s = self.client, self.server
        self.packet(c, s, flags=0x02)
        self.seq[c] += 1
        self.packet(s, c, flags=0x12)
        self.seq[s] += 1
        self.packet(c, s, flags=0x10)

    def send(self, src, dst, data, mss=1460, ack_every=2):
        """data in mss-sized segments, acknowledged every ack_every segments."""
        n = 0
        for i in range(0, len(data), mss):
            self.packet(src, dst, data[i:i + mss])
            n += 1
            if n % ack_every == 0:
                self.packet(dst, src, flags=0x10)
        if n % ack_every:
            self.packet(dst, src, flags=0x10)

    def client_says(self, data, **kw):
        self.send(self.client, self.server, data, **kw)

    def server_says(self, data, **kw):
        self.send(self.server, self.client, data, **kw)
