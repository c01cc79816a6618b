#!/usr/bin/env python3
"""What a finished session keeps on the heap, by what allocated it.

Takes two heaptrack recordings of tshark (heaptrack 1.x) over captures of N and 2N identical
short sessions and prints, per added session, the bytes alive at the peak, grouped by the part
of the plugin that allocated them; "wireshark" is what no plugin function is on the stack of
(TCP's conversations and analysis: the built-in dissector's run shows the same).

tshark must run with WIRESHARK_DEBUG_WMEM_OVERRIDE=simple (each wmem allocation is its own
malloc, so that it is attributed to its caller instead of to an 8 MB block) and
G_SLICE=always-malloc; setarch -R keeps the addresses of libwireshark's unnamed functions the
same in both runs. bench/README.md ("What a finished session keeps") has the commands. The
figures are requested bytes: the allocators' own overhead comes on top (peak RSS shows it).

    bench/heap-per-session.py N heaptrack.N.zst heaptrack.2N.zst
"""
import collections
import subprocess
import sys

# The plugin's allocation sites, first match wins (the frames of a stack, joined by ";").
GROUPS = [
    ("request labels", ("command_label", "feed_callback;wmem_strdup_printf")),
    ("requests (one per command)", ("conv_request", "conv_requests_trim")),
    ("per-call records (events and parts)", ("record_pack", "part_close", "part_begin")),
    ("records of segments that produced nothing", ("pop3_tcp_segment_seen;feed_ctx_done;wmem_alloc0",)),
    ("proto_data entries (one per record)", ("p_add_proto_data",)),
    ("conversation state", ("get_conv",)),
    ("connection end record", ("decide", "count_unanswered")),
    ("SYN records", ("pop3_tcp_segment_seen",)),
    ("reassembled multi-line answers", ("feed_callback",)),
    ("session user strings", ("get_utf_8_string", "wmem_strbuf")),
    # record_pack's shrinking realloc (a record with messages), inlined into feed_ctx_done
    ("per-call records (events and parts)", ("feed_ctx_done",)),
]
PLUGIN_MARKERS = ("pop3", "feed_", "record_", "part_", "conv_", "show_", "pop3decode::")


def allocator_table(stack, diff):
    """The simple allocator's own table of pointers: it doubles (a power of two of bytes, 64 KiB
    and up, through g_realloc), attributed to whichever allocation made it grow."""
    d = abs(diff)
    return stack.endswith("g_realloc") and d >= 65536 and d & (d - 1) == 0


def stacks(path):
    out = subprocess.run(["heaptrack_print", "-f", path, "-p", "0", "-a", "0", "-T", "0",
                          "-l", "0", "--flamegraph-cost-type", "peak", "-F", "/dev/stdout"],
                         capture_output=True, text=True, check=True).stdout
    found = collections.Counter()
    for line in out.splitlines():
        stack, _, cost = line.rpartition(" ")
        if not stack or not cost.isdigit():
            continue
        frames = [f.strip().split(" (")[0] for f in stack.split(";") if f.strip()]
        found[";".join(frames)] += int(cost)
    return found


def group(stack):
    if not any(m in stack for m in PLUGIN_MARKERS):
        return "wireshark (not the plugin)"
    # innermost plugin frames decide: look from the allocation outwards
    for name, keys in GROUPS:
        if any(k in stack for k in keys):
            return name
    return "other (plugin, library)"


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    n = int(sys.argv[1])
    small, large = stacks(sys.argv[2]), stacks(sys.argv[3])
    per = collections.Counter()
    for stack in set(small) | set(large):
        diff = large[stack] - small[stack]
        if not allocator_table(stack, diff):
            per[group(stack)] += diff
    plugin = 0
    for name, total in sorted(per.items(), key=lambda kv: -kv[1]):
        print("%8.0f  %s" % (total / n, name))
        if not name.startswith("wireshark"):
            plugin += total
    print("%8.0f  plugin, all together (bytes per finished session)" % (plugin / n))


if __name__ == "__main__":
    main()
