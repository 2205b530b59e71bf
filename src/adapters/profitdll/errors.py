"""ProfitDLL result codes as named exceptions, and the binding's own errors."""

from __future__ import annotations

from typing import Final, NamedTuple


class ResultCode(NamedTuple):
    name: str
    meaning: str


NL_OK: Final = 0

RESULT_CODES: Final[dict[int, ResultCode]] = {
    -0x7FFFFFFF: ResultCode("NL_INTERNAL_ERROR", "internal error"),
    -0x7FFFFFFE: ResultCode("NL_NOT_INITIALIZED", "the DLL is not initialized"),
    -0x7FFFFFFD: ResultCode("NL_INVALID_ARGS", "invalid arguments"),
    -0x7FFFFFFC: ResultCode("NL_WAITING_SERVER", "request sent, waiting for server data"),
    -0x7FFFFFFB: ResultCode("NL_NO_LOGIN", "not logged in"),
    -0x7FFFFFFA: ResultCode("NL_NO_LICENSE", "no licence"),
    -0x7FFFFFF9: ResultCode("NL_PASSWORD_HASH_SHA1", "password hash SHA1 error"),
    -0x7FFFFFF8: ResultCode("NL_PASSWORD_HASH_MD5", "password hash MD5 error"),
    -0x7FFFFFF7: ResultCode("NL_OUT_OF_RANGE", "value or count out of range"),
    -0x7FFFFFF6: ResultCode("NL_MARKET_ONLY", "the licence or session has no order routing"),
    -0x7FFFFFF5: ResultCode("NL_NO_POSITION", "no position"),
    -0x7FFFFFF4: ResultCode("NL_NOT_FOUND", "not found"),
    -0x7FFFFFF3: ResultCode("NL_VERSION_NOT_SUPPORTED", "struct version not supported"),
    -0x7FFFFFF2: ResultCode("NL_OCO_NO_RULES", "OCO order without rules"),
    -0x7FFFFFF1: ResultCode("NL_EXCHANGE_UNKNOWN", "unknown exchange"),
    -0x7FFFFFF0: ResultCode("NL_NO_OCO_DEFINED", "no OCO defined"),
    -0x7FFFFFEF: ResultCode("NL_INVALID_SERIE", "invalid series"),
    -0x7FFFFFEE: ResultCode("NL_LICENSE_NOT_ALLOWED", "feature not in the licence"),
    -0x7FFFFFED: ResultCode("NL_NOT_HARD_LOGOUT", "not a hard logout"),
    -0x7FFFFFEC: ResultCode("NL_SERIE_NO_HISTORY", "series has no history"),
    -0x7FFFFFEB: ResultCode("NL_ASSET_NO_DATA", "asset has no data"),
    -0x7FFFFFEA: ResultCode("NL_SERIE_NO_DATA", "series has no data"),
    -0x7FFFFFE9: ResultCode("NL_HAS_STRATEGY_RUNNING", "a strategy is running"),
    -0x7FFFFFE8: ResultCode("NL_SERIE_NO_MORE_HISTORY", "series has no more history"),
    -0x7FFFFFE7: ResultCode("NL_SERIE_MAX_COUNT", "series maximum count reached"),
    -0x7FFFFFE6: ResultCode("NL_DUPLICATE_RESOURCE", "duplicate resource"),
    -0x7FFFFFE5: ResultCode("NL_UNSIGNED_CONTRACT", "contract not signed"),
    -0x7FFFFFE4: ResultCode("NL_NO_PASSWORD", "no password"),
    -0x7FFFFFE3: ResultCode("NL_NO_USER", "no user"),
    -0x7FFFFFE2: ResultCode("NL_FILE_ALREADY_EXISTS", "file already exists"),
    -0x7FFFFFE1: ResultCode("NL_INVALID_TICKER", "invalid ticker"),
    -0x7FFFFFE0: ResultCode("NL_NOT_MASTER_ACCOUNT", "not a master account"),
    -0x7FFFFFD2: ResultCode("NL_HISTORY_PERIOD_LIMIT", "history start more than 30 days ago"),
}
"""Every documented NResult (profitdll-reference.md section 4.2), as signed 32-bit values."""


class ProfitDLLError(Exception):
    """Base of every error raised by the ProfitDLL adapter."""


class ResultError(ProfitDLLError):
    """A DLL function returned an error NResult; carries its code, name and meaning."""

    code: int = 0

    def __init__(self, function: str, code: int) -> None:
        known = RESULT_CODES.get(code)
        self.function = function
        self.code = code
        self.code_name = known.name if known else "NL_UNKNOWN"
        self.meaning = known.meaning if known else "undocumented result code"
        super().__init__(
            f"ProfitDLL {function} failed: {self.code_name} "
            f"(0x{code & 0xFFFFFFFF:08X}): {self.meaning}"
        )


class InternalError(ResultError):
    code = -0x7FFFFFFF


class NotInitialized(ResultError):
    code = -0x7FFFFFFE


class InvalidArguments(ResultError):
    code = -0x7FFFFFFD


class WaitingServer(ResultError):
    code = -0x7FFFFFFC


class NoLogin(ResultError):
    code = -0x7FFFFFFB


class NoLicense(ResultError):
    code = -0x7FFFFFFA


class OutOfRange(ResultError):
    code = -0x7FFFFFF7


class MarketOnly(ResultError):
    code = -0x7FFFFFF6


class NoPosition(ResultError):
    code = -0x7FFFFFF5


class NotFound(ResultError):
    code = -0x7FFFFFF4


class VersionNotSupported(ResultError):
    code = -0x7FFFFFF3


class LicenseNotAllowed(ResultError):
    code = -0x7FFFFFEE


class InvalidTicker(ResultError):
    code = -0x7FFFFFE1


class HistoryPeriodLimit(ResultError):
    code = -0x7FFFFFD2


_BY_CODE: Final[dict[int, type[ResultError]]] = {
    cls.code: cls
    for cls in (
        InternalError,
        NotInitialized,
        InvalidArguments,
        WaitingServer,
        NoLogin,
        NoLicense,
        OutOfRange,
        MarketOnly,
        NoPosition,
        NotFound,
        VersionNotSupported,
        LicenseNotAllowed,
        InvalidTicker,
        HistoryPeriodLimit,
    )
}


def result_error(function: str, code: int) -> ResultError:
    """Return the named exception for an error NResult (ResultError for the rarer codes)."""
    return _BY_CODE.get(code, ResultError)(function, code)


def check_result(function: str, code: int) -> int:
    """Return a non-negative result (OK, a count or an id); raise the named error otherwise."""
    if code < 0:
        raise result_error(function, code)
    return code


class LibraryNotFound(ProfitDLLError):
    """The DLL file does not exist or cannot be loaded."""


class LoginFailed(ProfitDLLError):
    """The DLL reported the login, activation or market-data connection as refused."""


class ConnectionTimeout(ProfitDLLError):
    """The DLL did not report the required services connected in time."""


class MalformedRecord(ProfitDLLError):
    """A record from the DLL cannot be translated into a domain value; says which and why."""
