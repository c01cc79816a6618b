#!/bin/sh
# Instructions tshark spends per frame of a POP3 capture: the plugin, the built-in `pop`
# dissector and the TCP-only floor, counted by callgrind (exact and repeatable whatever else
# the machine does). Each configuration reads the capture twice, whole and cut to its first
# SMALL frames; (instructions(whole) - instructions(cut)) / (frames(whole) - frames(cut)) is the
# cost of one more frame, without tshark's start-up and the plugin's registration.
#
# Configurations (plain pass, `tshark -n -r CAPTURE OPTIONS > /dev/null`). The built-in and the
# floor run as users run them without this project: the plugin not loaded.
#   plugin-noreasm  -o pop3.reassemble:FALSE                 plugin, no multi-line reassembly
#   builtin-noreasm -o pop.desegment_data:FALSE              plugin not loaded
#   plugin          (defaults)
#   builtin         (defaults)                               plugin not loaded
#   floor           --disable-protocol pop                   plugin not loaded: TCP, then its
#                                                            heuristics and `data` on the payload
#   floor-loaded    --disable-protocol pop3 --disable-protocol pop   plugin loaded, disabled
#
#   bench/tshark-segment-cost.sh BUILD_DIR [CAPTURE]
# CAPTURE defaults to BUILD_DIR/captures/segcost.pcap, made on demand (make-captures.py many,
# 20 MB of text bodies in 1460-byte segments). Environment: SMALL (default 2000), CONFIGS.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: $0 BUILD_DIR [CAPTURE]}" && pwd)
plugin=$(ls "$build"/plugin/lib/*/epan/pop3decode.so 2>/dev/null | head -n 1)
[ -n "$plugin" ] || { echo "no plugin in $build/plugin/lib/*/epan" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
capture=${2:-$build/captures/segcost.pcap}
if [ ! -s "$capture" ]; then
  mkdir -p "$(dirname "$capture")"
  python3 "$here/make-captures.py" many "$capture" --mb 20
fi
small=${SMALL:-2000}
configs=${CONFIGS:-"plugin-noreasm builtin-noreasm plugin builtin floor floor-loaded"}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
wsver=$(basename "$(dirname "$(dirname "$plugin")")")
mkdir -p "$work/plugins/$wsver/epan" "$work/home" "$work/no-plugins"
cp "$plugin" "$work/plugins/$wsver/epan/"
cp "$capture" "$work/whole.pcap"
editcap -r "$work/whole.pcap" "$work/cut.pcap" "1-$small" >/dev/null
chmod -R a+rwX "$work"
# tshark loads plugins from WIRESHARK_PLUGIN_DIR only when not root.
as_user=""
[ "$(id -u)" = 0 ] && as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
run_env="$as_user env HOME=$work/home WIRESHARK_PLUGIN_DIR=$work/plugins LC_ALL=C"
bare_env="$as_user env HOME=$work/home WIRESHARK_PLUGIN_DIR=$work/no-plugins LC_ALL=C"
$bare_env tshark -G plugins | grep -q pop3decode && { echo "the plugin loads from no-plugins" >&2; exit 1; }
$run_env tshark -G plugins | grep -q pop3decode || { echo "the plugin does not load" >&2; exit 1; }

opts() {
  case $1 in
    plugin-noreasm) echo "-o pop3.reassemble:FALSE" ;;
    builtin-noreasm) echo "-o pop.desegment_data:FALSE" ;;
    plugin) echo "" ;;
    builtin) echo "" ;;
    floor) echo "--disable-protocol pop" ;;
    floor-loaded) echo "--disable-protocol pop3 --disable-protocol pop" ;;
    *) echo "unknown configuration $1" >&2; exit 2 ;;
  esac
}
frames() { $run_env capinfos -c -M "$1" | sed -n 's/^Number of packets: *//p'; }
instructions() {  # instructions CONFIG FILE OPTIONS...
  cfg=$1 f=$2; shift 2
  env_of=$run_env
  case $cfg in builtin*|floor) env_of=$bare_env ;; esac
  # shellcheck disable=SC2086
  $env_of valgrind --tool=callgrind --callgrind-out-file=/dev/null --log-file="$work/vg.log" \
    tshark -n -r "$f" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" "$work/vg.log" >&2; exit 1; }
  sed -n 's/.*Collected : *//p' "$work/vg.log"
}
nw=$(frames "$work/whole.pcap")
nc=$(frames "$work/cut.pcap")
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), tshark $($run_env tshark -v | sed -n '1s/^TShark (Wireshark) //p'), plugin $plugin"
echo "# capture $capture: $nw frames (cut: first $nc)"
printf '%-16s %16s %16s %16s\n' config "instr (whole)" "instr (cut)" "per frame"
for cfg in $configs; do
  # shellcheck disable=SC2046
  iw=$(instructions "$cfg" "$work/whole.pcap" $(opts "$cfg"))
  # shellcheck disable=SC2046
  ic=$(instructions "$cfg" "$work/cut.pcap" $(opts "$cfg"))
  printf '%-16s %16s %16s %16s\n' "$cfg" "$iw" "$ic" $(( (iw - ic) / (nw - nc) ))
done
