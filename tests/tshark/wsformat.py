"""What tshark prints differently from one Wireshark version to another, mapped back to the form
Wireshark 4.0 prints, so that one expectation (the golden files, the tests) holds for 4.0, 4.4 and
4.6. Each mapping undoes one change of Wireshark's output and keeps every value: nothing is
dropped, a value that does not have the changed form is left as it is (and then differs).

- `-T fields`: the header of `-e _ws.col.Info` reads `_ws.col.info` (4.4 on); FT_BOOLEAN values
  print `True`/`False` instead of `1`/`0`; backslashes in values are escaped (`\\\\`). Which of these
  applies is read from the output itself or found by a probe (`escapes_backslashes`), not
  assumed from a version number.
- `-G protocols`: 4.4 on prints three more columns (enabled, enabled by default, can be toggled).
- `-e _ws.col.Info`: 4.4 on makes the column fields before it calls the postdissectors, so the
  field lacks what a postdissector adds to the Info column (the plugin's "POP3: Closed by ..."
  on the frame that ends a connection); the packet list shows it. Tests read the Info column as
  the packet list shows it, on every version: `INFO_ARGS` and `info_rows`.
"""
import os

import pcapwriter

_BOOLEAN_TEXT = {"True": "1", "False": "0"}

# tshark arguments that print each frame's number and Info column as the packet list shows them.
INFO_ARGS = ["-T", "tabs", "-o", 'gui.column.format:"No.","%m","Info","%i"']


def info_rows(text):
    """{frame number: Info column} from the output of tshark run with INFO_ARGS."""
    rows = {}
    for line in text.splitlines():
        number, _, info = line.partition("\t")
        if number.strip():
            rows[int(number)] = info
    return rows


class Format:
    def __init__(self, ts):
        """ts: a tsharkenv.TShark with the plugin loaded."""
        self.ts = ts
        self._booleans = None
        self._escapes = None

    def boolean_fields(self):
        """Names of every FT_BOOLEAN field (from `tshark -G fields`)."""
        if self._booleans is None:
            self._booleans = set()
            for line in self.ts.run(["-G", "fields"]).stdout.splitlines():
                cols = line.split("\t")
                if len(cols) > 3 and cols[0] == "F" and cols[3] == "FT_BOOLEAN":
                    self._booleans.add(cols[2])
        return self._booleans

    def escapes_backslashes(self):
        """Whether `-T fields` escapes a backslash in a value: asked of tshark with a one-line
        POP3 capture whose command parameter holds one."""
        if self._escapes is None:
            path = os.path.join(self.ts.captures, "probe-backslash.pcap")
            with open(path, "wb") as f:
                w = pcapwriter.Writer(f)
                w.handshake()
                w.server_says(b"+OK ready\r\n")
                w.client_says(b"USER DOMAIN\\alice\r\n")
            os.chmod(path, 0o644)
            out = self.ts.run(["-r", path, "-Y", "pop3.request.command", "-T", "fields",
                               "-e", "pop3.request.parameter"]).stdout.strip()
            if out == "DOMAIN\\\\alice":
                self._escapes = True
            elif out == "DOMAIN\\alice":
                self._escapes = False
            else:
                raise AssertionError("backslash probe: unexpected output %r" % out)
        return self._escapes

    def unescape(self, value):
        """Undoes `-T fields` escaping of backslashes; other escapes are left as printed."""
        if not self.escapes_backslashes() or "\\" not in value:
            return value
        out = []
        i = 0
        while i < len(value):
            if value.startswith("\\\\", i):
                out.append("\\")
                i += 2
            else:
                out.append(value[i])
                i += 1
        return "".join(out)

    def fields(self, text, names, header=False, separator="\t", aggregator=None):
        """`-T fields` output of the fields `names` (in -e order), in 4.0's form."""
        booleans = self.boolean_fields()
        lines = text.split("\n")
        out = []
        for n, line in enumerate(lines):
            if line == "" and n == len(lines) - 1:
                out.append(line)
                continue
            cols = line.split(separator)
            if header and n == 0:
                cols = [name if (c != name and c.lower() == name.lower() and
                                 name.startswith("_ws.col.")) else c
                        for c, name in zip(cols, names)] + cols[len(names):]
            else:
                cols = [self.unescape(c) for c in cols]
                for i, name in enumerate(names[:len(cols)]):
                    if name in booleans and cols[i]:
                        parts = cols[i].split(aggregator) if aggregator else [cols[i]]
                        cols[i] = (aggregator or "").join(_BOOLEAN_TEXT.get(p, p) for p in parts)
            out.append(separator.join(cols))
        return "\n".join(out)


def protocols(text):
    """`tshark -G protocols` as {filter name: (name, short name, flags)}; flags is () for 4.0 and
    the three T/F columns of 4.4 on."""
    rows = {}
    for line in text.splitlines():
        cols = line.split("\t")
        if len(cols) >= 3:
            rows[cols[2]] = (cols[0], cols[1], tuple(cols[3:]))
    return rows


def of(ts):
    """The Format of one TShark (made once: the probes run once per tshark)."""
    fmt = getattr(ts, "_wsformat", None)
    if fmt is None:
        fmt = ts._wsformat = Format(ts)
    return fmt
