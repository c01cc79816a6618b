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
        m = re.match(r"^(\d+)\s+POP3\s+(\S+)\s*(.*)$", line)
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
            version = re.search(r'#define POP3D_VERSION_STRING "([^"]+)"', f.read()).group(1)
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
            "pop3.time": "FT_RELATIVE_TIME",
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
            return [(n, [(k, v) for k, v in f if k != "pop3.response_in"])
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
                         [("admin", "PLAIN, password: master-key, success")])
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
        for name, user in (("curl-xoauth2.pcapng", "alice"), ("curl-oauthbearer.pcapng", "bob")):
            with self.subTest(capture=name):
                path = sample(name)
                d = decoded(path)
                self.assertEqual(d.values("pop3.response.code"), ["AUTH"])
                self.assertTrue(d.has("pop3.anomaly.response_code_auth"))
                self.assertEqual(d.values("pop3.auth.result"), ["success", "success", "failure"])
                self.assertEqual([u for _, u, _ in credentials(path)], [user] * 3)

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
        strip = lambda p: [(n, [(k, v) for k, v in f if k != "pop3.response_in"])
                           for n, f in pop3json.Decoded(p.stdout).frames]
        self.assertEqual(strip(one), strip(two))
        return pop3json.Decoded(two.stdout)

    def info(self, path, extra=()):
        out = wsformat.of(tshark()).fields(
            run(path, ["-T", "fields", "-e", "frame.number", "-e", "_ws.col.Info",
                       "-Y", "pop3"] + list(extra)).stdout, ["frame.number", "_ws.col.Info"])
        return dict((int(l.split("\t")[0]), l.split("\t", 1)[1]) for l in out.splitlines())

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
        d = self.sweep(synthetic("gap.pcap", build))
        self.assertTrue(d.has("pop3.anomaly.gap"))
        self.assertIn("QUIT", d.values("pop3.request.command"))
        self.assertIn("bye", d.values("pop3.response.description"))

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
        self.assertEqual(self.info(path)[frame], "S: -ERR [AUTH] Authentication failed.")
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
        self.assertFalse(pop3json.Decoded(run(path, TWO_PASS).stdout).pop3_frames())
        d = self.sweep(path, ["-d", "tcp.port==2110,pop3"])
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
        self.assertIn("S: +OK | S: (data) 120 lines, end", self.info(path).values())


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
        self.check("python-retr-dot-lines.pcapng", ["msg_dots", "msg_no_final_newline", "msg_utf8"],
                   prefixes=["msg_dots"])

    def test_python_retr_big(self):
        self.check("python-retr-big.pcapng", ["msg_big_mime"])

    def test_tls(self):
        self.check("curl-stls.pcapng", ["msg_dots"])
        self.check("curl-pop3s.pcapng", ["msg_bob_small"])


if __name__ == "__main__":
    if not PLUGIN or not os.path.exists(PLUGIN):
        print("pop3decode.so not found (set POP3DECODE_PLUGIN)", file=sys.stderr)
        sys.exit(SKIP)
    if tsharkenv.wireshark_version() is None:
        print("tshark not found", file=sys.stderr)
        sys.exit(SKIP)
    unittest.main(verbosity=2)
