#!/usr/bin/env python3
"""pop3log against tshark with the plugin, over every sample capture.

For each sample-pcaps/*.pcapng, pop3log's transactions must equal what tshark shows with the
freshly built plugin (tshark -T json, no TLS keys given to either):
- answered commands: the sequence of (frame of the answer, frame of the command, command,
  indicator, response code, login result, mechanism and user, announced octets, data octets,
  data lines), from pop3log's transaction lines and from the plugin's pop3.response subtrees
  (pop3.response_to, pop3.response.command, ...; the greeting, which answers no command,
  excluded);
- every command: the sequence of (frame, command) of pop3log's transactions and of the
  plugin's pop3.request subtrees (unanswered commands included; see same_commands);
- multi-line answers: the frame where the data ended (pop3log's end_frame, the plugin's frame
  with pop3.data.octets).
Answers cut short (a gap, or data never ended) are compared without their data totals: the
plugin gives them only at the data's end. The third-party captures
(POP3DECODE_THIRD_PARTY) are compared the same way when the folder is there (said "skipped"
otherwise). pop3log decodes cleartext on port 110 only: the POP3S capture (port 995) gives
nothing on either side without keys, and STLS captures only their part before STLS.

Environment: POP3LOG (the program; empty when it was not built), POP3DECODE_PLUGIN (empty when
the plugin was not built), POP3DECODE_SOURCE_DIR, POP3DECODE_THIRD_PARTY. Exit 77 (skipped)
when pop3log, the plugin or tshark is missing.
"""
import glob
import json
import os
import shutil
import subprocess
import sys

SOURCE = os.environ.get("POP3DECODE_SOURCE_DIR") or os.path.join(os.path.dirname(__file__),
                                                                  "..", "..")
sys.path.insert(0, os.path.join(SOURCE, "tests", "tshark"))


def skip(reason):
    print("SKIPPED: " + reason)
    sys.exit(77)


def pop3log_lines(pop3log, capture, *args):
    p = subprocess.run([pop3log, *args, capture], capture_output=True, text=True,
                       errors="surrogateescape")
    if p.returncode != 0:
        raise RuntimeError("pop3log %s failed (%d): %s" % (capture, p.returncode, p.stderr))
    return [json.loads(line) for line in p.stdout.splitlines()]


def ours(lines):
    answers, commands = [], []
    for t in lines:
        if t["type"] != "transaction":
            continue
        commands.append((t.get("command_frame"), t["command"], t["indicator"] is None))
        if t["indicator"] is None:
            continue
        login = t.get("login")
        # The plugin gives data totals at the data's end only; a cut answer has none.
        data = not t["cut"] and "data_octets" in t
        answers.append((t.get("answer_frame"), t.get("command_frame"), t["command"],
                        t["indicator"], t.get("response_code"),
                        login["result"] if login else None,
                        login["mechanism"] if login else None,
                        login["authcid"] if login else None,
                        t.get("announced_octets") if t["command"] in ("RETR", "TOP") else None,
                        t.get("data_octets") if data else None,
                        t.get("data_lines") if data else None,
                        t.get("end_frame") if data else None))
    commands.sort(key=lambda c: c[0] or 0)  # unanswered ones come at their conversation's end
    return answers, commands


def theirs(decoded):
    """The plugin's answers and commands. A frame holds pop3.request and pop3.response
    subtrees; a frame that continues multi-line data holds pop3.response_to and, where the data
    ends, pop3.data.lines and pop3.data.octets outside any subtree."""
    answers, commands = [], []
    for frame, fields in decoded.frames:
        current, loose = None, {}
        for key, value in fields:
            if key == "pop3.request":
                current = {"frame": frame, "request": True}
                commands.append(current)
            elif key == "pop3.response":
                current = {"frame": frame}
                answers.append(current)
            elif current is None:
                loose.setdefault(key, value)
            else:
                current.setdefault(key, value)
        if "pop3.data.octets" in loose:  # the end of the data of an earlier status line
            for a in reversed(answers):
                if a.get("pop3.response_to") == loose.get("pop3.response_to"):
                    a["pop3.data.octets"] = loose["pop3.data.octets"]
                    a["pop3.data.lines"] = loose.get("pop3.data.lines")
                    a["end"] = frame
                    break
    out = []
    for a in answers:
        if "pop3.response_to" not in a:
            continue  # the greeting, or an answer to no command
        code = a.get("pop3.response.code")
        if code is not None and a.get("pop3.response.code.args"):
            code += " " + a["pop3.response.code.args"]
        num = lambda k: int(a[k]) if a.get(k) is not None else None
        has_data = "pop3.data.octets" in a
        out.append((a["frame"], num("pop3.response_to"), a.get("pop3.response.command", ""),
                    a["pop3.response.indicator"], code, a.get("pop3.auth.result"),
                    a.get("pop3.auth.method") if "pop3.auth.result" in a else None,
                    a.get("pop3.auth.username", "") if "pop3.auth.result" in a else None,
                    num("pop3.response.octets"), num("pop3.data.octets"), num("pop3.data.lines"),
                    a.get("end", a["frame"]) if has_data else None))
    requests = sorted(((c["frame"], c.get("pop3.request.command", "")) for c in commands),
                      key=lambda c: c[0])
    return out, requests


def same_commands(ours_, theirs_):
    """Equal, except that a command line the connection's end cut (unanswered, no line end)
    is shown by the plugin in the frame that ended the connection and by pop3log in the frame
    that carried its bytes, which comes before."""
    if len(ours_) != len(theirs_):
        return False
    for (frame, command, unanswered), (their_frame, their_command) in zip(ours_, theirs_):
        if command != their_command:
            return False
        if frame != their_frame and not (unanswered and frame is not None and
                                         frame < their_frame):
            return False
    return True


def main():
    pop3log = os.environ.get("POP3LOG", "")
    plugin = os.environ.get("POP3DECODE_PLUGIN", "")
    if not pop3log or not os.path.exists(pop3log):
        skip("pop3log was not built (libpcap not found, or POP3DECODE_BUILD_EXAMPLES=OFF)")
    if not plugin or not os.path.exists(plugin):
        skip("the Wireshark plugin was not built")
    if not shutil.which("tshark"):
        skip("tshark is not installed")
    from tsharkenv import TShark
    import pop3json

    captures = sorted(glob.glob(os.path.join(SOURCE, "sample-pcaps", "*.pcapng")))
    if not captures:
        print("FAIL: no sample captures found")
        return 1
    third_party_dir = os.environ.get("POP3DECODE_THIRD_PARTY", "")
    third_party = sorted(glob.glob(os.path.join(third_party_dir, "*.pcap*"))) \
        if third_party_dir and os.path.isdir(third_party_dir) else []
    if not third_party:
        print("third-party captures: skipped (folder %s absent)" % (third_party_dir or "not set"))
    tshark = TShark(plugin)
    failures, with_transactions = 0, 0
    try:
        for capture in captures + third_party:
            name = os.path.basename(capture)
            our_answers, our_commands = ours(pop3log_lines(pop3log, capture))
            p = tshark.run(["-r", tshark.capture(capture), "-T", "json", "-Y", "pop3"])
            their_answers, their_commands = theirs(pop3json.Decoded(p.stdout))
            ok = our_answers == their_answers and same_commands(our_commands, their_commands)
            print("%-44s %s: %d commands, %d answered" % (name, "ok" if ok else "DIFFERENT",
                                                           len(our_commands), len(our_answers)))
            if our_commands and capture in captures:
                with_transactions += 1
            if not ok:
                failures += 1
                for label, a, b in (("answers", our_answers, their_answers),
                                    ("commands", [c[:2] for c in our_commands],
                                     their_commands)):
                    for i in range(max(len(a), len(b))):
                        x = a[i] if i < len(a) else None
                        y = b[i] if i < len(b) else None
                        if x != y:
                            print("  %s[%d]: pop3log %s\n  %s    tshark  %s" % (label, i, x,
                                                                             " " * len(label), y))
    finally:
        tshark.close()
    # Only the POP3S capture has nothing in clear on port 110.
    if with_transactions < len(captures) - 1:
        print("FAIL: only %d of %d captures gave transactions" % (with_transactions,
                                                                 len(captures)))
        failures += 1
    print("%d sample and %d third-party captures, %d different" % (len(captures),
                                                                  len(third_party), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
