"""The README's shell blocks run, in order, as a new user would run them on a fresh clone.

How the README's ```bash blocks are run (README authors: this is the convention to follow):

- All runnable blocks run in ONE bash session (`set -euo pipefail`), in README order, in a
  temporary copy of the repository (the tracked files; `.venv` is the checkout's own, linked):
  a variable set or a venv activated in one block is there for the next, an unset variable or a
  failing command fails the test, naming the README line.
- ```python blocks run too, each as `.venv/bin/python -` in the same session (same folder).
- `<!-- readme-test: skip (why) -->` on the line(s) just before a block's fence skips that block
  (e.g. it needs Windows, a ProfitDLL licence or your own files); say why in the comment.
- A server, `tradingcore up`: a command whose comment says `runs until Ctrl-C` is started in
  the background, in its own process group, and the next command waits until it says it serves
  (a line with `listening on` or `dashboard:`, as the hosts and `tradingcore up` print;
  bounded). It stays up until the end of its README section (the next `## ` heading: the
  reader presses Ctrl-C before moving on), then gets SIGINT (Ctrl-C), SIGKILL if it has not
  stopped within 30 s. A command ending in ` &` is started and waited for the same way, and
  stopped at the end of its block (the block should stop it itself, as the reader must:
  `kill $(jobs -pr); wait`).
- `make test` is not run (this test is part of it).
- `../shared` (data beside the checkout) is linked beside the copy; where there is none, a
  command naming `../shared/` is not run.
- Blocks must not clash: each block that writes a store should name its own, or build on the
  previous ones on purpose. Fixed ports (8000, 9001, 9101...) are used as the README says: the
  run gets a network namespace of its own where it can (`unshare -rn`), and takes a lock file.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
LOCK = Path("/tmp/tradingcore-readme-test.lock")
SKIP = re.compile(r"<!--\s*readme-test:\s*skip\b.*?-->")
BACKGROUND = "runs until Ctrl-C"
NOT_RUN = re.compile(r"^\s*make test\b")
AMPERSAND = re.compile(r"^(?P<code>.*[^&])&[ \t]*(#[^'\"]*)?$", re.DOTALL)
"""A command run in the background: `... &`, maybe with a comment after it."""
FENCE = re.compile(r"^```(\w*)\s*$")
PYTHON_END = "README_PYTHON_BLOCK_ENDS"
"""The here-document delimiter a ```python block is fed to the interpreter with."""
START_WAIT_S = 180
STOP_WAIT_S = 30
RUN_BOUND_S = 1200

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="runs the README's bash blocks"),
]


@dataclass(frozen=True, slots=True)
class Block:
    line: int
    """1-based README line of the block's first command line."""
    language: str
    lines: tuple[str, ...]
    skipped: bool
    section: int = 0
    """How many `## ` headings come before the block."""


def blocks(text: str) -> list[Block]:
    """The fenced code blocks of a Markdown text, each marked skipped or not."""
    found: list[Block] = []
    lines = text.splitlines()
    index = 0
    section = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            section += lines[index].startswith("## ")
            index += 1
            continue
        before = index - 1
        while before >= 0 and not lines[before].strip():
            before -= 1
        skipped = before >= 0 and bool(SKIP.search(lines[before]))
        end = index + 1
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        body = tuple(lines[index + 1 : end])
        found.append(Block(index + 2, opening.group(1), body, skipped, section))
        index = end + 1
    return found


def commands(block: Block) -> Iterator[tuple[int, str]]:
    """(README line, command) of a block, continuation lines joined."""
    pending: list[str] = []
    start = block.line
    for offset, line in enumerate(block.lines):
        if not pending:
            start = block.line + offset
        pending.append(line)
        if line.rstrip().endswith("\\"):
            continue
        command = "\n".join(pending)
        pending = []
        if command.strip() and not command.lstrip().startswith("#"):
            yield start, command
    if pending:
        yield start, "\n".join(pending)


PREAMBLE = r"""
set -euo pipefail
set -m
README_BG=()       # every background command: stopped at the end at the latest
README_SECTION=()  # `runs until Ctrl-C` ones of this section
README_BLOCK=()    # ` &` ones of this block
readme_started() {  # LINE PID OUT: wait until the background command serves
  local line=$1 pid=$2 out=$3 waited=0
  until grep -qE 'listening on|dashboard:' "$out"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "README line $line: the background command ended before it served:" >&2
      cat "$out" >&2; exit 1
    fi
    sleep 0.2; waited=$((waited + 1))
    if [ "$waited" -gt $((START_WAIT_S * 5)) ]; then
      echo "README line $line: not serving within START_WAIT_S s:" >&2; cat "$out" >&2; exit 1
    fi
  done
}
readme_stop() {  # PID...: Ctrl-C each (last started first), then SIGKILL after a while
  local i pid pids=("$@")
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    kill -INT -- "-$pid" 2>/dev/null || continue
    for _ in $(seq $((STOP_WAIT_S * 5))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
}
trap 'readme_stop ${README_BG[@]+"${README_BG[@]}"}' EXIT
trap 'echo "README line ${README_LINE:-?} failed (exit $?): $BASH_COMMAND" >&2' ERR
"""


def script(text: str, *, shared: bool = True) -> tuple[str, list[Block]]:
    """The bash script that runs the README's runnable blocks; also the blocks it runs."""
    preamble = PREAMBLE.replace("START_WAIT_S", str(START_WAIT_S))
    out = [preamble.replace("STOP_WAIT_S", str(STOP_WAIT_S))]
    ran: list[Block] = []
    background = 0
    section = 0
    for block in blocks(text):
        if block.language not in ("bash", "sh", "shell", "python") or block.skipped:
            continue
        if block.section != section:
            out.append('readme_stop ${README_SECTION[@]+"${README_SECTION[@]}"}; README_SECTION=()')
            section = block.section
        ran.append(block)
        if block.language == "python":
            out.append(f"README_LINE={block.line}; echo '>>> README line {block.line}' >&2")
            out.append(f".venv/bin/python - <<'{PYTHON_END}'\n" + "\n".join(block.lines))
            out.append(PYTHON_END)
            continue
        for line, command in commands(block):
            if NOT_RUN.match(command) or (not shared and "../shared/" in command):
                continue
            out.append(f"README_LINE={line}; echo '>>> README line {line}' >&2")
            until_ctrl_c = BACKGROUND in command
            started = AMPERSAND.match(command)
            if not until_ctrl_c and started is None:
                out.append(command)
                continue
            code = command.split(" #")[0] if started is None else started.group("code")
            background += 1
            log = f"readme-background-{background}.out"
            out.append(f"{code.rstrip()} >{log} 2>&1 &")
            scope = "README_SECTION" if until_ctrl_c else "README_BLOCK"
            out.append(f"README_BG+=($!); {scope}+=($!)")
            out.append(f"echo {background} $! >>readme-background.pids")
            out.append(f"readme_started {line} $! {log}")
        out.append('readme_stop ${README_BLOCK[@]+"${README_BLOCK[@]}"}; README_BLOCK=()')
    return "\n".join(out) + "\n", ran


def test_the_convention_is_read_as_documented() -> None:
    text = (
        "## One\n<!-- readme-test: skip (needs Windows) -->\n\n```bash\nrm -rf /\n```\n"
        "```bash\nA=1 \\\n  B=2 env   # two lines\n# a comment\n"
        "serve --port 1  # runs until Ctrl-C\n"
        "make test   # all checks\n```\n```python\nprint(1)\n```\n## Two\n"
        "```bash\nserve --port 2 &   # a comment\ntrue && echo done\n```\n"
    )
    found = blocks(text)
    assert [(b.language, b.skipped, b.section) for b in found] == [
        ("bash", True, 1),
        ("bash", False, 1),
        ("python", False, 1),
        ("bash", False, 2),
    ]
    assert list(commands(found[1])) == [
        (8, "A=1 \\\n  B=2 env   # two lines"),
        (11, "serve --port 1  # runs until Ctrl-C"),
        (12, "make test   # all checks"),
    ]
    generated, ran = script(text)
    assert ran == [found[1], found[2], found[3]]
    assert f".venv/bin/python - <<'{PYTHON_END}'\nprint(1)\n{PYTHON_END}" in generated
    assert "rm -rf" not in generated and "make test" not in generated
    lines = generated.splitlines()
    first = lines.index("serve --port 1 >readme-background-1.out 2>&1 &")
    assert lines[first + 1] == "README_BG+=($!); README_SECTION+=($!)"
    second = lines.index("serve --port 2 >readme-background-2.out 2>&1 &")
    assert lines[second + 1] == "README_BG+=($!); README_BLOCK+=($!)"
    stops = [i for i, line in enumerate(lines) if "readme_stop ${README_SECTION" in line]
    assert any(first < stop < second for stop in stops)  # One's server stops before Two
    assert "true && echo done" in lines
    assert lines[-1].startswith("readme_stop ${README_BLOCK")


def _copy_of_the_checkout(target: Path) -> Path:
    """The tracked files, as a fresh clone has them, plus links to `.venv` and `../shared`."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    repo = target / "repo"
    for name in filter(None, listed):
        source = ROOT / os.fsdecode(name)
        if not source.is_file():
            continue  # deleted in the working tree
        destination = repo / os.fsdecode(name)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)  # mtimes kept: make sees the venv as up to date
    (repo / ".venv").symlink_to(ROOT / ".venv")
    if (ROOT.parent / "shared").is_dir():  # data beside the checkout, if any
        (target / "shared").symlink_to(ROOT.parent / "shared")
    return repo


def _own_network() -> list[str]:
    """A command prefix that runs in a network namespace of its own (only loopback, up), so
    the README's fixed ports never meet another test's or another user's on a shared machine;
    none where namespaces are not available (the lock file still serializes these runs)."""
    if shutil.which("ip") is None:
        return []
    for unshare in (["unshare", "-rn"], ["unshare", "-n"]):
        probe = subprocess.run(
            [*unshare, "ip", "link", "set", "lo", "up"], capture_output=True, check=False
        )
        if probe.returncode == 0:
            return [*unshare, "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]
    return []


def _stop_leftovers(repo: Path) -> None:
    pids = repo / "readme-background.pids"
    if not pids.exists():
        return
    for line in pids.read_text().splitlines():
        pid = int(line.split()[1])
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue


def test_the_readme_runs_in_order_on_a_fresh_clone(tmp_path: Path) -> None:
    if not (ROOT / ".venv" / "bin" / "tradingcore").exists():
        pytest.fail("no .venv in the checkout: run `make .venv/.installed` first")
    shared = (ROOT.parent / "shared").is_dir()
    generated, ran = script(README.read_text(encoding="utf-8"), shared=shared)
    assert ran, "no runnable bash block in the README"
    repo = _copy_of_the_checkout(tmp_path)
    up_to_date = subprocess.run(["make", "-q", ".venv/.installed"], cwd=repo, check=False)
    assert up_to_date.returncode == 0, "the venv is older than pyproject.toml: make it first"
    (repo / "readme.sh").write_text(generated, encoding="utf-8")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "PYTHONPATH") and not key.startswith("TRADINGCORE_")
    }
    venv_bin = str(ROOT / ".venv" / "bin")
    env["PATH"] = os.pathsep.join(
        part for part in env.get("PATH", "").split(os.pathsep) if part != venv_bin
    )  # nothing on the PATH but what the README itself sets up
    import fcntl  # POSIX only, like this test

    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # fixed ports: one run at a time on this machine
        try:
            done = subprocess.run(
                [*_own_network(), "bash", "-c", "exec bash readme.sh"],
                cwd=repo,
                env=env,
                capture_output=True,
                text=True,
                timeout=RUN_BOUND_S,
                check=False,
                start_new_session=True,
                stdin=subprocess.DEVNULL,  # a command that asks for input fails, not hangs
            )
        finally:
            _stop_leftovers(repo)
    (repo / "readme.stdout").write_text(done.stdout, encoding="utf-8")  # to read on failure
    (repo / "readme.stderr").write_text(done.stderr, encoding="utf-8")
    assert done.returncode == 0, (
        f"README failed (exit {done.returncode}); its output ends:\n"
        + "\n".join(done.stdout.splitlines()[-30:])
        + "\n--- stderr ---\n"
        + "\n".join(done.stderr.splitlines()[-40:])
        + "\n--- the script ---\n"
        + shlex.quote(str(repo / "readme.sh"))
    )
