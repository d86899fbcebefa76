import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kefu.accounts import actions as accounts
from kefu.accounts.choices import Role
from kefu.accounts.models import ApiToken, GroupMembership, User
from kefu.crm import actions as crm


def test_create_or_update_creates_a_person_nobody_has_yet(personas):
    user, created = accounts.create_or_update_user(
        email="Dora@Acme.test", external_id="crm-7", changes={"name": "Dora 赵", "tags": ["vip"]}
    )
    assert created
    assert (user.email, user.external_id, user.name, user.tags) == (
        "dora@acme.test", "crm-7", "Dora 赵", ["vip"],
    )  # fmt: skip
    assert list(user.organizations.all()) == [personas.acme]


def test_create_or_update_finds_people_by_external_id_before_email(personas):
    accounts.update_user(personas.bob, external_id="crm-bob")
    user, created = accounts.create_or_update_user(
        email="bob.new@acme.test", external_id="crm-bob", changes={"phone": "+86 10 1234"}
    )
    assert not created and user.pk == personas.bob.pk
    assert (user.email, user.phone) == ("bob.new@acme.test", "+86 10 1234")


def test_create_or_update_finds_people_by_any_of_their_email_addresses(personas):
    crm.add_identity(user=personas.carol, type="email", value="carol@home.test")
    user, created = accounts.create_or_update_user(
        changes={"email": "CAROL@home.test", "name": "Carol Chen"}
    )
    assert not created and user.pk == personas.carol.pk and user.name == "Carol Chen"
    assert user.email == "carol@globex.test"  # the primary address stays


def test_create_or_update_refuses_bad_fields_and_writes_nothing(personas):
    before = User.objects.count()
    with pytest.raises(ValidationError) as error:
        accounts.create_or_update_user(email="new@x.test", changes={"role": "superhero"})
    assert "role" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        accounts.create_or_update_user(email="new@x.test", changes={"is_admin": True})
    assert "is_admin" in error.value.message_dict
    assert User.objects.count() == before


def test_deleting_a_person_is_soft_and_locks_them_out(personas):
    _record, _token = accounts.create_api_token(user=personas.alice)
    deleted = accounts.delete_user(personas.alice, actor=personas.admin)
    assert not deleted.is_active
    assert User.objects.filter(pk=personas.alice.pk).exists()
    assert not ApiToken.objects.filter(user=personas.alice, active=True).exists()
    assert not GroupMembership.objects.filter(user=personas.alice).exists()
    assert deleted.default_group is None


def test_agents_delete_customers_but_not_colleagues_and_nobody_deletes_themselves(personas):
    accounts.delete_user(personas.carol, actor=personas.alice)
    other = accounts.create_user(name="Eve", email="eve@kefu.test", role=Role.AGENT)
    with pytest.raises(PermissionDenied):
        accounts.delete_user(other, actor=personas.alice)
    with pytest.raises(PermissionDenied):
        accounts.delete_user(other, actor=personas.bob)
    with pytest.raises(ValidationError):
        accounts.delete_user(personas.admin, actor=personas.admin)
