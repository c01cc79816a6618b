#!/usr/bin/python3
"""Write the sample Maildirs used by make-captures.sh.

Usage: mkmail.py MAILROOT

Creates MAILROOT/<user>/{cur,new,tmp} for every test user.  The content is
fixed (no clock, no randomness) so that message sizes, UIDLs and bodies are
the same on every run.  Messages are stored with LF line ends as Maildir
expects; the server turns them into CRLF and dot-stuffs them on the wire.
"""
import base64
import hashlib
import os
import sys

def msg_plain():
    return (
        "Return-Path: <postmaster@example.net>\n"
        "From: Postmaster <postmaster@example.net>\n"
        "To: Alice <alice@example.net>\n"
        "Subject: Welcome to the sample mailbox\n"
        "Date: Mon, 01 Jan 2024 10:00:00 +0000\n"
        "Message-ID: <welcome-1@example.net>\n"
        "\n"
        "Hello Alice,\n"
        "\n"
        "this is a short plain ASCII message.\n"
        "\n"
        "-- \n"
        "Postmaster\n"
    )


def msg_dots():
    # Lines that start with '.', a line that is only '.', a line that is
    # only '..', and a line '.' followed by spaces: the server must
    # byte-stuff every one of them.
    return (
        "From: Bob <bob@example.net>\n"
        "To: Alice <alice@example.net>\n"
        "Subject: Lines that start with dots\n"
        "Date: Mon, 01 Jan 2024 11:00:00 +0000\n"
        "Message-ID: <dots-2@example.net>\n"
        "\n"
        "The next line is a single dot:\n"
        ".\n"
        "The next line is two dots:\n"
        "..\n"
        ".hidden-file starts with a dot\n"
        "...three dots at the start\n"
        ". a dot and a space\n"
        "\n"
        ".\n"
        "A line after an empty line and a dot line.\n"
        "Ends with a dot line:\n"
        ".\n"
    )


def msg_utf8():
    return (
        "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.net>\n"
        "To: Alice <alice@example.net>\n"
        "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgTcO8bmNoZW4g4piV?=\n"
        "Date: Tue, 02 Jan 2024 09:30:00 +0100\n"
        "Message-ID: <utf8-3@example.net>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n"
        "\n"
        "Grüße aus München! ☕\n"
        "Ελληνικά: Καλημέρα κόσμε\n"
        "Русский: Съешь же ещё этих мягких французских булок\n"
        "日本語: いろはにほへと ちりぬるを\n"
        "Emoji: 📬 ✉️ 🦊\n"
        ".Zeile mit Punkt am Anfang – und Gedankenstrich\n"
    )


def msg_no_final_newline():
    # The last line has no line end: the server has to add CRLF before the
    # terminating ".".
    return (
        "From: Carol <carol@example.net>\n"
        "To: Alice <alice@example.net>\n"
        "Subject: No newline at the end\n"
        "Date: Wed, 03 Jan 2024 12:00:00 +0000\n"
        "Message-ID: <nonl-4@example.net>\n"
        "\n"
        "This body does not end with a line break."
    )


def msg_long_lines():
    line = "".join(chr(0x41 + (i % 26)) for i in range(990))
    return (
        "From: Bob <bob@example.net>\n"
        "To: Alice <alice@example.net>\n"
        "Subject: Long lines\n"
        "Date: Thu, 04 Jan 2024 08:00:00 +0000\n"
        "Message-ID: <long-5@example.net>\n"
        "\n"
        + (line + "\n") * 3
        + "short line\n"
    )


def deterministic_bytes(n):
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(b"pop3decode sample attachment %d" % counter).digest()
        counter += 1
    return bytes(out[:n])


def msg_big_mime():
    payload = deterministic_bytes(800_000)
    b64 = base64.encodebytes(payload).decode("ascii")  # 76-char lines
    text = (
        "From: Alice <alice@example.net>\n"
        "To: Bob <bob@example.net>\n"
        "Subject: Report with a large attachment\n"
        "Date: Fri, 05 Jan 2024 16:45:00 +0000\n"
        "Message-ID: <big-2@example.net>\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="=_sample_boundary_42"\n'
        "\n"
        "This is a multi-part message in MIME format.\n"
        "\n"
        "--=_sample_boundary_42\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n"
        "\n"
        "Hi Bob,\n"
        "\n"
        "the data file is attached (800000 bytes, SHA-256 "
        + hashlib.sha256(payload).hexdigest()
        + ").\n"
        ".\n"
        "Grüße, Alice\n"
        "\n"
        "--=_sample_boundary_42\n"
        "Content-Type: application/octet-stream; name=\"data.bin\"\n"
        "Content-Transfer-Encoding: base64\n"
        'Content-Disposition: attachment; filename="data.bin"\n'
        "\n"
        + b64
        + "\n--=_sample_boundary_42--\n"
    )
    return text


def msg_bob_small():
    return (
        "From: Carol <carol@example.net>\n"
        "To: Bob <bob@example.net>\n"
        "Subject: Lunch?\n"
        "Date: Fri, 05 Jan 2024 11:00:00 +0000\n"
        "Message-ID: <lunch-1@example.net>\n"
        "\n"
        "Lunch at noon?\n"
    )


def msg_anon():
    return (
        "From: News <news@example.net>\n"
        "To: anonymous@example.net\n"
        "Subject: Public announcement\n"
        "Date: Sat, 06 Jan 2024 07:00:00 +0000\n"
        "Message-ID: <public-1@example.net>\n"
        "\n"
        "This mailbox is readable with SASL ANONYMOUS.\n"
    )


MAILBOXES = {
    "alice": [msg_plain(), msg_dots(), msg_utf8(), msg_no_final_newline(), msg_long_lines()],
    "bob": [msg_bob_small(), msg_big_mime()],
    "carol": [],
    "anonymous": [msg_anon()],
}


def main():
    root = sys.argv[1]
    for user, msgs in MAILBOXES.items():
        base = os.path.join(root, user, "Maildir")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(base, sub), exist_ok=True)
        for i, m in enumerate(msgs, 1):
            data = m.encode("utf-8")
            # Fixed Maildir names: the UIDL (pop3_uidl_format = %f) is the
            # file name, so UIDLs are the same on every run.
            name = "17040%05d.M%dP1.sample,S=%d:2," % (i * 60, i, len(data))
            with open(os.path.join(base, "cur", name), "wb") as f:
                f.write(data)
            t = 1704067200 + i * 3600
            os.utime(os.path.join(base, "cur", name), (t, t))


if __name__ == "__main__":
    main()
