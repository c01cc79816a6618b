#!/usr/bin/env python3
"""Turns the plaintext POP3 sessions of a capture into test vectors (tests/vectors/*.vec).

usage: capture_to_vectors.py CAPTURE OUTDIR [--port 110] [--password USER PASSWORD]...

Each TCP stream becomes OUTDIR/real-<capture>-<stream>.vec: its payload segments in capture
order as C:/S: chunks (one per segment, as on the wire), with the passwords given. The expected
events are filled in by running the tests with POP3DECODE_UPDATE_VECTORS=1, then reviewed.
"""
import argparse
import os
import subprocess
import sys


def escape(data: bytes, space: bool = False) -> str:
    out = []
    for c in data:
        if space and c == 0x20:
            out.append("\\x20")
        elif c == 0x5C:
            out.append("\\\\")
        elif c == 0x0D:
            out.append("\\r")
        elif c == 0x0A:
            out.append("\\n")
        elif c == 0x09:
            out.append("\\t")
        elif c < 0x20 or c >= 0x7F:
            out.append("\\x%02x" % c)
        else:
            out.append(chr(c))
    return "".join(out)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("capture")
    parser.add_argument("outdir")
    parser.add_argument("--port", type=int, default=110)
    parser.add_argument("--password", nargs=2, action="append", default=[])
    args = parser.parse_args()

    fields = subprocess.run(
        ["tshark", "-r", args.capture, "-Y",
         f"tcp.port == {args.port} && tcp.len > 0 && !tcp.analysis.retransmission",
         "-T", "fields", "-e", "tcp.stream", "-e", "tcp.dstport", "-e", "tcp.payload"],
        check=True, capture_output=True, text=True).stdout
    streams = {}
    for row in fields.splitlines():
        stream, dstport, payload = row.split("\t")
        direction = "C" if int(dstport) == args.port else "S"
        streams.setdefault(int(stream), []).append((direction, bytes.fromhex(payload.replace(":", ""))))

    name = os.path.splitext(os.path.basename(args.capture))[0]
    for stream, chunks in sorted(streams.items()):
        path = os.path.join(args.outdir, f"real-{name}-{stream}.vec")
        with open(path, "w", encoding="ascii") as out:
            out.write(f"# sample-pcaps/{os.path.basename(args.capture)}, TCP stream {stream}: "
                      "a real session, one chunk per segment.\n")
            for user, password in args.password:
                out.write(f"password {escape(user.encode(), True)} "
                          f"{escape(password.encode(), True)}\n")
            for direction, data in chunks:
                out.write(f"{direction}: {escape(data)}\n")
            out.write("--- events\n")
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
