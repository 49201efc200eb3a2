"""What staff type for an invite: a name, and optionally a phone number and their reference."""

import pytest

from bot.services.invites import InviteError, clean_phone, clean_ref, parse_details


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("Sam Taylor", ("Sam Taylor", None, None)),
        ("Sam Taylor | +44 7700 900123 | RB-1042", ("Sam Taylor", "+44 7700 900123", "RB-1042")),
        ("  Sam   Taylor|07700 900123", ("Sam Taylor", "07700 900123", None)),
        ("Sam Taylor | RB-1042", ("Sam Taylor", None, "RB-1042")),
        ("Sam Taylor | | RB/1042", ("Sam Taylor", None, "RB/1042")),
        ("Sam Taylor | (212) 555-0147 |", ("Sam Taylor", "(212) 555-0147", None)),
    ],
)
def test_invite_details_are_read_as_staff_type_them(typed, expected):
    assert parse_details(typed) == expected


@pytest.mark.parametrize("phone", ["12345", "call me", "+44 7700 900123 ext", "1" * 16])
def test_a_phone_number_that_is_not_one_is_refused(phone):
    with pytest.raises(InviteError) as err:
        clean_phone(phone)
    assert err.value.key == "invite_bad_phone"


@pytest.mark.parametrize("ref", ["RB 1042", "<b>x</b>", "x" * 33, "-RB"])
def test_a_reference_that_is_not_one_is_refused(ref):
    with pytest.raises(InviteError) as err:
        clean_ref(ref)
    assert err.value.key == "invite_bad_ref"


def test_more_than_three_parts_shows_the_usage():
    with pytest.raises(InviteError) as err:
        parse_details("Sam | 07700 900123 | RB-1 | more")
    assert err.value.key == "invite_usage"
