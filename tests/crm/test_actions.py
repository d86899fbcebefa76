import pytest
from django.core.exceptions import ValidationError

from kefu.accounts.models import User
from kefu.crm import actions as crm
from kefu.crm.access import visible_organizations


def test_organization_names_are_unique_ignoring_case(personas):
    with pytest.raises(ValidationError) as error:
        crm.create_organization(name="ACME")
    assert "name" in error.value.message_dict


def test_an_identity_belongs_to_one_person(personas):
    with pytest.raises(ValidationError):
        crm.add_identity(user=personas.carol, type="email", value="Bob@Acme.test")


def test_the_same_customer_is_found_by_any_of_their_addresses(personas):
    crm.add_identity(user=personas.bob, type="email", value="bob.personal@qq.example")
    assert crm.find_or_create_end_user(email="BOB.personal@qq.example") == personas.bob
    newcomer = crm.find_or_create_end_user(email="new@globex.test", name="新客户")
    assert newcomer.name == "新客户"
    assert list(newcomer.organizations.all()) == [personas.globex]


def test_shared_comments_need_shared_tickets(personas):
    crm.update_organization(personas.acme, shared_comments=True)
    personas.acme.refresh_from_db()
    assert personas.acme.shared_comments is False


def test_end_users_see_only_their_organizations(personas):
    assert list(visible_organizations(personas.bob)) == [personas.acme]
    assert set(visible_organizations(personas.alice)) == {personas.acme, personas.globex}


def test_memberships_keep_one_default_organization(personas):
    crm.add_organization_membership(user=personas.bob, organization=personas.globex, default=True)
    assert crm.default_organization(personas.bob) == personas.globex
    crm.remove_organization_membership(user=personas.bob, organization=personas.globex)
    assert crm.default_organization(personas.bob) == personas.acme


def test_organizations_update_and_delete_without_losing_people(personas):
    crm.update_organization(
        personas.acme, name="Acme 顶点", domain_names="acme.test, @ACME.cn", external_id="A-1"
    )
    personas.acme.refresh_from_db()
    assert personas.acme.domain_names == ["acme.test", "acme.cn"]
    with pytest.raises(ValidationError):
        crm.update_organization(personas.globex, external_id="A-1")
    with pytest.raises(ValidationError):
        crm.update_organization(personas.globex, color="red")
    crm.delete_organization(personas.acme)
    personas.bob.refresh_from_db()
    assert crm.default_organization(personas.bob) is None


def test_identities_can_be_removed_and_unknown_types_are_refused(personas):
    phone = crm.add_identity(user=personas.bob, type="phone_number", value=" +86 10 1234 5678 ")
    assert phone.value == "+86 10 1234 5678"
    with pytest.raises(ValidationError):
        crm.add_identity(user=personas.bob, type="carrier_pigeon", value="x")
    crm.remove_identity(phone)
    assert crm.find_user_by_identity(type="phone_number", value="+86 10 1234 5678") is None


def test_create_end_user_with_email_makes_the_person_identity_and_membership_in_few_queries(
    personas, django_assert_max_num_queries
):
    # given an organization owning the domain (personas: Acme owns acme.test)
    with django_assert_max_num_queries(6):
        user = crm.create_end_user_with_email(
            email=" Dora@ACME.test ", name="  Dora  ", locale="en"
        )

    assert (user.name, user.email, user.role, user.locale) == (
        "Dora",
        "dora@acme.test",
        "end-user",
        "en",
    )
    assert not user.has_usable_password()
    identity = user.identities.get()
    assert (identity.type, identity.value, identity.primary) == ("email", "dora@acme.test", True)
    assert crm.find_user_by_identity(type="email", value="DORA@acme.test") == user
    assert crm.default_organization(user) == personas.acme


def test_a_new_end_users_organization_is_known_without_reading_it_back_until_it_changes(
    personas, django_assert_num_queries
):
    from kefu.accounts.models import User

    user = crm.create_end_user_with_email(email="dora@acme.test")
    nameless = crm.create_end_user_with_email(email="eve@nowhere.test")

    # the ticket each opens next asks for it: no query
    with django_assert_num_queries(0):
        assert crm.default_organization(user) == personas.acme
        assert crm.default_organization(nameless) is None
    # a membership changed through the actions is read again
    crm.add_organization_membership(user=user, organization=personas.globex, default=True)
    assert crm.default_organization(user) == personas.globex
    crm.add_organization_membership(user=nameless, organization=personas.globex)
    assert crm.default_organization(nameless) == personas.globex
    # and another instance of the same person reads it
    assert crm.default_organization(User.objects.get(pk=user.pk)) == personas.globex


def test_create_end_user_with_email_refuses_a_bad_address_and_names_from_the_address(personas):
    with pytest.raises(ValidationError) as error:
        crm.create_end_user_with_email(email="not an address")
    assert "email" in error.value.message_dict

    nameless = crm.create_end_user_with_email(email="eve@nowhere.test")
    assert nameless.name == "eve"
    assert crm.default_organization(nameless) is None


def test_create_end_user_with_email_finds_the_person_who_has_the_address_as_email(personas):
    # bob's User.email is bob@acme.test; an identity for it is missing (legacy data)
    personas.bob.identities.all().delete()
    people = User.objects.count()

    same = crm.create_end_user_with_email(email="bob@acme.test", name="Bob two")

    assert same == personas.bob and User.objects.count() == people
    assert crm.find_user_by_identity(type="email", value="bob@acme.test") == personas.bob
