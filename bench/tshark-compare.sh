#!/bin/sh
# Times tshark with the pop3decode plugin against the built-in `pop` dissector and against the
# TCP-only floor (POP3 dissection disabled), on generated captures:
#   many.pcap        >= 100 MB of frames: about a thousand interleaved POP3 sessions, MSS 1460
#   single-20.pcap   one session, one RETR of 20 MB
#   single-200.pcap  one session, one RETR of 200 MB
# Same tshark binary for every run (the built-in and the floor without the plugin loaded);
# configurations alternate within each repetition; the median of REPS runs is reported: wall
# seconds, CPU seconds (user + system: less disturbed than wall time on a shared machine) and
# peak RSS, from /usr/bin/time -f '%e %M %U %S'.
#
#   bench/tshark-compare.sh [BUILD_DIR]      (default: ../build-bench next to the checkout)
#
# Environment: REPS (default 3), CAPTURES (default "many single-20 single-200"),
# SKIP_BUILTIN_MB (skip the built-in dissector on single-message captures of at least this
# many MB: it is quadratic there; default: never skip), KEEP_LOG (keep the raw timings).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build-bench}
build=$(cd "$build" && pwd)
reps=${REPS:-3}
captures=${CAPTURES:-"many single-20 single-200"}
skip_builtin_mb=${SKIP_BUILTIN_MB:-0}
plugin=$(ls "$build"/plugin/lib/*/epan/pop3decode.so 2>/dev/null | head -n 1)
[ -n "$plugin" ] || { echo "no plugin in $build/plugin/lib/*/epan (build pop3decode_plugin)" >&2; exit 1; }
capdir=$build/captures
mkdir -p "$capdir"

# Captures on demand (not committed).
for c in $captures; do
  f=$capdir/$c.pcap
  [ -s "$f" ] && continue
  case $c in
    many) python3 "$here/make-captures.py" many "$f" --mb 100 ;;
    single-*) python3 "$here/make-captures.py" single "$f" --mb "${c#single-}" ;;
    *) echo "unknown capture $c" >&2; exit 1 ;;
  esac
done

# tshark loads plugins from WIRESHARK_PLUGIN_DIR only when not root: run it as nobody then,
# with the plugin copied to a folder that user can read.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
wsver=$(basename "$(dirname "$(dirname "$plugin")")")
mkdir -p "$work/plugins/$wsver/epan" "$work/home" "$work/out" "$work/no-plugins"
cp "$plugin" "$work/plugins/$wsver/epan/"
chmod -R a+rwX "$work"
if [ "$(id -u)" = 0 ]; then
  as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
else
  as_user=""
fi
run_env="$as_user env HOME=$work/home WIRESHARK_PLUGIN_DIR=$work/plugins LC_ALL=C"
# The built-in dissector and the floor run as without this project: the plugin not loaded (a
# loaded plugin's postdissector makes tshark build a protocol tree for every frame).
bare_env="$as_user env HOME=$work/home WIRESHARK_PLUGIN_DIR=$work/no-plugins LC_ALL=C"
for c in $captures; do
  $run_env test -r "$capdir/$c.pcap" || { echo "$capdir/$c.pcap not readable by uid 65534" >&2; exit 1; }
done

$run_env tshark -G plugins | grep -q pop3decode || { echo "the plugin does not load" >&2; exit 1; }
prefs=$($run_env tshark -G defaultprefs | grep -i '^#* *pop3\.' || true)
imf_pref=$(printf '%s\n' "$prefs" | sed -n 's/^#* *\(pop3\.imf\):.*/\1/p' | head -n 1)
[ -n "$imf_pref" ] || { echo "no pop3.imf preference; pop3 preferences:"; echo "$prefs"; exit 1; }

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -m), $(nproc) CPUs, tshark $($run_env tshark -v | sed -n '1s/^TShark (Wireshark) //p')"
echo "# load before: $(uptime | sed 's/.*load average/load average/')"
echo "# plugin: $plugin"
echo "# plugin preferences:"; printf '%s\n' "$prefs" | sed 's/^/#   /'

# Configurations: name and tshark options.
config_opts() {
  case $1 in
    plugin)      echo "" ;;                                  # default preferences (IMF on)
    plugin-noimf) echo "-o $imf_pref:FALSE" ;;
    builtin)     echo "" ;;                                  # plugin not loaded: pop on 110
    floor)       echo "--disable-protocol pop" ;;            # plugin not loaded
  esac
}
mode_opts() {  # plain pass, or one field extracted per packet
  case $1:$2 in
    plain:*) echo "" ;;
    fields:builtin) echo "-T fields -e pop.request.command" ;;
    fields:floor) echo "-T fields -e tcp.len" ;;
    fields:*) echo "-T fields -e pop3.request.command" ;;
  esac
}

rotate() {  # rotate N WORDS...: the words with the first N moved to the end
  n=$1; shift
  while [ "$n" -gt 0 ]; do x=$1; shift; set -- "$@" "$x"; n=$((n - 1)); done
  echo "$@"
}

log=$work/out/runs.txt
: > "$log"
for c in $captures; do
  f=$capdir/$c.pcap
  mb=$(( $(stat -c %s "$f") / 1000000 ))
  configs="plugin plugin-noimf builtin floor"
  case $c in
    single-*) if [ "$skip_builtin_mb" -gt 0 ] && [ "$mb" -ge "$skip_builtin_mb" ]; then
                configs="plugin plugin-noimf floor"; fi ;;
  esac
  for mode in plain fields; do
    r=1
    while [ "$r" -le "$reps" ]; do
      # Rotate the order each repetition so no configuration always runs first.
      # shellcheck disable=SC2086
      order=$(rotate $(( (r - 1) % $(echo $configs | wc -w) )) $configs)
      for cfg in $order; do
        opts="$(config_opts "$cfg") $(mode_opts "$mode" "$cfg")"
        # shellcheck disable=SC2086
        env_of=$run_env
        case $cfg in builtin|floor) env_of=$bare_env ;; esac
        $env_of /usr/bin/time -f '%e %M %U %S' -o "$work/out/time" tshark -n -r "$f" $opts > /dev/null 2> "$work/out/err" \
          || { echo "tshark failed: $cfg $mode $c"; cat "$work/out/err"; exit 1; }
        echo "$c $mode $cfg $(tail -n 1 "$work/out/time")" >> "$log"
      done
      r=$((r + 1))
    done
  done
done
echo "# load after: $(uptime | sed 's/.*load average/load average/')"
echo "# commands: tshark -n -r CAPTURE OPTIONS > /dev/null, as uid 65534 with WIRESHARK_PLUGIN_DIR"
for cfg in plugin plugin-noimf builtin floor; do
  echo "#   $cfg: plain '$(config_opts $cfg)', fields '$(config_opts $cfg) $(mode_opts fields $cfg)'"
done
[ -n "${KEEP_LOG:-}" ] && cp "$log" "$KEEP_LOG"

python3 - "$log" "$capdir" <<'EOF'
import os, statistics, sys
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    cap, mode, cfg, wall, rss, user, system = line.split()
    runs[cap, mode, cfg].append((float(wall), float(user) + float(system), int(rss) / 1024))
CONFIGS = ("plugin", "plugin-noimf", "builtin", "floor")
def med(cap, mode, cfg, i):
    v = [r[i] for r in runs.get((cap, mode, cfg), [])]
    return statistics.median(v) if v else None
caps = list(dict.fromkeys(k[0] for k in runs))
print()
print(f"{'capture':<16} {'pass':<6} {'config':<13} {'wall s':>7} {'(min-max)':<13} {'CPU s':>7} {'peak RSS MB':>11}")
for cap in caps:
    size = os.path.getsize(os.path.join(sys.argv[2], cap + ".pcap")) / 1e6
    first = True
    for mode in ("plain", "fields"):
        for cfg in CONFIGS:
            v = runs.get((cap, mode, cfg))
            if not v:
                continue
            walls = sorted(r[0] for r in v)
            label = f"{cap} ({size:.0f} MB)" if first else ""
            first = False
            print(f"{label:<16} {mode:<6} {cfg:<13} {med(cap, mode, cfg, 0):7.2f} "
                  f"{f'({walls[0]:.2f}-{walls[-1]:.2f})':<13} {med(cap, mode, cfg, 1):7.2f} "
                  f"{med(cap, mode, cfg, 2):11.0f}")
def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "n/a"
def ratios(cap, mode, a, b):
    return "/".join(ratio(med(cap, mode, a, i), med(cap, mode, b, i)) for i in (0, 1, 2))
print()
print("ratios of medians, wall/CPU/peak RSS:")
for cap in caps:
    for mode in ("plain", "fields"):
        print(f"  {cap:<11} {mode:<6} plugin/builtin {ratios(cap, mode, 'plugin', 'builtin'):<15} "
              f"plugin/floor {ratios(cap, mode, 'plugin', 'floor'):<15} "
              f"plugin-noimf/floor {ratios(cap, mode, 'plugin-noimf', 'floor')}")
if "single-20" in caps and "single-200" in caps:
    print("single-200 / single-20, wall/CPU:")
    for mode in ("plain", "fields"):
        for cfg in CONFIGS:
            w = ratio(med("single-200", mode, cfg, 0), med("single-20", mode, cfg, 0))
            c = ratio(med("single-200", mode, cfg, 1), med("single-20", mode, cfg, 1))
            print(f"  {mode:<6} {cfg:<13} {w}/{c}")
EOF
