import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError

from kefu.accounts import actions as accounts
from kefu.accounts.choices import Role
from kefu.accounts.models import ApiToken, User
from kefu.crm.models import Identity


def test_creating_a_person_records_their_email_and_phone_as_identities(db):
    user = accounts.create_user(name="李雷", email=" LiLei@Example.COM ", phone="+86 138 0000 0000")
    assert user.email == "lilei@example.com"
    assert set(Identity.objects.filter(user=user).values_list("type", "value")) == {
        ("email", "lilei@example.com"),
        ("phone_number", "+86 138 0000 0000"),
    }


def test_an_email_address_belongs_to_one_person(personas):
    with pytest.raises(ValidationError) as error:
        accounts.create_user(name="Other Bob", email="BOB@acme.test")
    assert "email" in error.value.message_dict


def test_end_users_join_the_organization_of_their_email_domain(personas):
    dora = accounts.create_user(name="Dora", email="dora@acme.test")
    assert list(dora.organizations.all()) == [personas.acme]


def test_agents_need_an_email_and_unknown_roles_are_refused(db):
    with pytest.raises(ValidationError):
        accounts.create_user(name="No Mail", role=Role.AGENT)
    with pytest.raises(ValidationError):
        accounts.create_user(name="X", email="x@example.com", role="superhero")


def test_people_sign_in_with_email_and_password_unless_suspended(personas):
    assert authenticate(email="ALICE@kefu.test", password="correct horse 42") == personas.alice
    assert authenticate(email="alice@kefu.test", password="wrong") is None
    accounts.update_user(personas.alice, suspended=True)
    assert authenticate(email="alice@kefu.test", password="correct horse 42") is None


def test_api_tokens_are_stored_hashed_and_authenticate_their_owner(personas):
    record, token = accounts.create_api_token(user=personas.alice, description="zenpy")
    assert token not in {record.digest, record.prefix}
    assert not ApiToken.objects.filter(digest=token).exists()
    assert accounts.authenticate_token(token) == personas.alice
    assert accounts.authenticate_token(token, email="alice@kefu.test") == personas.alice
    assert accounts.authenticate_token(token, email="bob@acme.test") is None
    assert accounts.authenticate_token("not-a-token") is None
    accounts.revoke_api_token(record)
    assert accounts.authenticate_token(token) is None


def test_createadmin_creates_then_updates(db):
    admin = accounts.create_or_update_admin(
        email="boss@example.com", password="a long passphrase 1"
    )
    assert admin.role == Role.ADMIN and admin.check_password("a long passphrase 1")
    again = accounts.create_or_update_admin(
        email="Boss@example.com", password="another passphrase 2", name="老板"
    )
    assert again.pk == admin.pk
    again.refresh_from_db()
    assert again.name == "老板" and again.check_password("another passphrase 2")
    assert User.objects.count() == 1


def test_weak_passwords_are_refused(db):
    with pytest.raises(ValidationError):
        accounts.create_or_update_admin(email="boss@example.com", password="123")


def test_group_membership_sets_the_default_group_and_only_agents_join(personas):
    billing = accounts.create_group(name="Billing")
    accounts.add_group_membership(user=personas.alice, group=billing)
    personas.alice.refresh_from_db()
    assert personas.alice.default_group == personas.support
    with pytest.raises(ValidationError):
        accounts.add_group_membership(user=personas.bob, group=billing)
    accounts.remove_group_membership(user=personas.alice, group=personas.support)
    personas.alice.refresh_from_db()
    assert personas.alice.default_group == billing


def test_group_names_are_unique_ignoring_case(personas):
    with pytest.raises(ValidationError):
        accounts.create_group(name="support")


def test_changing_a_persons_email_adds_it_as_their_primary_identity(personas):
    accounts.update_user(personas.bob, email="Bob.New@acme.test", tags=["VIP", "vip", "重要"])
    personas.bob.refresh_from_db()
    assert personas.bob.email == "bob.new@acme.test"
    assert personas.bob.tags == ["vip", "重要"]
    primary = Identity.objects.get(user=personas.bob, type="email", primary=True)
    assert primary.value == "bob.new@acme.test"
    with pytest.raises(ValidationError):
        accounts.update_user(personas.bob, email="alice@kefu.test")
    with pytest.raises(ValidationError):
        accounts.update_user(personas.bob, password="sneaky")


def test_demoting_an_agent_to_end_user_removes_their_group_memberships(personas):
    accounts.update_user(personas.alice, role=Role.END_USER)
    assert not personas.alice.group_memberships.exists()


def test_groups_can_be_renamed_made_default_and_deleted(personas):
    billing = accounts.create_group(name="Billing")
    accounts.update_group(billing, name="账务 Billing", default=True)
    personas.support.refresh_from_db()
    assert (billing.name, billing.default, personas.support.default) == (
        "账务 Billing",
        True,
        False,
    )
    with pytest.raises(ValidationError):
        accounts.update_group(billing, name="SUPPORT")
    accounts.delete_group(billing)
    assert not type(billing).objects.filter(pk=billing.pk).exists()


def test_people_lists_show_end_users_only_themselves_and_shared_colleagues(personas):
    from kefu.accounts.access import visible_groups, visible_users
    from kefu.crm import actions as crm

    dora = accounts.create_user(name="Dora", email="dora@acme.test")
    assert list(visible_users(personas.bob)) == [personas.bob]
    crm.update_organization(personas.acme, shared_tickets=True)
    assert set(visible_users(personas.bob)) == {personas.bob, dora}
    assert personas.carol in visible_users(personas.alice)
    assert not visible_groups(personas.bob).exists()
    assert list(visible_groups(personas.alice)) == [personas.support]


def test_account_settings_are_validated(db):
    from kefu.accounts.models import AccountSettings

    settings = accounts.update_account_settings(auto_close_days=7, blocked_extensions="EXE, .bat")
    assert (settings.auto_close_days, settings.blocked_extensions) == (7, [".bat", ".exe"])
    with pytest.raises(ValidationError):
        accounts.update_account_settings(max_attachment_mb=0)
    with pytest.raises(ValidationError):
        accounts.update_account_settings(theme="dark")
    assert AccountSettings.load().max_attachment_mb == 20
