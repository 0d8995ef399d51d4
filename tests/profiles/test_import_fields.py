"""Typing of imported values (apps.profiles.services.imports.fields), beside the command's
end-to-end tests in test_import_profiles.py."""

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from apps.profiles.services.imports.fields import CLEAR, EMAIL, RowError, convert, typed_row

ADDRESSES = [
    "person@example.com",
    "First.Last+tag@sub.example.co.uk",
    "a@b",
    "user@bücher.de",
    "user@[127.0.0.1]",
    "user@[IPv6:::1]",
    '"quoted local"@example.com',
    "no-at-sign",
    "two@@example.com",
    "user@-example.com",
    "user@example..com",
    "@example.com",
    "user@",
    "x" * 310 + "@example.com",
    "x" * 64 + "@" + "y" * 60 + ".com",
]


@pytest.mark.parametrize("address", ADDRESSES)
def test_an_email_is_accepted_exactly_when_djangos_validator_accepts_it(address):
    try:
        validate_email(address)
        expected = True
    except ValidationError:
        expected = False
    try:
        accepted = convert(EMAIL, address) == address
    except ValueError:
        accepted = False
    assert accepted is expected


def test_typed_row_types_strips_and_drops_empty_values():
    row = {
        ("data", "contact", "email", "main"): " Ann@Example.com ",
        ("data", "pii", "firstname"): "  Ann ",
        ("data", "pii", "birthday"): "1990-05-31",
        ("traits", "score"): "12",
        ("data", "pii", "lastname"): "   ",
        ("data", "pii", "language", "spoken"): "en; pl",
    }
    assert typed_row(
        row, types={("traits", "score"): "number"}, clear_empty=False, from_text=True
    ) == {
        ("data", "contact", "email", "main"): "Ann@Example.com",
        ("data", "pii", "firstname"): "Ann",
        ("data", "pii", "birthday"): "1990-05-31T00:00:00+00:00",
        ("traits", "score"): 12,
        ("data", "pii", "language", "spoken"): ["en", "pl"],
    }


def test_typed_row_clears_empty_values_but_never_the_id():
    row = {("id",): "", ("traits", "plan"): " ", ("primary_id",): ""}
    assert typed_row(row, types={}, clear_empty=True, from_text=True) == {
        ("traits", "plan"): CLEAR,
        ("primary_id",): CLEAR,
    }


def test_typed_row_names_the_field_and_the_problem():
    with pytest.raises(
        RowError, match=r"^data\.contact\.email\.main: expected an e-mail address, got 'ann@'$"
    ):
        typed_row(
            {("data", "contact", "email", "main"): "ann@"},
            types={},
            clear_empty=False,
            from_text=True,
        )
    with pytest.raises(RowError, match=r"^primary_id: at most 200 characters$"):
        typed_row({("primary_id",): "p" * 201}, types={}, clear_empty=False, from_text=True)
    with pytest.raises(RowError, match=r"^traits\.note: the value holds a NUL character$"):
        typed_row({("traits", "note"): "a\x00b"}, types={}, clear_empty=False, from_text=True)
