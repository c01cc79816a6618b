"""Runs the system tshark with a freshly built pop3decode.so loaded.

As root, tshark ignores WIRESHARK_PLUGIN_DIR and the personal plugin folder, so when running as
root tshark is started as the unprivileged uid 65534 (setpriv), with the plugin and the captures
copied into a fresh temporary folder that uid can read. As a normal user it runs directly.
"""
import os
import shutil
import stat
import subprocess
import tempfile

NOBODY = 65534


def wireshark_version():
    """(major, minor) of the installed tshark, or None."""
    tshark = shutil.which("tshark")
    if not tshark:
        return None
    out = subprocess.run([tshark, "--version"], capture_output=True, text=True).stdout
    for word in out.split():
        parts = word.split(".")
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
            return int(parts[0]), int(parts[1])
    return None


class TShark:
    def __init__(self, plugin, with_plugin=True, extra_env=None):
        """extra_env: more environment variables for tshark (e.g. LD_PRELOAD for an ASan build)."""
        self.extra_env = dict(extra_env or {})
        self.tshark = shutil.which("tshark")
        if not self.tshark:
            raise FileNotFoundError("tshark")
        self.root = tempfile.mkdtemp(prefix="pop3decode-tshark.")
        self.privileged = os.geteuid() == 0
        major, minor = wireshark_version()
        self.plugin_dir = os.path.join(self.root, "plugins")
        epan = os.path.join(self.plugin_dir, "%d.%d" % (major, minor), "epan")
        os.makedirs(epan)
        if with_plugin:
            shutil.copy(plugin, os.path.join(epan, "pop3decode.so"))
        self.home = os.path.join(self.root, "home")
        self.captures = os.path.join(self.root, "captures")
        self.out = os.path.join(self.root, "out")
        for d in (self.home, self.captures, self.out):
            os.makedirs(d)
        self._fix_permissions()

    def _fix_permissions(self):
        for dirpath, dirnames, filenames in os.walk(self.root):
            os.chmod(dirpath, 0o755)
            for f in filenames:
                p = os.path.join(dirpath, f)
                os.chmod(p, os.stat(p).st_mode | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        if self.privileged:
            for d in (self.home, self.out):
                for dirpath, dirnames, filenames in os.walk(d):
                    os.chown(dirpath, NOBODY, NOBODY)
                    for f in filenames:
                        os.chown(os.path.join(dirpath, f), NOBODY, NOBODY)

    def capture(self, path):
        """A readable copy of a capture file."""
        dest = os.path.join(self.captures, os.path.basename(path))
        if not os.path.exists(dest):
            shutil.copy(path, dest)
            os.chmod(dest, 0o644)
        return dest

    def outdir(self, name):
        d = os.path.join(self.out, name)
        if os.path.exists(d):
            shutil.rmtree(d)
        os.makedirs(d)
        self._fix_permissions()
        return d

    def command(self, args):
        env = ["env", "-i", "PATH=/usr/bin:/bin", "HOME=" + self.home, "TZ=UTC", "LC_ALL=C.UTF-8",
               "WIRESHARK_PLUGIN_DIR=" + self.plugin_dir,
               "WIRESHARK_ABORT_ON_DISSECTOR_BUG=1"]
        env += ["%s=%s" % kv for kv in sorted(self.extra_env.items())]
        cmd = env + [self.tshark] + list(args)
        if self.privileged:
            cmd = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"] + cmd
        return cmd

    def run(self, args, check=True, text=True):
        p = subprocess.run(self.command(args), capture_output=True, text=text, cwd=self.root,
                           **({"errors": "backslashreplace"} if text else {}))
        if check and p.returncode != 0:
            raise RuntimeError("tshark %s failed (%d):\n%s" % (" ".join(args), p.returncode,
                                                               p.stderr))
        return p

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)
