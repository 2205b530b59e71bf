"""`tradingcore credentials set|rotate|delete|show-names`: the ProfitDLL secrets, encrypted at rest.

Values are typed at a prompt that does not echo (or taken from the PROFITDLL_* variables with
`--from-env`), never from the command line, where `ps` and the shell history would show them.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Final

from adapters.credentials import (
    NAMES,
    PASSPHRASE_VARIABLE,
    VARIABLES,
    CredentialError,
    CredentialStore,
    EncryptedFile,
    check_name,
    open_store,
)

NEW_PASSPHRASE_VARIABLE: Final = "TRADINGCORE_CREDENTIALS_NEW_PASSPHRASE"
OPTIONAL: Final = ("routing_password",)
"""Not needed for market data only: an empty answer leaves it out."""


ACTIONS: Final = {
    "set": "store values (asked without echo, or --from-env)",
    "rotate": "replace stored values (--passphrase: re-encrypt the file under a new passphrase)",
    "delete": "remove values (all by default)",
    "show-names": "list what is stored and where, never the values",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # The options go before or after the action (`credentials --backend file set` and
    # `credentials rotate --from-env password`): an action of its own per subparser, as one
    # positional followed by NAME... refused a name after an option ("unrecognized arguments").
    _add_options(parser, default=None)
    after = argparse.ArgumentParser(add_help=False)
    _add_options(after, default=argparse.SUPPRESS)  # given after the action: overrides, else not
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, text in ACTIONS.items():
        sub = actions.add_parser(
            action,
            help=text,
            description=text,
            parents=[after],
            formatter_class=parser.formatter_class,
        )
        sub.add_argument(
            "names", nargs="*", help=f"which values (default: all of {', '.join(NAMES)})"
        )


def _add_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--backend",
        choices=("auto", "keyring", "file"),
        default=default,
        help="auto (default): the OS keyring where there is one, else the encrypted file",
    )
    parser.add_argument(
        "--file",
        type=Path,
        default=default,
        help="the encrypted file (default $TRADINGCORE_CREDENTIALS_FILE or data/credentials.enc)",
    )
    parser.add_argument(
        "--from-env",
        action="store_true",
        default=False if default is None else default,
        help="set/rotate: take the values from PROFITDLL_KEY, _USER, _PASSWORD, "
        "_ROUTING_PASSWORD instead of asking",
    )
    parser.add_argument(
        "--passphrase",
        action="store_true",
        default=False if default is None else default,
        help=f"rotate: re-encrypt the file under a new passphrase (${NEW_PASSPHRASE_VARIABLE} "
        "or a prompt)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        names = [check_name(name) for name in args.names] or list(NAMES)
        store = open_store(backend=args.backend, path=args.file, prompt=sys.stdin.isatty())
        if args.action == "show-names":
            stored = store.names()
            print(f"{store.location}: {', '.join(stored) if stored else 'nothing stored'}")
        elif args.action == "delete":
            deleted = store.delete(names)
            print(f"deleted from {store.location}: {', '.join(deleted) or 'nothing'}")
        elif args.action == "rotate" and args.passphrase:
            return _rekey(store)
        else:
            return _store_values(store, names, args)
    except CredentialError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _store_values(store: CredentialStore, names: list[str], args: argparse.Namespace) -> int:
    if args.action == "rotate":
        stored = set(store.names())
        absent = [name for name in names if name not in stored and name in args.names]
        if absent:
            raise CredentialError(f"nothing to rotate: {', '.join(absent)} not stored yet")
        names = [name for name in names if name in stored]
    if isinstance(store, EncryptedFile) and not store.path.exists():
        _confirm_new_passphrase(store)
    values = _values_from_env(names) if args.from_env else _values_from_prompt(names)
    if not values:
        raise CredentialError("no value given: nothing stored")
    store.set(values)
    print(f"stored in {store.location}: {', '.join(values)}")
    return 0


def _values_from_env(names: list[str]) -> dict[str, str]:
    environ = os.environ
    values = {name: environ[VARIABLES[name]] for name in names if environ.get(VARIABLES[name])}
    missing = [VARIABLES[n] for n in names if n not in values and n not in OPTIONAL]
    if missing:
        raise CredentialError(f"--from-env: {', '.join(missing)} not set")
    return values


def _values_from_prompt(names: list[str]) -> dict[str, str]:
    if not sys.stdin.isatty():
        raise CredentialError(
            "no terminal to ask the values in: run it in a terminal, or use --from-env "
            "with the PROFITDLL_* variables"
        )
    values = {}
    for name in names:
        hint = " (empty: none)" if name in OPTIONAL else ""
        value = getpass.getpass(f"{name.replace('_', ' ')}{hint}: ")
        if value:
            values[name] = value
        elif name not in OPTIONAL:
            raise CredentialError(f"{name} cannot be empty")
    return values


def _confirm_new_passphrase(store: EncryptedFile) -> None:
    """A new file: ask the passphrase twice, unless it comes from the environment."""
    if os.environ.get(PASSPHRASE_VARIABLE):
        return
    first = store.passphrase()
    if getpass.getpass("the same passphrase again: ") != first:
        raise CredentialError("the passphrases differ: nothing stored")


def _rekey(store: CredentialStore) -> int:
    if not isinstance(store, EncryptedFile):
        raise CredentialError("--passphrase applies to the encrypted file, not the OS keyring")
    if not store.path.exists():
        raise CredentialError(f"no credentials file at {store.path}")
    new = os.environ.get(NEW_PASSPHRASE_VARIABLE, "")
    if not new:
        if not sys.stdin.isatty():
            raise CredentialError(f"set {NEW_PASSPHRASE_VARIABLE} or run in a terminal")
        new = getpass.getpass("new passphrase: ")
        if getpass.getpass("the same again: ") != new:
            raise CredentialError("the passphrases differ: the file is unchanged")
    store.rekey(new)
    print(f"{store.location}: re-encrypted under the new passphrase")
    return 0
