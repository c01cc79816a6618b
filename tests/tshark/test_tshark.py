#!/usr/bin/env python3
"""Runs the system tshark with the freshly built pop3decode plugin over the sample captures
(sample-pcaps/) and the third-party captures (../shared/captures/third-party/, skipped when
absent), and checks what it shows.

Environment (set by CMake, defaults for running by hand from a build folder):
  POP3DECODE_PLUGIN       path of the built pop3decode.so
  POP3DECODE_SOURCE_DIR   the source tree (for sample-pcaps/ and the C header)
  POP3DECODE_THIRD_PARTY  folder of third-party captures (optional)

Exit code 77 (ctest's SKIP_RETURN_CODE) when tshark or the plugin is missing.
Usage: test_tshark.py [unittest arguments, e.g. RegistrationTest]
"""
import ast
import atexit
import collections
import concurrent.futures
import glob
import os
import re
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pcapports  # noqa: E402
import pcapwriter  # noqa: E402
import pop3json  # noqa: E402
import tsharkenv  # noqa: E402
import wsformat  # noqa: E402

SOURCE_DIR = os.environ.get("POP3DECODE_SOURCE_DIR", os.path.dirname(os.path.dirname(HERE)))
SAMPLES = os.path.join(SOURCE_DIR, "sample-pcaps")
THIRD_PARTY = os.environ.get("POP3DECODE_THIRD_PARTY",
                             os.path.join(SOURCE_DIR, "..", "shared", "captures", "third-party"))
PLUGIN = os.environ.get("POP3DECODE_PLUGIN", "")
HEADER = os.path.join(SOURCE_DIR, "libpop3decode", "include", "pop3decode", "pop3decode.h")

SKIP = 77

_tshark = None
_cache = {}


def tshark():
    global _tshark
    if _tshark is None:
        _tshark = tsharkenv.TShark(PLUGIN)
        atexit.register(_tshark.close)
    return _tshark


def sample_captures():
    return sorted(glob.glob(os.path.join(SAMPLES, "*.pcap")) +
                  glob.glob(os.path.join(SAMPLES, "*.pcapng")))


def third_party_captures():
    return sorted(glob.glob(os.path.join(THIRD_PARTY, "*.pcap")) +
                  glob.glob(os.path.join(THIRD_PARTY, "*.pcapng")))


def keylog_args(path):
    keys = os.path.splitext(path)[0] + ".keys"
    if os.path.exists(keys):
        return ["-o", "tls.keylog_file:" + tshark().capture(keys)]
    return []


def run(path, args, decrypt=True, check=True):
    """tshark -r <copy of path> args (+ the key log next to it); cached."""
    key = (path, tuple(args), decrypt)
    if key not in _cache:
        full = ["-r", tshark().capture(path)] + (keylog_args(path) if decrypt else []) + list(args)
        _cache[key] = tshark().run(full, check=False)
    p = _cache[key]
    if check and p.returncode != 0:
        raise AssertionError("tshark %s exited %d:\n%s" % (" ".join(args), p.returncode, p.stderr))
    return p


ONE_PASS = ["-T", "json", "-J", "frame pop3"]
TWO_PASS = ["-2"] + ONE_PASS
PLAIN = ["-z", "credentials"]


def decoded(path, decrypt=True, extra=()):
    """The pop3 fields of every frame (two passes, JSON)."""
    return pop3json.Decoded(run(path, TWO_PASS + list(extra), decrypt=decrypt).stdout)


def sample(name):
    path = os.path.join(SAMPLES, name)
    if not os.path.exists(path):
        raise unittest.SkipTest("%s not present" % name)
    return path


def third(name):
    path = os.path.join(THIRD_PARTY, name)
    if not os.path.exists(path):
        raise unittest.SkipTest("third-party capture %s not present" % name)
    return path


def credentials(path, decrypt=True, extra=()):
    """(frame, user, info) rows of tshark -z credentials (with the plain packet list)."""
    out = run(path, PLAIN + list(extra), decrypt=decrypt).stdout
    rows = []
    for line in out.splitlines():
        # a master-user login is "admin as alice"
        m = re.match(r"^(\d+)\s+POP3\s+(\S+(?: as \S+)?)\s*(.*)$", line)
        if m:
            rows.append((int(m.group(1)), m.group(2), m.group(3).strip()))
    return rows


def exported_messages(path, decrypt=True):
    """Contents of the files tshark --export-objects imf writes."""
    out = tshark().outdir("eo")
    run(path, ["-q", "--export-objects", "imf," + out], decrypt=decrypt)
    result = []
    for name in sorted(os.listdir(out)):
        with open(os.path.join(out, name), "rb") as f:
            result.append(f.read())
    return result


def exported_names(path, extra=()):
    """Names of the files tshark --export-objects imf writes."""
    out = tshark().outdir("eo-names")
    run(path, list(extra) + ["-q", "--export-objects", "imf," + out])
    return sorted(os.listdir(out))


def info_column(path, extra=()):
    """frame number -> Info column as the packet list shows it (two passes)."""
    return wsformat.info_rows(run(path, ["-2"] + list(extra) + wsformat.INFO_ARGS).stdout)


def matching_frames(path, display_filter, two_pass=False):
    """Frame numbers a display filter matches."""
    args = (["-2"] if two_pass else []) + ["-Y", display_filter, "-T", "fields", "-e",
                                           "frame.number"]
    return [int(n) for n in run(path, args).stdout.split()]


def verbose_frame(path, number):
    """The pop3 part of tshark -V for one frame (two passes), as lines."""
    out = run(path, ["-2", "-V", "-O", "pop3", "-Y", "frame.number==%d" % number]).stdout
    lines = out.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("Post Office Protocol"))
    return lines[start:]


def header_table(macro):
    """The names of a X-macro table of the C header (fields or anomalies)."""
    with open(HEADER) as f:
        text = f.read()
    names = []
    for m in re.finditer(r"#define (%s)\(X\)(.*?)\n\n" % macro, text, re.S):
        names += re.findall(r'X\(\w+,\s*"([^"]+)"', m.group(2))
    return names


def mailbox_messages():
    """name -> message bytes as the server sends them (CRLF, unstuffed), from tools/mkmail.py.

    Only the module's imports and function definitions are run."""
    path = os.path.join(SAMPLES, "tools", "mkmail.py")
    if not os.path.exists(path):
        raise unittest.SkipTest("sample-pcaps/tools/mkmail.py not present")
    with open(path) as f:
        tree = ast.parse(f.read())
    tree.body = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom, ast.FunctionDef))]
    ns = {}
    exec(compile(tree, path, "exec"), ns)
    out = {}
    for name, fn in ns.items():
        if name.startswith("msg_") and callable(fn):
            text = fn()
            if not text.endswith("\n"):
                text += "\n"
            out[name] = text.replace("\n", "\r\n").encode("utf-8")
    return out


# ---------------------------------------------------------------------------------------------
class RegistrationTest(unittest.TestCase):
    def test_plugin_listed_with_version(self):
        with open(HEADER) as f:
            header = f.read()
        version = ".".join(
            re.search(r"#define POP3D_VERSION_%s (\d+)" % part, header).group(1)
            for part in ("MAJOR", "MINOR", "PATCH"))
        out = tshark().run(["-G", "plugins"]).stdout
        self.assertRegex(out, r"pop3decode\.so\s+%s\s+dissector" % re.escape(version))

    def test_protocol(self):
        rows = wsformat.protocols(tshark().run(["-G", "protocols"]).stdout)
        self.assertIn("pop3", rows)
        name, short, flags = rows["pop3"]
        self.assertEqual((name, short), ("Post Office Protocol v3", "POP3"))
        # 4.0 prints no flags; 4.4 on: enabled, enabled by default, can be disabled
        self.assertIn(flags, [(), ("T", "T", "T")])

    def test_public_fields(self):
        fields = {}
        for line in tshark().run(["-G", "fields"]).stdout.splitlines():
            cols = line.split("\t")
            if cols[0] == "F" and cols[2].startswith("pop3."):
                fields[cols[2]] = cols[3]
        required = {
            "pop3.request.command": "FT_STRING", "pop3.request.parameter": "FT_STRING",
            "pop3.response.indicator": "FT_STRING", "pop3.response.code": "FT_STRING",
            "pop3.response.description": "FT_STRING", "pop3.capa.name": "FT_STRING",
            "pop3.capa.value": "FT_STRING", "pop3.sasl.mechanism": "FT_STRING",
            "pop3.auth.username": "FT_STRING", "pop3.auth.password": "FT_STRING",
            "pop3.auth.result": "FT_STRING", "pop3.msg.number": "FT_UINT64",
            "pop3.msg.size": "FT_UINT64", "pop3.msg.uid": "FT_STRING", "pop3.data": "FT_STRING",
            "pop3.response_in": "FT_FRAMENUM", "pop3.response_to": "FT_FRAMENUM",
            "pop3.time": "FT_RELATIVE_TIME", "pop3.data.end_in": "FT_FRAMENUM",
            "pop3.data.octets_match": "FT_BOOLEAN",
        }
        for name, ftype in required.items():
            self.assertEqual(fields.get(name), ftype, name)
        # one field per entry of the library's table
        for name in header_table("POP3D_FIELD_MAP_CORE") + header_table("POP3D_FIELD_MAP_SASL"):
            self.assertIn("pop3." + name, fields)

    def test_expert_items(self):
        out = tshark().run(["-G", "fields"]).stdout
        names = set(line.split("\t")[2] for line in out.splitlines()
                    if line.startswith("F\t") and "\tpop3.anomaly." in line)
        anomalies = header_table("POP3D_ANOMALY_MAP")
        self.assertGreater(len(anomalies), 40)
        for name in anomalies:
            self.assertIn("pop3.anomaly." + name, names)

    def test_port_110_and_builtin_back(self):
        path = sample("curl-apop.pcapng") if os.path.exists(os.path.join(SAMPLES, "curl-apop.pcapng")) \
            else third("zeek-pop3.pcap")
        ours = run(path, ["-T", "fields", "-e", "frame.protocols", "-Y", "tcp.len > 0"]).stdout
        self.assertIn("tcp:pop3", ours)
        self.assertNotIn("tcp:pop\n", ours + "\n")
        builtin = run(path, ["-d", "tcp.port==110,pop", "-T", "fields", "-e", "frame.protocols",
                             "-Y", "tcp.len > 0"]).stdout
        self.assertIn("tcp:pop", builtin)
        self.assertNotIn("pop3", builtin)

    def test_tls_port_995_and_builtin_back(self):
        path = sample("curl-pop3s.pcapng")
        ours = run(path, ["-T", "fields", "-e", "frame.protocols", "-Y", "pop3"]).stdout
        self.assertIn("tls:pop3", ours)
        builtin = run(path, ["-d", "tls.port==995,pop", "-T", "fields", "-e", "frame.protocols",
                             "-Y", "pop"]).stdout
        self.assertIn("tls:pop", builtin)
        self.assertNotIn("pop3", builtin)

    def test_handles_and_heuristic_registered(self):
        decodes = tshark().run(["-G", "decodes"]).stdout.splitlines()
        self.assertIn("tcp.port\t110\tpop3", decodes)
        self.assertIn("tls.port\t995\tpop3", decodes)
        # the pop3_tcp heuristic on TCP, enabled by default
        # 4.0 prints three columns; 4.4 and later add the enabled flag, the short name and title
        heuristics = tshark().run(["-G", "heuristic-decodes"]).stdout.splitlines()
        self.assertTrue([l for l in heuristics if l.split("\t")[:3] == ["tcp", "pop3", "T"]],
                        "no enabled pop3 heuristic on tcp")

    def test_decode_as_other_port(self):
        path = third("zeek-redis-50-pings.pcap")
        plain = run(path, ["-Y", "pop3"]).stdout
        self.assertEqual(plain.strip(), "")
        d = decoded(path, extra=["-d", "tcp.port==6379,pop3"])
        self.assertTrue(d.frames)
        # Redis is not POP3: the decoder says so and stops
        self.assertTrue(d.has("pop3.anomaly.not_pop3") or d.has("pop3.skipped"))


# ---------------------------------------------------------------------------------------------
def _sweep(path):
    """Plain pass (no tree), one-pass tree, two-pass tree."""
    return [run(path, args, check=False) for args in (PLAIN, ONE_PASS, TWO_PASS)]


class CaptureSweepTest(unittest.TestCase):
    """Every capture: no dissector bug in a plain and a tree pass, and the same tree whether the
    frames are dissected once or in a second pass."""

    @classmethod
    def setUpClass(cls):
        paths = sample_captures() + third_party_captures()
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
            list(ex.map(_sweep, paths))

    def check(self, path):
        plain, one, two = _sweep(path)
        for p, what in ((plain, "plain"), (one, "one-pass tree"), (two, "two-pass tree")):
            self.assertEqual(p.returncode, 0, "%s: %s\n%s" % (what, p.returncode, p.stderr))
            self.assertNotIn("Dissector bug", p.stdout + p.stderr, what)
            # (PI_MALFORMED expert items mark a packet malformed on purpose; exceptions must not)
            self.assertNotIn("Exception occurred", p.stdout, what)
        # the pop3 trees only (TCP and TLS reassembly show differently in a second pass), and
        # without response_in, known only once the response has been seen (second pass)
        def trees(p):
            return [(n, [(k, v) for k, v in f if k not in ("pop3.response_in", "pop3.data.end_in")])
                    for n, f in pop3json.Decoded(p.stdout).frames]
        a, b = trees(one), trees(two)
        self.assertEqual(a, b, "one-pass and two-pass trees differ")

    def test_samples(self):
        paths = sample_captures()
        if not paths:
            self.skipTest("no sample captures yet")
        for path in paths:
            with self.subTest(capture=os.path.basename(path)):
                self.check(path)

    def test_third_party(self):
        paths = third_party_captures()
        if not paths:
            self.skipTest("third-party captures not present")
        for path in paths:
            with self.subTest(capture=os.path.basename(path)):
                self.check(path)

    def test_response_links(self):
        """Every response_to points at a frame holding the command the response answers, and
        every response_in at a frame whose response points back."""
        for path in sample_captures() + third_party_captures():
            with self.subTest(capture=os.path.basename(path)):
                d = decoded(path)
                commands = d.per_frame("pop3.request.command")
                backlinks = collections.defaultdict(set)
                for number, fields in d.frames:
                    answered = None
                    for key, value in fields:
                        if key == "pop3.response":
                            answered = None
                        elif key == "pop3.response.command":
                            answered = value
                        elif key == "pop3.response_to" and answered in (None, "", "(unknown)"):
                            backlinks[int(value)].add(number)  # an unknown or empty command
                        elif key == "pop3.response_to":
                            self.assertIn(answered.upper(),
                                          [c.upper() for c in commands.get(int(value), [])],
                                          "frame %d answers %s of frame %s" % (number, answered, value))
                            backlinks[int(value)].add(number)
                        elif key == "pop3.time":
                            self.assertGreaterEqual(float(value), 0.0)
                for number, fields in d.frames:
                    for key, value in fields:
                        if key == "pop3.response_in":
                            self.assertIn(int(value), backlinks[number])


# ---------------------------------------------------------------------------------------------
class SampleFieldsTest(unittest.TestCase):
    """Concrete values of the real captures in sample-pcaps/."""

    def test_curl_list_retr(self):
        d = decoded(sample("curl-list-retr.pcapng"))
        cmds = d.values("pop3.request.command")
        self.assertEqual(cmds.count("RETR"), 2)
        self.assertEqual(cmds.count("AUTH"), 6)
        self.assertEqual(d.values("pop3.sasl.cram_md5.username"), ["alice"] * 3)
        self.assertEqual(d.values("pop3.auth.result"), ["cancelled", "success"] * 3)
        self.assertEqual(len(d.frames_with("pop3.anomaly.sasl_cancelled")), 3)
        self.assertIn("SASL", d.values("pop3.capa.name"))
        self.assertEqual(set(d.values("pop3.capa.sasl")) >= {"PLAIN", "CRAM-MD5", "SCRAM-SHA-256"}, True)
        self.assertEqual(d.values("pop3.msg.size"), ["304", "395", "615", "212", "3144"])
        self.assertEqual([u for _, u, _ in credentials(sample("curl-list-retr.pcapng"))],
                         ["alice"] * 3)

    def test_curl_apop(self):
        path = sample("curl-apop.pcapng")
        d = decoded(path)
        self.assertEqual(d.values("pop3.apop.name"), ["alice", "bob"])
        self.assertEqual(len(d.values("pop3.greeting.timestamp")), 2)
        for digest in d.values("pop3.apop.digest"):
            self.assertRegex(digest, r"^[0-9a-f]{32}$")
        self.assertEqual([(u, i) for _, u, i in credentials(path)],
                         [("alice", "APOP, success"), ("bob", "APOP, success")])
        # with the passwords known, the digests are checked
        pw = ["-o", 'uat:pop3_passwords:"alice","wonderland"',
              "-o", 'uat:pop3_passwords:"bob","builder42"']
        self.assertEqual(decoded(path, extra=pw).values("pop3.auth.verified"), ["1", "1"])
        wrong = ["-o", 'uat:pop3_passwords:"alice","not-it"']
        dw = decoded(path, extra=wrong)
        self.assertEqual(dw.values("pop3.auth.verified"), ["0"])
        self.assertTrue(dw.has("pop3.anomaly.password_mismatch"))

    def test_curl_auth_plain(self):
        path = sample("curl-auth-plain.pcapng")
        d = decoded(path)
        self.assertEqual(d.values("pop3.sasl.plain.authcid"), ["alice", "alice", "admin"])
        self.assertEqual(d.values("pop3.sasl.plain.authzid"), ["alice"])
        self.assertEqual(d.values("pop3.sasl.initial_response"), ["AGFsaWNlAHdvbmRlcmxhbmQ="])
        self.assertEqual(len(d.frames_with("pop3.anomaly.cleartext_password")), 3)
        self.assertEqual([(u, i) for _, u, i in credentials(path)],
                         [("alice", "PLAIN, password: wonderland, success")] * 2 +
                         [("admin as alice", "PLAIN, password: master-key, success")])
        # pop3.request.command once per command, never on SASL lines
        self.assertEqual(d.values("pop3.request.command").count("AUTH"), 3)

    def test_curl_auth_login(self):
        path = sample("curl-auth-login.pcapng")
        d = decoded(path)
        self.assertEqual(d.values("pop3.sasl.login.username"), ["bob", "bob"])
        self.assertEqual(d.values("pop3.sasl.login.password"), ["builder42", "builder42"])
        self.assertEqual(d.values("pop3.sasl.initial_response"), ["Ym9i"])
        self.assertEqual([u for _, u, _ in credentials(path)], ["bob", "bob"])

    def test_curl_auth_cram_md5(self):
        path = sample("curl-auth-cram-md5.pcapng")
        d = decoded(path)
        self.assertEqual(d.values("pop3.sasl.cram_md5.username"), ["alice"])
        self.assertRegex(d.values("pop3.sasl.cram_md5.challenge")[0], r"^<\d+\.\d+@[^>]+>$")
        self.assertFalse(d.has("pop3.auth.verified"))
        pw = ["-o", 'uat:pop3_passwords:"alice","wonderland"']
        self.assertEqual(decoded(path, extra=pw).values("pop3.auth.verified"), ["1"])
        self.assertEqual([(u, i) for _, u, i in credentials(path)], [("alice", "CRAM-MD5, success")])

    def test_curl_digest_md5_cancelled(self):
        d = decoded(sample("curl-auth-digest-md5-cancelled.pcapng"))
        self.assertEqual(d.values("pop3.sasl.digest_md5.algorithm"), ["md5-sess"])
        self.assertEqual(d.values("pop3.sasl.cancel"), ["1"])
        self.assertEqual(d.values("pop3.auth.result"), ["cancelled"])
        self.assertTrue(d.has("pop3.anomaly.sasl_cancelled"))
        self.assertIn("-ERR", d.values("pop3.response.indicator"))

    def test_curl_oauth(self):
        path = sample("curl-oauthbearer.pcapng")
        d = decoded(path)
        self.assertEqual(set(d.values("pop3.auth.method")), {"OAUTHBEARER"})
        self.assertEqual(d.values("pop3.response.code"), ["AUTH"])
        # A login rejected with [AUTH] raises one anomaly: auth_failed.
        self.assertTrue(d.has("pop3.anomaly.auth_failed"))
        self.assertFalse(d.has("pop3.anomaly.response_code_auth"))
        self.assertEqual(d.values("pop3.auth.result"), ["success", "success", "failure"])
        self.assertEqual([u for _, u, _ in credentials(path)], ["bob"] * 3)
        # XOAUTH2: after the error challenge for the inactive token curl closes the connection
        # without answering it, so the third exchange has no outcome on the wire.
        path = sample("curl-xoauth2.pcapng")
        d = decoded(path)
        self.assertEqual(set(d.values("pop3.auth.method")), {"XOAUTH2"})
        self.assertEqual(d.values("pop3.auth.result")[:2], ["success", "success"])
        self.assertEqual(d.values("pop3.sasl.xoauth2.token"),
                         ["alice-oauth-token-0001"] * 2 + ["expired-token-9999"])
        self.assertEqual(d.values("pop3.sasl.xoauth2.error"),
                         ['{"status":"401","schemes":"bearer","scope":"mail"}'])
        self.assertEqual(d.values("pop3.response.code"), [])
        self.assertEqual({u for _, u, _ in credentials(path)}, {"alice"})

    def test_curl_custom_commands(self):
        d = decoded(sample("curl-custom-commands.pcapng"))
        cmds = d.values("pop3.request.command")
        for c in ("UIDL", "TOP", "LIST", "NOOP", "DELE", "STAT"):
            self.assertIn(c, cmds)
        self.assertEqual(len(d.values("pop3.msg.uid")), 5)
        self.assertTrue(all(u.endswith(".sample,S=%s" % u.rsplit("=", 1)[1])
                            for u in d.values("pop3.msg.uid")))
        self.assertEqual(d.values("pop3.request.lines"), ["0"])
        self.assertEqual(d.values("pop3.stat.messages"), ["4"])

    def test_curl_stls(self):
        path = sample("curl-stls.pcapng")
        clear = decoded(path, decrypt=False)
        self.assertEqual(clear.values("pop3.request.command"), ["CAPA", "STLS"] * 2)
        self.assertEqual(clear.values("pop3.session.tls"), ["1", "1"])
        d = decoded(path)
        self.assertEqual(d.values("pop3.request.command").count("AUTH"), 2)
        self.assertEqual(d.values("pop3.sasl.plain.authcid"), ["alice", "alice"])
        # STLS is no longer offered inside TLS
        self.assertEqual(d.values("pop3.capa.name").count("STLS"), 2)
        self.assertFalse(d.has("pop3.anomaly.cleartext_password"))
        self.assertEqual([u for _, u, _ in credentials(path)], ["alice", "alice"])

    def test_curl_pop3s(self):
        path = sample("curl-pop3s.pcapng")
        self.assertFalse(decoded(path, decrypt=False).pop3_frames())
        d = decoded(path)
        self.assertEqual(d.values("pop3.request.command"),
                         ["CAPA", "AUTH", "LIST", "QUIT", "CAPA", "AUTH", "RETR", "QUIT"])
        self.assertEqual(set(d.values("pop3.session.tls")), {"1"})
        self.assertEqual([u for _, u, _ in credentials(path)], ["bob", "bob"])

    def test_python_poplib_basics(self):
        d = decoded(sample("python-poplib-basics.pcapng"))
        cmds = d.values("pop3.request.command")
        for c in ("CAPA", "UTF8", "LANG", "USER", "PASS", "STAT", "LIST", "UIDL", "TOP", "NOOP",
                  "RETR", "DELE", "RSET", "QUIT"):
            self.assertIn(c, cmds)
        self.assertIn("-ERR", d.values("pop3.response.indicator"))

    def test_python_midstream(self):
        d = decoded(sample("python-midstream.pcapng"))
        self.assertTrue(d.has("pop3.anomaly.midstream"))
        self.assertIn("QUIT", d.values("pop3.request.command"))

    def test_python_pipelining(self):
        d = decoded(sample("python-pipelining.pcapng"))
        frames = d.per_frame("pop3.request.command")
        many = [n for n, c in frames.items() if len(c) >= 10]
        self.assertEqual(len(many), 1, "one segment carries the pipelined commands")
        links = d.per_frame("pop3.response_to")
        answered = [v for vals in links.values() for v in vals if int(v) == many[0]]
        self.assertEqual(len(answered), len(frames[many[0]]))

    def test_python_retr_big(self):
        d = decoded(sample("python-retr-big.pcapng"))
        self.assertIn("1095495", d.values("pop3.response.octets"))
        self.assertIn("1095495", d.values("pop3.data.octets"))

    def test_python_retr_dot_lines(self):
        d = decoded(sample("python-retr-dot-lines.pcapng"))
        self.assertTrue(d.has("pop3.data.stuffed"))
        self.assertIn("TOP", d.values("pop3.request.command"))

    def test_python_empty_mailbox(self):
        d = decoded(sample("python-empty-mailbox.pcapng"))
        self.assertEqual(d.values("pop3.stat.messages"), ["0"])
        self.assertEqual(d.values("pop3.apop.name"), ["carol"])

    def test_python_scram(self):
        for name, mech in (("python-scram-sha-1.pcapng", "SCRAM-SHA-1"),
                           ("python-scram-sha-256.pcapng", "SCRAM-SHA-256")):
            with self.subTest(capture=name):
                path = sample(name)
                d = decoded(path)
                self.assertIn(mech, d.values("pop3.sasl.mechanism"))
                self.assertIn("alice", d.values("pop3.sasl.scram.username"))
                self.assertEqual(d.values("pop3.auth.result"), ["success"])
                pw = ["-o", 'uat:pop3_passwords:"alice","wonderland"']
                self.assertEqual(decoded(path, extra=pw).values("pop3.auth.verified"), ["1"])
                self.assertEqual([(u, i) for _, u, i in credentials(path)],
                                 [("alice", mech + ", success")])

    def test_python_anonymous(self):
        d = decoded(sample("python-anonymous.pcapng"))
        self.assertIn("sample-trace@example.net", d.values("pop3.sasl.anonymous.trace"))

    def test_python_external(self):
        path = sample("python-external.pcapng")
        d = decoded(path)
        self.assertIn("EXTERNAL", d.values("pop3.sasl.mechanism"))
        self.assertIn("alice", [u for _, u, _ in credentials(path)])

    def test_python_ipv6(self):
        path = sample("python-ipv6.pcapng")
        self.assertEqual([u for _, u, _ in credentials(path)], ["bob", "alice"])

    def test_errors_auth(self):
        path = sample("errors-auth.pcapng")
        d = decoded(path)
        self.assertTrue(d.has("pop3.anomaly.auth_failed"))
        self.assertTrue(d.has("pop3.anomaly.sasl_bad_base64"))
        self.assertTrue(d.has("pop3.anomaly.sasl_unknown_mechanism"))
        self.assertIn("AUTH", d.values("pop3.response.code"))
        users = [u for _, u, _ in credentials(path)]
        for u in ("alice", "nosuchuser", "bob"):
            self.assertIn(u, users)

    def test_errors_in_use(self):
        d = decoded(sample("errors-in-use.pcapng"))
        self.assertIn("IN-USE", d.values("pop3.response.code"))
        self.assertTrue(d.has("pop3.anomaly.response_code_in_use"))

    def test_errors_state(self):
        d = decoded(sample("errors-state.pcapng"))
        self.assertTrue(d.has("pop3.anomaly.command_wrong_state"))
        self.assertTrue(d.has("pop3.anomaly.command_too_long"))

    def test_scripted_ntlm(self):
        path = sample("scripted-ntlm.pcapng")
        d = decoded(path)
        self.assertEqual(d.values("pop3.sasl.ntlm.message_type"), ["1", "2", "3"] * 3)
        self.assertEqual(d.values("pop3.sasl.ntlm.user"), ["alice"] * 3)
        # the tokens are handed to the NTLMSSP dissector, under the pop3 tree
        self.assertEqual(len(d.values("ntlmssp.messagetype")), 9)
        self.assertEqual(d.values("pop3.auth.result"), ["success", "failure", "success"])
        self.assertIn(("alice", "NTLM, success"), [(u, i) for _, u, i in credentials(path)])

    def test_scripted_sasl_examples_verified(self):
        path = sample("scripted-sasl-examples.pcapng")
        pw = ["-o", 'uat:pop3_passwords:"user","pencil"',
              "-o", 'uat:pop3_passwords:"tim","tanstaaftanstaaf"',
              "-o", 'uat:pop3_passwords:"chris","secret stuff"']
        d = decoded(path, extra=pw)
        self.assertEqual(d.values("pop3.auth.method"),
                         ["CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-1", "SCRAM-MD5"])
        self.assertEqual(d.values("pop3.auth.verified"), ["1"] * 5)
        self.assertFalse(d.has("pop3.anomaly.password_mismatch"))
        self.assertEqual([u for _, u, _ in credentials(path)], ["tim", "user", "user", "user", "chris"])

    def test_scripted_rfc1939(self):
        path = sample("scripted-rfc1939-examples.pcapng")
        d = decoded(path, extra=["-o", 'uat:pop3_passwords:"mrose","tanstaaf"'])
        self.assertEqual(d.values("pop3.greeting.timestamp")[0], "<1896.697170952@dbc.mtview.ca.us>")
        self.assertEqual(d.values("pop3.apop.digest"), ["c4c9334bac560ecc979e58001b3e22fb"])
        # APOP matches "tanstaaf"; the USER/PASS session's password "secret" does not
        self.assertEqual(d.values("pop3.auth.verified"), ["1", "0"])
        self.assertTrue(d.has("pop3.anomaly.password_mismatch"))

    def test_scripted_extensions(self):
        path = sample("scripted-extensions.pcapng")
        d = decoded(path)
        self.assertEqual(d.values("pop3.response.code"),
                         ["UTF8", "LOGIN-DELAY", "SYS/TEMP", "SYS/PERM", "AUTH", "IN-USE",
                          "X-VENDOR/SOMETHING"])
        for a in ("response_code_login_delay", "response_code_sys_temp", "response_code_sys_perm",
                  "response_code_in_use", "response_code_unknown"):
            self.assertTrue(d.has("pop3.anomaly." + a), a)
        self.assertEqual(d.values("pop3.capa.login_delay"), ["900", "3600"])
        self.assertEqual(d.values("pop3.capa.expire.never"), ["1"])
        self.assertEqual(d.values("pop3.request.lang"), ["de", "fr", "*"])
        # UTF-8 text is shown as such
        self.assertIn("de Sprache geändert", d.values("pop3.response.description"))

    def test_fetchmail_mpop(self):
        path = sample("fetchmail-retrieve.pcapng")
        self.assertEqual(decoded(path).values("pop3.request.command").count("RETR"), 5)
        path = sample("mpop-retrieve.pcapng")
        self.assertEqual([(u, i) for _, u, i in credentials(path)],
                         [("alice", "SCRAM-SHA-256, success"), ("carol", "DIGEST-MD5, success")])


# ---------------------------------------------------------------------------------------------
class ThirdPartyFieldsTest(unittest.TestCase):
    """Concrete values of the third-party captures (described in their README.md)."""

    def test_zeek_pop3(self):
        path = third("zeek-pop3.pcap")
        d = decoded(path)
        self.assertEqual(d.values("pop3.capa.name")[:6],
                         ["TOP", "USER", "UIDL", "STLS", "SASL", "IMPLEMENTATION"])
        self.assertEqual(d.values("pop3.response.description").count("1 argument required"), 3)
        self.assertEqual(d.values("pop3.request.command").count("RETR"), 3)
        self.assertEqual(d.values("pop3.msg.uid"),
                         ["0M8Oog-1VyW6I2B74-00vNGA", "0LalaO-1VwtZq3DAW-00kuzg",
                          "0MLPgA-1VC2Ru34ja-000jOl"])
        self.assertEqual(credentials(path), [
            (38, "digitalinvestigator@networksims.com", "PLAIN, password: napier, failure"),
            (67, "digitalinvestigator@networksims.com", "PLAIN, password: napier123, success"),
            (86, "digitalinvestigator@networksims.com", "PLAIN, password: napier123, success")])
        self.assertEqual(d.values("pop3.response_to", frame=38), ["35"])
        self.assertEqual(d.values("pop3.response_in", frame=35), ["38"])
        msgs = exported_messages(path)
        self.assertEqual(sorted(len(m) for m in msgs), [5214, 5565, 8412])
        self.assertTrue(all(m.startswith(b"Return-Path: <") for m in msgs))

    def test_zeek_starttls(self):
        d = decoded(third("zeek-pop3-starttls.pcap"))
        self.assertEqual(d.values("pop3.request.command"), ["STLS"])
        self.assertEqual(d.values("pop3.session.tls"), ["1"])
        self.assertEqual(d.values("pop3.greeting.timestamp"),
                         ["<15125655727712503824.1400173552@ladymacbeth.local>"])
        out = run(third("zeek-pop3-starttls.pcap"), ["-Y", "tls"]).stdout
        self.assertTrue(out.strip(), "the TLS handshake after STLS goes to the TLS dissector")

    def test_zeek_bad_list_retr(self):
        d = decoded(third("zeek-bad-list-retr-crafted.pcap"))
        self.assertTrue(d.has("pop3.anomaly.command_wrong_state"))
        self.assertTrue(d.has("pop3.anomaly.status_invalid"))

    def test_zeek_unknown_commands(self):
        path = third("zeek-pop3-unknown-commands.pcap")
        d = decoded(path)
        self.assertTrue(d.has("pop3.anomaly.status_invalid"))
        self.assertEqual([u for _, u, _ in credentials(path)], ["zeek@zeek.org"])

    def test_sv_pop3_top(self):
        d = decoded(third("sv-pop3.pcap"))
        self.assertEqual(d.values("pop3.request.command").count("TOP"), 49)
        self.assertEqual(d.values("pop3.stat.messages"), ["2108"])

    def test_sv_bug7709(self):
        for name in ("sv-pop3-bug7709-02.pcap", "sv-pop3-bug7709-03.pcap"):
            with self.subTest(capture=name):
                path = third(name)
                d = decoded(path)
                self.assertTrue(d.has("pop3.anomaly.line_8bit"))
                self.assertEqual([(u, i.rsplit(", ", 1)[1]) for _, u, i in credentials(path)],
                                 [("test@tt.com", "failure"), ("test", "success")])

    def test_sv_xoauth2(self):
        path = third("sv-pop3-auth-xoauth2.pcap")
        d = decoded(path)
        self.assertEqual(d.values("pop3.sasl.xoauth2.user"), ["joe.speedboat"])
        self.assertEqual(d.values("pop3.capa.login_delay"), ["300"])
        self.assertEqual([u for _, u, _ in credentials(path)], ["joe.speedboat"])


# ---------------------------------------------------------------------------------------------
def synthetic(name, build, server_port=110):
    """A capture written by build(writer) into the test folder."""
    path = os.path.join(tshark().captures, name)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            w = pcapwriter.Writer(f, server=(pcapwriter.SERVER[0], server_port))
            w.handshake()
            build(w)
        os.chmod(path, 0o644)
    return path


class TcpEdgeCaseTest(unittest.TestCase):
    """Synthetic captures: retransmissions, overlaps, gaps, split lines, pipelining, ports."""

    def sweep(self, path, extra=()):
        one = run(path, ONE_PASS + list(extra))
        two = run(path, TWO_PASS + list(extra))
        run(path, PLAIN + list(extra))
        strip = lambda p: [(n, [(k, v) for k, v in f if k not in ("pop3.response_in", "pop3.data.end_in")])
                           for n, f in pop3json.Decoded(p.stdout).frames]
        self.assertEqual(strip(one), strip(two))
        return pop3json.Decoded(two.stdout)

    def info(self, path, extra=()):
        return wsformat.info_rows(run(path, ["-Y", "pop3"] + list(extra) + wsformat.INFO_ARGS).stdout)

    def test_retransmission_and_overlap(self):
        def build(w):
            c, s = w.client, w.server
            greeting = b"+OK ready\r\n"
            w.packet(s, c, greeting)
            w.packet(s, c, greeting, seq=w.seq[s] - len(greeting))  # full retransmission
            w.packet(c, s, b"USER al")
            start = w.seq[c] - 7
            w.packet(c, s, b"USER alice\r\n", seq=start)  # overlaps 7 bytes, adds 5
            w.seq[c] = start + 12
            w.server_says(b"+OK\r\n")
        path = synthetic("retransmission.pcap", build)
        # With its sequence analysis on (the default), TCP does not hand retransmitted or
        # out-of-order segments to subdissectors: the greeting is decoded once.
        d = self.sweep(path)
        self.assertEqual(d.values("pop3.response.indicator")[:1], ["+OK"])
        self.assertEqual(len(d.frames_with("pop3.response.indicator")), 2)
        # Without it, the dissector sees them and skips the bytes it already fed.
        raw = ["-o", "tcp.analyze_sequence_numbers:FALSE"]
        d = self.sweep(path, raw)
        self.assertEqual(d.values("pop3.response.indicator"), ["+OK", "+OK"])
        self.assertEqual(d.values("pop3.request.parameter"), ["alice"])
        self.assertEqual(d.values("pop3.response_to"), [str(d.frames_with("pop3.request.command")[0])])
        info = self.info(path, raw)
        self.assertIn("S: (retransmission)", info.values())
        self.assertIn("C: USER alice", info.values())
        self.assertFalse(d.has("pop3.anomaly.gap"))

    def test_gap(self):
        def build(w):
            c, s = w.client, w.server
            w.server_says(b"+OK ready\r\n")
            w.client_says(b"USER alice\r\n")
            w.server_says(b"+OK\r\n")
            w.client_says(b"LIST\r\n")
            w.packet(s, c, b"+OK 2 messages\r\n1 100\r\n")
            w.seq[s] += 9  # "2 200\r\n." lost
            w.packet(s, c, b"\r\n")
            w.client_says(b"QUIT\r\n")
            w.server_says(b"+OK bye\r\n")
            # The bytes after a hole wait for it until the connection is closed (or the
            # follower's bounds are reached): both FINs acknowledged show it is for good.
            w.packet(s, c, flags=0x11)
            w.seq[s] += 1
            w.packet(c, s, flags=0x11)
            w.seq[c] += 1
            w.packet(s, c, flags=0x10)
        d = self.sweep(synthetic("gap-closed.pcap", build))
        self.assertTrue(d.has("pop3.anomaly.gap"))
        self.assertIn("QUIT", d.values("pop3.request.command"))
        self.assertIn("bye", d.values("pop3.response.description"))

    def test_answer_captured_before_its_command(self):
        # Two one-way taps merged: the server's answers come before the commands they answer
        # (their acknowledgement numbers cover the commands' bytes).
        def build(w):
            c, s = w.client, w.server
            w.server_says(b"+OK ready\r\n")
            for command, answer in ((b"USER alice\r\n", b"+OK\r\n"),
                                    (b"STAT\r\n", b"+OK 2 320\r\n"),
                                    (b"NOOP\r\n", b"+OK\r\n")):
                start, answered = w.seq[c], w.seq[s]
                w.seq[c] += len(command)  # the answer acknowledges the command
                w.packet(s, c, answer)
                w.seq[s] = answered  # the command acknowledges what came before the answer
                w.packet(c, s, command, seq=start)
                w.seq[s] += len(answer)
        path = synthetic("answer-first.pcap", build)
        d = self.sweep(path)
        # frames: 1-3 handshake, 4 greeting, 5 its ACK, then answer/command pairs 6/7, 8/9,
        # 10/11. TCP calls the commands spurious retransmissions (their bytes were
        # acknowledged) and gives them to no subdissector: the postdissector feeds them.
        self.assertEqual(d.values("pop3.request.command"), ["USER", "STAT", "NOOP"])
        self.assertEqual(d.values("pop3.reordered_from", frame=7), ["6"])
        self.assertEqual(d.values("pop3.response_to", frame=7), ["7"])
        self.assertEqual(d.values("pop3.response_in", frame=9), ["8"])
        self.assertEqual(d.values("pop3.response.description", frame=9), ["2 320"])
        self.assertFalse(d.has("pop3.anomaly.response_unexpected"))
        info = self.info(path)
        self.assertEqual(info[6], "[TCP ACKed unseen segment] S: (out of order, decoded later)")
        self.assertTrue(info[7].endswith("C: USER alice | S: +OK (USER alice)"), info[7])

    def test_tls_answer_captured_before_its_command(self):
        # The same inside TLS (STLS, then implicit TLS): copies of the samples with answers
        # moved before the commands they answer (mangle.py cross). With TCP's out-of-order
        # reassembly on, TCP hands TLS every segment and TLS decrypts each direction in order;
        # the plugin puts the plaintext back in the conversation's order from the TCP positions
        # of the segments it came on, so every answer pairs with the same command as in the
        # original. (Seeds whose ServerHello moves before the ClientHello are avoided: TLS
        # finds no keys then.)
        ooo = ["-o", "tcp.reassemble_out_of_order:TRUE"]
        mangle = os.path.join(SOURCE_DIR, "tests", "capture-conditions", "mangle.py")
        for name, seed in (("curl-stls", 2), ("python-external", 1)):
            original = os.path.join(SAMPLES, name + ".pcapng")
            copy = os.path.join(tshark().captures, "%s-cross-%d.pcap" % (name, seed))
            if not os.path.exists(copy):
                subprocess.run([sys.executable, mangle, "cross", original, copy, "--seed",
                                str(seed)], check=True, capture_output=True)
                with open(os.path.join(SAMPLES, name + ".keys"), "rb") as f:
                    keys = f.read()
                with open(os.path.splitext(copy)[0] + ".keys", "wb") as f:
                    f.write(keys)
                for path in (copy, os.path.splitext(copy)[0] + ".keys"):
                    os.chmod(path, 0o644)
            o = self.sweep(original, ooo)
            m = self.sweep(copy, ooo)
            self.assertTrue(m.has("pop3.reordered_from"), name)
            for field in ("pop3.request.command", "pop3.response.command",
                          "pop3.response.description", "pop3.end.reason"):
                self.assertEqual(sorted(m.values(field)), sorted(o.values(field)), (name, field))
            self.assertEqual(len(m.values("pop3.response_to")), len(o.values("pop3.response_to")))
            self.assertFalse(m.has("pop3.anomaly.response_unexpected"), name)

    def test_fin_before_the_last_data(self):
        # The client's FIN captured before its QUIT, the server's FIN before its answer: both
        # act at their sequence position, so QUIT and its answer are decoded, then the end.
        def build(w):
            c, s = w.client, w.server
            w.server_says(b"+OK ready\r\n")
            w.packet(c, s, flags=0x11, seq=w.seq[c] + 6)  # FIN after "QUIT\r\n"
            w.packet(c, s, b"QUIT\r\n")
            w.seq[c] += 1
            w.packet(s, c, flags=0x11, seq=w.seq[s] + 9)  # FIN after "+OK bye\r\n"
            w.packet(s, c, b"+OK bye\r\n")
            w.seq[s] += 1
        d = self.sweep(synthetic("fin-first.pcap", build))
        self.assertEqual(d.values("pop3.request.command"), ["QUIT"])
        self.assertEqual(d.values("pop3.response.description"), ["ready", "bye"])
        ends = d.frames_with("pop3.end")
        self.assertEqual(ends, d.frames_with("pop3.response.description", "bye"))
        self.assertEqual(d.values("pop3.end.unanswered"), ["0"])
        self.assertFalse(d.has("pop3.anomaly.data_unterminated"))

    def test_line_split_over_three_segments(self):
        def build(w):
            c, s = w.client, w.server
            w.server_says(b"+OK ready\r\n")
            w.client_says(b"PASS x\r\n")
            for part in (b"-ERR [AU", b"TH] Authentication", b" failed.\r\n"):
                w.packet(s, c, part)
        path = synthetic("split.pcap", build)
        d = self.sweep(path)
        self.assertEqual(d.values("pop3.response.code")[:1], ["AUTH"])
        self.assertEqual(d.values("pop3.response.description"), ["ready", "Authentication failed."])
        frame = d.frames_with("pop3.response.code")[0]
        self.assertEqual(self.info(path)[frame], "S: -ERR [AUTH] Authentication failed. (PASS)")
        hexdump = run(path, ["-2", "-x", "-Y", "frame.number==%d" % frame]).stdout
        self.assertIn("Reassembled line", hexdump)

    def test_pipelining(self):
        def build(w):
            w.server_says(b"+OK ready\r\n")
            w.client_says(b"USER alice\r\nPASS secret\r\nSTAT\r\nQUIT\r\n")
            w.server_says(b"+OK\r\n+OK Logged in.\r\n")
            w.server_says(b"+OK 2 320\r\n+OK bye\r\n")
        path = synthetic("pipelining.pcap", build)
        d = self.sweep(path)
        req = d.frames_with("pop3.request.command")
        self.assertEqual(len(req), 1)
        self.assertEqual(d.values("pop3.request.command"), ["USER", "PASS", "STAT", "QUIT"])
        self.assertEqual(d.values("pop3.response_to"), [str(req[0])] * 4)
        self.assertEqual(self.info(path)[req[0]], "C: USER alice | C: PASS secret | C: STAT | C: QUIT")
        self.assertEqual(len(d.values("pop3.response_in", frame=req[0])), 4)
        self.assertEqual(d.values("pop3.stat.octets"), ["320"])

    def test_decode_as_other_port(self):
        def build(w):
            w.server_says(b"+OK ready\r\n")
            w.client_says(b"CAPA\r\n")
            w.server_says(b"+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n")
        path = synthetic("port2110.pcap", build, server_port=2110)
        no_heuristic = ["--disable-heuristic", "pop3_tcp"]
        self.assertFalse(pop3json.Decoded(run(path, TWO_PASS + no_heuristic).stdout).pop3_frames())
        d = self.sweep(path, ["-d", "tcp.port==2110,pop3"] + no_heuristic)
        self.assertEqual(d.values("pop3.capa.name"), ["USER", "SASL"])
        self.assertEqual(d.values("pop3.request.command"), ["CAPA"])

    def test_data_summary_in_info(self):
        body = b"".join(b"line %d\r\n" % i for i in range(120))
        def build(w):
            w.server_says(b"+OK ready\r\n")
            w.client_says(b"RETR 1\r\n")
            w.server_says(b"+OK\r\n" + body + b".\r\n", mss=4000)
        path = synthetic("summary.pcap", build)
        self.sweep(path)
        self.assertIn("S: +OK (RETR 1) | S: RETR 1 (data, lines 1-120, end)",
                      self.info(path).values())


# ---------------------------------------------------------------------------------------------
class AnalystViewTest(unittest.TestCase):
    """What an analyst sees on the sample captures: message lines with their text, context of
    every part of a multi-line answer, the session user, each fact once, the Info column."""

    def test_stuffed_lines_keep_their_text(self):
        path = sample("python-retr-dot-lines.pcapng")
        self.assertEqual(matching_frames(path, 'pop3.data contains "hidden"'), [16])
        d = decoded(path)
        data = d.values("pop3.data", frame=16)
        for line in [".hidden-file starts with a dot", "...three dots at the start",
                     ". a dot and a space", ".", "..", ""]:
            self.assertIn(line, data)
        self.assertEqual(len(data), 18)
        tree = verbose_frame(path, 16)
        i = tree.index("    Data line: .hidden-file starts with a dot")
        self.assertEqual(tree[i + 1].strip(), "[Leading dot removed (byte-stuffed): True]")
        self.assertIn("    Data line: (empty)", tree)

    def test_every_part_of_an_answer_names_its_command(self):
        path = sample("python-retr-big.pcapng")
        self.assertEqual(matching_frames(
            path, 'pop3.response.command == "RETR" && pop3.data.octets > 100000'), [879])
        d = decoded(path)
        middle = [n for n in d.frames_with("pop3.data") if 22 < n < 879]
        self.assertGreater(len(middle), 700)
        for n in middle:
            self.assertEqual(d.values("pop3.response_to", frame=n), ["20"], n)
            self.assertEqual(d.values("pop3.response.command", frame=n), ["RETR"], n)
            self.assertEqual(d.values("pop3.data.end_in", frame=n), ["879"], n)
        self.assertEqual(d.values("pop3.data.end_in", frame=22), ["879"])
        info = info_column(path)
        self.assertEqual(info[22], "S: +OK 1095495 octets (RETR 2) | S: RETR 2 (data, lines 1-34)")
        self.assertEqual(info[23], "S: RETR 2 (data, lines 35-52)")
        self.assertEqual(info[879], "S: RETR 2 (data, lines 14,054-14,063, end)")
        # the end of an answer carries its figures
        self.assertEqual(d.values("pop3.data.octets", frame=879), ["1095495"])
        self.assertEqual(d.values("pop3.data.octets_match", frame=879), ["1"])

    def test_segment_ending_one_answer_and_starting_the_next(self):
        path = sample("mpop-retrieve.pcapng")
        d = decoded(path)
        self.assertEqual(d.values("pop3.response_to", frame=38), ["33", "35"])
        self.assertEqual(info_column(path)[38],
                         "S: RETR 4 (data, lines 3-7, end) | S: +OK 3144 octets (RETR 5) | "
                         "S: RETR 5 (data, lines 1-7)")
        # RETR 4's +OK announced 212 octets; the answer holds 214
        self.assertEqual(d.values("pop3.data.octets_match", frame=38), ["0"])
        self.assertTrue(d.has("pop3.data.octets_mismatch", frame=38))
        self.assertEqual(d.values("pop3.data.end_in", frame=38), ["41"])

    def test_session_user_on_every_frame_after_login(self):
        path = sample("python-retr-dot-lines.pcapng")
        self.assertEqual(matching_frames(
            path, 'pop3.session.user == "alice" && pop3.request.command == "RETR"'), [14, 20, 23])
        d = decoded(path)
        frames = d.pop3_frames()
        login = min(d.frames_with("pop3.session.user"))
        for n in frames:
            if n >= login:
                self.assertEqual(d.values("pop3.session.user", frame=n), ["alice"], n)

    def test_each_fact_once(self):
        path = sample("curl-auth-plain.pcapng")
        step = matching_frames(path, "pop3.sasl.plain.authcid")[0]
        tree = verbose_frame(path, step)
        self.assertEqual(len([l for l in tree if l.endswith(": alice")]), 1, tree)
        self.assertEqual(len([l for l in tree if l.endswith(": wonderland")]), 1, tree)
        self.assertEqual([l for l in tree if l.strip().startswith("SASL step")],
                         ["    SASL step: AGFsaWNlAHdvbmRlcmxhbmQ="])
        # hidden, still filterable
        self.assertIn(step, matching_frames(path, 'pop3.auth.username == "alice" && pop3.sasl'))
        self.assertIn(step, matching_frames(path, 'pop3.auth.password == "wonderland"'))
        # an empty step says so
        empty = matching_frames(path, "pop3.sasl.empty")[0]
        self.assertIn("    SASL step: +  (empty)", verbose_frame(path, empty))
        # CAPA: a capability without arguments is one item; mechanisms once
        capa = matching_frames(path, 'pop3.capa.name == "TOP"')[0]
        tree = verbose_frame(path, capa)
        self.assertIn("    Capability: TOP", tree)
        self.assertNotIn("        Capability name: TOP", tree)
        self.assertEqual(len([l for l in tree if l.endswith(": SCRAM-SHA-256")]), 1, tree)
        self.assertIn(capa, matching_frames(path, 'pop3.capa.value == "SCRAM-SHA-256"'))

    def test_each_fact_once_apop_and_scram(self):
        tree = verbose_frame(sample("curl-apop.pcapng"),
                             matching_frames(sample("curl-apop.pcapng"), "pop3.apop.name")[0])
        self.assertEqual(len([l for l in tree if l.endswith(": alice")]), 1, tree)
        path = sample("python-scram-sha-256.pcapng")
        proof = matching_frames(path, "pop3.sasl.scram.proof")[0]
        tree = verbose_frame(path, proof)
        self.assertFalse([l for l in tree if "Secret material" in l], tree)
        self.assertIn(proof, matching_frames(path, "pop3.auth.secret"))

    def test_info_names_sasl_steps_never_their_data(self):
        info = info_column(sample("python-scram-sha-256.pcapng"))
        rows = list(info.values())
        for want in ["C: AUTH SCRAM-SHA-256 client-first", "S: AUTH SCRAM-SHA-256 server-first",
                     "C: AUTH SCRAM-SHA-256 client-final", "S: AUTH SCRAM-SHA-256 server-final"]:
            self.assertIn(want, rows)
        info = info_column(sample("curl-auth-login.pcapng"))
        rows = list(info.values())
        for want in ["S: AUTH LOGIN prompt", "C: AUTH LOGIN user name", "C: AUTH LOGIN password"]:
            self.assertIn(want, rows)
        info = info_column(sample("curl-auth-plain.pcapng"))
        self.assertIn("C: AUTH PLAIN credentials", info.values())
        self.assertIn("S: AUTH PLAIN (empty)", info.values())
        self.assertFalse([i for i in info.values() if "AGFsaWNl" in i or "wonderland" in i])

    def test_info_empty_line_and_no_separator_after_tcp_note(self):
        def build(w):
            c, s = w.client, w.server
            w.server_says(b"+OK ready\r\n")
            w.client_says(b"\r\n")
            w.server_says(b"-ERR unknown command\r\n")
            w.client_says(b"LIST\r\n")
            w.packet(s, c, b"+OK 2 messages\r\n1 100\r\n")
            w.seq[s] += 9  # "2 200\r\n." lost
            w.packet(s, c, b"\r\n")
            w.client_says(b"QUIT\r\n")
            w.server_says(b"+OK bye\r\n")
        info = info_column(synthetic("info-gap.pcap", build))
        self.assertIn("C: (empty)", info.values())
        noted = [i for i in info.values() if i.startswith("[TCP")]
        self.assertTrue(noted, info)
        for i in noted:
            self.assertNotRegex(i, r"\]\s*\|", i)
            self.assertRegex(i, r"^\[TCP [^]]*\] [CS]: ", i)

    def test_info_pipelined_answers_name_their_commands(self):
        info = info_column(sample("python-pipelining.pcapng"))
        row = [i for i in info.values() if i.startswith("S: +OK 5 4670 (STAT)")]
        self.assertEqual(len(row), 1)
        for part in ["S: +OK 5 messages: (LIST)", "S: LIST (data, lines 1-5, end)",
                     "S: +OK (TOP 1 0)", "S: TOP 1 0 (data, lines 1-7, end)",
                     "S: +OK 395 octets (RETR 2)", "S: -ERR Message is deleted. (LIST 5)"]:
            self.assertIn(part, row[0].split(" | "))


# ---------------------------------------------------------------------------------------------
class MemoryTest(unittest.TestCase):
    """Peak memory of a single pass over a synthetic capture of large RETR bodies, against the
    built-in dissector (numbers for 100 MB are in plugin/README.md)."""

    MEGABYTES = 20

    def peak_kb(self, path, extra):
        cmd = tshark().command(["-r", path] + extra)
        i = cmd.index(tshark().tshark)
        cmd = cmd[:i] + ["/usr/bin/time", "-f", "%M"] + cmd[i:]
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        return int(p.stderr.strip().splitlines()[-1])

    def test_within_1_2_of_builtin(self):
        if not os.path.exists("/usr/bin/time"):
            self.skipTest("/usr/bin/time not installed")
        path = os.path.join(tshark().captures, "big.pcap")
        subprocess.run([sys.executable, os.path.join(HERE, "make-big-capture.py"),
                        str(self.MEGABYTES), path], check=True)
        os.chmod(path, 0o644)
        ours = self.peak_kb(path, [])
        builtin = self.peak_kb(path, ["-d", "tcp.port==110,pop"])
        print("\npeak RSS: plugin %d kB, built-in %d kB" % (ours, builtin), file=sys.stderr)
        self.assertLessEqual(ours, builtin * 1.2)


# ---------------------------------------------------------------------------------------------
class ExportObjectsTest(unittest.TestCase):
    """tshark --export-objects imf writes each retrieved message exactly as the server sent it,
    dot-unstuffed."""

    def check(self, name, expected, prefixes=()):
        mail = mailbox_messages()
        got = exported_messages(sample(name))
        want = [mail[m] for m in expected]
        full = [m for m in got if m in want]
        self.assertEqual(sorted(full), sorted(want))
        for m in got:
            if m not in want:  # TOP: the head of a message
                self.assertTrue(any(mail[p].startswith(m) for p in prefixes),
                                "unexpected message %r" % m[:80])
        self.assertEqual(len(got), len(expected) + len(prefixes))

    def test_curl_list_retr(self):
        self.check("curl-list-retr.pcapng", ["msg_plain", "msg_dots"])

    def test_python_retr_dot_lines(self):
        # TOP 2 3 (the head of msg_dots) is not a message: not exported by default
        self.check("python-retr-dot-lines.pcapng", ["msg_dots", "msg_no_final_newline", "msg_utf8"])

    def test_top_exported_only_when_asked(self):
        path = sample("python-retr-dot-lines.pcapng")
        names = exported_names(path)
        self.assertEqual(len(names), 3)
        self.assertFalse([n for n in names if "(1)" in n], names)
        with_top = exported_names(path, ["-o", "pop3.imf_top:TRUE"])
        self.assertEqual(len(with_top), 4)

    def test_python_retr_big(self):
        self.check("python-retr-big.pcapng", ["msg_big_mime"])

    def test_tls(self):
        self.check("curl-stls.pcapng", ["msg_dots"])
        self.check("curl-pop3s.pcapng", ["msg_bob_small"])


# ---------------------------------------------------------------------------------------------
def stats_tree(path, extra=()):
    """tshark -z pop3,tree: {("POP3 commands", "LIST"): (count, average, min, max), ...}; a
    node's key is the path of names from its top-level node."""
    out = run(path, ["-q", "-z", "pop3,tree"] + list(extra)).stdout
    rows = {}
    stack = []
    for line in out.splitlines():
        m = re.match(r"^( *)(\S.*?)\s{2,}(\d+)(?:\s+([\d.]+)\s+([\d.]+)\s+([\d.]+))?\s+[\d.]+\s+"
                     r"[\d.]+%", line)
        if not m:
            continue
        depth = len(m.group(1))
        stack[depth:] = [m.group(2)]
        avg = tuple(float(m.group(i)) for i in (4, 5, 6)) if m.group(4) else ()
        rows[tuple(stack)] = (int(m.group(3)),) + avg
    return rows


def counts(rows, top):
    """{name path below top: count} of one top-level node."""
    return {k[1:]: v[0] for k, v in rows.items() if k[0] == top and len(k) > 1}


class StatsTest(unittest.TestCase):
    """tshark -z pop3,tree: exact counts on sample captures, checked against the fields."""

    def test_listed(self):
        p = tshark().run(["-z", "help"])
        out = p.stdout + p.stderr
        self.assertIn("pop3,tree", [l.strip() for l in out.splitlines()])

    def test_python_pipelining(self):
        rows = stats_tree(sample("python-pipelining.pcapng"))
        self.assertEqual(rows[("POP3 commands",)][0], 17)
        self.assertEqual(counts(rows, "POP3 commands"), {
            ("LIST",): 3, ("STAT",): 2, ("QUIT",): 2, ("USER",): 1, ("UIDL",): 1, ("TOP",): 1,
            ("RSET",): 1, ("RETR",): 1, ("PASS",): 1, ("NOOP",): 1, ("DELE",): 1, ("CAPA",): 1,
            ("AUTH",): 1})
        # two greetings and seventeen answers
        self.assertEqual(counts(rows, "POP3 answers"), {
            ("+OK",): 18, ("+OK", "(no response code)"): 18,
            ("-ERR",): 1, ("-ERR", "(no response code)"): 1})
        self.assertEqual(counts(rows, "POP3 logins"), {
            ("USER/PASS",): 1, ("USER/PASS", "success"): 1, ("PLAIN",): 1, ("PLAIN", "success"): 1})
        self.assertEqual(counts(rows, "POP3 users"), {
            ("alice",): 1, ("alice", "success"): 1, ("bob",): 1, ("bob", "success"): 1})

    def test_curl_auth_plain(self):
        rows = stats_tree(sample("curl-auth-plain.pcapng"))
        self.assertEqual(counts(rows, "POP3 commands"), {
            ("QUIT",): 3, ("CAPA",): 3, ("AUTH",): 3, ("LIST",): 2, ("RETR",): 1})
        self.assertEqual(counts(rows, "POP3 answers"), {
            ("+OK",): 15, ("+OK", "(no response code)"): 15})
        self.assertEqual(counts(rows, "POP3 logins"), {("PLAIN",): 3, ("PLAIN", "success"): 3})
        # the master-user login is named as the credentials tap names it
        self.assertEqual(counts(rows, "POP3 users"), {
            ("alice",): 2, ("alice", "success"): 2,
            ("admin as alice",): 1, ("admin as alice", "success"): 1})

    def test_errors_auth(self):
        rows = stats_tree(sample("errors-auth.pcapng"))
        self.assertEqual(counts(rows, "POP3 commands"), {
            ("AUTH",): 7, ("QUIT",): 4, ("PASS",): 3, ("USER",): 2, ("APOP",): 1})
        self.assertEqual(counts(rows, "POP3 answers"), {
            ("-ERR",): 11, ("-ERR", "[AUTH]"): 8, ("-ERR", "(no response code)"): 3,
            ("+OK",): 10, ("+OK", "(no response code)"): 10})
        self.assertEqual(counts(rows, "POP3 logins"), {
            ("USER/PASS",): 3, ("USER/PASS", "failure"): 3, ("PLAIN",): 2, ("PLAIN", "failure"): 2,
            ("CRAM-MD5",): 2, ("CRAM-MD5", "failure"): 1, ("CRAM-MD5", "cancelled"): 1,
            ("SCRAM-SHA-256",): 1, ("SCRAM-SHA-256", "cancelled"): 1,
            ("NO-SUCH-MECH",): 1, ("NO-SUCH-MECH", "failure"): 1,
            ("LOGIN",): 1, ("LOGIN", "failure"): 1, ("APOP",): 1, ("APOP", "failure"): 1})
        self.assertEqual(counts(rows, "POP3 users"), {
            ("alice",): 4, ("alice", "failure"): 4, ("nosuchuser",): 1,
            ("nosuchuser", "failure"): 1, ("bob",): 1, ("bob", "failure"): 1})

    def test_counts_match_fields(self):
        """Every capture: commands and answers counted as often as the fields appear."""
        for path in sample_captures():
            with self.subTest(capture=os.path.basename(path)):
                rows = stats_tree(path)
                d = decoded(path)
                # verbs are counted case-insensitively; an empty line is a command without one
                commands = collections.Counter(v.upper() for v in d.values("pop3.request.command"))
                empty = len(d.values("pop3.request")) - sum(commands.values())
                if empty:
                    commands["(empty)"] = empty
                self.assertEqual({k[0]: v for k, v in counts(rows, "POP3 commands").items()},
                                 dict(commands))
                answers = collections.Counter(d.values("pop3.response.indicator"))
                got = {k[0]: v for k, v in counts(rows, "POP3 answers").items() if len(k) == 1}
                self.assertEqual(got, dict(answers))

    def test_response_times(self):
        """Count, minimum and maximum of the response times are those of pop3.time."""
        path = sample("errors-auth.pcapng")
        rows = stats_tree(path)
        times = [float(v) * 1000 for v in decoded(path).values("pop3.time")]
        count, avg, low, high = rows[("POP3 response time (ms)",)]
        self.assertEqual(count, len(times))
        self.assertAlmostEqual(low, min(times), places=3)
        self.assertAlmostEqual(high, max(times), places=2)
        self.assertAlmostEqual(avg, sum(times) / len(times), places=1)
        per_command = counts(rows, "POP3 response time (ms)")
        self.assertEqual(sum(per_command.values()), len(times))
        self.assertEqual(per_command[("AUTH",)], 7)


# ---------------------------------------------------------------------------------------------
def on_port(name, old, new):
    """A sample capture with its server port rewritten (in the test folder)."""
    dest = os.path.join(tshark().captures, "%s-port%d%s" % (os.path.splitext(name)[0], new,
                                                           os.path.splitext(name)[1]))
    if not os.path.exists(dest):
        pcapports.rewrite(sample(name), dest, old, new)
        os.chmod(dest, 0o644)
    return dest


class HeuristicTest(unittest.TestCase):
    """The pop3_tcp heuristic: POP3 on a port the dissector is not registered for."""

    NO_HEURISTIC = ["--disable-heuristic", "pop3_tcp"]

    def test_other_port_decoded_like_port_110(self):
        for name in ("python-pipelining.pcapng", "curl-auth-plain.pcapng", "python-ipv6.pcapng"):
            with self.subTest(capture=name):
                path = on_port(name, 110, 2110)
                moved = decoded(path)
                original = decoded(sample(name))
                self.assertTrue(moved.pop3_frames())
                self.assertEqual(moved.frames, original.frames)
                self.assertEqual(run(path, ["-Y", "pop3"] + self.NO_HEURISTIC).stdout.strip(), "")

    def test_synthetic_greeting(self):
        def build(w):
            w.server_says(b"+OK POP3 server ready\r\n")
            w.client_says(b"STAT\r\n")
            w.server_says(b"+OK 0 0\r\n")
        d = pop3json.Decoded(run(synthetic("heur-9110.pcap", build, server_port=9110),
                                 TWO_PASS).stdout)
        self.assertEqual(d.values("pop3.request.command"), ["STAT"])
        self.assertEqual(d.values("pop3.stat.messages"), ["0"])

    def test_not_pop3(self):
        def redis(w):  # the client speaks first; the server's +OK is an answer
            w.client_says(b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n")
            w.server_says(b"+OK\r\n")
        def binary(w):
            w.server_says(b"+OK\x00\x01\r\n")
        def no_line_end(w):
            w.server_says(b"+OKAY then\r\n")
        for name, build in (("redis", redis), ("binary", binary), ("okay", no_line_end)):
            with self.subTest(case=name):
                path = synthetic("heur-%s.pcap" % name, build, server_port=6379)
                self.assertEqual(run(path, ["-Y", "pop3"]).stdout.strip(), "")

    def test_tls_decode_as_other_port(self):
        path = on_port("curl-pop3s.pcapng", 995, 9995)
        keys = ["-o", "tls.keylog_file:" + tshark().capture(os.path.join(SAMPLES, "curl-pop3s.keys"))]
        out = run(path, keys + ["-d", "tcp.port==9995,tls", "-d", "tls.port==9995,pop3",
                                "-T", "fields", "-e", "frame.protocols", "-Y", "pop3"],
                  decrypt=False).stdout
        self.assertIn("tls:pop3", out)
        self.assertEqual(len(exported_messages_args(path, keys + ["-d", "tcp.port==9995,tls",
                                                                  "-d", "tls.port==9995,pop3"])), 1)


def exported_messages_args(path, args):
    out = tshark().outdir("eo-args")
    run(path, ["-q", "--export-objects", "imf," + out] + args, decrypt=False)
    return sorted(os.listdir(out))


class HeuristicThirdPartyTest(unittest.TestCase):
    """No pop3 frame outside POP3 conversations in the third-party captures (skipped, with exit
    code 77, when the folder is absent)."""

    def test_no_false_positive(self):
        captures = third_party_captures()
        if not captures:
            self.skipTest("no third-party captures in %s" % THIRD_PARTY)
        for path in captures:
            with self.subTest(capture=os.path.basename(path)):
                out = run(path, ["-T", "fields", "-e", "frame.number", "-Y",
                                 "pop3 && !(tcp.port == 110 || tcp.port == 995)"]).stdout
                self.assertEqual(out.strip(), "")


# ---------------------------------------------------------------------------------------------
class ConnectionEndTest(unittest.TestCase):
    """The FIN or RST that ends a POP3 connection: what was cut short, what was never answered."""

    def end(self, path):
        one = run(path, ONE_PASS)
        two = run(path, TWO_PASS)
        run(path, PLAIN)
        d1, d2 = pop3json.Decoded(one.stdout), pop3json.Decoded(two.stdout)
        ends = d2.frames_with("pop3.end")
        self.assertEqual(d1.frames_with("pop3.end"), ends)
        self.assertEqual([f for f in d1.frames if f[0] in ends], [f for f in d2.frames if f[0] in ends])
        return d2, ends

    def test_errors_abort(self):
        d, ends = self.end(sample("errors-abort.pcapng"))
        # the end is where both directions are closed (or at the RST)
        self.assertEqual(ends, [13, 28, 39])
        # RETR 5 (frame 12) reset by the client before any answer
        self.assertEqual(d.values("pop3.end.reason", frame=13), ["Reset by the client"])
        self.assertEqual(d.values("pop3.end.unanswered", frame=13), ["1"])
        self.assertEqual(d.values("pop3.end.unanswered_in", frame=13), ["12"])
        self.assertTrue(d.has("pop3.end.never_answered", frame=13))
        # a partial last line ("STA" without line end, frame 25), then FIN: decoded at the
        # end, never answered, named as frame 25's
        self.assertEqual(d.values("pop3.request.command", frame=28), ["STA"])
        self.assertEqual(d.values("pop3.end.unanswered_in", frame=28), ["25"])
        # USER answered, then the client closes: nothing to flag
        self.assertEqual(d.values("pop3.end.reason", frame=39), ["Closed by the client (FIN)"])
        self.assertEqual(d.values("pop3.end.unanswered", frame=39), ["0"])
        self.assertFalse(d.has("_ws.expert", frame=39))

    def test_normal_quit_raises_nothing(self):
        for name in ("curl-auth-plain.pcapng", "python-poplib-basics.pcapng",
                     "python-pipelining.pcapng", "curl-stls.pcapng", "curl-pop3s.pcapng"):
            with self.subTest(capture=name):
                d, ends = self.end(sample(name))
                self.assertTrue(ends)
                self.assertEqual(set(d.values("pop3.end.unanswered")), {"0"})
                self.assertFalse(d.has("pop3.end.never_answered"))
                self.assertFalse(d.has("pop3.anomaly.data_unterminated"))
                self.assertFalse(d.has("pop3.anomaly.sasl_aborted"))

    def test_answer_cut_by_reset(self):
        body = b"".join(b"line %d\r\n" % i for i in range(50))
        def build(w):
            c, s = w.client, w.server
            w.server_says(b"+OK ready\r\n")
            w.client_says(b"RETR 1\r\n")
            w.server_says(b"+OK\r\n" + body)
            w.packet(s, c, flags=0x14)  # RST, ACK
        d, ends = self.end(synthetic("cut-by-reset.pcap", build))
        self.assertEqual(len(ends), 1)
        self.assertEqual(d.values("pop3.end.reason"), ["Reset by the server"])
        self.assertTrue(d.has("pop3.anomaly.data_unterminated", frame=ends[0]))
        self.assertEqual(d.values("pop3.end.unanswered"), ["0"])  # the +OK answered RETR

    def test_sasl_aborted(self):
        def build(w):
            c, s = w.client, w.server
            w.server_says(b"+OK ready\r\n")
            w.client_says(b"AUTH LOGIN\r\n")
            w.server_says(b"+ VXNlcm5hbWU6\r\n")
            w.packet(c, s, flags=0x11)  # the client gives up: FIN, ACK
            w.seq[c] += 1
            w.packet(s, c, flags=0x11)  # and so does the server
            w.seq[s] += 1
        d, ends = self.end(synthetic("sasl-aborted.pcap", build))
        # the client's FIN left AUTH unanswered: the server's FIN ends the conversation
        self.assertEqual(d.values("pop3.end.reason"), ["Closed by the server (FIN)"])
        self.assertEqual(d.values("pop3.end.unanswered"), ["1"])
        self.assertTrue(d.has("pop3.anomaly.sasl_aborted", frame=ends[0]))
        self.assertIn("aborted", d.values("pop3.auth.result", frame=ends[0]))

    def test_fin_with_payload_and_half_close(self):
        def build(w):
            c, s = w.client, w.server
            w.server_says(b"+OK ready\r\n")
            w.packet(c, s, b"QUIT\r\n", flags=0x19)  # the client closes its side with QUIT
            w.seq[c] += 1
            w.packet(s, c, b"+OK bye\r\n", flags=0x19)  # the answer comes with the server's FIN
            w.seq[s] += 1
            w.packet(c, s, flags=0x10)
        path = synthetic("fin-payload.pcap", build)
        d, ends = self.end(path)
        answer = d.frames_with("pop3.response.description", "bye")
        self.assertEqual(ends, answer)  # not the client's FIN: its QUIT was still unanswered
        self.assertEqual(d.values("pop3.end.unanswered"), ["0"])
        self.assertFalse(d.has("_ws.expert", frame=ends[0]))
        info = info_column(path)[ends[0]]
        self.assertTrue(info.endswith("S: +OK bye (QUIT) | POP3: Closed by the server (FIN)"), info)


if __name__ == "__main__":
    if not PLUGIN or not os.path.exists(PLUGIN):
        print("pop3decode.so not found (set POP3DECODE_PLUGIN)", file=sys.stderr)
        sys.exit(SKIP)
    if tsharkenv.wireshark_version() is None:
        print("tshark not found", file=sys.stderr)
        sys.exit(SKIP)
    program = unittest.main(verbosity=2, exit=False)
    result = program.result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun and len(result.skipped) == result.testsRun:
        sys.exit(SKIP)  # everything skipped: say so to ctest
    sys.exit(0)
