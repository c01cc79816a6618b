#!/usr/bin/env python3
"""Real capture conditions: every sample capture, and copies of it mangled by mangle.py
(same-direction reordering, repeats, cross-direction reordering, loss; several seeds each),
read by tshark with the freshly built plugin; what the plugin shows on each copy is compared
with what it shows on the original.

What is compared (tshark -T json, -o tcp.relative_sequence_numbers:FALSE, TLS captures with
their key log):

- Pairings. Every pop3.response_to (on the answer's frame) and pop3.response_in (on the
  command's frame) becomes a pair (answer frame, command frame), each frame named by its TCP
  identity (source address:port, destination address:port, raw sequence number), which a
  moved or repeated packet keeps. A pairing of the copy is "kept" when the original has it,
  "WRONG" when it does not (the answer is linked to another command, or a command to another
  answer); an original pairing the copy lacks is "lost" ("lost (dropped)" when one of its two
  frames was dropped by the loss mangling). A line split over several segments is shown in the
  frame that completes it, which reordering changes: so a pairing also counts as kept when its
  answer and its command lie in the same turns (runs of one side's segments with no payload of
  the other side between them, in the original) as an original pairing's. Two answers in
  different segments of one turn linked to each other's commands, both in one turn of the other
  side, are therefore not told apart.
- Fields. Every top-level item of the pop3 tree with its whole subtree (values of every field,
  expert items included; pop3.response_in, pop3.response_to and pop3.time left out, they name
  frames and times), as a multiset per TCP connection and direction. "Equal" means the two
  multisets are equal: the same lines with the same fields and values, whatever frames they
  are shown in. That is what a correct decoder must give when bytes move between frames
  (a line split over two segments is shown in the frame that completes it, which reordering
  changes), and it still catches a line decoded twice, lost, misparsed or flagged differently.
- Losses (loss mangling only). A dropped segment is "reported" when a later frame of the same
  direction of its connection carries pop3.anomaly.gap ("by pop3") or only TCP's
  tcp.analysis.lost_segment (or the other direction's tcp.analysis.ack_lost_segment) ("by TCP
  only"); otherwise it is "SILENT".

A copy passes when, without loss, every field multiset and every pairing equals the
original's (nothing lost, nothing WRONG); with loss, no pairing is WRONG and no drop is SILENT.
Each test runs with tcp.reassemble_out_of_order on or off (--out-of-order).

The plugin puts segments back in the conversation's order with the library's TCP follower
(cleartext) and its decrypted-payload follower (TLS). The copies that still fail are listed
with why in known-failures-off.txt and -on.txt: a capture without SYN whose first segments were
moved (python-midstream cross 3), and TLS copies whose plaintext never reaches the plugin
because Wireshark's TLS cannot decrypt them (a ServerHello moved before the ClientHello; with
out-of-order reassembly off, the TLS cross and swap copies: TCP withholds from TLS a segment it
takes for a retransmission, and TLS decrypts nothing more of that direction).
--expect-current-failures FILE names the copies known to fail (one "capture kind seed" per
line, "#" comments); with it, the run fails only on a failure not in the list (a copy of the
list that now passes is reported, not failed). Without the flag every failure fails the run.

Environment, as tests/tshark/: POP3DECODE_PLUGIN, POP3DECODE_SOURCE_DIR. Exit 77 when tshark
or the plugin is missing.

  run.py [--out-of-order on|off] [--seeds N] [--kinds K,...] [--captures NAME,...]
         [--jobs J] [--expect-current-failures FILE] [--write-failures FILE] [--keep DIR]
"""
import argparse
import collections
import concurrent.futures
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("POP3DECODE_SOURCE_DIR", os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "tshark"))
import tsharkenv  # noqa: E402

MANGLE = os.path.join(HERE, "mangle.py")
KINDS = ("swap", "repeat", "cross", "loss")
FRAME_FIELDS = {"pop3.response_in", "pop3.response_to", "pop3.time", "pop3.reordered_from",
                "pop3.end.unanswered_in", "pop3.data.end_in"}
# Notes about the transport, not the conversation: which frame's bytes wait, which were
# captured twice. They depend on where packets were captured, as TCP's own analysis does.
TRANSPORT_NOTES = ("Waiting for bytes captured later", "Retransmitted data")
# The session user is shown on every frame after the login: which frames show it depends on
# the order the frames were captured in, not on what was decoded.
# Likewise the context a frame carrying part of an answer repeats (the command it answers).
FRAME_STATE = {"pop3.session.user", "pop3.response.command"}
SKIP = 77


class Obj(list):
    """A JSON object as its (key, value) pairs, repeated keys kept, in order."""


def pairs_hook(pairs):
    return Obj(pairs)


def get(pairs, key):
    for k, v in pairs:
        if k == key:
            return v
    return None


def walk(node):
    """(key, value) of every field under a JSON object kept as pairs."""
    if isinstance(node, Obj):
        for key, value in node:
            if isinstance(value, Obj):
                yield key, None
                yield from walk(value)
            elif isinstance(value, list):  # a field repeated in one tree: a JSON array
                for v in value:
                    if isinstance(v, Obj):
                        yield key, None
                        yield from walk(v)
                    else:
                        yield key, v
            else:
                yield key, value


def canonical(node):
    """A hashable form of a subtree, without the fields that name frames or times."""
    if isinstance(node, Obj):
        return tuple((k, canonical(v)) for k, v in node if k not in FRAME_FIELDS)
    if isinstance(node, list):
        return tuple(canonical(v) for v in node)
    return node


class Frame:
    __slots__ = ("number", "key", "conn", "side", "pop3", "gap", "tcp_lost", "tcp_ack_lost",
                 "links", "length")


def add_pop3(f, tree):
    """Top-level items after a pop3.reordered_from N were decoded from frame N's bytes (captured
    out of order, shown where they were decoded): they and their links count as frame N's, up
    to the next such item or the text item "Bytes of this frame"."""
    items = list(tree) if isinstance(tree, Obj) else []
    owner = None
    for i, (k, v) in enumerate(items):
        if k == "pop3.reordered_from":
            owner = int(v)
            continue
        if k == "Bytes of this frame":  # the frame's own bytes follow those of earlier frames
            owner = None
            continue
        if k.endswith("_tree"):
            continue
        sub = get(items[i + 1:i + 2], k + "_tree") if i + 1 < len(items) else None
        for key, value in walk(Obj([(k, v)] + ([(k + "_tree", sub)] if sub is not None else []))):
            if key in ("pop3.response_to", "pop3.response_in") and value is not None:
                f.links.append((key, int(value), owner))
            elif key == "pop3.anomaly.gap":
                f.gap = True
        if k in FRAME_FIELDS or k in FRAME_STATE or k.startswith(TRANSPORT_NOTES):
            continue
        f.pop3.append(((k, canonical(v), canonical(sub)), owner))


def decode(text):
    """Frames of one tshark -T json run: TCP identity, pop3 top-level items, expert flags."""
    frames = {}
    for packet in json.loads(text, object_pairs_hook=pairs_hook) if text.strip() else []:
        layers = get(get(packet, "_source"), "layers")
        f = Frame()
        f.pop3, f.links, f.gap, f.tcp_lost, f.tcp_ack_lost = [], [], False, False, False
        f.key = f.conn = f.side = None
        f.length = 0
        src = dst = None
        for name, layer in layers:
            if name == "frame":
                f.number = int(get(layer, "frame.number"))
            elif name in ("ip", "ipv6") and src is None:
                src, dst = get(layer, name + ".src"), get(layer, name + ".dst")
            elif name == "tcp" and f.key is None:
                seq = get(layer, "tcp.seq_raw") or get(layer, "tcp.seq")
                a = "%s:%s" % (src, get(layer, "tcp.srcport"))
                b = "%s:%s" % (dst, get(layer, "tcp.dstport"))
                f.key = (a, b, int(seq))
                f.conn = (a, b) if a < b else (b, a)
                f.side = a
                f.length = int(get(layer, "tcp.len") or 0)
                keys = {k for k, _ in walk(layer)}
                f.tcp_lost = "tcp.analysis.lost_segment" in keys
                f.tcp_ack_lost = "tcp.analysis.ack_lost_segment" in keys
            elif name == "pop3":
                # Two pop3 trees in one frame come as a JSON array of objects.
                for tree in (layer if not isinstance(layer, Obj) else [layer]):
                    add_pop3(f, tree)
        frames[f.number] = f
    return frames


def summarise(frames):
    """Pairings {(answer key, command key)} and field multisets {(conn, side): Counter}."""
    pairings = set()
    fields = collections.defaultdict(collections.Counter)
    for f in frames.values():
        for kind, other, owner in f.links:
            o = frames.get(other)
            okey = o.key if o else ("frame", other)
            fkey = frames[owner].key if owner in frames else f.key
            pairings.add((fkey, okey) if kind == "pop3.response_to" else (okey, fkey))
        for item, owner in f.pop3:
            side = frames[owner].side if owner in frames else f.side
            fields[(f.conn, side)][item] += 1
    return pairings, fields


class Result:
    def __init__(self, capture, kind, seed):
        self.capture, self.kind, self.seed = capture, kind, seed
        self.kept = self.lost = self.lost_dropped = self.wrong = 0
        self.fields_equal = self.fields_different = 0
        self.drops = self.by_pop3 = self.by_tcp = self.silent = 0
        self.changes = 0
        self.moved = 0
        self.error = None
        self.examples = []

    @property
    def name(self):
        return "%s %s %d" % (self.capture, self.kind, self.seed)

    @property
    def failed(self):
        if self.error:
            return True
        if self.kind == "loss":
            return self.wrong > 0 or self.silent > 0
        return self.wrong > 0 or self.lost > 0 or self.fields_different > 0


def turns(frames):
    """For each side of each connection of the original, its turns: (first seq, end seq) of
    each run of that side's payload segments with no payload of the other side between them
    (file order). A line split over segments of one turn may be shown in any of them."""
    runs = {}
    last_side = {}
    for number in sorted(frames):
        f = frames[number]
        if not f.key or f.length == 0:
            continue
        side = (f.key[0], f.key[1])
        if last_side.get(f.conn) != side:
            runs.setdefault(side, []).append([f.key[2], f.key[2] + f.length])
            last_side[f.conn] = side
        else:
            run = runs[side][-1]
            run[1] = max(run[1], f.key[2] + f.length)
    return runs


def turn_of(runs, key):
    """(side, index of the turn) holding a frame's sequence number, or the key itself."""
    if not isinstance(key, tuple) or len(key) != 3 or key[0] == "frame":
        return key
    for i, (start, end) in enumerate(runs.get((key[0], key[1]), ())):
        if 0 <= ((key[2] - start) & 0xFFFFFFFF) < ((end - start) & 0xFFFFFFFF) or key[2] == start:
            return (key[0], key[1], "turn", i)
    return key


def compare(original, mangled, sidecar, result):
    o_pairs, o_fields, o_turns = original
    frames = mangled
    m_pairs, m_fields = summarise(frames)
    # A pairing whose answer and command lie in the same turns as an original pairing is the
    # same pairing shown in another frame of those turns (reordered segments complete a line
    # in another frame): kept, not lost and WRONG.
    o_by_turn = {(turn_of(o_turns, a), turn_of(o_turns, c)) for a, c in o_pairs}
    m_by_turn = {(turn_of(o_turns, a), turn_of(o_turns, c)) for a, c in m_pairs}
    moved_m = {p for p in m_pairs - o_pairs
               if (turn_of(o_turns, p[0]), turn_of(o_turns, p[1])) in o_by_turn}
    moved_o = {p for p in o_pairs - m_pairs
               if (turn_of(o_turns, p[0]), turn_of(o_turns, p[1])) in m_by_turn}
    result.moved = len(moved_m)
    m_pairs = (m_pairs - moved_m) | moved_o
    dropped = {(c["packet"]["src"], c["packet"]["dst"], c["packet"]["seq"])
               for c in sidecar["changes"] if c["op"] == "drop"}
    result.changes = len(sidecar["changes"])
    result.kept = len(m_pairs & o_pairs)
    result.wrong = len(m_pairs - o_pairs)
    for answer, command in o_pairs - m_pairs:
        if answer in dropped or command in dropped:
            result.lost_dropped += 1
        else:
            result.lost += 1
    for answer, command in sorted(m_pairs - o_pairs, key=str)[:3]:
        result.examples.append("WRONG: answer %s linked to command %s" % (answer, command))
    for key in sorted(set(o_fields) | set(m_fields), key=str):
        if o_fields.get(key, collections.Counter()) == m_fields.get(key, collections.Counter()):
            result.fields_equal += 1
        else:
            result.fields_different += 1
            if sidecar["kind"] != "loss" and len(result.examples) < 6:
                missing = o_fields.get(key, collections.Counter()) - m_fields.get(
                    key, collections.Counter())
                extra = m_fields.get(key, collections.Counter()) - o_fields.get(
                    key, collections.Counter())
                result.examples.append("fields sent by %s: %d items missing (e.g. %s), %d extra "
                                       "(e.g. %s)" % (key[1], sum(missing.values()),
                                                      _short(missing), sum(extra.values()),
                                                      _short(extra)))
    if sidecar["kind"] == "loss":
        for c in sidecar["changes"]:
            p = c["packet"]
            result.drops += 1
            later = [f for f in frames.values()
                     if f.key and f.key[0] == p["src"] and f.key[1] == p["dst"]
                     and 0 < ((f.key[2] - p["seq"]) & 0xFFFFFFFF) < 0x80000000]
            # The other side's ACK of the bytes ("ACKed unseen segment") when no later
            # segment of this side shows the hole (the last data before an RST).
            acks = [f for f in frames.values()
                    if f.key and f.key[0] == p["dst"] and f.key[1] == p["src"] and f.tcp_ack_lost]
            if any(f.gap for f in later):
                result.by_pop3 += 1
            elif any(f.tcp_lost for f in later) or acks:
                result.by_tcp += 1
            else:
                result.silent += 1
                result.examples.append("SILENT drop of %s -> %s seq %d len %d" % (
                    p["src"], p["dst"], p["seq"], p["len"]))


def _short(counter):
    for item in counter:
        return repr(item[:2])[:100]
    return "-"


class Runner:
    def __init__(self, plugin, out_of_order, work):
        self.tshark = tsharkenv.TShark(plugin)
        self.out_of_order = out_of_order
        self.work = work

    def json(self, path, keys):
        args = ["-r", self.tshark.capture(path), "-T", "json", "-J", "frame ip ipv6 tcp pop3",
                "-o", "tcp.relative_sequence_numbers:FALSE",
                "-o", "tcp.reassemble_out_of_order:" + ("TRUE" if self.out_of_order else "FALSE")]
        if keys:
            args += ["-o", "tls.keylog_file:" + self.tshark.capture(keys)]
        p = self.tshark.run(args, check=False)
        if p.returncode != 0:
            raise RuntimeError("tshark exited %d on %s: %s" % (p.returncode, path,
                                                                p.stderr.strip()[-400:]))
        return decode(p.stdout)

    def close(self):
        self.tshark.close()


def run_capture(runner, capture, kinds, seeds):
    name = os.path.splitext(os.path.basename(capture))[0]
    keys = os.path.splitext(capture)[0] + ".keys"
    keys = keys if os.path.exists(keys) else None
    results = []
    try:
        original_frames = runner.json(capture, keys)
        original = summarise(original_frames) + (turns(original_frames),)
    except (RuntimeError, ValueError) as e:
        r = Result(name, "original", 0)
        r.error = "the original: %s" % e
        return name, (set(), {}, {}), [r]
    for kind in kinds:
        for seed in range(1, seeds + 1):
            r = Result(name, kind, seed)
            out = os.path.join(runner.work, "%s.%s.%d.pcap" % (name, kind, seed))
            try:
                subprocess.run([sys.executable, MANGLE, kind, capture, out, "--seed", str(seed)],
                               check=True, capture_output=True)
                with open(out + ".json") as f:
                    sidecar = json.load(f)
                compare(original, runner.json(out, keys), sidecar, r)
            except (RuntimeError, ValueError, subprocess.CalledProcessError) as e:
                r.error = str(e)
            results.append(r)
    return name, original, results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out-of-order", choices=("on", "off"), default="off",
                    help="tcp.reassemble_out_of_order")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--captures", help="only these captures (names without extension)")
    ap.add_argument("--capture-dir", metavar="DIR",
                    help="the captures of DIR instead of sample-pcaps/ (skipped when DIR is absent)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--expect-current-failures", metavar="FILE")
    ap.add_argument("--write-failures", metavar="FILE", help="write the failing copies' names")
    ap.add_argument("--keep", metavar="DIR", help="keep the mangled copies here")
    ap.add_argument("--verbose", action="store_true", help="examples of every difference")
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)

    plugin = os.environ.get("POP3DECODE_PLUGIN", "")
    if not shutil.which("tshark") or not os.path.exists(plugin):
        print("SKIPPED: tshark or the plugin (POP3DECODE_PLUGIN=%r) is missing" % plugin)
        return SKIP
    folder = args.capture_dir or os.path.join(SOURCE_DIR, "sample-pcaps")
    if not os.path.isdir(folder):
        print("SKIPPED: no capture folder %s" % folder)
        return SKIP
    captures = sorted(glob.glob(os.path.join(folder, "*.pcapng")) +
                      glob.glob(os.path.join(folder, "*.pcap")))
    if args.captures:
        wanted = set(args.captures.split(","))
        captures = [c for c in captures if os.path.splitext(os.path.basename(c))[0] in wanted]
    kinds = [k for k in args.kinds.split(",") if k]
    expected = set()
    if args.expect_current_failures:
        with open(args.expect_current_failures) as f:
            for line in f:
                line = line.split("#")[0].strip()
                if line:
                    expected.add(" ".join(line.split()))

    work = args.keep or tempfile.mkdtemp(prefix="pop3decode-conditions.")
    os.makedirs(work, exist_ok=True)
    runner = Runner(plugin, args.out_of_order == "on", work)
    all_results = []
    print("tcp.reassemble_out_of_order %s; %d captures; kinds %s; seeds 1-%d" % (
        args.out_of_order, len(captures), ",".join(kinds), args.seeds))
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = [pool.submit(run_capture, runner, c, kinds, args.seeds) for c in captures]
            for future in futures:
                name, (o_pairs, o_fields, _), results = future.result()
                all_results.extend(results)
                print("\n%s: %d pairings, %d connection directions with pop3 items" % (
                    name, len(o_pairs), len(o_fields)))
                for r in results:
                    if r.error:
                        print("  %-6s seed %d: ERROR %s" % (r.kind, r.seed, r.error))
                        continue
                    line = ("  %-6s seed %d: %2d changes; pairings kept %3d (%d in another frame of "
                            "the same turns), lost %3d, WRONG %2d"
                            % (r.kind, r.seed, r.changes, r.kept, r.moved, r.lost, r.wrong))
                    if r.kind == "loss":
                        line += ", lost (dropped) %d; drops %d: by pop3 %d, by TCP only %d, " \
                                "SILENT %d" % (r.lost_dropped, r.drops, r.by_pop3, r.by_tcp,
                                               r.silent)
                    line += "; fields equal %d, different %d" % (r.fields_equal,
                                                                 r.fields_different)
                    status = "FAIL" if r.failed else "ok"
                    if r.failed and r.name in expected:
                        status = "FAIL (known)"
                    print(line + "  " + status)
                    if r.failed and args.verbose:
                        for e in r.examples:
                            print("      " + e)
    finally:
        runner.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print("\nTotals per kind (copies failing / copies; pairings kept, lost, WRONG; "
          "connection directions with different fields)")
    for kind in kinds:
        rs = [r for r in all_results if r.kind == kind]
        print("  %-6s %3d copies without any change" % (kind, sum(r.changes == 0 for r in rs)))
        print("  %-6s %3d / %3d failing; pairings kept %5d, lost %4d, lost (dropped) %3d, "
              "WRONG %3d; fields different %3d of %4d; most WRONG in one copy %d; drops %d "
              "(by pop3 %d, by TCP only %d, SILENT %d)" % (
                  kind, sum(r.failed for r in rs), len(rs), sum(r.kept for r in rs),
                  sum(r.lost for r in rs), sum(r.lost_dropped for r in rs),
                  sum(r.wrong for r in rs), sum(r.fields_different for r in rs),
                  sum(r.fields_different + r.fields_equal for r in rs),
                  max([r.wrong for r in rs] or [0]), sum(r.drops for r in rs),
                  sum(r.by_pop3 for r in rs), sum(r.by_tcp for r in rs),
                  sum(r.silent for r in rs)))
    failing = sorted(r.name for r in all_results if r.failed)
    if args.write_failures:
        with open(args.write_failures, "w") as f:
            f.write("".join(n + "\n" for n in failing))
    unexpected = [n for n in failing if n not in expected]
    if args.expect_current_failures:
        ran = {r.name for r in all_results}
        fixed = sorted(n for n in expected & ran if n not in failing)
        if fixed:
            print("\n%d copies of the known-failure list pass now (remove them from %s):" % (
                len(fixed), args.expect_current_failures))
            for n in fixed:
                print("  " + n)
    if unexpected:
        print("\nFAILED: %d copies differ from the original%s:" % (
            len(unexpected), " and are not in the known-failure list" if expected else ""))
        for n in unexpected:
            print("  " + n)
        return 1
    print("\n%d copies, %d failing%s" % (len(all_results), len(failing),
                                          " (all known)" if failing else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
