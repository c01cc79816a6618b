#!/usr/bin/python3
"""POP3 client scenarios for make-captures.sh (Python standard library only).

Usage: clients.py SCENARIO [HOST [PORT]]

Every socket sets TCP_MAXSEG 1460 before connect, so the capture shows
segments of at most 1460 bytes.  The SASL mechanisms (SCRAM-SHA-1,
SCRAM-SHA-256, NTLM, CRAM-MD5, ...) are computed here with hashlib/hmac.
"""
import base64
import hashlib
import hmac
import os
import poplib
import socket
import ssl
import struct
import sys
import time

MSS = 1460
WORK = os.environ.get("POP3_SAMPLE_WORK", "")
PASSWORDS = {
    "alice": "wonderland",
    "bob": "builder42",
    "carol": "carol-empty",
}


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def unb64(text):
    return base64.b64decode(text)


def connect_socket(host, port, timeout=20):
    if not isinstance(timeout, (int, float)):
        timeout = 20  # poplib passes socket._GLOBAL_DEFAULT_TIMEOUT
    err = None
    for family, stype, proto, _, addr in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM):
        s = socket.socket(family, stype, proto)
        try:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, MSS)
            s.settimeout(timeout)
            s.connect(addr)
            return s
        except OSError as e:
            err = e
            s.close()
    raise err


def tls_context(client_cert=None, keylog=None):
    ctx = ssl.create_default_context(cafile=os.path.join(WORK, "tls", "ca.crt"))
    ctx.check_hostname = False
    if client_cert:
        ctx.load_cert_chain(os.path.join(WORK, "tls", client_cert + ".crt"),
                            os.path.join(WORK, "tls", client_cert + ".key"))
    if keylog:
        ctx.keylog_filename = keylog
    return ctx


class MssPOP3(poplib.POP3):
    """poplib.POP3 whose socket uses MSS 1460."""

    def _create_socket(self, timeout):
        return connect_socket(self.host, self.port, timeout)


class Raw:
    """A minimal line-oriented POP3 client on a raw socket."""

    def __init__(self, host="127.0.0.1", port=110, tls=None):
        self.sock = connect_socket(host, port)
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock)
        self.buf = b""
        self.greeting = self.line()

    def starttls(self, ctx):
        self.sock = ctx.wrap_socket(self.sock)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server has closed: the capture shows it

    def line(self):
        while b"\r\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                rest, self.buf = self.buf, b""
                return rest
            self.buf += chunk
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def multiline(self):
        lines = []
        while True:
            ln = self.line()
            if ln == b".":
                return lines
            lines.append(ln)

    def cmd(self, text, multi=False):
        self.send(text + "\r\n")
        resp = self.line()
        if multi and resp.startswith(b"+OK"):
            return resp, self.multiline()
        return resp

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ------------------------------------------------------------------ SASL
def scram_client(conn, mech, user, password, initial_response, cnonce):
    hname = {"SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256"}[mech]
    gs2 = "n,,"
    first_bare = "n=%s,r=%s" % (user, cnonce)
    if initial_response:
        resp = conn.cmd("AUTH %s %s" % (mech, b64(gs2 + first_bare)))
    else:
        resp = conn.cmd("AUTH %s" % mech)
        assert resp.startswith(b"+"), resp
        resp = conn.cmd(b64(gs2 + first_bare))
    assert resp.startswith(b"+ "), resp
    server_first = unb64(resp[2:]).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    nonce, salt, iters = attrs["r"], unb64(attrs["s"]), int(attrs["i"])
    assert nonce.startswith(cnonce)
    salted = hashlib.pbkdf2_hmac(hname, password.encode(), salt, iters)
    client_key = hmac.new(salted, b"Client Key", hname).digest()
    stored_key = hashlib.new(hname, client_key).digest()
    final_wo_proof = "c=%s,r=%s" % (b64(gs2), nonce)
    auth_msg = ",".join([first_bare, server_first, final_wo_proof]).encode()
    client_sig = hmac.new(stored_key, auth_msg, hname).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, client_sig))
    server_key = hmac.new(salted, b"Server Key", hname).digest()
    server_sig = hmac.new(server_key, auth_msg, hname).digest()
    resp = conn.cmd(b64(final_wo_proof + ",p=" + b64(proof)))
    if resp.startswith(b"+ "):
        final = unb64(resp[2:]).decode()
        assert final == "v=" + b64(server_sig), (final, server_sig)
        resp = conn.cmd("")
    return resp


def cram_md5(user, password, challenge):
    digest = hmac.new(password.encode(), challenge, "md5").hexdigest()
    return b64("%s %s" % (user, digest))


# -------------------------------------------------------------- scenarios
def scn_poplib_basics(host, port):
    p = MssPOP3(host, port)
    p.capa()
    # RFC 6856 commands before login; Dovecot does not implement them (and
    # its login process disconnects after the third bad command).
    for c in ("UTF8", "LANG"):
        try:
            p._shortcmd(c)
        except poplib.error_proto:
            pass
    p.user("alice")
    p.pass_("wonderland")
    p.stat()
    p.list()
    p.list(1)
    p.uidl()
    p.uidl(2)
    p.top(1, 0)
    p.top(3, 2)
    p.noop()
    for c in ("LANG", "LANG de", "UTF8"):
        try:
            p._shortcmd(c)
        except poplib.error_proto:
            pass
    p.retr(1)
    p.retr(5)  # long lines: the response spans three segments
    p.dele(1)
    p.list()
    p.rset()
    p.dele(5)
    p.stat()
    p.quit()


def scn_poplib_ipv6(host, port):
    p = MssPOP3(host, port)
    p.capa()
    p.user("bob")
    p.pass_("builder42")
    p.stat()
    p.list()
    p.uidl()
    p.top(2, 10)
    p.retr(1)
    p.quit()


def scn_retr_dot_lines(host, port):
    p = MssPOP3(host, port)
    p.user("alice")
    p.pass_("wonderland")
    p.list(2)
    p.retr(2)
    p.top(2, 3)
    p.retr(4)
    p.retr(3)
    p.quit()


def scn_retr_big(host, port):
    p = MssPOP3(host, port)
    p.user("bob")
    p.pass_("builder42")
    p.stat()
    p.list()
    p.uidl()
    p.retr(2)
    p.quit()


def scn_empty_mailbox(host, port):
    p = MssPOP3(host, port)
    p.apop("carol", "carol-empty")
    p.stat()
    p.list()
    p.uidl()
    try:
        p.retr(1)
    except poplib.error_proto:
        pass
    p.quit()


def scn_scram(mech, initial_response, host, port):
    c = Raw(host, port)
    c.cmd("CAPA", multi=True)
    resp = scram_client(c, mech, "alice", "wonderland", initial_response,
                        "pop3decodeSampleClientNonce" + mech[-1])
    assert resp.startswith(b"+OK"), resp
    c.cmd("STAT")
    c.cmd("UIDL", multi=True)
    c.cmd("QUIT")
    c.close()


def scn_anonymous(host, port):
    c = Raw(host, port)
    c.cmd("CAPA", multi=True)
    resp = c.cmd("AUTH ANONYMOUS")
    assert resp.startswith(b"+"), resp
    resp = c.cmd(b64("sample-trace@example.net"))
    assert resp.startswith(b"+OK"), resp
    c.cmd("STAT")
    c.cmd("LIST", multi=True)
    c.cmd("RETR 1", multi=True)
    c.cmd("QUIT")
    c.close()
    # Second session: ANONYMOUS with an initial response (RFC 2449 SASL-IR).
    c = Raw(host, port)
    resp = c.cmd("AUTH ANONYMOUS " + b64("anon"))
    assert resp.startswith(b"+OK"), resp
    c.cmd("QUIT")
    c.close()


def scn_external(host, port):
    keylog = os.environ["SSLKEYLOGFILE_OUT"]
    # POP3S (implicit TLS) with a client certificate whose CN is alice.
    ctx = tls_context("alice", keylog)
    c = Raw(host, 995, tls=ctx)
    c.cmd("CAPA", multi=True)
    resp = c.cmd("AUTH EXTERNAL =")
    print("EXTERNAL (implicit TLS, empty authzid):", resp.decode(), file=sys.stderr)
    c.cmd("STAT")
    c.cmd("QUIT")
    c.close()
    # STLS on port 110, then AUTH EXTERNAL without initial response.
    c = Raw(host, port)
    c.cmd("CAPA", multi=True)
    resp = c.cmd("STLS")
    assert resp.startswith(b"+OK"), resp
    c.starttls(tls_context("alice", keylog))
    c.cmd("CAPA", multi=True)
    resp = c.cmd("AUTH EXTERNAL")
    if resp.startswith(b"+"):
        resp = c.cmd(b64("alice"))
    print("EXTERNAL (STLS, authzid alice):", resp.decode(), file=sys.stderr)
    c.cmd("LIST", multi=True)
    c.cmd("QUIT")
    c.close()
    # POP3S without a client certificate: EXTERNAL must fail.
    c = Raw(host, 995, tls=tls_context(None, keylog))
    resp = c.cmd("AUTH EXTERNAL =")
    print("EXTERNAL (no client cert):", resp.decode(), file=sys.stderr)
    c.cmd("QUIT")
    c.close()


def scn_pipelining(host, port):
    c = Raw(host, port)
    c.cmd("CAPA", multi=True)
    burst = ("USER alice\r\nPASS wonderland\r\nSTAT\r\nLIST\r\nUIDL 3\r\n"
             "TOP 1 0\r\nRETR 2\r\nNOOP\r\nDELE 5\r\nLIST 5\r\nRSET\r\nQUIT\r\n")
    c.send(burst)  # one sendall: all commands in one segment
    c.sock.settimeout(10)
    while True:
        try:
            chunk = c.sock.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
    c.close()
    # A second burst that mixes an AUTH exchange with commands after it.
    c = Raw(host, port)
    c.send("AUTH PLAIN %s\r\nSTAT\r\nLIST 1\r\nQUIT\r\n" % b64("\0bob\0builder42"))
    while c.sock.recv(65536):
        pass
    c.close()


def scn_errors_auth(host, port):
    # Wrong password with USER/PASS.
    c = Raw(host, port)
    c.cmd("USER alice")
    c.cmd("PASS not-the-password")
    c.cmd("USER nosuchuser")
    c.cmd("PASS whatever")
    c.cmd("QUIT")
    c.close()
    # Wrong password with AUTH PLAIN (initial response) and AUTH LOGIN.
    c = Raw(host, port)
    c.cmd("AUTH PLAIN " + b64("\0alice\0wrong"))
    c.cmd("AUTH LOGIN")
    c.cmd(b64("bob"))
    c.cmd(b64("wrong-again"))
    c.cmd("QUIT")
    c.close()
    # Cancelled AUTH (client answers the challenge with "*"), unknown
    # mechanism, bad base64, PASS without USER, bad APOP digest.
    c = Raw(host, port)
    c.cmd("AUTH CRAM-MD5")
    c.cmd("*")
    c.cmd("AUTH SCRAM-SHA-256")
    c.cmd("*")
    c.cmd("AUTH NO-SUCH-MECH")
    c.cmd("AUTH PLAIN")
    c.cmd("this is not base64!")
    c.cmd("PASS wonderland")
    c.cmd("APOP alice 0123456789abcdef0123456789abcdef")
    c.cmd("QUIT")
    c.close()
    # Wrong CRAM-MD5 digest.
    c = Raw(host, port)
    resp = c.cmd("AUTH CRAM-MD5")
    c.cmd(cram_md5("alice", "not-the-password", unb64(resp[2:])))
    c.cmd("QUIT")
    c.close()


def scn_errors_state(host, port):
    # Commands valid only in TRANSACTION state, sent before login: Dovecot's
    # login process gives up after the third bad command.
    c = Raw(host, port)
    c.cmd("STAT")
    c.cmd("LIST")
    c.cmd("RETR 1")
    try:
        c.cmd("QUIT")
    except OSError:
        pass
    c.close()
    # Unknown command, empty line, over-long lines (RFC 2449: at most 255
    # octets), then a login and errors in TRANSACTION state.
    c = Raw(host, port)
    c.cmd("XYZZY")
    c.cmd("USER " + "a" * 300)
    c.cmd("USER alice")
    c.cmd("PASS wonderland")
    # Commands valid only in AUTHORIZATION state, sent after login.
    c.cmd("USER alice")
    c.cmd("PASS wonderland")
    c.cmd("APOP alice 0123456789abcdef0123456789abcdef")
    c.cmd("AUTH PLAIN")
    c.cmd("STLS")
    c.cmd("CAPA", multi=True)
    # Bad arguments.
    c.cmd("RETR 99")
    c.cmd("RETR 0")
    c.cmd("RETR")
    c.cmd("LIST abc")
    c.cmd("TOP 1")
    c.cmd("TOP 1 -5")
    c.cmd("UIDL 42")
    c.cmd("DELE 1")
    c.cmd("DELE 1")
    c.cmd("RETR 1")
    c.cmd("LIST 1")
    c.cmd("NOOP " + "x" * 600)
    c.cmd("")
    c.cmd("HELO pop3.example.net")
    c.cmd("stat")
    c.cmd("noop")
    c.cmd("RSET")
    c.cmd("QUIT")
    c.close()
    # Empty line and an over-long line before login.
    c = Raw(host, port)
    c.cmd("")
    c.cmd("NOOP " + "x" * 2000)
    c.cmd("QUIT")
    c.close()


def scn_errors_in_use(host, port):
    a = Raw(host, port)
    a.cmd("USER alice")
    resp = a.cmd("PASS wonderland")
    assert resp.startswith(b"+OK"), resp
    a.cmd("STAT")
    b = Raw(host, port)
    b.cmd("USER alice")
    resp = b.cmd("PASS wonderland")
    print("second session:", resp.decode(), file=sys.stderr)
    b.cmd("QUIT")
    b.close()
    a.cmd("QUIT")
    a.close()
    time.sleep(0.3)
    b = Raw(host, port)
    b.cmd("USER alice")
    b.cmd("PASS wonderland")
    b.cmd("QUIT")
    b.close()


def scn_errors_abort(host, port):
    # 1. The client resets the connection (SO_LINGER 0) right after sending
    #    RETR, while the response is on its way.
    c = Raw(host, port)
    c.cmd("USER alice")
    c.cmd("PASS wonderland")
    c.send("RETR 5\r\n")
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.sock.close()
    time.sleep(0.3)
    # 2. A command without its line end, then the client half-closes.
    c = Raw(host, port)
    c.cmd("USER bob")
    c.cmd("PASS builder42")
    c.send("STA")
    c.sock.shutdown(socket.SHUT_WR)
    c.sock.settimeout(5)
    try:
        while c.sock.recv(65536):
            pass
    except OSError:
        pass
    c.close()
    time.sleep(0.3)
    # 3. The client goes away in AUTHORIZATION state without QUIT.
    c = Raw(host, port)
    c.cmd("USER carol")
    c.sock.close()
    time.sleep(0.3)


SCENARIOS = {
    "poplib-basics": scn_poplib_basics,
    "poplib-ipv6": scn_poplib_ipv6,
    "retr-dot-lines": scn_retr_dot_lines,
    "retr-big": scn_retr_big,
    "empty-mailbox": scn_empty_mailbox,
    "scram-sha-1": lambda h, p: scn_scram("SCRAM-SHA-1", False, h, p),
    "scram-sha-256": lambda h, p: scn_scram("SCRAM-SHA-256", True, h, p),
    "anonymous": scn_anonymous,
    "external": scn_external,
    "pipelining": scn_pipelining,
    "errors-auth": scn_errors_auth,
    "errors-state": scn_errors_state,
    "errors-in-use": scn_errors_in_use,
    "errors-abort": scn_errors_abort,
}


def main():
    name = sys.argv[1]
    host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    port = int(sys.argv[3]) if len(sys.argv) > 3 else 110
    SCENARIOS[name](host, port)


if __name__ == "__main__":
    main()
