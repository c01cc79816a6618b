#!/usr/bin/python3
"""Scripted POP3 server and client for cases Dovecot cannot show here.

Usage: scripted_peer.py SCENARIO [ADDRESS [PORT]]

Starts a small POP3 server on ADDRESS:PORT (default 127.0.0.2:110) that
plays back a fixed exchange, and a client that connects to it (MSS 1460)
and plays the other side.  The exchanges are built here from the published
examples (RFC 1939, RFC 2195, RFC 5802, RFC 7677, the SCRAM-MD5 example of
RFC 2384 section 7, RFC 2449, RFC 6856) and, for NTLM, from messages laid
out per MS-NLMP with the real NTLMv2 algorithms and fixed challenges.  Both
sides check every line they receive against the transcript.
"""
import base64
import hashlib
import hmac
import socket
import struct
import sys
import threading

MSS = 1460


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


# ------------------------------------------------------------------- MD4
def md4(data):
    """MD4 (RFC 1320); OpenSSL 3 no longer offers it to hashlib."""
    def f(x, y, z): return (x & y) | (~x & z)
    def g(x, y, z): return (x & y) | (x & z) | (y & z)
    def h(x, y, z): return x ^ y ^ z
    def rol(v, s): return ((v << s) | (v >> (32 - s))) & 0xFFFFFFFF
    msg = bytearray(data)
    bitlen = (8 * len(data)) & 0xFFFFFFFFFFFFFFFF
    msg.append(0x80)
    while len(msg) % 64 != 56:
        msg.append(0)
    msg += struct.pack("<Q", bitlen)
    a, b, c, d = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476
    for off in range(0, len(msg), 64):
        x = struct.unpack("<16I", msg[off:off + 64])
        aa, bb, cc, dd = a, b, c, d
        for i in (0, 4, 8, 12):
            a = rol((a + f(b, c, d) + x[i]) & 0xFFFFFFFF, 3)
            d = rol((d + f(a, b, c) + x[i + 1]) & 0xFFFFFFFF, 7)
            c = rol((c + f(d, a, b) + x[i + 2]) & 0xFFFFFFFF, 11)
            b = rol((b + f(c, d, a) + x[i + 3]) & 0xFFFFFFFF, 19)
        for i in (0, 1, 2, 3):
            a = rol((a + g(b, c, d) + x[i] + 0x5A827999) & 0xFFFFFFFF, 3)
            d = rol((d + g(a, b, c) + x[i + 4] + 0x5A827999) & 0xFFFFFFFF, 5)
            c = rol((c + g(d, a, b) + x[i + 8] + 0x5A827999) & 0xFFFFFFFF, 9)
            b = rol((b + g(c, d, a) + x[i + 12] + 0x5A827999) & 0xFFFFFFFF, 13)
        for i in (0, 2, 1, 3):
            a = rol((a + h(b, c, d) + x[i] + 0x6ED9EBA1) & 0xFFFFFFFF, 3)
            d = rol((d + h(a, b, c) + x[i + 8] + 0x6ED9EBA1) & 0xFFFFFFFF, 9)
            c = rol((c + h(d, a, b) + x[i + 4] + 0x6ED9EBA1) & 0xFFFFFFFF, 11)
            b = rol((b + h(c, d, a) + x[i + 12] + 0x6ED9EBA1) & 0xFFFFFFFF, 15)
        a, b, c, d = [(v + w) & 0xFFFFFFFF for v, w in zip((a, b, c, d), (aa, bb, cc, dd))]
    return struct.pack("<4I", a, b, c, d)


assert md4(b"abc").hex() == "a448017aaf21d8525fc10ae87aa6729d"


# --------------------------------------------------------------- SCRAM
def scram_exchange(hname, user, password, cnonce, snonce, salt, iters):
    first_bare = "n=%s,r=%s" % (user, cnonce)
    client_first = "n,," + first_bare
    server_first = "r=%s%s,s=%s,i=%d" % (cnonce, snonce, b64(salt), iters)
    final_wo_proof = "c=biws,r=%s%s" % (cnonce, snonce)
    salted = hashlib.pbkdf2_hmac(hname, password.encode(), salt, iters)
    client_key = hmac.new(salted, b"Client Key", hname).digest()
    stored_key = hashlib.new(hname, client_key).digest()
    auth_msg = ",".join([first_bare, server_first, final_wo_proof]).encode()
    sig = hmac.new(stored_key, auth_msg, hname).digest()
    proof = bytes(x ^ y for x, y in zip(client_key, sig))
    server_key = hmac.new(salted, b"Server Key", hname).digest()
    server_final = "v=" + b64(hmac.new(server_key, auth_msg, hname).digest())
    client_final = final_wo_proof + ",p=" + b64(proof)
    return client_first, server_first, client_final, server_final


# ---------------------------------------------------------------- NTLM
NTLM_FLAGS = (0x00000001 | 0x00000004 | 0x00000200 | 0x00008000 | 0x00080000
              | 0x02000000 | 0x20000000 | 0x80000000)
# the server adds TARGET_TYPE_DOMAIN and NEGOTIATE_TARGET_INFO
NTLM_CHALLENGE_FLAGS = NTLM_FLAGS | 0x00010000 | 0x00800000
NTLM_VERSION = struct.pack("<BBHxxxB", 10, 0, 19041, 15)  # Windows 10.0.19041, NTLM rev 15
SERVER_CHALLENGE = bytes.fromhex("0123456789abcdef")
CLIENT_CHALLENGE = bytes.fromhex("aaaaaaaaaaaaaaaa")
FILETIME = struct.pack("<Q", 133485408000000000)  # 2024-01-01 00:00:00 UTC


def u16(s):
    return s.encode("utf-16-le")


def av_pairs(pairs):
    out = b""
    for av_id, value in pairs:
        out += struct.pack("<HH", av_id, len(value)) + value
    return out + struct.pack("<HH", 0, 0)


def ntlm_negotiate():
    return (b"NTLMSSP\0" + struct.pack("<I", 1) + struct.pack("<I", NTLM_FLAGS)
            + struct.pack("<HHI", 0, 0, 40) + struct.pack("<HHI", 0, 0, 40) + NTLM_VERSION)


SERVER_AV = [
    (2, u16("EXAMPLE")),            # MsvAvNbDomainName
    (1, u16("POPSERVER")),          # MsvAvNbComputerName
    (4, u16("example.net")),        # MsvAvDnsDomainName
    (3, u16("pop.example.net")),    # MsvAvDnsComputerName
    (7, FILETIME),                  # MsvAvTimestamp
]


def ntlm_challenge():
    target = u16("EXAMPLE")
    info = av_pairs(SERVER_AV)
    header_len = 56
    return (b"NTLMSSP\0" + struct.pack("<I", 2)
            + struct.pack("<HHI", len(target), len(target), header_len)
            + struct.pack("<I", NTLM_CHALLENGE_FLAGS) + SERVER_CHALLENGE + b"\0" * 8
            + struct.pack("<HHI", len(info), len(info), header_len + len(target))
            + NTLM_VERSION + target + info)


def ntlm_authenticate(user, domain, password, workstation, negotiate, challenge):
    nt_hash = md4(u16(password))
    ntowf2 = hmac.new(nt_hash, u16(user.upper() + domain), "md5").digest()
    client_av = av_pairs(SERVER_AV + [(6, struct.pack("<I", 2))])  # MsvAvFlags: MIC present
    temp = (b"\x01\x01" + b"\0" * 6 + FILETIME + CLIENT_CHALLENGE + b"\0" * 4
            + client_av + b"\0" * 4)
    nt_proof = hmac.new(ntowf2, SERVER_CHALLENGE + temp, "md5").digest()
    nt_resp = nt_proof + temp
    lm_resp = b"\0" * 24  # MS-NLMP 3.3.2: zeros when the server sent MsvAvTimestamp
    session_key = hmac.new(ntowf2, nt_proof, "md5").digest()
    dom, usr, ws = u16(domain), u16(user), u16(workstation)
    header_len = 88
    off = header_len
    fields = b""
    payload = b""
    for item in (lm_resp, nt_resp, dom, usr, ws, b""):
        fields += struct.pack("<HHI", len(item), len(item), off)
        payload += item
        off += len(item)
    # order in the header: LM, NT, Domain, User, Workstation, SessionKey
    msg = (b"NTLMSSP\0" + struct.pack("<I", 3) + fields
           + struct.pack("<I", NTLM_CHALLENGE_FLAGS) + NTLM_VERSION)
    mic_at = len(msg)
    msg += b"\0" * 16 + payload
    assert mic_at == 72 and len(msg) - len(payload) == header_len
    mic = hmac.new(session_key, negotiate + challenge + msg, "md5").digest()
    return msg[:mic_at] + mic + msg[mic_at + 16:]


# ---------------------------------------------------------- transcripts
# A transcript is a list of sessions; a session is a list of (side, bytes),
# side "S" (server sends) or "C" (client sends).  Each item is sent with one
# sendall.

def crlf(*lines):
    return ("\r\n".join(lines) + "\r\n").encode()


def rfc1939_message(n, size):
    head = ("From: dewey@example.org\r\nTo: mrose@example.org\r\n"
            "Subject: message %d\r\n\r\n" % n)
    body_len = size - len(head) - 2
    body = ("Text of message %d. " % n * 20)[:body_len]
    msg = head + body + "\r\n"
    assert len(msg) == size
    return msg


def scn_rfc_examples():
    sessions = []
    # RFC 1939 section 7 (APOP) and section 10 (example POP3 session).
    ts = "<1896.697170952@dbc.mtview.ca.us>"
    digest = hashlib.md5((ts + "tanstaaf").encode()).hexdigest()
    assert digest == "c4c9334bac560ecc979e58001b3e22fb"
    m1, m2 = rfc1939_message(1, 120), rfc1939_message(2, 200)
    sessions.append([
        ("S", crlf("+OK POP3 server ready " + ts)),
        ("C", crlf("APOP mrose " + digest)),
        ("S", crlf("+OK mrose's maildrop has 2 messages (320 octets)")),
        ("C", crlf("STAT")),
        ("S", crlf("+OK 2 320")),
        ("C", crlf("LIST")),
        ("S", crlf("+OK 2 messages (320 octets)", "1 120", "2 200", ".")),
        ("C", crlf("RETR 1")),
        ("S", crlf("+OK 120 octets") + m1.encode() + b".\r\n"),
        ("C", crlf("DELE 1")),
        ("S", crlf("+OK message 1 deleted")),
        ("C", crlf("RETR 2")),
        ("S", crlf("+OK 200 octets") + m2.encode() + b".\r\n"),
        ("C", crlf("DELE 2")),
        ("S", crlf("+OK message 2 deleted")),
        ("C", crlf("QUIT")),
        ("S", crlf("+OK dewey POP3 server signing off (maildrop empty)")),
    ])
    # RFC 1939 USER/PASS examples, including "-ERR never heard of mailbox".
    sessions.append([
        ("S", crlf("+OK POP3 server ready")),
        ("C", crlf("USER frated")),
        ("S", crlf("-ERR sorry, no mailbox for frated here")),
        ("C", crlf("USER mrose")),
        ("S", crlf("+OK mrose is a real hoopy frood")),
        ("C", crlf("PASS secret")),
        ("S", crlf("+OK mrose's maildrop has 2 messages (320 octets)")),
        ("C", crlf("TOP 1 10")),
        ("S", crlf("+OK") + m1.split("\r\n\r\n")[0].encode() + b"\r\n\r\n"
         + m1.split("\r\n\r\n")[1].encode() + b".\r\n"),
        ("C", crlf("TOP 100 3")),
        ("S", crlf("-ERR no such message")),
        ("C", crlf("UIDL")),
        ("S", crlf("+OK", "1 whqtswO00WBw418f9t5JxYwZ", "2 QhdPYR:00WBw1Ph7x7", ".")),
        ("C", crlf("UIDL 2")),
        ("S", crlf("+OK 2 QhdPYR:00WBw1Ph7x7")),
        ("C", crlf("RSET")),
        ("S", crlf("+OK maildrop has 2 messages (320 octets)")),
        ("C", crlf("NOOP")),
        ("S", crlf("+OK")),
        ("C", crlf("QUIT")),
        ("S", crlf("+OK dewey POP3 server signing off")),
    ])
    return sessions


def sasl_session(mech, steps, user_line=None):
    """steps: alternating client/server SASL payloads (raw bytes or str)."""
    s = [("S", crlf("+OK POP3 server ready")),
         ("C", crlf("AUTH " + mech)),
         ("S", crlf("+ "))]
    for i, payload in enumerate(steps):
        if i % 2 == 0:
            s.append(("C", crlf(b64(payload) if payload != "" else "")))
        else:
            s.append(("S", crlf("+ " + b64(payload))))
    return s


def scn_sasl_examples():
    sessions = []
    # RFC 2195 CRAM-MD5 example: tim / tanstaaftanstaaf.
    chal = "<1896.697170952@postoffice.reston.mci.net>"
    resp = "tim " + hmac.new(b"tanstaaftanstaaf", chal.encode(), "md5").hexdigest()
    assert resp == "tim b913a602c7eda7a495b4e6e7334d3890"
    sessions.append([
        ("S", crlf("+OK POP3 server ready")),
        ("C", crlf("AUTH CRAM-MD5")),
        ("S", crlf("+ " + b64(chal))),
        ("C", crlf(b64(resp))),
        ("S", crlf("+OK CRAM authentication successful")),
        ("C", crlf("STAT")),
        ("S", crlf("+OK 0 0")),
        ("C", crlf("QUIT")),
        ("S", crlf("+OK bye")),
    ])
    # RFC 5802 section 5 (SCRAM-SHA-1) and RFC 7677 section 3 (SCRAM-SHA-256):
    # user "user", password "pencil".
    for mech, hname, cn, sn, salt, expect in (
            ("SCRAM-SHA-1", "sha1", "fyko+d2lbbFgONRv9qkxdawL", "3rfcNHYJY1ZVvWVs7j",
             base64.b64decode("QSXCR+Q6sek8bf92"), "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="),
            ("SCRAM-SHA-256", "sha256", "rOprNGfwEbeRWgbNEkqO", "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
             base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ=="),
             "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")):
        cf, sf, cfin, sfin = scram_exchange(hname, "user", "pencil", cn, sn, salt, 4096)
        assert sfin == expect, (mech, sfin)
        s = sasl_session(mech, [cf, sf, cfin, sfin, ""])
        s += [("S", crlf("+OK user's maildrop has 0 messages (0 octets)")),
              ("C", crlf("QUIT")), ("S", crlf("+OK bye"))]
        sessions.append(s)
    # The same SCRAM-SHA-1 exchange with the client-first message as the
    # initial response (RFC 2449 / RFC 5034 "AUTH mech initial-response").
    cf, sf, cfin, sfin = scram_exchange("sha1", "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL",
                                        "3rfcNHYJY1ZVvWVs7j",
                                        base64.b64decode("QSXCR+Q6sek8bf92"), 4096)
    sessions.append([
        ("S", crlf("+OK POP3 server ready")),
        ("C", crlf("AUTH SCRAM-SHA-1 " + b64(cf))),
        ("S", crlf("+ " + b64(sf))),
        ("C", crlf(b64(cfin))),
        ("S", crlf("+ " + b64(sfin))),
        ("C", crlf("")),
        ("S", crlf("+OK Logged in")),
        ("C", crlf("QUIT")),
        ("S", crlf("+OK bye")),
    ])
    # SCRAM-MD5, the exchange of RFC 2384 section 7 (from
    # draft-newman-auth-scram; user chris, password "secret stuff").
    md5_steps = [
        "AGNocmlzADx0NG40UGFiOUhCMEFtL1FMWEI3MmVnQGVsZWFub3IuaW5ub3NvZnQuY29tPg==",
        "dGVzdHNhbHQBAAAAaW1hcEBlbGVhbm9yLmlubm9zb2Z0LmNvbQBqaGNOWmxSdVBiemlGcCt2TFYrTkN3",
        "AQAAAMg9jU8CeB4KOfk7sUhSQPs=",
        "U0odqYw3B7XIIW0oSz65OQ==",
    ]
    sessions.append([
        ("S", crlf("+OK POP3 server ready")),
        ("C", crlf("AUTH SCRAM-MD5")),
        ("S", crlf("+ ")),
        ("C", crlf(md5_steps[0])),
        ("S", crlf("+ " + md5_steps[1])),
        ("C", crlf(md5_steps[2])),
        ("S", crlf("+ " + md5_steps[3])),
        ("C", crlf("")),
        ("S", crlf("+OK SCRAM-MD5 authentication successful")),
        ("C", crlf("QUIT")),
        ("S", crlf("+OK bye")),
    ])
    return sessions


def scn_ntlm():
    sessions = []
    capa = crlf("+OK Capability list follows", "TOP", "UIDL", "RESP-CODES",
                "AUTH-RESP-CODE", "USER", "SASL NTLM PLAIN", ".")
    for password, ok in (("wonderland", True), ("not-the-password", False)):
        neg = ntlm_negotiate()
        chal = ntlm_challenge()
        auth = ntlm_authenticate("alice", "EXAMPLE", password, "WS01", neg, chal)
        s = [("S", crlf("+OK POP3 server ready")),
             ("C", crlf("CAPA")),
             ("S", capa),
             ("C", crlf("AUTH NTLM")),
             ("S", crlf("+ ")),
             ("C", crlf(b64(neg))),
             ("S", crlf("+ " + b64(chal))),
             ("C", crlf(b64(auth)))]
        if ok:
            s += [("S", crlf("+OK Logged in.")),
                  ("C", crlf("STAT")), ("S", crlf("+OK 0 0")),
                  ("C", crlf("QUIT")), ("S", crlf("+OK Logging out."))]
        else:
            s += [("S", crlf("-ERR [AUTH] Authentication failed.")),
                  ("C", crlf("QUIT")), ("S", crlf("+OK Logging out"))]
        sessions.append(s)
    # NTLM with an initial response (the NEGOTIATE message on the AUTH line).
    neg = ntlm_negotiate()
    chal = ntlm_challenge()
    auth = ntlm_authenticate("alice", "EXAMPLE", "wonderland", "WS01", neg, chal)
    sessions.append([
        ("S", crlf("+OK POP3 server ready")),
        ("C", crlf("AUTH NTLM " + b64(neg))),
        ("S", crlf("+ " + b64(chal))),
        ("C", crlf(b64(auth))),
        ("S", crlf("+OK Logged in.")),
        ("C", crlf("QUIT")),
        ("S", crlf("+OK Logging out.")),
    ])
    return sessions


def scn_extensions():
    """RFC 2449 capabilities and response codes, RFC 6856 UTF8 and LANG."""
    sessions = []
    capa = crlf("+OK Capability list follows", "TOP", "USER", "SASL PLAIN SCRAM-SHA-256",
                "RESP-CODES", "LOGIN-DELAY 900", "PIPELINING", "EXPIRE 60", "UIDL",
                "IMPLEMENTATION Scripted-Peer-1.0", "AUTH-RESP-CODE", "STLS",
                "UTF8 USER", "LANG", ".")
    msg = ("From: =?UTF-8?Q?J=C3=BCrgen?= <juergen@example.net>\r\n"
           "To: Jürgen <jürgen@example.net>\r\n"
           "Subject: Grüße\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n"
           "\r\n"
           "Ein Brief mit UTF-8-Kopfzeilen (RFC 6532).\r\n").encode()
    sessions.append([
        ("S", crlf("+OK POP3 server ready")),
        ("C", crlf("CAPA")),
        ("S", capa),
        ("C", crlf("LANG")),
        ("S", crlf("+OK Language listing follows:", "en English", "en-boont English Boontling dialect",
                   "de Deutsch", "i-default Default language", ".")),
        ("C", crlf("LANG de")),
        ("S", "+OK de Sprache geändert\r\n".encode()),
        ("C", crlf("LANG fr")),
        ("S", crlf("-ERR invalid language fr")),
        ("C", crlf("LANG *")),
        ("S", crlf("+OK de Sprache bleibt")),
        ("C", crlf("UTF8")),
        ("S", crlf("+OK UTF8 enabled")),
        ("C", "USER jürgen\r\n".encode()),
        ("S", crlf("+OK")),
        ("C", "PASS pässwörd\r\n".encode()),
        ("S", crlf("+OK [UTF8] maildrop has 1 message")),
        ("C", crlf("LIST")),
        ("S", crlf("+OK 1 messages", "1 %d" % len(msg), ".")),
        ("C", crlf("RETR 1")),
        ("S", crlf("+OK message follows") + msg + b".\r\n"),
        ("C", crlf("QUIT")),
        ("S", crlf("+OK bye")),
    ])
    # Response codes on failed logins (RFC 2449 section 8, RFC 3206).
    for user, answer in (
            ("bob", "-ERR [LOGIN-DELAY] minimum time between logins is 15 minutes"),
            ("carol", "-ERR [SYS/TEMP] maildrop temporarily unavailable, try again later"),
            ("dave", "-ERR [SYS/PERM] account disabled"),
            ("erin", "-ERR [AUTH] invalid credentials"),
            ("frank", "-ERR [IN-USE] do you have another POP session running?"),
            ("grace", "-ERR [X-VENDOR/SOMETHING] an unknown response code")):
        sessions.append([
            ("S", crlf("+OK POP3 server ready")),
            ("C", crlf("USER " + user)),
            ("S", crlf("+OK")),
            ("C", crlf("PASS secret")),
            ("S", crlf(answer)),
            ("C", crlf("QUIT")),
            ("S", crlf("+OK bye")),
        ])
    # EXPIRE / LOGIN-DELAY per user after login (RFC 2449 section 6.5/6.8):
    # the CAPA after login may differ from the one before.
    sessions.append([
        ("S", crlf("+OK POP3 server ready")),
        ("C", crlf("AUTH PLAIN " + b64("\0henry\0secret"))),
        ("S", crlf("+OK Logged in.")),
        ("C", crlf("CAPA")),
        ("S", crlf("+OK Capability list follows", "TOP", "UIDL", "RESP-CODES",
                   "LOGIN-DELAY 3600 USER", "EXPIRE NEVER", "PIPELINING", ".")),
        ("C", crlf("STAT")),
        ("S", crlf("+OK 0 0")),
        ("C", crlf("QUIT")),
        ("S", crlf("+OK bye")),
    ])
    return sessions


SCENARIOS = {
    "rfc1939-examples": scn_rfc_examples,
    "sasl-examples": scn_sasl_examples,
    "ntlm": scn_ntlm,
    "extensions": scn_extensions,
}


# ------------------------------------------------------------- playback
def recv_exact(sock, buf, n):
    while len(buf) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("peer closed early")
        buf += chunk
    return buf[:n], buf[n:]


def play(sock, session, me):
    buf = b""
    for side, data in session:
        if side == me:
            sock.sendall(data)
        else:
            got, buf = recv_exact(sock, buf, len(data))
            if got != data:
                raise AssertionError("%s expected %r, got %r" % (me, data, got))


def main():
    name = sys.argv[1]
    addr = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.2"
    port = int(sys.argv[3]) if len(sys.argv) > 3 else 110
    sessions = SCENARIOS[name]()
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(4)
    errors = []

    def server():
        try:
            for sess in sessions:
                conn, _ = srv.accept()
                with conn:
                    play(conn, sess, "S")
                    # wait for the client to close first, like a real server
                    # after QUIT would close; keeps FIN order stable
                    conn.settimeout(5)
                    while conn.recv(65536):
                        pass
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    t = threading.Thread(target=server)
    t.start()
    for sess in sessions:
        c = socket.socket(family, socket.SOCK_STREAM)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, MSS)
        c.settimeout(10)
        c.connect((addr, port))
        play(c, sess, "C")
        c.close()
    t.join()
    srv.close()
    if errors:
        raise errors[0]


if __name__ == "__main__":
    main()
