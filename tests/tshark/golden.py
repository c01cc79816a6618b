#!/usr/bin/env python3
"""Golden tshark output of the pop3 plugin for every capture in sample-pcaps/.

For each sample-pcaps/<name>.pcap[ng] (decrypted with <name>.keys when present), the golden file
sample-pcaps/golden/<name>.txt holds `tshark -2 -Y pop3 -T fields` of chosen pop3 fields, with
TZ=UTC and an empty HOME (see FIELDS below).

  golden.py --check        compare (exit 1 on a difference, 77 when tshark or the plugin is missing)
  golden.py --regenerate   rewrite the golden files

The plugin is POP3DECODE_PLUGIN or --plugin; usually run through CMake:
  cmake --build <build> --target golden        (regenerate)
  ctest --test-dir <build> -R tshark_golden    (check)
"""
import argparse
import difflib
import glob
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tsharkenv  # noqa: E402
import wsformat  # noqa: E402

SOURCE_DIR = os.environ.get("POP3DECODE_SOURCE_DIR", os.path.dirname(os.path.dirname(HERE)))
SAMPLES = os.path.join(SOURCE_DIR, "sample-pcaps")
GOLDEN = os.path.join(SAMPLES, "golden")

FIELDS = [
    "frame.number", "_ws.col.Info",
    "pop3.request.command", "pop3.request.parameter",
    "pop3.response.indicator", "pop3.response.code", "pop3.response.command",
    "pop3.response_to", "pop3.response_in", "pop3.time",
    "pop3.capa.name", "pop3.capa.value",
    "pop3.sasl.mechanism", "pop3.sasl.step",
    "pop3.auth.method", "pop3.auth.username", "pop3.auth.authzid", "pop3.auth.result",
    "pop3.session.state", "pop3.session.tls", "pop3.session.user",
    "pop3.stat.messages", "pop3.stat.octets",
    "pop3.msg.number", "pop3.msg.size", "pop3.msg.uid",
    "pop3.data.lines", "pop3.data.octets", "pop3.data.end_in", "pop3.data.octets_match",
    "_ws.expert.message",
]


def captures():
    return sorted(glob.glob(os.path.join(SAMPLES, "*.pcap")) +
                  glob.glob(os.path.join(SAMPLES, "*.pcapng")))


def golden_path(capture):
    return os.path.join(GOLDEN, os.path.splitext(os.path.basename(capture))[0] + ".txt")


def render(ts, capture):
    common = ["-r", ts.capture(capture), "-2", "-Y", "pop3"]
    keys = os.path.splitext(capture)[0] + ".keys"
    if os.path.exists(keys):
        common += ["-o", "tls.keylog_file:" + ts.capture(keys)]
    args = common + ["-T", "fields", "-E", "header=y", "-E", "separator=/t", "-E", "quote=n",
                     "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in FIELDS:
        args += ["-e", f]
    # In the form Wireshark 4.0 prints, whichever version runs (see wsformat.py).
    text = wsformat.of(ts).fields(ts.run(args).stdout, FIELDS, header=True, aggregator="|")
    # The Info column as the packet list shows it (the field lacks the postdissector's text
    # from 4.4 on, see wsformat.py).
    info = wsformat.info_rows(ts.run(common + wsformat.INFO_ARGS).stdout)
    column = FIELDS.index("_ws.col.Info")
    lines = text.split("\n")
    for n, line in enumerate(lines[1:], 1):
        cols = line.split("\t")
        if len(cols) > column and cols[0]:
            cols[column] = info[int(cols[0])]
            lines[n] = "\t".join(cols)
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--regenerate", action="store_true")
    ap.add_argument("--plugin", default=os.environ.get("POP3DECODE_PLUGIN", ""))
    opts = ap.parse_args()

    if not opts.plugin or not os.path.exists(opts.plugin):
        print("pop3decode.so not found (--plugin or POP3DECODE_PLUGIN)", file=sys.stderr)
        return 77
    if tsharkenv.wireshark_version() is None:
        print("tshark not found", file=sys.stderr)
        return 77
    caps = captures()
    if not caps:
        print("no captures in %s" % SAMPLES, file=sys.stderr)
        return 77

    ts = tsharkenv.TShark(opts.plugin)
    try:
        failures = 0
        if opts.regenerate:
            os.makedirs(GOLDEN, exist_ok=True)
            wanted = set()
            for cap in caps:
                path = golden_path(cap)
                wanted.add(path)
                with open(path, "w") as f:
                    f.write(render(ts, cap))
                print("wrote", os.path.relpath(path, SOURCE_DIR))
            for stale in set(glob.glob(os.path.join(GOLDEN, "*.txt"))) - wanted:
                os.remove(stale)
                print("removed", os.path.relpath(stale, SOURCE_DIR))
            return 0

        for cap in caps:
            path = golden_path(cap)
            name = os.path.basename(cap)
            if not os.path.exists(path):
                print("FAIL %s: no golden file %s (regenerate)" % (name, path))
                failures += 1
                continue
            with open(path) as f:
                want = f.read()
            got = render(ts, cap)
            if got != want:
                failures += 1
                print("FAIL %s: differs from %s" % (name, os.path.relpath(path, SOURCE_DIR)))
                sys.stdout.writelines(list(difflib.unified_diff(
                    want.splitlines(True), got.splitlines(True), "golden", "tshark"))[:200])
            else:
                print("ok   %s" % name)
        caps_names = set(os.path.splitext(os.path.basename(c))[0] for c in caps)
        for g in glob.glob(os.path.join(GOLDEN, "*.txt")):
            if os.path.splitext(os.path.basename(g))[0] not in caps_names:
                print("FAIL stale golden file without a capture: %s" % g)
                failures += 1
        if failures:
            print("%d golden file(s) differ; if the change is intended: "
                  "cmake --build <build> --target golden" % failures)
        return 1 if failures else 0
    finally:
        ts.close()


if __name__ == "__main__":
    sys.exit(main())
