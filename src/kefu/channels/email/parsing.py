"""Reading a raw email into a ``ParsedEmail``: headers, bodies and attachments, in any charset.

The stdlib parser (``email`` with ``policy.compat32``, which keeps header values raw instead of
building parsed header objects on every access) splits the MIME structure; everything that
turns bytes into text is done here, more forgivingly than the stdlib does it:

- Charsets: labels are mapped to their supersets (GB2312/GBK → GB18030, Big5 → Big5-HKSCS,
  ISO-2022-JP → its extended variant, KS C 5601 → CP949), because senders label GBK text as
  GB2312 every day. Undeclared or wrong labels (bytes that do not decode, or 8-bit text
  labelled ASCII/Latin-1) are detected with ``charset-normalizer``.
- RFC 2047 encoded words are decoded by hand: adjacent words in one charset are joined at the
  byte level before decoding (Chinese characters split across words), missing padding and
  missing whitespace are tolerated, raw 8-bit header bytes are detected like bodies.
- RFC 2231 parameters (``filename*=gbk''%C4%E3``) and 2047-encoded file names both work.
"""

import base64
import binascii
import datetime as dt
import email
import email.utils
import quopri
import re
from dataclasses import dataclass, field
from email import policy
from email.message import Message

from charset_normalizer import from_bytes

# A label → the codec that reads everything the label is (ab)used for.
CHARSET_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "x-euc-cn": "gb18030",
    "hz-gb-2312": "hz",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "cp950": "cp950",
    "iso-2022-jp": "iso2022_jp_ext",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "iso-8859-1": "cp1252",  # what "Latin-1" senders actually write
    "latin1": "cp1252",
    "us-ascii": "ascii",
    "unknown-8bit": "",
    "x-unknown": "",
    "utf8": "utf-8",
}
# Labels whose decoding never fails, so a wrong label shows only as mojibake: check 8-bit text.
_WEAK_LABELS = {"", "ascii", "cp1252", "iso-8859-15", "windows-1252"}


def codec_for(label: str | None) -> str:
    label = (label or "").strip().strip('"').lower()
    codec = CHARSET_SUPERSETS.get(label, label)
    if codec:
        try:
            "".encode(codec)
        except LookupError:
            return ""
    return codec


def detect(data: bytes) -> str | None:
    """The detected text of ``data``, or None when nothing fits.

    Short texts fit several CJK charsets; Kefu's mail is mostly Chinese, so a Chinese reading
    that is nearly as clean as the best one wins. UTF-16/32 never comes unlabelled in mail.
    """
    matches = [m for m in from_bytes(data) if not m.encoding.startswith("utf_16")]
    matches = [m for m in matches if not m.encoding.startswith("utf_32")]
    if not matches:
        return None
    best = matches[0]
    chinese = [m for m in matches if m.language == "Chinese" and m.chaos <= best.chaos + 0.1]
    if chinese:
        best = chinese[0]
    codec = codec_for(best.encoding) or best.encoding
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return str(best)


def decode_bytes(data: bytes, label: str | None) -> str:
    """Text from ``data`` labelled ``label``; never raises."""
    if not data:
        return ""
    codec = codec_for(label)
    is_ascii = data.isascii()
    if codec and not (codec in _WEAK_LABELS and not is_ascii):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            if codec == "big5hkscs":
                try:
                    return data.decode("cp950")
                except UnicodeDecodeError:
                    pass
    if is_ascii:
        return data.decode("ascii")
    try:
        return data.decode("utf-8")  # the most common unlabelled 8-bit text
    except UnicodeDecodeError:
        pass
    detected = detect(data)
    if detected is not None:
        return detected
    return data.decode(codec or "utf-8", errors="replace")


# --- Headers ----------------------------------------------------------------------------------

_ENCODED_WORD = re.compile(r"=\?([^?\s]+?)\?([bBqQ])\?([^?\s]*?)\?=")


def _word_bytes(encoding: str, text: str) -> bytes:
    if encoding.lower() == "b":
        text = re.sub(r"[^A-Za-z0-9+/]", "", text)
        text += "=" * (-len(text) % 4)
        try:
            return base64.b64decode(text)
        except binascii.Error:
            return base64.b64decode(text[: len(text) - len(text) % 4] or b"")
    return quopri.decodestring(text.replace("_", " ").encode("latin-1", "replace"), header=True)


def decode_header_value(value: str | None) -> str:
    """A header's text: RFC 2047 words decoded (also malformed ones), raw 8-bit detected."""
    if not value:
        return ""
    value = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in value):  # raw 8-bit bytes, surrogate-escaped
        value = decode_bytes(value.encode("utf-8", "surrogateescape"), None)
    value = re.sub(r"\r?\n[ \t]+", " ", value).replace("\r", "").replace("\n", "")
    out: list[str] = []
    pending: list[tuple[str, bytes]] = []  # adjacent encoded words: (charset, bytes)

    def flush() -> None:
        # Join consecutive words of one charset before decoding: one character's bytes may
        # be split across two words.
        charset, buf = "", b""
        for word_charset, data in pending:
            if buf and word_charset != charset:
                out.append(decode_bytes(buf, charset))
                buf = b""
            charset = word_charset
            buf += data
        if buf:
            out.append(decode_bytes(buf, charset))
        pending.clear()

    position = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        if between and not (pending and between.isspace()):
            flush()
            out.append(between)
        charset = match.group(1).split("*", 1)[0]  # RFC 2231 language suffix: utf-8*zh
        pending.append((charset, _word_bytes(match.group(2), match.group(3))))
        position = match.end()
    flush()
    out.append(value[position:])
    return "".join(out).strip()


def _raw_header(message: Message, name: str) -> str | None:
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            return str(value)
    return None


def _raw_headers(message: Message, name: str) -> list[str]:
    return [str(v) for k, v in message.raw_items() if k.lower() == name.lower()]


def parse_addresses(values: list[str]) -> list[tuple[str, str]]:
    """(name, address) pairs, address lower-cased; entries without an ``@`` are dropped."""
    result: list[tuple[str, str]] = []
    cleaned = []
    for value in values:
        if any("\udc80" <= ch <= "\udcff" for ch in value):
            value = decode_bytes(value.encode("utf-8", "surrogateescape"), None)
        cleaned.append(re.sub(r"\r?\n[ \t]+", " ", value))
    for name, address in email.utils.getaddresses(cleaned):
        address = address.strip().strip("<>").lower()
        if "@" not in address or " " in address:
            continue
        result.append((decode_header_value(name).strip('" '), address))
    return result


_MSGID = re.compile(r"<[^<>\s]+>")


def message_ids(value: str | None) -> list[str]:
    """Message-IDs in a header (``<a@b>`` forms; a bare id without brackets is accepted)."""
    if not value:
        return []
    found = _MSGID.findall(value)
    if not found and value.strip() and " " not in value.strip():
        found = [f"<{value.strip().strip('<>')}>"]
    return found


# --- The message ------------------------------------------------------------------------------


@dataclass
class ParsedAttachment:
    file_name: str
    content_type: str
    data: bytes
    content_id: str = ""
    inline: bool = False


@dataclass
class ParsedEmail:
    message_id: str
    in_reply_to: list[str]
    references: list[str]
    subject: str
    sender: tuple[str, str] | None  # (name, address)
    reply_to: list[tuple[str, str]]
    to: list[tuple[str, str]]
    cc: list[tuple[str, str]]
    date: dt.datetime | None
    text: str
    html: str
    attachments: list[ParsedAttachment]
    headers: dict[str, str]  # lower-case name → decoded first value (for rules)
    content_type: str
    report_type: str
    defects: list[str] = field(default_factory=list)
    delivery_status: str = ""
    returned_headers: str = ""

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this message answers, most specific first."""
        seen: dict[str, None] = {}
        for msgid in [*self.in_reply_to, *reversed(self.references)]:
            seen.setdefault(msgid, None)
        return list(seen)


def _filename(part: Message) -> str:
    for header in ("content-disposition", "content-type"):
        name = "filename" if header == "content-disposition" else "name"
        raw = part.get_param(name, header=header)
        if raw is None:
            continue
        if isinstance(raw, tuple):  # RFC 2231: (charset, language, %-decoded latin-1 text)
            charset, _language, text = raw
            data = text.encode("latin-1", "surrogateescape")
            return decode_bytes(data, charset or None)
        text = str(raw).strip('"')
        if any("\udc80" <= ch <= "\udcff" for ch in text):
            return decode_bytes(text.encode("utf-8", "surrogateescape"), None)
        return decode_header_value(text) if "=?" in text else text
    return ""


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding: keep what is there
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _text(part: Message) -> str:
    return decode_bytes(_payload(part), part.get_content_charset())


def parse_email(raw: bytes) -> ParsedEmail:
    """Everything Kefu needs from a raw message. Never raises on malformed MIME: the stdlib
    records defects and this reads what it can (a caller may still refuse the result)."""
    # compat32 splits the structure like policy.default but hands out header values as they
    # are instead of building parsed header objects on every access (that was most of the
    # parse time); every value is decoded here anyway.
    message: Message = email.message_from_bytes(raw, policy=policy.compat32)
    defects = [type(d).__name__ for d in message.defects]
    texts: list[str] = []
    htmls: list[str] = []
    attachments: list[ParsedAttachment] = []
    delivery_status = ""
    returned_headers = ""

    def walk(part: Message, *, in_alternative: bool = False) -> None:
        nonlocal delivery_status, returned_headers
        content_type = part.get_content_type()
        defects.extend(type(d).__name__ for d in part.defects)
        if content_type == "message/delivery-status":
            # The stdlib reads each block of fields as a headers-only message.
            payload = part.get_payload()
            if isinstance(payload, list):
                delivery_status = "\n\n".join(
                    "\n".join(f"{k}: {v}" for k, v in block.raw_items())
                    for block in payload
                    if isinstance(block, Message)
                )
            else:
                delivery_status = decode_bytes(_payload(part), None)
            return
        if part.is_multipart():
            for child in part.get_payload():
                if isinstance(child, Message):
                    walk(child, in_alternative=content_type == "multipart/alternative")
            return
        disposition = (part.get_content_disposition() or "").lower()
        file_name = _filename(part)
        content_id = str(part.get("content-id") or "").strip().strip("<>")
        if content_type == "text/rfc822-headers":
            returned_headers = _text(part)
            return
        if (
            content_type in ("text/plain", "text/html")
            and disposition != "attachment"
            and (not file_name or disposition == "inline")
        ):
            (texts if content_type == "text/plain" else htmls).append(_text(part))
            return
        data = _payload(part)
        if not data:
            return
        if not file_name:
            extension = {"message/rfc822": ".eml", "text/calendar": ".ics"}.get(content_type, "")
            file_name = f"attachment{extension}"
        attachments.append(
            ParsedAttachment(
                file_name=file_name,
                content_type=content_type,
                data=data,
                content_id=content_id,
                inline=bool(content_id) and disposition != "attachment",
            )
        )

    if message.get_content_type() == "message/rfc822" or not message.is_multipart():
        walk(message)
    else:
        for child in message.get_payload():
            if isinstance(child, Message):
                walk(child, in_alternative=message.get_content_type() == "multipart/alternative")
    # message/rfc822 parts inside multiparts arrive as multipart Messages: returned mail.
    for part in message.walk():
        if part.get_content_type() == "message/rfc822" and not returned_headers:
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                returned_headers = "\n".join(f"{k}: {v}" for k, v in inner[0].raw_items())

    senders = parse_addresses(_raw_headers(message, "from")) or parse_addresses(
        _raw_headers(message, "sender")
    )
    date = None
    if date_value := _raw_header(message, "date"):
        try:
            date = email.utils.parsedate_to_datetime(date_value.strip())
        except (TypeError, ValueError, IndexError):
            date = None
    headers: dict[str, str] = {}
    for key, value in message.raw_items():
        headers.setdefault(key.lower(), decode_header_value(str(value)))
    message_id = (message_ids(_raw_header(message, "message-id")) or [""])[0]
    return ParsedEmail(
        message_id=message_id[:995],
        in_reply_to=message_ids(_raw_header(message, "in-reply-to")),
        references=message_ids(_raw_header(message, "references")),
        subject=decode_header_value(_raw_header(message, "subject")),
        sender=senders[0] if senders else None,
        reply_to=parse_addresses(_raw_headers(message, "reply-to")),
        to=parse_addresses(_raw_headers(message, "to")),
        cc=parse_addresses(_raw_headers(message, "cc")),
        date=date,
        text="\n\n".join(t for t in texts if t.strip()),
        html="\n".join(h for h in htmls if h.strip()),
        attachments=attachments,
        headers=headers,
        content_type=message.get_content_type(),
        report_type=str(message.get_param("report-type") or "").lower(),
        defects=defects,
        delivery_status=delivery_status,
        returned_headers=returned_headers,
    )
