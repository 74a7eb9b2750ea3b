"""The CLI's output habits: a progress bar on a terminal only, nothing in
a pipe or with --quiet, timings with --verbose, NO_COLOR, exit codes."""
import os
import pty
import re
import shutil
import subprocess

import pytest

ESC = "\x1b["


@pytest.fixture(scope="module")
def folder(tmp_path_factory, testdata):
    d = tmp_path_factory.mktemp("imgs")
    src = os.path.join(testdata, "images")
    for i in range(12):
        shutil.copy(os.path.join(src, "fmnist_%d_%s.png" % (i % 8, [
            "ankle_boot", "pullover", "trouser", "shirt", "coat", "sandal", "sneaker",
            "dress"][i % 8])), d / ("img%02d.png" % i))
    return d


def run_on_tty(args, env=None):
    """Run with stderr on a pseudo-terminal; (exit status, stdout, stderr)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL,
                         env=dict(os.environ, **(env or {})))
    os.close(slave)
    err = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:                     # EIO: the child closed the terminal
            break
        if not chunk:
            break
        err += chunk
    out = p.stdout.read()
    p.wait()
    os.close(master)
    return p.returncode, out.decode(), err.decode()


def preprocess(cli_path, folder, tmp_path, *flags):
    return [cli_path, "preprocess", str(folder), "-o", str(tmp_path / "x.npy")] + list(flags)


def test_progress_bar_on_a_terminal(cli_path, folder, tmp_path):
    env = {"NO_COLOR": ""}                          # empty: colours stay on
    rc, out, err = run_on_tty(preprocess(cli_path, folder, tmp_path), env)
    assert rc == 0 and "x.npy" in out
    assert "preprocess: images 0/12" in err and "preprocess: images 12/12" in err
    assert ESC + "32m" in err                       # the bar in colour
    assert err.endswith("\r" + ESC + "K")           # and erased at the end


def test_no_color(cli_path, folder, tmp_path):
    rc, _, err = run_on_tty(preprocess(cli_path, folder, tmp_path), {"NO_COLOR": "1"})
    assert rc == 0 and "images 12/12 [########################]" in err
    assert not re.search(r"\x1b\[[0-9;]*m", err)    # no colour escapes at all


def test_quiet_and_pipes_show_no_bar(cli_path, folder, tmp_path, cli):
    rc, _, err = run_on_tty(preprocess(cli_path, folder, tmp_path, "--quiet"))
    assert rc == 0 and err == ""
    p = cli(*preprocess(cli_path, folder, tmp_path)[1:])   # stderr a pipe
    assert p.stderr == ""


def test_verbose_timings(cli, fmnist, folder, tmp_path):
    p = cli("explain", fmnist, folder, "-o", tmp_path / "r.npy", "--verbose")
    lines = p.stderr.splitlines()
    assert ESC not in p.stderr
    for what in ("load ", "read 12 images for the first input:",
                 "forward and relevance passes:", "write "):
        assert any(re.match(r"lrpx explain: %s.* [0-9.]+ ms$" % re.escape(what), l)
                   for l in lines), (what, lines)
    q = cli("explain", fmnist, folder, "-o", tmp_path / "r.npy", "-v", "-q")
    assert "forward and relevance passes" in q.stderr     # -q hides the bar, not -v


def test_error_during_a_bar_is_on_its_own_line(cli_path, folder, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(folder, bad)
    (bad / "zz_broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    rc, _, err = run_on_tty(preprocess(cli_path, bad, tmp_path), {"NO_COLOR": "1"})
    assert rc == 1
    assert ("\r" + ESC + "Klrpx preprocess: ") in err and "zz_broken.png" in err


def test_exit_codes_unchanged(cli, fmnist, tmp_path):
    assert cli("explain", fmnist, "--no-such-flag", ok=False).returncode == 2
    assert cli("explain", fmnist, tmp_path / "missing.npy", ok=False).returncode == 1
    assert cli("info", fmnist, "--quiet=1", ok=False).returncode == 2
    assert "--quiet" in cli("run", "--help").stdout


def test_progress_of_the_translation_trick(cli_path, testdata, fmnist, tmp_path):
    x = os.path.join(testdata, "images", "fmnist_1_pullover.npy")
    rc, _, err = run_on_tty([cli_path, "explain", fmnist, x, "--translate", "2", "-o",
                             str(tmp_path / "r.npy")], {"NO_COLOR": "1"})
    assert rc == 0 and "explain: passes 25/25 [########################]" in err
