import pytest
from django.core.exceptions import ValidationError

from kefu.crm import actions as crm
from kefu.crm.models import Organization


def test_create_or_update_creates_a_new_organization(personas):
    org, created = crm.create_or_update_organization(
        external_id="erp-9", changes={"name": "Initech 英泰", "domain_names": "initech.test"}
    )
    assert created and (org.name, org.external_id, org.domain_names) == (
        "Initech 英泰", "erp-9", ["initech.test"],
    )  # fmt: skip


def test_create_or_update_matches_by_external_id_then_by_name(personas):
    crm.update_organization(personas.acme, external_id="erp-acme")
    org, created = crm.create_or_update_organization(
        changes={"external_id": "erp-acme", "name": "Acme 中国", "notes": "renamed"}
    )
    assert not created and org.pk == personas.acme.pk and org.name == "Acme 中国"
    org, created = crm.create_or_update_organization(changes={"name": "GLOBEX 环球", "tags": "vip"})
    assert not created and org.pk == personas.globex.pk and org.tags == ["vip"]


def test_create_or_update_refuses_unknown_fields_and_writes_nothing(personas):
    before = Organization.objects.count()
    with pytest.raises(ValidationError) as error:
        crm.create_or_update_organization(changes={"name": "New", "colour": "red"})
    assert "colour" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        crm.create_or_update_organization(external_id="x", changes={"name": "acme"})
    assert "name" in error.value.message_dict
    assert Organization.objects.count() == before
