"""Sign-up, confirmation, invitations, group membership, branding settings — the actions."""

import pytest
from django.core.exceptions import ValidationError

from kefu.accounts import actions as accounts
from kefu.accounts.choices import Role
from kefu.accounts.models import AccountSettings, GroupMembership, User

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def test_registering_makes_an_inactive_end_user_until_the_link_is_followed(db):
    dora = accounts.register_end_user(name="Dora", email="dora@example.test",
                                      password="sunny meadow 2026")  # fmt: skip

    assert dora is not None and not dora.is_active and dora.is_end_user
    token = accounts.registration_token(dora)
    assert accounts.verify_registration(token).is_active
    assert accounts.verify_registration(token).is_active  # following it twice is harmless


def test_a_confirmation_token_for_an_old_address_no_longer_works(db):
    dora = accounts.register_end_user(name="Dora", email="dora@example.test",
                                      password="sunny meadow 2026")  # fmt: skip
    assert dora is not None
    token = accounts.registration_token(dora)
    accounts.update_user(dora, email="dora@elsewhere.test")

    with pytest.raises(ValidationError) as error:
        accounts.verify_registration(token)

    assert "token" in error.value.message_dict
    assert not User.objects.get(pk=dora.pk).is_active


def test_registration_refuses_when_turned_off_and_writes_nothing(db):
    accounts.update_account_settings(allow_registration=False)

    with pytest.raises(ValidationError):
        accounts.register_end_user(name="Dora", email="dora@example.test",
                                   password="sunny meadow 2026")  # fmt: skip

    assert not User.objects.filter(email="dora@example.test").exists()


def test_registering_a_known_address_returns_nobody(personas):
    assert accounts.register_end_user(name="Bob again", email="BOB@acme.test",
                                      password="sunny meadow 2026") is None  # fmt: skip
    assert User.objects.get(email="bob@acme.test").name == "Bob"


def test_inviting_an_agent_puts_them_in_groups_without_a_password(personas):
    agent = accounts.invite_agent(name="Eve", email="eve@kefu.test", groups=[personas.support])

    assert agent.role == Role.AGENT
    assert not agent.has_usable_password()
    assert list(agent.agent_groups.all()) == [personas.support]


def test_inviting_an_end_user_makes_them_an_agent(personas):
    agent = accounts.invite_agent(name="", email=personas.bob.email, role=Role.ADMIN)

    assert agent.pk == personas.bob.pk and agent.is_admin


def test_inviting_an_existing_agent_is_refused(personas):
    with pytest.raises(ValidationError) as error:
        accounts.invite_agent(name="Alice", email=personas.alice.email)

    assert "email" in error.value.message_dict


def test_set_agent_groups_makes_the_membership_exactly_the_list(personas):
    billing = accounts.create_group(name="Billing 账务")

    accounts.set_agent_groups(user=personas.alice, groups=[billing])

    assert list(personas.alice.agent_groups.all()) == [billing]
    assert User.objects.get(pk=personas.alice.pk).default_group == billing
    with pytest.raises(ValidationError):
        accounts.set_agent_groups(user=personas.bob, groups=[billing])
    assert not GroupMembership.objects.filter(user=personas.bob).exists()


def test_branding_settings_check_the_colour(db):
    settings = accounts.update_account_settings(company_name=" 安心家电 ", primary_color="#AA3300")

    assert (settings.company_name, settings.primary_color) == ("安心家电", "#aa3300")
    with pytest.raises(ValidationError) as error:
        accounts.update_account_settings(primary_color="red; background: url(x)")
    assert "primary_color" in error.value.message_dict


def test_a_logo_must_be_a_small_raster_image(db):
    with pytest.raises(ValidationError):
        accounts.set_logo(file_name="logo.svg", content=b"<svg onload='x'/>")
    with pytest.raises(ValidationError):
        accounts.set_logo(file_name="logo.png", content=b"x" * (accounts.LOGO_MAX_BYTES + 1))

    accounts.set_logo(file_name="logo.png", content=PNG)

    assert AccountSettings.load().logo.read() == PNG
    accounts.set_logo(file_name="", content=None)
    assert not AccountSettings.load().logo
