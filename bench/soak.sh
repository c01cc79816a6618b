#!/bin/sh
# Soak: one large generated capture (>= 1 GB of frames, thousands of sessions) through tshark
# with the plugin, with the built-in `pop` dissector and with POP3 disabled (the TCP floor);
# then captures of N and 2N empty-mailbox sessions, to measure what a finished session leaves
# behind. Prints wall and CPU seconds and peak RSS (/usr/bin/time) of each run, then, per
# configuration, the bytes a finished session keeps: (2N - N growth - the floor's growth) / N.
# Figures and commands: bench/README.md, "Soak".
#
#   bench/soak.sh PLUGIN.so [CAPTURE_DIR]
#
# CAPTURE_DIR (default /tmp/pop3decode-soak) receives the generated captures, which are
# deleted at the end unless KEEP=1. Environment: MB (default 1000: payload MB of the large
# capture), SESSIONS (default 10000: N), PASSES ("plain" and/or "fields"; default "plain"),
# CONFIGS (default "plugin builtin floor"; also "plugin-noreassemble": the plugin without its
# copies of retrieved messages), JOBS (runs at a time, default 2).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
plugin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
dir=${2:-/tmp/pop3decode-soak}
mb=${MB:-1000}
n=${SESSIONS:-10000}
passes=${PASSES:-plain}
configs=${CONFIGS:-"plugin builtin floor"}
mkdir -p "$dir"
chmod a+rx "$dir"

[ -s "$dir/soak.pcap" ] || nice python3 "$here/make-captures.py" many "$dir/soak.pcap" --mb "$mb"
[ -s "$dir/sessions-n.pcap" ] ||
  nice python3 "$here/make-captures.py" many "$dir/sessions-n.pcap" --sessions "$n" --empty-share 1 --seed 2
[ -s "$dir/sessions-2n.pcap" ] ||
  nice python3 "$here/make-captures.py" many "$dir/sessions-2n.pcap" --sessions $((2 * n)) --empty-share 1 --seed 2
chmod a+r "$dir"/*.pcap

work=$(mktemp -d)
trap 'rm -rf "$work"; [ "${KEEP:-0}" = 1 ] || rm -f "$dir"/soak.pcap "$dir"/sessions-n.pcap "$dir"/sessions-2n.pcap' EXIT
wsver=$(tshark --version 2>/dev/null | head -n 1 | sed -E 's/.* ([0-9]+)\.([0-9]+)\..*/\1.\2/')
mkdir -p "$work/plugins/$wsver/epan" "$work/home"
cp "$plugin" "$work/plugins/$wsver/epan/"
chmod -R a+rwX "$work"
as_user=""
[ "$(id -u)" = 0 ] && as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
run_env="$as_user env HOME=$work/home WIRESHARK_PLUGIN_DIR=$work/plugins LC_ALL=C"
$run_env tshark -G plugins | grep -q pop3decode || { echo "the plugin does not load" >&2; exit 1; }

# The runs go two at a time (JOBS): only memory is compared here, and each run's peak RSS is
# its own; times are printed for reference (bench/tshark-compare.sh is the timed comparison).
jobs=${JOBS:-2}
runs=""
for capture in soak sessions-n sessions-2n; do
  for pass in $passes; do
    for config in $configs; do
      runs="$runs $capture:$pass:$config"
    done
  done
done
one_run() {
  capture=${1%%:*}; rest=${1#*:}; pass=${rest%%:*}; config=${rest#*:}
  case $config in
    plugin) opts="" ; field=pop3.request.command ;;
    plugin-noreassemble) opts="-o pop3.reassemble:FALSE" ; field=pop3.request.command ;;
    builtin) opts="-d tcp.port==110,pop" ; field=pop.request.command ;;
    floor) opts="--disable-protocol pop3 --disable-protocol pop" ; field=tcp.len ;;
  esac
  [ "$pass" = fields ] && opts="$opts -T fields -e $field"
  # shellcheck disable=SC2086
  /usr/bin/time -f '%e %U %S %M' -o "$work/$1.time" \
    nice $run_env tshark -n -r "$dir/$capture.pcap" $opts >/dev/null
  read -r wall user sys rss <"$work/$1.time"
  printf '%-16s %-6s %-8s %9s %9.2f %11s\n' "$capture" "$pass" "$config" "$wall" \
    "$(echo "$user + $sys" | bc)" "$rss" >"$work/$1.line"
}
running=0
for r in $runs; do
  one_run "$r" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait
    running=0
  fi
done
wait
printf '%-16s %-6s %-8s %9s %9s %11s\n' capture pass config wall_s cpu_s max_rss_kb
for r in $runs; do cat "$work/$r.line"; done

# What a finished session leaves behind: the growth of peak RSS from N to 2N sessions, less the
# floor's growth (TCP's own per-conversation state), per added session (time's %M is KiB).
rss() { [ -s "$work/$1.line" ] && awk '{print $6}' "$work/$1.line"; }
for pass in $passes; do
  fn=$(rss "sessions-n:$pass:floor") fn2=$(rss "sessions-2n:$pass:floor")
  if [ -z "$fn" ] || [ -z "$fn2" ]; then continue; fi
  for config in $configs; do
    [ "$config" = floor ] && continue
    a=$(rss "sessions-n:$pass:$config") b=$(rss "sessions-2n:$pass:$config")
    if [ -z "$a" ] || [ -z "$b" ]; then continue; fi
    printf 'per finished session, %s pass, %s: %s bytes\n' "$pass" "$config" \
      "$(( ((b - a) - (fn2 - fn)) * 1024 / n ))"
  done
done
