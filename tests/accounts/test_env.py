from __future__ import annotations

from pathlib import Path

import pytest

from incity.env import ConfigError, env_bool, env_choice, env_int, env_list, env_secret


def test_a_boolean_refuses_words_it_does_not_know() -> None:
    with pytest.raises(ConfigError, match="FLAG must be one of"):
        env_bool("FLAG", False, {"FLAG": "perhaps"})


def test_a_number_refuses_text_and_values_out_of_range() -> None:
    with pytest.raises(ConfigError, match="N must be a whole number"):
        env_int("N", 1, environ={"N": "ten"})
    with pytest.raises(ConfigError, match="N must be at least 2"):
        env_int("N", 3, minimum=2, environ={"N": "1"})
    with pytest.raises(ConfigError, match="N must be at most 5"):
        env_int("N", 3, maximum=5, environ={"N": "6"})


def test_a_choice_refuses_values_outside_the_list() -> None:
    with pytest.raises(ConfigError, match="MODE must be one of a, b"):
        env_choice("MODE", "a", ("a", "b"), {"MODE": "c"})


def test_a_secret_file_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ConfigError, match="KEY_FILE names"):
        env_secret("KEY", {"KEY_FILE": str(missing)})


def test_values_are_read_when_well_formed(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("s3cret\n")
    assert env_bool("FLAG", False, {"FLAG": "Yes"}) is True
    assert env_int("N", 1, environ={"N": " 7 "}) == 7
    assert env_list("L", [], {"L": "a, b,,c"}) == ["a", "b", "c"]
    assert env_secret("KEY", {"KEY_FILE": str(secret)}) == "s3cret"
    assert env_int("N", 4, environ={}) == 4
