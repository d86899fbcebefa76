"""Uploads: checked for size and type, stored through Django's storage, attached later."""

import mimetypes
import os
import secrets
import unicodedata

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import AccountSettings, User
from kefu.core import clock

from ..models import Attachment

MAX_FILE_NAME = 200


def clean_file_name(name: str) -> str:
    """A safe base name: no directories, no control characters, keeps Chinese characters."""
    name = unicodedata.normalize("NFC", os.path.basename(name.replace("\\", "/"))).strip()
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.lstrip(".") or "attachment"
    stem, ext = os.path.splitext(name)
    return stem[: MAX_FILE_NAME - len(ext)] + ext


@transaction.atomic
def create_upload(
    *,
    uploader: User,
    file_name: str,
    content: bytes | File,
    content_type: str | None = None,
    inline: bool = False,
) -> Attachment:
    """Store a file and return it with a one-time ``token`` to attach it to a comment.

    Refused (ValidationError on ``uploads``) when it is empty, larger than the account's limit,
    or has a blocked extension such as ``.exe``.
    """
    settings = AccountSettings.load()
    name = clean_file_name(file_name)
    size = len(content) if isinstance(content, bytes) else content.size
    if not size:
        raise ValidationError({"uploads": [_("The file is empty.")]})
    limit = settings.max_attachment_mb * 1024 * 1024
    if size > limit:
        raise ValidationError(
            {
                "uploads": [
                    _("%(name)s is larger than %(mb)s MB.")
                    % {"name": name, "mb": settings.max_attachment_mb}
                ]
            }
        )
    extension = os.path.splitext(name)[1].lower()
    if extension and extension in {e.lower() for e in settings.blocked_extensions}:
        raise ValidationError(
            {"uploads": [_("Files of type %(ext)s are not accepted.") % {"ext": extension}]}
        )
    guessed = mimetypes.guess_type(name)[0]
    attachment = Attachment(
        uploader=uploader,
        file_name=name,
        content_type=(content_type or guessed or "application/octet-stream")[:255],
        size=size,
        inline=inline,
        token=secrets.token_urlsafe(24),
        created_at=clock.now(),
    )
    attachment.save()
    stored = ContentFile(content) if isinstance(content, bytes) else content
    # The stored name is the attachment id plus the cleaned name; storage avoids clashes.
    attachment.file.save(name, stored, save=False)
    attachment.save(update_fields=["file"])
    return attachment


def find_upload(token: str, *, user: User) -> Attachment:
    """An unused upload by its token (agents may use anyone's, end users only their own)."""
    uploads = Attachment.objects.filter(token=token, comment__isnull=True)
    if not user.is_agent:
        uploads = uploads.filter(uploader=user)
    upload = uploads.first()
    if upload is None:
        raise ValidationError({"uploads": [_("Unknown upload token: %(t)s") % {"t": token}]})
    return upload
