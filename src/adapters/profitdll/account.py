"""Where orders go: the routing account, and broker settings read from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from adapters.profitdll.binding import Credentials
from adapters.profitdll.errors import ProfitDLLError


@dataclass(frozen=True, slots=True)
class RoutingAccount:
    """The broker account orders go to; `routing_password` is the trading (signature) password."""

    broker_id: int
    account_id: str
    routing_password: str
    sub_account_id: str = ""

    def __repr__(self) -> str:
        return f"RoutingAccount(broker_id={self.broker_id}, account_id={self.account_id!r})"


ENVIRONMENT_VARIABLES: Final = {
    "library_path": "PROFITDLL_DLL",
    "activation_key": "PROFITDLL_KEY",
    "user": "PROFITDLL_USER",
    "password": "PROFITDLL_PASSWORD",
    "broker_id": "PROFITDLL_BROKER_ID",
    "account_id": "PROFITDLL_ACCOUNT",
    "routing_password": "PROFITDLL_ROUTING_PASSWORD",
}
"""Where `ProfitDLLBroker()` finds what it was not given; PROFITDLL_SUB_ACCOUNT is optional."""


def settings_from_environment(
    environment: Mapping[str, str],
    library_path: str | Path | None,
    credentials: Credentials | None,
    account: RoutingAccount | None,
    *,
    need_session: bool,
) -> tuple[str | Path, Credentials, RoutingAccount]:
    needed = {
        key: variable
        for key, variable in ENVIRONMENT_VARIABLES.items()
        if (key == "library_path" and library_path is None and need_session)
        or (key in ("activation_key", "user", "password") and credentials is None and need_session)
        or (key in ("broker_id", "account_id", "routing_password") and account is None)
    }
    missing = [variable for variable in needed.values() if not environment.get(variable)]
    if missing:
        raise ProfitDLLError(
            f"ProfitDLL broker settings missing: set {', '.join(missing)} in the environment"
        )
    values = {key: environment[variable] for key, variable in needed.items()}
    if credentials is None:
        credentials = Credentials(
            values.get("activation_key", ""), values.get("user", ""), values.get("password", "")
        )
    if account is None:
        try:
            broker_id = int(values["broker_id"])
        except ValueError:
            raise ProfitDLLError(
                f"PROFITDLL_BROKER_ID must be a whole number, got {values['broker_id']!r}"
            ) from None
        account = RoutingAccount(
            broker_id,
            values["account_id"],
            values["routing_password"],
            environment.get("PROFITDLL_SUB_ACCOUNT", ""),
        )
    return library_path or values.get("library_path", ""), credentials, account
