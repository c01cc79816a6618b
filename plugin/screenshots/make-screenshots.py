#!/usr/bin/env python3
"""Remakes the screenshots of Wireshark with the pop3decode plugin (plugin/screenshots/*.png).

usage: plugin/screenshots/make-screenshots.py [--plugin PATH] [--out DIR] [--only NAME.png] [--keep]

Runs the real Wireshark (Qt) from Debian on a virtual X display (Xvfb) with the freshly built
plugin (default: build/plugin/lib/4.0/epan/pop3decode.so) over the sample captures, drives it
with xdotool and grabs windows with ImageMagick's `import`. Needs the Debian packages
wireshark-qt, tshark, xvfb, xdotool and imagemagick (it says which are missing).

As root Wireshark ignores WIRESHARK_PLUGIN_DIR and the personal plugin folder, so it runs as
uid 65534 with a temporary HOME and a readable copy of the plugin, exactly like the tshark
tests (tests/tshark/tsharkenv.py). The HOME gets a `recent` file (window size, pane sizes,
columns, no bytes pane) so that every run lays the windows out the same way.

The shots:
  sasl-scram-sha-256.png  packet list (filter pop3) and the POP3 tree of the SCRAM client-final
                          message (python-scram-sha-256.pcapng), its subtrees expanded
  auth-plain-master.png   the +OK that ends the AUTH PLAIN master-user login of
                          curl-auth-plain.pcapng: the generated Authentication summary
  expert-info.png         Analyze > Expert Information for errors-state.pcapng (`-z expert`),
                          its first group expanded
  statistics-pop3.png     Statistics > POP3 (the plugin's statistics tree, tshark -z pop3,tree)
                          for python-pipelining.pcapng, opened from the menu; only when the
                          plugin registers that tree, otherwise the script says so ("NOT MADE")
                          and leaves any older file alone
Frame numbers are looked up with tshark, so remade captures keep working. Each shot is taken
once the window has stopped changing. Takes about 40 s (four Wireshark starts).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SAMPLES = os.path.join(ROOT, "sample-pcaps")
sys.path.insert(0, os.path.join(ROOT, "tests", "tshark"))
import tsharkenv  # noqa: E402

SCREEN = (1400, 900)
TOOLS = {"Xvfb": "xvfb", "wireshark": "wireshark-qt", "tshark": "tshark", "xdotool": "xdotool",
         "import": "imagemagick", "setpriv": "util-linux"}
STATS_TREE = "pop3,tree"

# Wireshark's per-profile "recent" file: which panes are shown, their sizes and the columns.
RECENT = """\
gui.toolbar_main_show: TRUE
gui.filter_toolbar_show: TRUE
gui.wireless_toolbar_show: FALSE
gui.packet_list_show: TRUE
gui.tree_view_show: TRUE
gui.byte_view_show: FALSE
gui.packet_diagram_show: FALSE
gui.statusbar_show: TRUE
gui.packet_list_colorize: TRUE
gui.time_format: RELATIVE
gui.time_precision: AUTO
gui.zoom_level: 0
gui.geometry_main_upper_pane: 300
gui.geometry_main_lower_pane: 480
column.width:
\t%m, 50,
\t%t, 115,
\t%s, 80,
\t%d, 80,
\t%p, 55,
\t%L, 55,
\t%i, 900
"""
RECENT_COMMON = """\
gui.geometry_main_x: 0
gui.geometry_main_y: 0
gui.geometry_main_width: {w}
gui.geometry_main_height: {h}
gui.geometry_main_maximized: FALSE
privs.warn_if_elevated: FALSE
sys.warn_if_no_capture: FALSE
""".format(w=SCREEN[0], h=SCREEN[1])


def log(msg):
    print(msg, flush=True)


class Display:
    """An Xvfb server on a free display number."""

    def __init__(self):
        r, w = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(w), "-screen", "0", "%dx%dx24" % SCREEN, "-nolisten",
             "tcp"], pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(w)
        number = b""
        with os.fdopen(r, "rb") as f:
            while not number.endswith(b"\n"):
                c = f.read(1)
                if not c:
                    raise RuntimeError("Xvfb did not start")
                number += c
        self.name = ":" + number.decode().strip()
        self.env = dict(os.environ, DISPLAY=self.name)

    def x(self, *args, check=True):
        p = subprocess.run(list(args), env=self.env, capture_output=True, text=True)
        if check and p.returncode != 0:
            raise RuntimeError("%s failed: %s" % (" ".join(args), p.stderr.strip()))
        return p.stdout

    def windows(self, name):
        out = self.x("xdotool", "search", "--onlyvisible", "--name", name, check=False)
        return [w for w in out.split()]

    def wait_window(self, name, proc, timeout=90):
        end = time.time() + timeout
        while time.time() < end:
            found = self.windows(name)
            if found:
                return found[-1]
            if proc.poll() is not None:
                raise RuntimeError("Wireshark exited (%d) before a window named %r appeared"
                                   % (proc.returncode, name))
            time.sleep(0.5)
        raise RuntimeError("no window named %r after %d s" % (name, timeout))

    def geometry(self, window):
        values = {}
        for line in self.x("xdotool", "getwindowgeometry", "--shell", window).splitlines():
            k, _, v = line.partition("=")
            values[k] = int(v)
        return values["X"], values["Y"], values["WIDTH"], values["HEIGHT"]

    def grab(self, window, path):
        self.x("import", "-window", window, path)

    def wait_still(self, window, scratch, timeout=60):
        """Waits until two grabs a second apart are identical (start-up and drawing are over)."""
        end = time.time() + timeout
        last = None
        while time.time() < end:
            self.grab(window, scratch)
            with open(scratch, "rb") as f:
                now = f.read()
            if now == last:
                return
            last = now
            time.sleep(1.0)
        log("  (window still changing after %d s; taking the shot anyway)" % timeout)

    def close(self):
        self.proc.terminate()
        self.proc.wait()


class Wireshark:
    """One Wireshark run as uid 65534 (when root) with the plugin, a fresh HOME and captures."""

    def __init__(self, ts, display, capture, args):
        self.ts, self.display = ts, display
        self.home = tempfile.mkdtemp(prefix="home.", dir=ts.root)
        profile = os.path.join(self.home, ".config", "wireshark")
        os.makedirs(profile)
        with open(os.path.join(profile, "recent"), "w") as f:
            f.write(RECENT)
        with open(os.path.join(profile, "recent_common"), "w") as f:
            f.write(RECENT_COMMON)
        runtime = os.path.join(self.home, "runtime")
        os.makedirs(runtime)
        for dirpath, _, filenames in os.walk(self.home):
            os.chmod(dirpath, 0o755)
            if ts.privileged:
                os.chown(dirpath, tsharkenv.NOBODY, tsharkenv.NOBODY)
                for f in filenames:
                    os.chown(os.path.join(dirpath, f), tsharkenv.NOBODY, tsharkenv.NOBODY)
        os.chmod(runtime, 0o700)
        cmd = ["env", "-i", "PATH=/usr/bin:/bin", "HOME=" + self.home, "TZ=UTC", "LC_ALL=C.UTF-8",
               "DISPLAY=" + display.name, "XDG_RUNTIME_DIR=" + runtime, "QT_QPA_PLATFORM=xcb",
               "WIRESHARK_PLUGIN_DIR=" + ts.plugin_dir,
               shutil.which("wireshark"), "-r", ts.capture(capture)] + list(args)
        if ts.privileged:
            cmd = ["setpriv", "--reuid=%d" % tsharkenv.NOBODY, "--regid=%d" % tsharkenv.NOBODY,
                   "--clear-groups"] + cmd
        self.log = open(os.path.join(ts.root, "wireshark.log"), "a")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, cwd=ts.root)
        self.title = os.path.basename(capture)

    def main_window(self):
        return self.display.wait_window(self.title, self.proc)

    def dialog(self, title):
        return self.display.wait_window(title, self.proc)

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def frame_of(ts, capture, display_filter):
    """Number of the first frame of a capture matching a display filter (two passes)."""
    out = ts.run(["-r", ts.capture(capture), "-2", "-Y", display_filter, "-T", "fields",
                  "-e", "frame.number"]).stdout.split()
    if not out:
        raise RuntimeError("no frame of %s matches %s" % (capture, display_filter))
    return int(out[0])


def expand_pop3_tree(display, window):
    """Selects the last top-level item of the packet details (the POP3 tree) and expands it
    with all its subtrees (Shift+Right, View > Expand Subtrees)."""
    x, y, w, h = display.geometry(window)
    # Below the packet list (upper pane 260 px under menus, tool bars and filter bar), above the
    # status bar: the packet details pane, the only lower pane here.
    display.x("xdotool", "mousemove", str(x + w // 2), str(y + h - 60), "click", "1")
    time.sleep(0.5)
    display.x("xdotool", "key", "Home", "End", "shift+Right")
    time.sleep(1.0)


def packet_shot(ts, display, scratch, out, capture, display_filter, frame_filter):
    frame = frame_of(ts, capture, frame_filter)
    log("  frame %d (%s)" % (frame, frame_filter))
    ws = Wireshark(ts, display, capture, ["-Y", display_filter, "-g", str(frame)])
    try:
        window = ws.main_window()
        display.wait_still(window, scratch)
        expand_pop3_tree(display, window)
        display.wait_still(window, scratch)
        display.grab(window, out)
    finally:
        ws.close()


def open_last_statistics_entry(display, window):
    """Statistics > the menu's last entry: Wireshark 4.0 appends the statistics trees of plugins
    at the end of the Statistics menu (its -z option does not know them, unlike tshark's)."""
    display.x("xdotool", "windowfocus", "--sync", window)
    display.x("xdotool", "key", "alt+s")
    time.sleep(1.0)
    display.x("xdotool", "key", "Up", "Return")


def dialog_shot(ts, display, scratch, out, capture, opener, title, size, expand_first=False):
    """A dialog, opened by `-z opener` (a string) or by opener(display, main window), moved to
    the corner and resized. expand_first: click the first row of its tree (just under the
    header) and expand it."""
    ws = Wireshark(ts, display, capture, ["-z", opener] if isinstance(opener, str) else [])
    try:
        window = ws.main_window()
        if not isinstance(opener, str):
            display.wait_still(window, scratch)
            opener(display, window)
        dialog = ws.dialog(title)
        display.x("xdotool", "windowmove", dialog, "0", "0", "windowsize", dialog,
                  str(size[0]), str(size[1]))
        display.wait_still(dialog, scratch)
        if expand_first:
            x, y, _, _ = display.geometry(dialog)
            display.x("xdotool", "mousemove", str(x + 300), str(y + 41), "click", "1")
            time.sleep(0.5)
            display.x("xdotool", "key", "Right")
            display.wait_still(dialog, scratch)
        display.grab(dialog, out)
    finally:
        ws.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugin", default=os.path.join(ROOT, "build", "plugin", "lib", "4.0",
                                                         "epan", "pop3decode.so"))
    parser.add_argument("--out", default=HERE)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--only", action="append", metavar="NAME.png",
                        help="make only this screenshot (repeatable)")
    args = parser.parse_args()

    missing = sorted({pkg for tool, pkg in TOOLS.items() if not shutil.which(tool)})
    if missing:
        log("missing packages: %s (apt-get install %s)" % (", ".join(missing), " ".join(missing)))
        return 1
    if not os.path.exists(args.plugin):
        log("plugin not found: %s (build it: cmake --build build --target pop3decode_plugin)"
            % args.plugin)
        return 1
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    ts = tsharkenv.TShark(args.plugin)
    display = Display()
    scratch = os.path.join(ts.root, "scratch.png")
    made, skipped = [], []
    try:
        log("display %s, work folder %s" % (display.name, ts.root))

        def shot(name, fn, *fn_args):
            if args.only and name not in args.only:
                return
            out = os.path.join(args.out, name)
            log("%s:" % name)
            try:
                fn(ts, display, scratch, out, *fn_args)
            except Exception:
                # What the screen showed, and what Wireshark said, to see why.
                screen = os.path.join(ts.root, "failed-" + name)
                display.x("import", "-window", "root", screen, check=False)
                log("  FAILED; the screen is in %s; Wireshark's output:" % screen)
                with open(os.path.join(ts.root, "wireshark.log"), errors="replace") as f:
                    log("".join("    " + line for line in f.readlines()[-20:]))
                args.keep = True
                raise
            made.append(out)

        shot("sasl-scram-sha-256.png", packet_shot,
             os.path.join(SAMPLES, "python-scram-sha-256.pcapng"), "pop3", "pop3.sasl.step == 3")
        shot("auth-plain-master.png", packet_shot,
             os.path.join(SAMPLES, "curl-auth-plain.pcapng"), "pop3",
             "pop3.auth.authzid && pop3.auth.result")
        shot("expert-info.png", dialog_shot, os.path.join(SAMPLES, "errors-state.pcapng"),
             "expert", "Expert Information", (1100, 700), True)
        z_help = ts.run(["-z", "help"], check=False)  # tshark lists them on stderr
        z_help = (z_help.stdout + z_help.stderr).split()
        if STATS_TREE in z_help:
            shot("statistics-pop3.png", dialog_shot,
                 os.path.join(SAMPLES, "python-pipelining.pcapng"), open_last_statistics_entry,
                 "POP3", (1100, 880))
        else:
            skipped.append("statistics-pop3.png: the plugin registers no statistics tree "
                           "(tshark -z help lists no %s), so there is no Statistics > POP3 "
                           "entry to show" % STATS_TREE)
    finally:
        display.close()
        if args.keep:
            log("kept %s" % ts.root)
        else:
            ts.close()
    for path in made:
        log("wrote %s" % os.path.relpath(path))
    for reason in skipped:
        log("NOT MADE: %s" % reason)
    log("%d screenshot(s) in %.0f s" % (len(made), time.time() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
