"""Every module of `src/` imports, and none imports a platform-only module at import time
(Windows is the spec's platform: `fcntl` at the top of a module made the store unusable there)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGES = ("tradingcore", "adapters", "hosts")
POSIX_ONLY = {"fcntl", "termios", "tty", "pty", "pwd", "grp", "resource", "posix", "syslog"}
POSIX_ONLY |= {"crypt", "spwd", "nis", "curses", "readline", "posixpath"}
WINDOWS_ONLY = {"msvcrt", "winreg", "_winapi", "winsound", "nt", "ntpath", "win32api"}
PLATFORM_ONLY = POSIX_ONLY | WINDOWS_ONLY


def modules() -> list[str]:
    names = []
    for package in PACKAGES:
        for path in sorted((SRC / package).rglob("*.py")):
            parts = path.relative_to(SRC).with_suffix("").parts
            if parts[-1] == "__main__":
                continue  # an entry point: it runs the command (its imports are checked)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            names.append(".".join(parts))
    return names


def _is_platform_test(test: ast.expr) -> bool:
    """`if sys.platform ...`, `if os.name ...`, `if hasattr(os, ...)` and the like."""
    text = ast.unparse(test)
    return any(word in text for word in ("sys.platform", "os.name", "hasattr(", "TYPE_CHECKING"))


def import_time_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, module) of every import run when the module is imported, outside a platform
    guard (an `if` on the platform, or a `try` that catches ImportError)."""
    found: list[tuple[int, str]] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                found.extend((node.lineno, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append((node.lineno, node.module))
            elif isinstance(node, ast.If):
                if not _is_platform_test(node.test):
                    visit(node.body)
                    visit(node.orelse)
            elif isinstance(node, ast.Try):
                catches_import_error = any(
                    handler.type is not None
                    and any(
                        name in ast.unparse(handler.type)
                        for name in ("ImportError", "ModuleNotFoundError")
                    )
                    for handler in node.handlers
                )
                if not catches_import_error:
                    visit(node.body)
                visit(node.orelse)
                visit(node.finalbody)
            elif isinstance(node, ast.ClassDef | ast.With):
                visit(node.body)

    visit(tree.body)
    return found


def test_the_scan_sees_a_top_level_import_and_not_a_guarded_one() -> None:
    tree = ast.parse(
        "import os\nimport fcntl\nif sys.platform == 'win32':\n    import msvcrt\n"
        "else:\n    import termios\ndef f():\n    import pwd\n"
        "class C:\n    import resource\n"
    )
    names = [name for _, name in import_time_imports(tree)]
    assert names == ["os", "fcntl", "resource"]


def test_no_module_imports_a_platform_only_module_at_import_time() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, name in import_time_imports(tree):
            if name.split(".")[0] in PLATFORM_ONLY:
                offenders.append(f"{path.relative_to(SRC)}:{line}: import {name}")
    assert offenders == []


def test_fcntl_is_used_only_by_the_file_lock_module() -> None:
    users = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if "fcntl" in path.read_text(encoding="utf-8")
    )
    assert users == ["adapters/filelock.py"]


def test_every_module_imports() -> None:
    """In a fresh interpreter: one broken import anywhere fails here, naming the module."""
    names = modules()
    assert len(names) > 100
    script = (
        "import importlib, sys, traceback\n"
        "failed = []\n"
        "for name in sys.stdin.read().split():\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except BaseException:\n"
        "        failed.append(name + ': ' + traceback.format_exc(limit=1).splitlines()[-1])\n"
        "print('\\n'.join(failed))\n"
        "sys.exit(1 if failed else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        input="\n".join(names),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
