#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/) from the sample
captures (sample-pcaps/*.pcapng, read with tshark; TLS ones decrypted with their .keys file)
and the test vectors (tests/vectors/*.vec).

usage: fuzz/make-corpus.py [--clean] [--only TARGET]

- session: one input per TCP stream and per vector, in the fuzz_session.cpp layout: an options
  byte, then one data record per segment (vector chunk) in capture order, gaps and passwords
  as records. POP3S streams are written decrypted with the implicit_tls option; STLS streams
  both as captured (TLS records after STLS) and with the decrypted conversation after STLS.
- command, status, data_line: the distinct client lines, server status lines and server data
  lines of all of the above, one line per file without its line end; of lines that differ
  only in their letters and digits, the first one; at most 40 new ones per session.
- sasl (when fuzz/fuzz_sasl.cpp exists): each AUTH exchange of all of the above, decoded, in
  that target's layout (a mechanism byte, then steps: a header byte, bit 0 set for a server
  step and bits 1-7 the length, and the payload).
- tcp: the real-*.vec conversations of at most TCP_SEED_BYTES bytes, in the fuzz_tcp.cpp layout
  (a mode byte, the two initial sequence numbers, one record per chunk with a segment size),
  each with a few mangling programs: in order; reordered, repeated and overlapping without
  loss; without the handshake; with losses under tight bounds.
Inputs are capped at 64 KiB. File names are the SHA-1 of the contents, as libFuzzer names them.
Existing files are kept (crash reproducers live there too) unless --clean is given.
"""
import base64
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(HERE, "corpus")
MAX_INPUT = 64 * 1024
SEPARATOR = b"\xff\xfe"
LINES_PER_SESSION = 40  # new lines a session may add to each line corpus
TCP_SEED_BYTES = 1200  # the tcp seeds: small conversations keep the corpus small
# fuzz_tcp.cpp mangling programs (op, a, b): 0 swap, 1 repeat, 2 move back, 3 overlap, 4 loss
TCP_PROGRAMS = [
    (0x00, b""),
    (0x00, bytes([2, 5, 3, 0, 2, 7, 1, 3, 9, 3, 4, 1, 0x0b, 1, 2])),
    (0x01, bytes([2, 1, 1, 0, 4, 2])),
    (0x06, bytes([4, 6, 0, 2, 9, 4, 4, 2, 0])),
]


def tshark(*args):
    home = tempfile.mkdtemp()
    try:
        return subprocess.run(["tshark", *args], check=True, capture_output=True, text=True,
                              env={**os.environ, "HOME": home}).stdout
    finally:
        shutil.rmtree(home, ignore_errors=True)


def follow(capture, proto, stream, keys=None):
    """[(direction, bytes)] in capture order; direction 0 is the first node (the client)."""
    args = ["-r", capture, "-q", "-z", f"follow,{proto},raw,{stream}"]
    if keys:
        args = ["-o", f"tls.keylog_file:{keys}", *args]
    out = []
    for line in tshark(*args).splitlines():
        m = re.fullmatch(r"(\t?)([0-9a-f]+)", line)
        if m:
            out.append((1 if m.group(1) else 0, bytes.fromhex(m.group(2))))
    return out


def session_input(chunks, flags=0, passwords=()):
    """chunks: [(direction, bytes)] or [("gap", direction, n)]."""
    data = bytearray([flags])
    records = []
    for user, password in passwords:
        records.append(bytes([6 << 1]) + user + b"\0" + password)
    for chunk in chunks:
        if chunk[0] == "gap":
            n = max(1, min(16, chunk[2]))
            records.append(bytes([chunk[1] | (5 << 1) | ((n - 1) << 4)]))
        else:
            records.append(bytes([chunk[0]]) + chunk[1])
    data += SEPARATOR.join(records)
    return bytes(data[:MAX_INPUT])


def lines_of(chunks):
    """Splits each direction's bytes into lines (without line ends)."""
    streams = {0: bytearray(), 1: bytearray()}
    for chunk in chunks:
        if chunk[0] != "gap":
            streams[chunk[0]] += chunk[1]
    return {d: [l.rstrip(b"\r") for l in bytes(s).split(b"\n")] for d, s in streams.items()}


def sasl_mechanisms():
    """The mechanism names in fuzz_sasl.cpp's order, or None without that target."""
    path = os.path.join(HERE, "fuzz_sasl.cpp")
    if not os.path.exists(path):
        return None
    source = open(path, encoding="utf-8").read()
    table = source[source.index("mechanism_names[]"):]
    table = table[:table.index("};")]
    return re.findall(r'"([^"]+)"', table)


def sasl_inputs(chunks, mechanisms):
    """The AUTH exchanges of a conversation as fuzz_sasl inputs."""
    lines = []  # (direction, line) in wire order, assuming chunks end at line ends
    rest = {0: b"", 1: b""}
    for chunk in chunks:
        if chunk[0] == "gap":
            continue
        data = rest[chunk[0]] + chunk[1]
        *complete, rest[chunk[0]] = data.split(b"\n")
        lines += [(chunk[0], l.rstrip(b"\r")) for l in complete]
    inputs, current = [], None

    def step(server, text):
        try:
            payload = base64.b64decode(text, validate=True)[:127]
        except ValueError:
            return
        current.append(bytes([(len(payload) << 1) | server]) + payload)

    for direction, line in lines:
        words = line.split(b" ")
        if direction == 0 and words[0].upper() == b"AUTH" and len(words) >= 2:
            name = words[1].decode("latin1").upper()
            index = mechanisms.index(name) if name in mechanisms else len(mechanisms) - 1
            current = [bytes([index])]
            inputs.append(current)
            if len(words) >= 3 and words[2] != b"=":
                step(0, words[2])
        elif current is not None and direction == 1 and line[:1] == b"+" and \
                line[:3].upper() != b"+OK":
            step(1, line[2:] if line[1:2] == b" " else line[1:])
        elif current is not None and direction == 1:
            current = None
        elif current is not None and direction == 0 and line != b"*":
            step(0, line)
    return [b"".join(parts) for parts in inputs]


def unescape(text):
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c != "\\" or i + 1 >= len(text):
            out += c.encode("latin1")
            i += 1
            continue
        n = text[i + 1]
        i += 2
        if n == "r":
            out += b"\r"
        elif n == "n":
            out += b"\n"
        elif n == "t":
            out += b"\t"
        elif n == "0":
            out += b"\0"
        elif n == "\\":
            out += b"\\"
        elif n == "x":
            out.append(int(text[i:i + 2], 16))
            i += 2
        else:
            out += b"\\" + n.encode("latin1")
    return bytes(out)


def tcp_inputs(chunks):
    """The fuzz_tcp.cpp inputs of one conversation (none if it has gaps or separators)."""
    if any(c[0] == "gap" or b"\xff" in c[1] for c in chunks):
        return []
    if sum(len(c[1]) for c in chunks) > TCP_SEED_BYTES:
        return []
    records = SEPARATOR.join(bytes([d | (i % 16) << 4]) + data
                             for i, (d, data) in enumerate(chunks))
    isns = (0xFFFFFF00).to_bytes(4, "little") + (123456789).to_bytes(4, "little")
    return [bytes([mode]) + isns + records + b"\xff\xfd" + program
            for mode, program in TCP_PROGRAMS]


def load_vector(path):
    flags, passwords, chunks = 0, [], []
    max_lines = {"65536": 0, "64": 1, "200": 2, "1024": 3}
    max_pendings = {"4096": 0, "1": 1, "3": 2, "32": 3}
    with open(path, encoding="latin1") as f:
        for line in f:
            line = line.rstrip("\n")
            if line == "--- events":
                break
            if line.startswith(("C: ", "S: ")):
                chunks.append((0 if line[0] == "C" else 1, unescape(line[3:])))
            elif line.startswith("gap "):
                chunks.append(("gap", 0 if line[4] == "C" else 1, int(line[6:])))
            elif line.startswith("password "):
                user, password = line[9:].split(" ", 1)
                passwords.append((unescape(user), unescape(password)))
            elif line == "option mid_stream":
                flags |= 1
            elif line == "option implicit_tls":
                flags |= 2
            elif line.startswith("option max_line="):
                flags |= max_lines.get(line[16:], 1) << 2
            elif line.startswith("option max_pending="):
                flags |= max_pendings.get(line[19:], 2) << 4
    return flags, passwords, chunks


def capture_sessions(capture):
    """[(name, flags, chunks)] for each TCP stream of a capture with POP3 on it."""
    keys = os.path.splitext(capture)[0] + ".keys"
    keys = keys if os.path.exists(keys) else None
    rows = tshark("-r", capture, "-Y", "tcp.len > 0", "-T", "fields", "-e", "tcp.stream",
                  "-e", "tcp.dstport")
    streams = {}
    for row in rows.splitlines():
        stream, port = row.split("\t")
        streams.setdefault(int(stream), set()).add(int(port))
    name = os.path.splitext(os.path.basename(capture))[0]
    sessions = []
    for stream, ports in sorted(streams.items()):
        tcp = follow(capture, "tcp", stream)
        if not tcp:
            continue
        if 995 in ports:
            if keys:
                tls = follow(capture, "tls", stream, keys)
                if tls:
                    sessions.append((f"{name}-{stream}-decrypted", 2, tls))
            continue
        sessions.append((f"{name}-{stream}", 0, tcp))
        first_tls = next((i for i, (_, b) in enumerate(tcp) if b[:1] in (b"\x16", b"\x17")), None)
        if keys and first_tls is not None:
            tls = follow(capture, "tls", stream, keys)
            if tls:
                sessions.append((f"{name}-{stream}-stls-decrypted", 0, tcp[:first_tls] + tls))
    return sessions


def shape(line):
    """Lines that differ only in their letters and digits count as one (mail bodies)."""
    line = re.sub(rb"[A-Za-z0-9+/=]{12,}", b"B", line)
    return re.sub(rb"[0-9]+", b"1", re.sub(rb"[A-Za-z]+", b"a", line))[:200]


def write(target, data, seen):
    key = data if target in ("session", "sasl", "tcp") else shape(data)
    if not data or key in seen[target]:
        return False
    seen[target].add(key)
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)
    return True


def main():
    mechanisms = sasl_mechanisms()
    targets = ["session", "command", "status", "data_line", "tcp"] + \
        (["sasl"] if mechanisms else [])
    if "--only" in sys.argv:
        only = sys.argv[sys.argv.index("--only") + 1]
        targets = [t for t in targets if t == only]
    if "--clean" in sys.argv:
        for target in targets:
            shutil.rmtree(os.path.join(CORPUS, target), ignore_errors=True)
    seen = {t: set() for t in targets}
    if "tcp" in targets:
        for path in sorted(glob.glob(os.path.join(ROOT, "tests", "vectors", "real-*.vec"))):
            for data in tcp_inputs(load_vector(path)[2]):
                write("tcp", data, seen)
    if targets == ["tcp"]:
        print(f"tcp: {len(seen['tcp'])} inputs")
        return 0
    sessions = []
    for capture in sorted(glob.glob(os.path.join(ROOT, "sample-pcaps", "*.pcapng"))):
        for name, flags, chunks in capture_sessions(capture):
            sessions.append((flags, [], chunks))
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "vectors", "*.vec"))):
        sessions.append(load_vector(path))
    for flags, passwords, chunks in sessions:
        write("session", session_input(chunks, flags, passwords), seen)
        lines = lines_of(chunks)
        added = {"command": 0, "status": 0, "data_line": 0}
        for direction, line in [(0, l) for l in lines[0]] + [(1, l) for l in lines[1]]:
            target = "command" if direction == 0 else \
                "status" if line[:1] in (b"+", b"-") else "data_line"
            if added[target] < LINES_PER_SESSION:
                added[target] += write(target, line[:MAX_INPUT], seen)
        for data in sasl_inputs(chunks, mechanisms) if mechanisms else ():
            write("sasl", data, seen)
    for target, inputs in seen.items():
        print(f"{target}: {len(inputs)} inputs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
