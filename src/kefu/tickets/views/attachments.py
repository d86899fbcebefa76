from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest

from ..access import visible_attachments


@login_required
def attachment_download(
    request: HttpRequest, attachment_id: int, file_name: str = ""
) -> FileResponse:
    """Serve an attachment the signed-in person may see, always as a download.

    ``Content-Disposition: attachment``, ``nosniff`` and a sandboxing CSP mean an uploaded HTML
    or SVG file can never run in Kefu's origin.
    """
    attachment = visible_attachments(request.user).filter(pk=attachment_id).first()  # type: ignore[arg-type]
    if attachment is None or not attachment.file:
        raise Http404
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.file_name,
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response
