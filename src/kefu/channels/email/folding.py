"""Fold quoted history and signatures out of a reply, so the thread shows what is new.

The cut is made at the earliest of the markers mail clients put above quoted text:
Kefu's own "reply above this line" marker, "在 2026年11月22日 … 写道：", "-----原始邮件-----",
"-----Original Message-----", "On … wrote:", Outlook's "From: … Sent: …" header block and its
Chinese form "发件人：… 发送时间：…", Gmail/Thunderbird/Apple quote containers, and the "-- "
signature separator. When the cut would leave nothing (a forwarded message, say), nothing is
cut. The full message always stays available (the comment keeps the original HTML).
"""

import re

REPLY_MARKER = "##- 请在此行上方回复 / Please type your reply above this line -##"

_SPACE = r"(?:\s|&nbsp;|&#160;|\xa0)"
# Patterns that start quoted history in plain text (multiline) and in HTML (anywhere).
_TEXT_MARKERS = [
    re.compile(r"^.*##-\s*请在此行上方回复", re.M),
    re.compile(r"^.*##-.*Please type your reply above this line", re.M),
    re.compile(r"^\s*在.{1,120}?写道[：:]\s*$", re.M | re.S),
    re.compile(r"^\s*-{2,}\s*原始邮件\s*-{2,}", re.M),
    re.compile(r"^\s*-{2,}\s*(?:Original Message|Forwarded message)\s*-{2,}", re.M | re.I),
    re.compile(r"^\s*On\s[^\n]{1,200}(?:\n[^\n]{1,200})?\swrote:\s*$", re.M),
    re.compile(r"^\s*(?:\*\s*)?From:\s.*\n(?:.*\n){0,3}\s*(?:\*\s*)?Sent:\s", re.M),
    re.compile(r"^\s*发件人[：:].*\n(?:.*\n){0,3}\s*(?:发送时间|时间|日期)[：:]", re.M),
    re.compile(r"^-- $", re.M),
    re.compile(r"^\s*(?:发自我的|Sent from my )(?:iPhone|iPad|Android|手机)", re.M),
]
_HTML_MARKERS = [
    re.compile(r"##-" + _SPACE + r"*请在此行上方回复"),
    re.compile(r"##-[^<]*Please type your reply above this line"),
    re.compile(r"<div[^>]*class=\"?[^\">]*gmail_quote", re.I),
    re.compile(r"<blockquote[^>]*type=\"?cite", re.I),
    re.compile(
        r"<div[^>]*id=\"?(?:divRplyFwdMsg|appendonsend|mail-editor-reference-message)", re.I
    ),
    re.compile(r"<div[^>]*class=\"?[^\">]*moz-cite-prefix", re.I),
    re.compile(r"<div[^>]*class=\"?[^\">]*(?:yahoo_quoted|OutlookMessageHeader)", re.I),
    re.compile(r"在[^<>]{1,160}?写道[：:]"),
    re.compile(r"-{2,}" + _SPACE + r"*原始邮件" + _SPACE + r"*-{2,}"),
    re.compile(r"-{2,}" + _SPACE + r"*(?:Original Message|Forwarded message)", re.I),
    re.compile(r"On" + _SPACE + r"[^<>]{1,300}?wrote:"),
    re.compile(r"(?:<b>)?From:(?:</b>)?" + _SPACE + r"[\s\S]{1,600}?(?:<b>)?Sent:", re.I),
    re.compile(r"(?:<b>)?发件人[：:](?:</b>)?[\s\S]{1,600}?(?:发送时间|时间|日期)[：:]"),
]
_TAG = re.compile(r"<[^>]+>")


def _earliest(patterns: list[re.Pattern[str]], text: str) -> int | None:
    positions = [m.start() for p in patterns if (m := p.search(text))]
    return min(positions) if positions else None


def fold_text(text: str) -> tuple[str, bool]:
    """(the new part, whether anything was folded away)."""
    cut = _earliest(_TEXT_MARKERS, text)
    if cut is None:
        # A trailing block of "> " lines is quoted history too.
        lines = text.rstrip().splitlines()
        index = len(lines)
        while index and (lines[index - 1].startswith(">") or not lines[index - 1].strip()):
            index -= 1
        if index == len(lines) or index == 0:
            return text.strip(), False
        return "\n".join(lines[:index]).strip(), True
    new = text[:cut].strip()
    return (new, True) if new else (text.strip(), False)


def fold_html(html: str) -> tuple[str, bool]:
    """(the new part of an HTML body, whether anything was folded away). The caller sanitizes
    the result; unbalanced tags left by the cut are closed there."""
    cut = _earliest(_HTML_MARKERS, html)
    if cut is None:
        return html, False
    # Cut before the tag the marker text sits in, not in the middle of it.
    tag_start = html.rfind("<", 0, cut)
    if tag_start != -1 and html.rfind(">", 0, cut) < tag_start:
        cut = tag_start
    new = html[:cut]
    visible = _TAG.sub("", new).replace("&nbsp;", " ").strip()
    return (new, True) if visible else (html, False)
