#!/usr/bin/env bash
# Remake every capture in this folder from real POP3 sessions:
# a private Dovecot 2.3 on loopback, real clients (curl, fetchmail, mpop,
# Python poplib, small raw-socket Python clients) and, for the few cases no
# real server here can do, a scripted Python peer.
#
# Usage:  sudo sample-pcaps/make-captures.sh [SCENARIO...]
#
# With no argument every scenario runs; with arguments only those run (names
# as in the capture file names, without .pcapng).  Everything happens in a
# private network and UTS namespace (its own loopback with MTU 1500, so every
# TCP segment carries at most 1460 bytes), so nothing on the host's loopback
# is touched and no route has to be restored.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${POP3_SAMPLE_OUT:-$HERE}
TOOLS=$HERE/tools

if [[ $EUID -ne 0 ]]; then
    echo "make-captures.sh must run as root (sudo $0)" >&2
    exit 1
fi

# ---------------------------------------------------------------- packages
need_pkgs=()
have() { command -v "$1" >/dev/null 2>&1; }
have dovecot    || need_pkgs+=(dovecot-core)
[[ -x /usr/lib/dovecot/pop3 ]] || need_pkgs+=(dovecot-pop3d)
have tshark     || need_pkgs+=(tshark)
have dumpcap    || need_pkgs+=(wireshark-common)
have editcap    || need_pkgs+=(wireshark-common)
have curl       || need_pkgs+=(curl)
have fetchmail  || need_pkgs+=(fetchmail)
have mpop       || need_pkgs+=(mpop)
[[ -x /usr/bin/python3 ]] || need_pkgs+=(python3)
have openssl    || need_pkgs+=(openssl)
have ip         || need_pkgs+=(iproute2)
have unshare    || need_pkgs+=(util-linux)
have sysctl     || need_pkgs+=(procps)
have hostname   || need_pkgs+=(hostname)
if ((${#need_pkgs[@]})); then
    echo "installing: ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi
PY=/usr/bin/python3

# -------------------------------------------------- private network namespace
if [[ -z ${POP3_SAMPLE_NETNS:-} ]]; then
    exec unshare --net --uts -- env POP3_SAMPLE_NETNS=1 bash "$0" "$@"
fi
# Own UTS namespace too: Dovecot puts the host name in the APOP timestamp.
hostname pop.example.net
ip link set lo up
ip link set lo mtu 1500                 # MSS 1460 (IPv4) / 1440 (IPv6)
ip link set dev lo gso_max_segs 1 gso_max_size 1500 2>/dev/null || true
sysctl -qw net.ipv4.tcp_timestamps=0    # no TCP options in data segments

# ---------------------------------------------------------------- workspace
WORK=$(mktemp -d /tmp/pop3-sample.XXXXXX)
chmod 755 "$WORK"
HTTP_PID=
DUMPCAP_PID=
cleanup() {
    set +e
    [[ -n $DUMPCAP_PID ]] && kill "$DUMPCAP_PID" 2>/dev/null
    if [[ -f $WORK/dovecot.conf ]]; then
        dovecot -c "$WORK/dovecot.conf" stop 2>/dev/null
    fi
    [[ -n $HTTP_PID ]] && kill "$HTTP_PID" 2>/dev/null
    sleep 0.5
    if [[ -n ${KEEP_WORK:-} ]]; then
        echo "work folder kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

MAILUSER=pop3sample
if ! id "$MAILUSER" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$MAILUSER"
fi
MAILUID=$(id -u "$MAILUSER")
MAILGID=$(id -g "$MAILUSER")

# ------------------------------------------------------------- certificates
mkdir -p "$WORK/tls"
(
    cd "$WORK/tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout ca.key -out ca.crt -days 3650 -subj "/O=pop3decode samples/CN=Sample CA" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout server.key -out server.csr -subj "/O=pop3decode samples/CN=localhost" 2>/dev/null
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile <(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n') \
        -out server.crt 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout alice.key -out alice.csr -subj "/O=pop3decode samples/CN=alice" 2>/dev/null
    openssl x509 -req -in alice.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile <(printf 'extendedKeyUsage=clientAuth\n') -out alice.crt 2>/dev/null
    chmod 644 ./*
)

# -------------------------------------------------------------------- users
# Test credentials (also listed in README.md).  {PLAIN} so that every
# mechanism (CRAM-MD5, DIGEST-MD5, SCRAM, APOP, NTLM) can be served.
cat >"$WORK/users" <<'EOF'
alice:{PLAIN}wonderland
bob:{PLAIN}builder42
carol:{PLAIN}carol-empty
anonymous:{PLAIN}anonymous-unused
EOF
cat >"$WORK/masters" <<'EOF'
admin:{PLAIN}master-key
EOF
chmod 644 "$WORK/users" "$WORK/masters"

make_mail() {
    rm -rf "$WORK/home"
    mkdir -p "$WORK/home"
    $PY "$TOOLS/mkmail.py" "$WORK/home"
    chown -R "$MAILUID:$MAILGID" "$WORK/home"
}

# ------------------------------------------------------------------ dovecot
HTTP_PORT=8080
cat >"$WORK/oauth2.conf.ext" <<EOF
introspection_mode = post
introspection_url = http://127.0.0.1:$HTTP_PORT/introspect
username_attribute = username
active_attribute = active
active_value = true
EOF

# Every mechanism Dovecot offers.  A scenario can narrow the list (see
# MECHS_FOR below); Dovecot is then restarted for that scenario only.
ALL_MECHS="plain login cram-md5 digest-md5 scram-sha-1 scram-sha-256 apop anonymous external xoauth2 oauthbearer"

mkdir -p "$WORK/run" "$WORK/state" "$WORK/log"
cat >"$WORK/dovecot.conf" <<EOF
# Private Dovecot for pop3decode sample captures.
instance_name = pop3sample
base_dir = $WORK/run
state_dir = $WORK/state
log_path = $WORK/log/dovecot.log
info_log_path = $WORK/log/dovecot.log
debug_log_path = $WORK/log/dovecot.log
protocols = pop3
listen = 127.0.0.1, ::1
shutdown_clients = yes

default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = $MAILUID
last_valid_uid = $MAILUID

ssl = yes
ssl_cert = <$WORK/tls/server.crt
ssl_key = <$WORK/tls/server.key
ssl_ca = <$WORK/tls/ca.crt
ssl_verify_client_cert = yes
ssl_require_crl = no
auth_ssl_username_from_cert = yes
ssl_cert_username_field = commonName

disable_plaintext_auth = no
auth_mechanisms = $ALL_MECHS
auth_anonymous_username = anonymous
auth_master_user_separator = *
auth_verbose = yes
auth_debug = ${POP3_SAMPLE_AUTH_DEBUG:-no}
auth_failure_delay = 1 secs

passdb {
  driver = passwd-file
  args = scheme=PLAIN $WORK/masters
  master = yes
  result_success = continue
}
passdb {
  # EXTERNAL: the user name comes from the verified client certificate's
  # commonName; no password is checked.
  driver = static
  args = nopassword=y
  mechanisms = external
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN $WORK/users
  mechanisms = plain login cram-md5 digest-md5 scram-sha-1 scram-sha-256 apop anonymous
}
passdb {
  driver = oauth2
  args = $WORK/oauth2.conf.ext
  mechanisms = xoauth2 oauthbearer
}
userdb {
  driver = static
  args = uid=$MAILUID gid=$MAILGID home=$WORK/home/%u
}

mail_location = maildir:~/Maildir
pop3_uidl_format = %f
pop3_lock_session = yes
pop3_logout_format = top=%t/%p, retr=%r/%b, del=%d/%m, size=%s

service pop3-login {
  inet_listener pop3 {
    port = 110
  }
  inet_listener pop3s {
    port = 995
    ssl = yes
  }
}
service anvil {
  chroot =
}
service stats {
  inet_listener http {
    port = 0
  }
}
EOF

wait_greeting() {
    local addr=$1
    for _ in $(seq 50); do
        if $PY - "$addr" <<'PY' 2>/dev/null; then return 0; fi
import socket, sys
s = socket.create_connection((sys.argv[1], 110), timeout=1)
assert s.recv(100).startswith(b"+OK")
PY
        sleep 0.2
    done
    return 1
}

start_servers() {
    make_mail
    $PY "$TOOLS/introspect.py" 127.0.0.1 "$HTTP_PORT" "$WORK/log/introspect.log" &
    HTTP_PID=$!
    doveconf -c "$WORK/dovecot.conf" -n >"$WORK/log/doveconf.txt"
    dovecot -c "$WORK/dovecot.conf"
    wait_greeting 127.0.0.1 || true
    if grep -q 'Fatal' "$WORK/log/dovecot.log"; then
        cat "$WORK/log/dovecot.log" >&2
        return 1
    fi
}

# Restart Dovecot offering only the given SASL mechanisms (auth_mechanisms
# is global to the auth process, so this needs a restart, done outside any
# capture).
set_mechanisms() {
    local mechs=$1
    if grep -qx "auth_mechanisms = $mechs" "$WORK/dovecot.conf"; then
        return 0
    fi
    dovecot -c "$WORK/dovecot.conf" stop
    for _ in $(seq 100); do
        [[ -e $WORK/run/master.pid ]] || break
        sleep 0.1
    done
    sed -i "s/^auth_mechanisms = .*/auth_mechanisms = $mechs/" "$WORK/dovecot.conf"
    dovecot -c "$WORK/dovecot.conf"
    wait_greeting 127.0.0.1
}

# ---------------------------------------------------------------- capturing
FILTER='tcp port 110 or tcp port 995'
capture_start() {
    local file=$OUT/$1.pcapng
    rm -f "$file"
    dumpcap -q -i lo -f "$FILTER" -w "$file" 2>"$WORK/log/dumpcap-$1.log" &
    DUMPCAP_PID=$!
    for _ in $(seq 50); do
        [[ -s $file ]] && break
        sleep 0.1
    done
    sleep 0.5
}
capture_stop() {
    sleep 0.5
    kill -INT "$DUMPCAP_PID"
    wait "$DUMPCAP_PID" || true
    DUMPCAP_PID=
}

# Run one scenario: fresh mailboxes, capture around the scenario function.
run_scenario() {
    local name=$1
    if ((${#SELECTED[@]})) && [[ " ${SELECTED[*]} " != *" $name "* ]]; then
        return 0
    fi
    echo "== $name"
    if [[ " ${DERIVED[*]} " == *" $name "* ]]; then
        "scn_${name//-/_}"
        return
    fi
    set_mechanisms "${MECHS_FOR[$name]:-$ALL_MECHS}"
    make_mail
    capture_start "$name"
    # Run in a background subshell so that set -e applies to every command
    # of the scenario (it would not in an "if" condition).
    ("scn_${name//-/_}") &
    if ! wait $!; then
        echo "scenario $name failed" >&2
        tail -n 30 "$WORK/log/dovecot.log" >&2
        capture_stop
        return 1
    fi
    capture_stop
}

CLIENT="$PY $TOOLS/clients.py"
export POP3_SAMPLE_WORK=$WORK

# curl and the other non-Python clients get MSS 1460 from the loopback MTU.
CURL=(curl -sS --no-progress-meter -o /dev/null)

# ---------------------------------------------------------------- scenarios
# Each scenario is a shell function scn_<name>; run_scenario captures it into
# <name>.pcapng.  Scenarios run in this order.
SCENARIOS=()
scenario() { SCENARIOS+=("$1"); }
# SASL mechanisms Dovecot offers during a scenario, when not all of them.
declare -A MECHS_FOR=()
# A derived capture is made from an earlier one, not captured live.
DERIVED=()
derived() { SCENARIOS+=("$1"); DERIVED+=("$1"); }

U=pop3://127.0.0.1

# curl: with no AUTH= option curl picks the "best" SASL mechanism the server
# offers: DIGEST-MD5 first, which it cancels ("*") because it cannot parse
# Dovecot's quoted algorithm="md5-sess", then CRAM-MD5.  curl only falls back
# to USER/PASS when the server offers no SASL, so USER/PASS comes from
# poplib and fetchmail below.
scenario curl-list-retr
scn_curl_list_retr() {
    "${CURL[@]}" -u alice:wonderland "$U/"
    "${CURL[@]}" -u alice:wonderland "$U/1"
    "${CURL[@]}" -u alice:wonderland "$U/2"
}

# curl uses USER/PASS only when the server offers neither SASL nor APOP;
# Dovecot always offers SASL, so this one capture has curl talking to the
# minimal RFC 1939 server tools/minipop.py (no CAPA) on 127.0.0.3:110.
scenario curl-user-pass
scn_curl_user_pass() {
    $PY "$TOOLS/minipop.py" 127.0.0.3 110 3 >"$WORK/log/minipop.log" &
    local pid=$!
    for _ in $(seq 50); do
        grep -q ready "$WORK/log/minipop.log" && break
        sleep 0.1
    done
    "${CURL[@]}" -u alice:wonderland pop3://127.0.0.3/
    "${CURL[@]}" -u alice:wonderland pop3://127.0.0.3/2
    "${CURL[@]}" -u alice:wonderland -X 'TOP 3 2' pop3://127.0.0.3/
    wait "$pid"
}

scenario curl-apop
scn_curl_apop() {
    "${CURL[@]}" -u alice:wonderland --login-options AUTH=+APOP "$U/"
    "${CURL[@]}" -u bob:builder42 --login-options AUTH=+APOP "$U/1"
}

scenario curl-auth-plain
scn_curl_auth_plain() {
    # without and with initial response (SASL-IR), then a master-user login:
    # authcid admin, authzid alice.
    "${CURL[@]}" -u alice:wonderland --login-options AUTH=PLAIN "$U/"
    "${CURL[@]}" -u alice:wonderland --login-options AUTH=PLAIN --sasl-ir "$U/3"
    "${CURL[@]}" -u admin:master-key --sasl-authzid alice --login-options AUTH=PLAIN "$U/"
}

scenario curl-auth-login
scn_curl_auth_login() {
    "${CURL[@]}" -u bob:builder42 --login-options AUTH=LOGIN "$U/"
    "${CURL[@]}" -u bob:builder42 --login-options AUTH=LOGIN --sasl-ir "$U/1"
}

scenario curl-auth-cram-md5
scn_curl_auth_cram_md5() {
    "${CURL[@]}" -u alice:wonderland --login-options AUTH=CRAM-MD5 "$U/1"
}

scenario curl-auth-digest-md5-cancelled
scn_curl_auth_digest_md5_cancelled() {
    # curl aborts the exchange with "*" (see above): exit code 67.
    "${CURL[@]}" -u alice:wonderland --login-options AUTH=DIGEST-MD5 "$U/" || true
}

# curl 7.88 prefers OAUTHBEARER over XOAUTH2 whenever both are offered, even
# with AUTH=XOAUTH2: --oauth2-bearer adds both to the mechanisms it allows
# and AUTH= only adds to that set.  So Dovecot offers XOAUTH2 without
# OAUTHBEARER for this capture.
scenario curl-xoauth2
MECHS_FOR[curl-xoauth2]=${ALL_MECHS% oauthbearer}
scn_curl_xoauth2() {
    "${CURL[@]}" -u alice: --oauth2-bearer alice-oauth-token-0001 --login-options AUTH=XOAUTH2 "$U/"
    "${CURL[@]}" -u alice: --oauth2-bearer alice-oauth-token-0001 --login-options AUTH=XOAUTH2 --sasl-ir "$U/1"
    # an unknown token: the introspection endpoint answers active=false
    "${CURL[@]}" -u alice: --oauth2-bearer expired-token-9999 --login-options AUTH=XOAUTH2 "$U/" || true
}

scenario curl-oauthbearer
scn_curl_oauthbearer() {
    "${CURL[@]}" -u bob: --oauth2-bearer bob-oauth-token-0002 --login-options AUTH=OAUTHBEARER "$U/"
    "${CURL[@]}" -u bob: --oauth2-bearer bob-oauth-token-0002 --login-options AUTH=OAUTHBEARER --sasl-ir "$U/1"
    "${CURL[@]}" -u bob: --oauth2-bearer expired-token-9999 --login-options AUTH=OAUTHBEARER "$U/" || true
}

scenario curl-custom-commands
scn_curl_custom_commands() {
    "${CURL[@]}" -u alice:wonderland --login-options AUTH=PLAIN -X UIDL "$U/"
    "${CURL[@]}" -u alice:wonderland --login-options AUTH=PLAIN -X 'TOP 3 0' "$U/"
    "${CURL[@]}" -u alice:wonderland --login-options AUTH=PLAIN -X 'LIST 2' -I "$U/"
    "${CURL[@]}" -u alice:wonderland --login-options AUTH=PLAIN -X NOOP -I "$U/"
    "${CURL[@]}" -u alice:wonderland --login-options AUTH=PLAIN -X 'DELE 1' -I "$U/"
    "${CURL[@]}" -u alice:wonderland --login-options AUTH=PLAIN -X STAT -I "$U/"
}

scenario curl-stls
scn_curl_stls() {
    rm -f "$OUT/curl-stls.keys"
    SSLKEYLOGFILE=$OUT/curl-stls.keys "${CURL[@]}" --ssl-reqd -k \
        -u alice:wonderland --login-options AUTH=PLAIN "$U/"
    SSLKEYLOGFILE=$OUT/curl-stls.keys "${CURL[@]}" --ssl-reqd -k \
        -u alice:wonderland --login-options AUTH=PLAIN "$U/2"
}

scenario curl-pop3s
scn_curl_pop3s() {
    rm -f "$OUT/curl-pop3s.keys"
    SSLKEYLOGFILE=$OUT/curl-pop3s.keys "${CURL[@]}" -k \
        -u bob:builder42 --login-options AUTH=LOGIN pop3s://127.0.0.1/
    SSLKEYLOGFILE=$OUT/curl-pop3s.keys "${CURL[@]}" -k \
        -u bob:builder42 --login-options AUTH=LOGIN pop3s://127.0.0.1/1
}

scenario python-poplib-basics
scn_python_poplib_basics() { $CLIENT poplib-basics; }

derived python-midstream
scn_python_midstream() {
    # Not captured live: python-poplib-basics.pcapng cut so that it starts
    # with the second segment of the response to "RETR 5" (editcap drops
    # every packet before it), so the decoder meets a session in the middle
    # of a multi-line response.
    local in=$OUT/python-poplib-basics.pcapng req first
    req=$(tshark -r "$in" -Y 'pop.request.command == "RETR" && pop.request.parameter == "5"' \
        -T fields -e frame.number 2>/dev/null | head -n1)
    first=$(tshark -r "$in" -Y "frame.number > $req && tcp.srcport == 110 && tcp.len > 0" \
        -T fields -e frame.number 2>/dev/null | head -n1)
    editcap "$in" "$OUT/python-midstream.pcapng" "1-$first"
}

scenario python-ipv6
scn_python_ipv6() {
    $CLIENT poplib-ipv6 ::1
    "${CURL[@]}" -u alice:wonderland --login-options AUTH=CRAM-MD5 'pop3://[::1]/'
}

scenario python-retr-dot-lines
scn_python_retr_dot_lines() { $CLIENT retr-dot-lines; }

scenario python-retr-big
scn_python_retr_big() { $CLIENT retr-big; }

scenario python-empty-mailbox
scn_python_empty_mailbox() { $CLIENT empty-mailbox; }

scenario python-scram-sha-1
scn_python_scram_sha_1() { $CLIENT scram-sha-1; }

scenario python-scram-sha-256
scn_python_scram_sha_256() { $CLIENT scram-sha-256; }

scenario python-anonymous
scn_python_anonymous() { $CLIENT anonymous; }

scenario python-external
scn_python_external() {
    rm -f "$OUT/python-external.keys"
    SSLKEYLOGFILE_OUT=$OUT/python-external.keys $CLIENT external
}

scenario python-pipelining
scn_python_pipelining() { $CLIENT pipelining; }

scenario errors-auth
scn_errors_auth() { $CLIENT errors-auth; }

scenario errors-state
scn_errors_state() { $CLIENT errors-state; }

scenario errors-in-use
scn_errors_in_use() { $CLIENT errors-in-use; }

scenario errors-abort
scn_errors_abort() { $CLIENT errors-abort; }

scenario fetchmail-retrieve
scn_fetchmail_retrieve() {
    local rc=$WORK/fetchmailrc
    cat >"$rc" <<EOF
set no bouncemail
set no syslog
poll 127.0.0.1 protocol pop3 port 110 auth password uidl
    user "alice" password "wonderland" is root here
    sslproto '' fetchall no keep
    mda "cat > /dev/null"
EOF
    chmod 600 "$rc"
    HOME=$WORK FETCHMAILHOME=$WORK fetchmail -f "$rc" --nodetach -v >"$WORK/log/fetchmail.log" 2>&1
}

scenario mpop-retrieve
scn_mpop_retrieve() {
    local rc=$WORK/mpoprc
    cat >"$rc" <<EOF
defaults
tls off
timeout 20
delivery mbox $WORK/mpop.mbox
uidls_file $WORK/mpop-uidls

account alice-scram
host 127.0.0.1
user alice
password wonderland
auth scram-sha-256
keep off

account carol-digest
host 127.0.0.1
user carol
password carol-empty
auth digest-md5
EOF
    chmod 600 "$rc"
    HOME=$WORK mpop -C "$rc" alice-scram >"$WORK/log/mpop.log" 2>&1
    HOME=$WORK mpop -C "$rc" carol-digest >>"$WORK/log/mpop.log" 2>&1
}

scenario mpop-tls-external
scn_mpop_tls_external() {
    # mpop (GnuTLS) with a client certificate: POP3S on 995 and STLS on 110,
    # both with SASL EXTERNAL; GnuTLS writes the TLS secrets to
    # SSLKEYLOGFILE.
    local rc=$WORK/mpoprc-tls
    cat >"$rc" <<EOF
defaults
tls on
tls_trust_file $WORK/tls/ca.crt
tls_cert_file $WORK/tls/alice.crt
tls_key_file $WORK/tls/alice.key
timeout 20
delivery mbox $WORK/mpop-tls.mbox
uidls_file $WORK/mpop-tls-uidls
user alice
auth external
keep on
only_new off

account pop3s
host 127.0.0.1
port 995
tls_starttls off

account stls
host 127.0.0.1
port 110
tls_starttls on
EOF
    chmod 600 "$rc"
    rm -f "$OUT/mpop-tls-external.keys"
    HOME=$WORK SSLKEYLOGFILE=$OUT/mpop-tls-external.keys mpop -C "$rc" pop3s >"$WORK/log/mpop-tls.log" 2>&1
    HOME=$WORK SSLKEYLOGFILE=$OUT/mpop-tls-external.keys mpop -C "$rc" stls >>"$WORK/log/mpop-tls.log" 2>&1
}

# Scripted peer on 127.0.0.2:110 (Dovecot listens on 127.0.0.1 only) for
# what no server here does: NTLM (not built into Debian's Dovecot), the
# published example exchanges with their fixed nonces, and the RFC 2449 /
# RFC 6856 features Dovecot lacks (LANG, UTF8, LOGIN-DELAY, EXPIRE, ...).
PEER="$PY $TOOLS/scripted_peer.py"

scenario scripted-rfc1939-examples
scn_scripted_rfc1939_examples() { $PEER rfc1939-examples; }

scenario scripted-sasl-examples
scn_scripted_sasl_examples() { $PEER sasl-examples; }

scenario scripted-ntlm
scn_scripted_ntlm() { $PEER ntlm; }

scenario scripted-extensions
scn_scripted_extensions() { $PEER extensions; }

SELECTED=("$@")
for s in "${SELECTED[@]}"; do
    if [[ " ${SCENARIOS[*]} " != *" $s "* ]]; then
        echo "unknown scenario: $s (known: ${SCENARIOS[*]})" >&2
        exit 2
    fi
done
start_servers
for s in "${SCENARIOS[@]}"; do
    run_scenario "$s"
done
chmod 644 "$OUT"/*.pcapng "$OUT"/*.keys 2>/dev/null || true
echo "done; captures in $OUT"
