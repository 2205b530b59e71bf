"""NResult codes become named exceptions that carry the code's name and meaning."""

from __future__ import annotations

import pytest

from adapters.profitdll.errors import (
    RESULT_CODES,
    InvalidArguments,
    NotInitialized,
    ResultError,
    VersionNotSupported,
    check_result,
    result_error,
)


@pytest.mark.parametrize(
    ("code", "error_type", "name"),
    [(0x80000002 - 2**32, NotInitialized, "NL_NOT_INITIALIZED"),
     (0x80000003 - 2**32, InvalidArguments, "NL_INVALID_ARGS"),
     (0x8000000D - 2**32, VersionNotSupported, "NL_VERSION_NOT_SUPPORTED")],
)  # fmt: skip
def test_check_with_error_code_raises_named_exception(
    code: int, error_type: type[ResultError], name: str
) -> None:
    with pytest.raises(error_type) as raised:
        check_result("SubscribeTicker", code)

    assert raised.value.code_name == name
    assert name in str(raised.value) and "SubscribeTicker" in str(raised.value)


@pytest.mark.parametrize("value", [0, 1, 42, 2**31 - 1])
def test_check_with_non_negative_result_returns_it(value: int) -> None:
    assert check_result("SendOrder", value) == value


def test_result_error_with_every_documented_code_names_it() -> None:
    for code, known in RESULT_CODES.items():
        error = result_error("F", code)
        assert error.code_name == known.name
        assert error.meaning == known.meaning
        assert f"0x{code & 0xFFFFFFFF:08X}" in str(error)


def test_result_error_with_undocumented_code_says_so() -> None:
    error = result_error("F", -5)

    assert type(error) is ResultError
    assert "undocumented" in str(error)
