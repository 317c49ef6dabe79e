"""The project's one argument-check module: messages, intervals, and the optional-package loader."""

from __future__ import annotations

import numpy as np
import pytest

from rlfloor.checks import check_choice, check_int, check_number, import_optional


def test_messages_name_the_value_and_the_interval() -> None:
    with pytest.raises(ValueError, match=r"^size=1 is outside the allowed range \[2, 100\]$"):
        check_int("size", 1, 2, 100)
    with pytest.raises(ValueError, match=r"^p=0\.2 is outside the allowed range \[0, 0\.09999999999999998\]$"):
        check_number("p", 0.2, 0.0, 1.0 - 0.9)  # the bound printed exactly, not rounded to 0.1
    with pytest.raises(ValueError, match=r"^x=True must be a number in \(0, 1e\+06\]$"):
        check_number("x", True, 0.0, 1e6, low_open=True)
    with pytest.raises(ValueError, match=r"^mode='c' is not one of 'a', 'b'$"):
        check_choice("mode", "c", ("a", "b"))
    assert check_int("n", np.int64(3), 1) == 3 and check_number("x", np.float32(0.5), 0, 1) == 0.5


def test_a_missing_optional_package_names_its_extra() -> None:
    assert import_optional("json", "none", "this test").dumps(1) == "1"
    with pytest.raises(ModuleNotFoundError, match=r"^thing needs the optional package 'no_such_pkg_x' .*; "):
        import_optional("no_such_pkg_x", "minigrid", "thing")
    with pytest.raises(ModuleNotFoundError, match=r"install it with pip install 'rlfloor\[minigrid\]'$"):
        import_optional("no_such_pkg_x", "minigrid", "thing")
