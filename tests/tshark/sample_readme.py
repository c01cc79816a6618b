#!/usr/bin/env python3
"""Checks that every sample capture holds what its line in sample-pcaps/README.md says.

The captures table there has a column "commands and SASL mechanisms": code spans naming the
commands (`LIST`) and, as `AUTH <mechanism>`, the SASL mechanisms of the capture. For each row
tshark with the freshly built plugin reads the capture (two passes; TLS decrypted with the
capture's .keys file) and the check is:
  - every named command is a pop3.request.command of the capture;
  - every named `AUTH X` is an AUTH request with mechanism X (first word of
    pop3.request.parameter) and X is a pop3.auth.method, i.e. the plugin decoded an exchange;
  - every mechanism of an AUTH request in the capture is named (no unlisted SASL mechanism);
  - every capture in sample-pcaps/ has a row and every row's capture exists.

Environment: POP3DECODE_PLUGIN (the built pop3decode.so), POP3DECODE_SOURCE_DIR (the source
tree); SAMPLE_README_CAPTURE_DIR reads the captures from another folder (to check captures
before they replace the ones in the tree). Exit 0 when all rows hold, 1 otherwise, 77 (skip)
when tshark or the plugin is missing.
"""
import glob
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pop3json  # noqa: E402
import tsharkenv  # noqa: E402

SOURCE_DIR = os.environ.get("POP3DECODE_SOURCE_DIR", os.path.dirname(os.path.dirname(HERE)))
SAMPLES = os.path.join(SOURCE_DIR, "sample-pcaps")
CAPTURE_DIR = os.environ.get("SAMPLE_README_CAPTURE_DIR", SAMPLES)
README = os.path.join(SAMPLES, "README.md")
PLUGIN = os.environ.get("POP3DECODE_PLUGIN", "")
COLUMN = "commands and SASL mechanisms"
SKIP = 77


def cells(line):
    """The cells of a Markdown table row (no cell here contains a '|')."""
    return [c.strip() for c in line.strip().strip("|").split("|")]


def readme_rows(text):
    """{capture file name: [named items]} from the captures table of the README."""
    rows = {}
    column = None
    for line in text.splitlines():
        if not line.startswith("|"):
            column = None
            continue
        row = cells(line)
        if row and row[0] == "file":
            if COLUMN not in row:
                raise SystemExit("README table has no column %r: %s" % (COLUMN, line))
            column = row.index(COLUMN)
            continue
        if column is None or set(row[0]) <= set("- "):
            continue
        files = re.findall(r"`([^`]+\.pcapng?)`", row[0])
        if len(files) != 1:
            raise SystemExit("README row without one capture name: %s" % line)
        items = re.findall(r"`([^`]+)`", row[column]) if column < len(row) else []
        rest = re.sub(r"`[^`]+`", "", row[column] if column < len(row) else "").strip()
        if not items or rest:
            raise SystemExit("README row for %s: the %r column must be code spans only, got %r"
                             % (files[0], COLUMN, row[column] if column < len(row) else ""))
        rows[files[0]] = items
    return rows


def decoded(ts, path):
    args = ["-r", ts.capture(path), "-2", "-Y", "pop3.request || pop3.auth", "-T", "json",
            "-J", "frame pop3"]
    keys = os.path.splitext(path)[0] + ".keys"
    if os.path.exists(keys):
        args += ["-o", "tls.keylog_file:" + ts.capture(keys)]
    return pop3json.Decoded(ts.run(args).stdout)


def holdings(d):
    """(commands, mechanisms of AUTH requests, auth methods) of one capture."""
    commands, mechanisms, methods = set(), set(), set()
    for _, fields in d.frames:
        command = None
        for key, value in fields:
            if key == "pop3.request.command":
                command = value
                commands.add(value)
            elif key == "pop3.request.parameter" and command == "AUTH":
                mechanisms.add(value.split(" ")[0].upper())
                command = None
            elif key == "pop3.auth.method":
                methods.add(value)
    return commands, mechanisms, methods


def check(name, items, d):
    problems = []
    commands, mechanisms, methods = holdings(d)
    named_mechanisms = set()
    for item in items:
        words = item.split(" ")
        if words[0] == "AUTH" and len(words) == 2:
            mech = words[1].upper()
            named_mechanisms.add(mech)
            if mech not in mechanisms:
                problems.append("no AUTH %s request (AUTH mechanisms: %s)"
                                % (mech, " ".join(sorted(mechanisms)) or "none"))
            elif mech not in methods:
                problems.append("AUTH %s sent but no pop3.auth.method %s (methods: %s)"
                                % (mech, mech, " ".join(sorted(methods)) or "none"))
        elif len(words) == 1:
            if item not in commands:
                problems.append("no %s command (commands: %s)" % (item, " ".join(sorted(commands))))
        else:
            problems.append("cannot read item %r (a command or `AUTH <mechanism>`)" % item)
    for mech in sorted(mechanisms - named_mechanisms):
        problems.append("AUTH %s is in the capture but not in its README line" % mech)
    return ["%s: %s" % (name, p) for p in problems]


def main():
    if not PLUGIN or not os.path.exists(PLUGIN):
        print("pop3decode.so not found (set POP3DECODE_PLUGIN)", file=sys.stderr)
        return SKIP
    if tsharkenv.wireshark_version() is None:
        print("tshark not found", file=sys.stderr)
        return SKIP
    with open(README, encoding="utf-8") as f:
        rows = readme_rows(f.read())
    problems = []
    present = {os.path.basename(p) for p in glob.glob(os.path.join(CAPTURE_DIR, "*.pcap")) +
               glob.glob(os.path.join(CAPTURE_DIR, "*.pcapng"))}
    for name in sorted(present - set(rows)):
        problems.append("%s: no line in the README table" % name)
    for name in sorted(set(rows) - present):
        problems.append("%s: in the README table but not in %s" % (name, CAPTURE_DIR))
    ts = tsharkenv.TShark(PLUGIN)
    try:
        for name in sorted(set(rows) & present):
            found = check(name, rows[name], decoded(ts, os.path.join(CAPTURE_DIR, name)))
            print("%-40s %s" % (name, "ok" if not found else "MISMATCH"))
            problems += found
    finally:
        ts.close()
    if problems:
        print("\n%d mismatch(es) between sample-pcaps/README.md and the captures:" % len(problems))
        for p in problems:
            print("  " + p)
        return 1
    print("all %d captures hold what their README line names" % len(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
