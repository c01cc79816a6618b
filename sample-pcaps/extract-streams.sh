#!/usr/bin/env bash
# Write the TCP payload of every plaintext POP3 session in the sample
# captures into OUTDIR, one file per direction:
#
#   OUTDIR/<capture>-<stream>.client   bytes the client sent to the server
#   OUTDIR/<capture>-<stream>.server   bytes the server sent to the client
#
# <capture> is the capture file name without .pcapng, <stream> is tshark's
# tcp.stream index.  Sessions on port 995 and sessions that switch to TLS
# with STLS are skipped (their bytes are not POP3 text).  The server side is
# the end with port 110 or 995; in a capture that starts mid-session the
# files hold only what was captured.
#
# Usage: sample-pcaps/extract-streams.sh OUTDIR [CAPTURE.pcapng...]
# Without capture arguments every *.pcapng beside this script is used.
# Needs tshark and python3.  Prints one line per file written.
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: $0 OUTDIR [CAPTURE.pcapng...]" >&2
    exit 2
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUTDIR=$1
shift
mkdir -p "$OUTDIR"
if [[ $# -eq 0 ]]; then
    set -- "$HERE"/*.pcapng
fi
PY=python3
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3

# tshark refuses to read its profile as root in some set-ups; a private HOME
# keeps the run independent of the caller's Wireshark preferences.
TSHARK_HOME=$(mktemp -d)
trap 'rm -rf "$TSHARK_HOME"' EXIT
tshark_q() { HOME=$TSHARK_HOME tshark "$@" 2>/dev/null; }

for cap in "$@"; do
    base=$(basename "$cap" .pcapng)
    base=${base%.pcap}
    # Streams that carry POP3 on port 110 without TLS.
    mapfile -t all < <(tshark_q -r "$cap" -Y 'tcp.port == 110 && tcp.len > 0' \
        -T fields -e tcp.stream | sort -un)
    mapfile -t tls < <(tshark_q -r "$cap" -Y 'tls' \
        -T fields -e tcp.stream | sort -un)
    for s in "${all[@]}"; do
        [[ -z $s ]] && continue
        if [[ " ${tls[*]} " == *" $s "* ]]; then
            continue
        fi
        tshark_q -r "$cap" -q -z "follow,tcp,raw,$s" |
            "$PY" -c '
import sys
out_prefix = sys.argv[1]
nodes = {}
data = {0: bytearray(), 1: bytearray()}
for line in sys.stdin:
    line = line.rstrip("\n")
    if line.startswith("Node 0: ") or line.startswith("Node 1: "):
        addr = line[8:]
        nodes[int(line[5])] = int(addr.rsplit(":", 1)[1])
        continue
    if not line or line.startswith("=") or ":" in line:
        continue
    node = 1 if line.startswith("\t") else 0
    try:
        data[node] += bytes.fromhex(line.strip())
    except ValueError:
        pass
if len(nodes) != 2:
    sys.exit("cannot find the two ends in tshark follow output")
server = 0 if nodes[0] in (110, 995) else 1
for node, suffix in ((server, ".server"), (1 - server, ".client")):
    with open(out_prefix + suffix, "wb") as f:
        f.write(data[node])
    print(out_prefix + suffix, len(data[node]))
' "$OUTDIR/$base-$s"
    done
done
