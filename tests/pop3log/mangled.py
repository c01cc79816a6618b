#!/usr/bin/env python3
"""pop3log on mangled copies of the sample captures gives the transactions of the originals.

tests/capture-conditions/mangle.py writes each copy (classic pcap) and a sidecar with the
original index of every packet. For the kinds that lose nothing:
- swap (same-direction reordering), repeat (duplicated segments) and cross (answers captured
  before the commands they answer, as from two one-way taps): every transaction line of the
  copy equals the original's, field by field, frames included once mapped back to the
  original's frame numbers through the sidecar; timestamps (mangle.py re-sorts them) and the
  conversation number (the order of first segments may change) are left out;
and for loss (payload segments dropped): the gap lines of each conversation and direction
add up to exactly the payload bytes dropped from it that no kept segment carries (a dropped
retransmission loses nothing).

Usage: mangled.py [--seeds N]. Environment: POP3LOG (empty when it was not built),
POP3DECODE_SOURCE_DIR. Exit 77 (skipped) when pop3log was not built.
"""
import argparse
import collections
import glob
import json
import os
import subprocess
import sys
import tempfile

SOURCE = os.environ.get("POP3DECODE_SOURCE_DIR") or os.path.join(os.path.dirname(__file__),
                                                                  "..", "..")
MANGLE = os.path.join(SOURCE, "tests", "capture-conditions", "mangle.py")
sys.path.insert(0, os.path.dirname(MANGLE))
import mangle  # noqa: E402  (its capture reader and TCP parser)
FRAME_FIELDS = ("command_frame", "answer_frame", "end_frame")


def pop3log_lines(pop3log, capture):
    p = subprocess.run([pop3log, capture], capture_output=True, text=True,
                       errors="surrogateescape")
    if p.returncode != 0:
        raise RuntimeError("pop3log %s failed (%d): %s" % (capture, p.returncode, p.stderr))
    return [json.loads(line) for line in p.stdout.splitlines()]


def endpoints(line):
    return (line["client"], line["client_port"], line["server"], line["server_port"])


def transactions(lines, frame_map=None):
    out = []
    for t in lines:
        if t["type"] != "transaction":
            continue
        t = {k: v for k, v in t.items() if not k.endswith("_time") and k != "conversation"}
        if frame_map:
            for k in FRAME_FIELDS:
                if k in t:
                    t[k] = frame_map[t[k]]
        out.append(t)
    out.sort(key=lambda t: (endpoints(t), t["request_id"]))
    return out


def lost_bytes(sidecar, copy):
    """(client, client port, server, server port, direction) -> payload bytes dropped that no
    segment kept in the copy carries (a dropped retransmission loses nothing)."""
    linktype, packets = mangle.read_capture(copy)
    kept = collections.defaultdict(list)  # side -> [(seq, length)]
    for packet in packets:
        t = mangle.parse_tcp(linktype, packet.data)
        if t and t.length:
            kept[(t.src, t.sport, t.dst, t.dport)].append((t.seq, t.length))
    out = collections.Counter()
    for change in sidecar["changes"]:
        if change.get("op") != "drop":
            continue
        p = change["packet"]
        src, sport = p["src"].rsplit(":", 1)
        dst, dport = p["dst"].rsplit(":", 1)
        src, dst, sport, dport = src.strip("[]"), dst.strip("[]"), int(sport), int(dport)
        missing = set(range(p["len"]))  # byte positions relative to the dropped seq
        for seq, length in kept[(src, sport, dst, dport)]:
            start = (seq - p["seq"]) & 0xFFFFFFFF
            if start >= 0x80000000:
                start -= 0x100000000
            missing -= set(range(max(0, start), min(p["len"], start + length)))
        if dport == 110:
            out[(src, sport, dst, 110, "client_to_server")] += len(missing)
        elif sport == 110:
            out[(dst, dport, src, 110, "server_to_client")] += len(missing)
    return +out


def gap_bytes(lines):
    out = collections.Counter()
    for g in lines:
        if g["type"] == "gap":
            out[endpoints(g) + (g["direction"],)] += g["length"]
    return +out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    pop3log = os.environ.get("POP3LOG", "")
    if not pop3log or not os.path.exists(pop3log):
        print("SKIPPED: pop3log was not built (libpcap not found, or "
              "POP3DECODE_BUILD_EXAMPLES=OFF)")
        return 77
    captures = sorted(glob.glob(os.path.join(SOURCE, "sample-pcaps", "*.pcapng")))
    failures, copies, changed, drops = 0, 0, 0, 0
    with tempfile.TemporaryDirectory(prefix="pop3log-mangled.") as tmp:
        for capture in captures:
            name = os.path.basename(capture)
            original_lines = pop3log_lines(pop3log, capture)
            original = transactions(original_lines)
            if not original:
                continue  # nothing in clear on port 110 (POP3S)
            for kind in ("swap", "repeat", "cross", "loss"):
                for seed in range(1, args.seeds + 1):
                    copy = os.path.join(tmp, "%s.%s.%d.pcap" % (name, kind, seed))
                    subprocess.run([sys.executable, MANGLE, kind, capture, copy, "--seed",
                                    str(seed)], check=True, capture_output=True)
                    with open(copy + ".json") as f:
                        sidecar = json.load(f)
                    copies += 1
                    changed += bool(sidecar["changes"])
                    lines = pop3log_lines(pop3log, copy)
                    label = "%s %s seed %d (%d changes)" % (name, kind, seed,
                                                            len(sidecar["changes"]))
                    if kind == "loss":
                        want, got = lost_bytes(sidecar, copy), gap_bytes(lines)
                        drops += sum(want.values())
                        if want != got:
                            failures += 1
                            print("%s: gaps differ from drops\n  dropped %s\n  gaps    %s" %
                                  (label, dict(want), dict(got)))
                        continue
                    frame_map = {i + 1: o + 1 for i, o in enumerate(sidecar["order"])}
                    mangled = transactions(lines, frame_map)
                    if mangled != original:
                        failures += 1
                        print("%s: transactions differ" % label)
                        for a, b in zip(original + [None] * len(mangled),
                                        mangled + [None] * len(original)):
                            if a != b:
                                print("  original %s\n  mangled  %s" % (a, b))
                                break
    print("%d copies (%d with changes), %d payload bytes lost, %d failing" %
          (copies, changed, drops, failures))
    if copies == 0 or changed == 0:
        print("FAIL: no mangled copy was made")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
