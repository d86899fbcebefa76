"""What callers hand to the ticket actions: the changes to make and the comment to add."""

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kefu.accounts.models import Group, User
from kefu.crm.models import Organization

from ..models import (
    Attachment,
    CustomStatus,
    Ticket,
)


class TicketData(BaseModel):
    """What to set on a ticket. Only fields the caller passes are applied; ``None`` clears."""

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    subject: str | None = None
    status: str | None = None
    custom_status: CustomStatus | None = None
    priority: str | None = None
    type: str | None = None
    requester: User | None = None
    submitter: User | None = None
    assignee: User | None = None
    group: Group | None = None
    organization: Organization | None = None
    tags: list[str] | None = None
    add_tags: list[str] = Field(default_factory=list)
    remove_tags: list[str] = Field(default_factory=list)
    custom_fields: dict[int, Any] | None = None
    followers: list[User] | None = None
    email_ccs: list[User] | None = None
    via_channel: str | None = None
    via_source: dict[str, Any] | None = None
    external_id: str | None = None
    problem: Ticket | None = None
    due_at: dt.datetime | None = None


class NewComment(BaseModel):
    """A reply or note. Give ``body`` (plain text) or ``html_body`` (sanitized here)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    body: str = ""
    html_body: str = ""
    public: bool = True
    author: User | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    via_channel: str | None = None
    via_source: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)


# Fields an end user may set on their own request (the portal's form and the API).
END_USER_CREATE_FIELDS = {
    "subject", "requester", "custom_fields", "email_ccs", "via_channel", "via_source",
    "organization", "priority", "type",
}  # fmt: skip
END_USER_UPDATE_FIELDS = {"status", "custom_fields", "email_ccs", "via_channel", "via_source"}
