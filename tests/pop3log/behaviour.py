#!/usr/bin/env python3
"""pop3log's own promises, beyond what the plugin shows:
- link types: every sample capture rewritten as Linux cooked v1 (SLL), v2 (SLL2), raw IP,
  BSD loopback and 802.1Q-tagged Ethernet gives exactly the lines of the original;
- ports: a capture moved to port 2110 gives nothing by default and the original's lines
  (port 2110 for 110) with -p 2110;
- secrets: no password, token or proof of the sample captures appears in the output unless
  --show-secrets is given, and then the PASS line does;
- JSON strings: bytes that are not UTF-8 come back exactly (surrogateescape), control
  characters and quotes are escaped, every line is one JSON object;
- port reuse: a SYN with a new sequence number on the addresses and ports of an open
  conversation ends it and starts another.

Environment: POP3LOG (empty when it was not built), POP3DECODE_SOURCE_DIR. Exit 77 (skipped)
when pop3log was not built.
"""
import glob
import json
import os
import struct
import subprocess
import sys
import tempfile

SOURCE = os.environ.get("POP3DECODE_SOURCE_DIR") or os.path.join(os.path.dirname(__file__),
                                                                  "..", "..")
sys.path.insert(0, os.path.join(SOURCE, "tests", "capture-conditions"))
sys.path.insert(0, os.path.join(SOURCE, "tests", "tshark"))
import mangle  # noqa: E402
import pcapports  # noqa: E402
import pcapwriter  # noqa: E402

# The test credentials of sample-pcaps/README.md, and their forms on the wire.
SECRETS = [b"wonderland", b"builder42", b"master-key", b"carol-empty",
           b"alice-oauth-token-0001", b"bob-oauth-token-0002", b"expired-token-9999",
           b"AGJvYgBidWlsZGVyNDI=", b"d29uZGVybGFuZA==", b"YnVpbGRlcjQy"]

failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL: " + what)


def run(pop3log, capture, *args):
    p = subprocess.run([pop3log, *args, capture], capture_output=True)
    if p.returncode != 0:
        raise RuntimeError("pop3log %s failed (%d): %s" % (capture, p.returncode, p.stderr))
    return p.stdout


def parse(out):
    return [json.loads(line) for line in out.decode("utf-8", "surrogateescape").splitlines()]


def relink(frame, kind):
    """An Ethernet frame as another link type: (linktype, frame)."""
    dst, src, ethertype, ip = frame[:6], frame[6:12], frame[12:14], frame[14:]
    if kind == "sll":
        return 113, struct.pack("!HHH", 0, 1, 6) + src + b"\0\0" + ethertype + ip
    if kind == "sll2":
        return 276, ethertype + b"\0\0" + struct.pack("!IHBB", 1, 1, 0, 6) + src + b"\0\0" + ip
    if kind == "raw":
        return 101, ip
    if kind == "loopback":
        family = 2 if ip[0] >> 4 == 4 else 30
        return 0, struct.pack("<I", family) + ip
    if kind == "vlan":
        return 1, dst + src + b"\x81\x00" + struct.pack("!H", 42) + ethertype + ip
    raise ValueError(kind)


def link_types(pop3log, tmp, captures):
    for capture in captures:
        original = run(pop3log, capture)
        linktype, packets = mangle.read_capture(capture)
        assert linktype == 1, capture
        for kind in ("sll", "sll2", "raw", "loopback", "vlan"):
            out = []
            for p in packets:
                new_type, data = relink(p.data, kind)
                out.append(mangle.Packet(p.index, p.ts_ns, data,
                                         p.orig_len - len(p.data) + len(data)))
            path = os.path.join(tmp, "%s.%s.pcap" % (os.path.basename(capture), kind))
            mangle.write_pcap(path, new_type, out, [p.ts_ns for p in out])
            check(run(pop3log, path) == original,
                  "%s as %s: output differs from the Ethernet original" % (capture, kind))


def ports(pop3log, tmp):
    capture = os.path.join(SOURCE, "sample-pcaps", "python-poplib-basics.pcapng")
    moved = os.path.join(tmp, "moved.pcapng")
    pcapports.rewrite(capture, moved, 110, 2110)
    check(run(pop3log, moved) == b"", "port 2110 decoded without -p")
    want = run(pop3log, capture).replace(b'"server_port":110', b'"server_port":2110')
    check(run(pop3log, moved, "-p", "2110") == want, "-p 2110 differs from the original")
    check(run(pop3log, moved, "-p", "995", "--port", "2110") == want, "two -p differ")


def secrets(pop3log, captures):
    for capture in captures:
        out = run(pop3log, capture)
        for secret in SECRETS:
            check(secret not in out, "%s: %r in the output" % (capture, secret))
        for t in parse(out):
            if t.get("secret"):
                check("line" not in t, "%s: a secret line shown" % capture)
    user_pass = os.path.join(SOURCE, "sample-pcaps", "curl-user-pass.pcapng")
    shown = run(pop3log, user_pass, "--show-secrets")
    check(b'"line":"PASS wonderland"' in shown, "--show-secrets does not show PASS")


def json_strings(pop3log, tmp):
    path = os.path.join(tmp, "bytes.pcap")
    name = b"caf\xc3\xa9\xff\x01\"\\\t\x7f"
    description = b"nope \xe9\xed\xa0\x80 \xf0\x9f\x93\xab"
    with open(path, "wb") as f:
        w = pcapwriter.Writer(f)
        w.handshake()
        w.server_says(b"+OK ready\r\n")
        w.client_says(b"USER " + name + b"\r\n")
        w.server_says(b"-ERR " + description + b"\r\n")
        w.client_says(b"QUIT\r\n")
        w.server_says(b"+OK bye\r\n")
    out = run(pop3log, path)
    lines = parse(out)
    check(len(lines) == 2 and all(t["type"] == "transaction" for t in lines),
          "synthetic capture: %r" % out)
    if len(lines) == 2:
        user = lines[0]
        check(user["argument"].encode("utf-8", "surrogateescape") == name,
              "argument bytes: %r" % user["argument"])
        check(user["description"].encode("utf-8", "surrogateescape") == description,
              "description bytes: %r" % user["description"])
        check(user["command_frame"] == 6 and user["answer_frame"] == 8,
              "frames: %r" % user)
    check(b"\x01" not in out and b"\x7f" not in out and b"\t" not in out,
          "control characters written raw")


def port_reuse(pop3log, tmp):
    """Two conversations on the same addresses and ports, the first never closed: the second
    SYN starts a new conversation and ends the first (its last command unanswered)."""
    path = os.path.join(tmp, "reuse.pcap")
    with open(path, "wb") as f:
        w = pcapwriter.Writer(f)
        w.handshake()
        w.server_says(b"+OK ready\r\n")
        w.client_says(b"USER alice\r\n")
        w.server_says(b"+OK\r\n")
        w.client_says(b"STAT\r\n")
        w.seq = {w.client: 900000, w.server: 700000}
        w.handshake()
        w.server_says(b"+OK again\r\n")
        w.client_says(b"USER bob\r\n")
        w.server_says(b"+OK\r\n")
    got = [(t["conversation"], t["command"], t.get("argument"), t["indicator"])
           for t in parse(run(pop3log, path)) if t["type"] == "transaction"]
    check(got == [(1, "USER", "alice", "+OK"), (1, "STAT", None, None),
                  (2, "USER", "bob", "+OK")], "port reuse: %r" % got)


def main():
    pop3log = os.environ.get("POP3LOG", "")
    if not pop3log or not os.path.exists(pop3log):
        print("SKIPPED: pop3log was not built (libpcap not found, or "
              "POP3DECODE_BUILD_EXAMPLES=OFF)")
        return 77
    captures = sorted(glob.glob(os.path.join(SOURCE, "sample-pcaps", "*.pcapng")))
    if not captures:
        print("FAIL: no sample captures")
        return 1
    with tempfile.TemporaryDirectory(prefix="pop3log-behaviour.") as tmp:
        link_types(pop3log, tmp, captures)
        ports(pop3log, tmp)
        secrets(pop3log, captures)
        json_strings(pop3log, tmp)
        port_reuse(pop3log, tmp)
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
