"""Building the demo: people and organizations through the accounts/crm actions, tickets
through ``import_tickets`` in batches (see the package docstring for why)."""

import datetime as dt
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from django.db import connection, transaction

from kefu.accounts import actions as accounts
from kefu.accounts.choices import Role
from kefu.accounts.models import Group, User
from kefu.core import clock
from kefu.crm import actions as crm
from kefu.crm.choices import IdentityType
from kefu.crm.models import Organization
from kefu.tickets import actions as ticket_actions
from kefu.tickets.choices import Channel, Priority, Restriction, Status
from kefu.tickets.models import CustomStatus, Macro, View

from .content import (
    AGENT_DOMAIN,
    AGENT_REPLY,
    AGENTS,
    COMPANIES,
    CUSTOMER_SIGN_OFFS,
    EN_TIME_ZONES,
    FIRST_NAMES,
    FOLLOW_UPS,
    FREE_MAIL_DOMAINS,
    GIVEN_NAMES,
    GROUPS,
    HOLD_NOTES,
    LAST_NAMES,
    ORGANIZATIONS,
    PRODUCTS,
    PROGRESS,
    SURNAMES,
    TOPICS,
    GroupSpec,
    Lang,
    OrgSpec,
    Topic,
)

# One transaction and a handful of bulk INSERTs per batch: big enough that per-statement
# overhead vanishes, small enough that a batch's objects stay a few MB.
BATCH_SIZE = 1_000
HISTORY_DAYS = 90
# Solved tickets close automatically after AccountSettings.auto_close_days (4 by default):
# demo "solved" tickets are younger than that and "closed" ones older, as in a live system.
AUTO_CLOSE_DAYS = 4


# The shape of a conversation, by status and number of comments. C: the customer writes,
# A: the agent asks, P: the agent reports progress, N: internal note, H: "on hold" note,
# R: the agent resolves. The last entry is what put the ticket in its status: "new" has heard
# nothing from an agent, "pending" waits on the customer, "hold" on a third party, and
# "solved"/"closed" end with the answer.
SHAPES: dict[str, dict[int, str]] = {
    Status.NEW: {1: "C", 2: "CC"},
    Status.OPEN: {1: "C", 2: "CN", 3: "CAC", 4: "CACN", 5: "CACPC", 6: "CACNPC"},
    Status.PENDING: {2: "CA", 3: "CNA", 4: "CACA", 5: "CACNA", 6: "CACPCA"},
    Status.HOLD: {2: "CH", 3: "CPH", 4: "CACH", 5: "CACPH", 6: "CACNPH"},
    Status.SOLVED: {2: "CR", 3: "CNR", 4: "CACR", 5: "CACNR", 6: "CACPNR"},
    Status.CLOSED: {2: "CR", 3: "CNR", 4: "CACR", 5: "CACNR", 6: "CACPNR"},
}
COMMENT_COUNT_WEIGHTS = {1: 10, 2: 30, 3: 25, 4: 18, 5: 10, 6: 7}

# status: (share of tickets, age of the last activity in days (min, max), span in days (max))
STATUS_PLAN: dict[str, tuple[int, tuple[float, float], float]] = {
    Status.NEW: (8, (0.0, 2.0), 0.3),
    Status.OPEN: (17, (0.0, 5.0), 10.0),
    Status.PENDING: (10, (0.0, 7.0), 10.0),
    Status.HOLD: (6, (0.5, 14.0), 20.0),
    Status.SOLVED: (12, (0.02, AUTO_CLOSE_DAYS - 0.1), 10.0),
    Status.CLOSED: (47, (AUTO_CLOSE_DAYS + 0.2, HISTORY_DAYS - 2.0), 12.0),
}
CHANNELS = ((Channel.EMAIL, 50), (Channel.PORTAL, 22), (Channel.WEB, 15), (Channel.CHAT, 8),
            (Channel.API, 5))  # fmt: skip


# --- Generation -------------------------------------------------------------------------------


@dataclass
class Customer:
    user: User
    lang: Lang
    short_name: str  # how an agent greets them: 张伟 / Emma
    organization: Organization | None
    org_spec: OrgSpec | None
    phone: str


@dataclass
class Team:
    groups: dict[str, Group]
    members: dict[str, list[User]]
    agents: list[User]
    lead: User


@dataclass
class _Run:
    """State of one ``generate`` call: the random source and the addresses taken so far."""

    rng: random.Random
    now: dt.datetime
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    # The demo's own custom statuses by category (等待配件 on hold, 已寄回 pending).
    custom_statuses: dict[str, CustomStatus] = field(default_factory=dict)


def _say(stdout: TextIO | None, message: str) -> None:
    if stdout is not None:
        stdout.write(message + "\n")
        stdout.flush()


def _get_or_create_group(spec: GroupSpec) -> Group:
    # Only the first default: an instance that already has a default group keeps it.
    default = spec.default and not Group.objects.filter(default=True).exists()
    existing = Group.objects.filter(name__iexact=spec.name).first()
    if existing is not None:
        # The tier groups come from the rules migration; the demo makes Tier 1 the default.
        return accounts.update_group(existing, default=True) if default else existing
    return accounts.create_group(name=spec.name, description=spec.description, default=default)


def _get_or_create_organization(spec: OrgSpec, groups: dict[str, Group]) -> Organization:
    existing = Organization.objects.filter(name__iexact=spec.name).first()
    if existing is not None:
        return existing
    return crm.create_organization(
        name=spec.name,
        domain_names=[spec.domain],
        tags=spec.tags,
        shared_tickets=spec.shared_tickets,
        shared_comments=spec.shared_tickets,
        group=groups[spec.group] if spec.group else None,
        notes="演示数据 · Demo data",
    )


def _make_team(run: _Run) -> Team:
    groups = {spec.key: _get_or_create_group(spec) for spec in GROUPS}
    members: dict[str, list[User]] = {key: [] for key in groups}
    agents = []
    for name, local, lang, group_keys in AGENTS:
        email = f"{local}@{AGENT_DOMAIN}"
        agent = User.objects.filter(email=email).first()
        if agent is None or not agent.is_agent:
            email = _free_email(run, local, AGENT_DOMAIN) if agent is not None else email
            agent = accounts.create_user(
                name=name,
                email=email,
                role=Role.AGENT,
                password=None,  # demo agents cannot sign in until an admin sets a password
                locale="zh-hans" if lang == "zh" else "en",
                groups=[groups[key] for key in group_keys],
                verified=True,
            )
        else:
            for key in group_keys:
                accounts.add_group_membership(user=agent, group=groups[key])
        run.emails.add(email)
        agents.append(agent)
        for key in group_keys:
            members[key].append(agent)
    return Team(groups=groups, members=members, agents=agents, lead=agents[0])


def _free_email(run: _Run, local: str, domain: str) -> str:
    """``local@domain``, or ``local2@domain``, ... — the first not taken here or in the database."""
    number = 1
    while True:
        email = f"{local}{number if number > 1 else ''}@{domain}"
        if email not in run.emails and not User.objects.filter(email=email).exists():
            run.emails.add(email)
            return email
        number += 1


def _phone(run: _Run, lang: Lang) -> str:
    """A fictional number nobody has yet (a phone is an identity, unique to one person)."""
    while True:
        if lang == "zh":
            phone = f"+86 1{run.rng.choice('3589')}{run.rng.randrange(10**8, 10**9)}"
        else:
            # 555-01xx numbers are reserved for fiction in North America.
            phone = f"+1 {run.rng.randrange(200, 999)}-555-01{run.rng.randrange(100):02d}"
        if phone in run.phones:
            continue
        run.phones.add(phone)
        if crm.find_user_by_identity(type=IdentityType.PHONE, value=phone) is None:
            return phone


def _make_customers(
    run: _Run, count: int, orgs: list[tuple[OrgSpec, Organization]]
) -> list[Customer]:
    rng = run.rng
    customers = []
    for _index in range(count):
        lang: Lang = "zh" if rng.random() < 0.6 else "en"
        org_spec: OrgSpec | None = None
        org: Organization | None = None
        if rng.random() < 0.65:
            org_spec, org = rng.choice(orgs)
        if org_spec is not None and rng.random() < 0.8:
            lang = org_spec.lang  # most people write in their company's language
        surname, surname_py = rng.choice(SURNAMES)
        given, given_py = rng.choice(GIVEN_NAMES)
        if lang == "zh":
            name = short = surname + given
            local = f"{given_py}.{surname_py}" if org else f"{surname_py}{given_py}"
        else:
            first = rng.choice(FIRST_NAMES)
            # Some English speakers have Chinese family names (and write in English).
            last = surname_py.capitalize() if rng.random() < 0.15 else rng.choice(LAST_NAMES)
            name, short = f"{first} {last}", first
            local = f"{first}.{last}".lower() if org else f"{first}{last}".lower()
        domain = org_spec.domain if org_spec else rng.choice(FREE_MAIL_DOMAINS)
        email = _free_email(run, local, domain)
        phone = _phone(run, lang) if rng.random() < 0.35 else ""
        user = accounts.create_user(
            name=name,
            email=email,
            role=Role.END_USER,
            phone=phone,
            locale="zh-hans" if lang == "zh" else "en",
            time_zone="Asia/Shanghai" if lang == "zh" else rng.choice(EN_TIME_ZONES),
            organization=org,
            tags=["vip"] if org_spec and "vip" in org_spec.tags else [],
        )
        customers.append(Customer(user, lang, short, org, org_spec, phone or _phone(run, lang)))
    return customers


def _company(rng: random.Random, lang: Lang, customer: Customer) -> str:
    """The company an invoice is for: the customer's, as it calls itself in this language."""
    if customer.org_spec is None:
        return rng.choice(COMPANIES[lang])
    chinese, _space, english = customer.org_spec.name.partition(" ")
    if not english or chinese.isascii():
        return customer.org_spec.name
    return f"{chinese}有限公司" if lang == "zh" else f"{english} Ltd."


def _context(run: _Run, lang: Lang, customer: Customer) -> dict[str, str]:
    rng = run.rng
    if lang == "zh":
        amount = f"¥{rng.choice((59, 99, 129, 199, 299, 399, 599, 899, 1299, 2499, 4999)):,}.00"
    else:
        amount = f"${rng.choice((9.99, 19, 29, 49.5, 89, 129, 199, 349, 699)):,.2f}"
    # SF Express-like numbers in China, UPS-like elsewhere.
    if lang == "zh":
        tracking = f"SF{rng.randrange(10**11, 10**12)}"
    else:
        tracking = f"1Z{rng.randrange(10**9, 10**10)}"
    return {
        "order": f"SO{rng.randrange(10**9, 10**10)}",
        "invoice": f"INV-{run.now.year}-{rng.randrange(10**5, 10**6)}",
        "tracking": tracking,
        "amount": amount,
        "product": rng.choice(PRODUCTS[lang]),
        "request_id": f"req_{rng.getrandbits(48):012x}",
        "points": str(rng.choice((200, 350, 500, 1200))),
        "phone": customer.phone,
        "days": str(rng.randint(2, 28)),
        "last4": f"{rng.randrange(10**4):04d}",
        "company": _company(rng, lang, customer),
    }


def _spread(
    rng: random.Random, start: dt.datetime, end: dt.datetime, count: int
) -> list[dt.datetime]:
    """``count`` moments from ``start`` to ``end``: the first at start, the last at end."""
    if count == 1:
        return [start]
    span = (end - start).total_seconds()
    middle = sorted(rng.uniform(0, span) for _ in range(count - 2))
    return [start, *(start + dt.timedelta(seconds=s) for s in middle), end]


def _conversation(
    run: _Run,
    topic: Topic,
    lang: Lang,
    ctx: dict[str, str],
    *,
    shape: str,
    moments: list[dt.datetime],
    customer: Customer,
    author: User,
    helpers: list[User],
) -> tuple[list[ticket_actions.ImportedComment], str]:
    """The comments of one ticket, following ``shape`` (see SHAPES), and its subject."""
    rng = run.rng
    subject, opening = rng.choice(topic.requests[lang])
    asks = rng.sample(topic.asks[lang], k=len(topic.asks[lang]))  # a second question differs
    answer = ""
    comments: list[ticket_actions.ImportedComment] = []
    for kind, at in zip(shape, moments, strict=True):
        if kind == "C":
            # The first message explains; an agent's question gets its answer; otherwise
            # (silence, a progress report) the customer chases.
            text = opening if not comments else answer or rng.choice(FOLLOW_UPS[lang])
            sign_off = rng.choice(CUSTOMER_SIGN_OFFS[lang]).format(customer=customer.short_name)
            body = text.format(**ctx) + sign_off
            comments.append(
                ticket_actions.ImportedComment(author=customer.user, body=body, created_at=at)
            )
        elif kind in "NH":
            notes = topic.notes if kind == "N" else HOLD_NOTES
            # Colleagues leave notes too: the expert from the same group who was asked.
            note_author = rng.choice(helpers) if rng.random() < 0.3 else author
            comments.append(
                ticket_actions.ImportedComment(
                    author=note_author,
                    body=rng.choice(notes[lang]).format(**ctx),
                    public=False,
                    created_at=at,
                )
            )
        else:
            if kind == "A":
                text, answer = asks.pop() if asks else rng.choice(topic.asks[lang])
            else:
                text = rng.choice((PROGRESS if kind == "P" else topic.resolutions)[lang])
            body = AGENT_REPLY[lang].format(
                customer=customer.short_name, body=text.format(**ctx), agent=author.name
            )
            comments.append(ticket_actions.ImportedComment(author=author, body=body, created_at=at))
        if kind != "A" and kind != "N":
            answer = ""  # an answer only follows its question (a note may come in between)
    return comments, subject.format(**ctx)


def _ticket(
    run: _Run, customer: Customer, team: Team, status: str
) -> ticket_actions.ImportedTicket:
    rng = run.rng
    topic = rng.choices(TOPICS, weights=[t.weight for t in TOPICS])[0]
    # People mostly write in their own language; bilingual companies sometimes switch.
    lang = customer.lang if rng.random() < 0.92 else ("en" if customer.lang == "zh" else "zh")
    ctx = _context(run, lang, customer)

    group_key = topic.group
    if topic.group == "tier1" and customer.org_spec is not None and customer.org_spec.group:
        group_key = customer.org_spec.group  # key accounts skip the first line
    group: Group | None = team.groups[group_key]
    # The lead belongs to every group but mostly helps others rather than taking tickets.
    workers = [a for a in team.members[group_key] if a != team.lead]
    assignee: User | None = team.lead if rng.random() < 0.05 else rng.choice(workers)
    if status == Status.NEW:
        assignee = None  # nobody has picked it up yet; some have not even been routed
        group = group if rng.random() < 0.6 else None
    helpers = [a for a in team.members[group_key] if a != assignee] or [team.lead]

    counts = [n for n in COMMENT_COUNT_WEIGHTS if n in SHAPES[status]]
    n = rng.choices(counts, weights=[COMMENT_COUNT_WEIGHTS[c] for c in counts])[0]
    shape = SHAPES[status][n]

    _share, (min_age, max_age), max_span = STATUS_PLAN[status]
    age = rng.uniform(min_age, max_age)
    last = run.now - dt.timedelta(days=age)
    # Keep the whole conversation inside the history window.
    span = 0.0 if n == 1 else rng.uniform(0.0, min(max_span, HISTORY_DAYS - age))
    created = last - dt.timedelta(days=span)
    moments = _spread(rng, created, last, n)

    comments, subject = _conversation(
        run, topic, lang, ctx, shape=shape, moments=moments, customer=customer,
        author=assignee or team.lead, helpers=helpers,
    )  # fmt: skip
    priorities = [p.value for p in Priority]
    priority: str | None = rng.choices(priorities, weights=topic.priorities)[0]
    if status == Status.NEW and rng.random() < 0.5:
        priority = None  # not triaged yet
    tags = list(topic.tags)
    if customer.org_spec is not None and "vip" in customer.org_spec.tags:
        tags.append("vip")
    if priority == Priority.URGENT:
        tags.append("加急" if lang == "zh" else "escalated")
    tags.append("中文" if lang == "zh" else "english")

    updated = last
    solved_at = None
    if status in (Status.SOLVED, Status.CLOSED):
        solved_at = last
    if status == Status.CLOSED:
        # Closing is the last change: the automation ran auto_close_days after solving.
        updated = min(last + dt.timedelta(days=AUTO_CLOSE_DAYS, hours=rng.uniform(0, 1)), run.now)
    return ticket_actions.ImportedTicket(
        subject=subject,
        requester=customer.user,
        comments=comments,
        assignee=assignee,
        group=group,
        organization=customer.organization,
        status=status,
        custom_status=run.custom_statuses.get(status) if rng.random() < 0.3 else None,
        priority=priority,
        type=rng.choice(topic.types),
        tags=tags,
        via_channel=rng.choices([c for c, _w in CHANNELS], weights=[w for _c, w in CHANNELS])[0],
        created_at=created,
        updated_at=updated,
        solved_at=solved_at,
    )


def _statuses(rng: random.Random, count: int) -> list[str]:
    """A status per ticket in the planned shares, with every status present when count >= 6."""
    statuses = list(STATUS_PLAN)
    shares = [plan[0] for plan in STATUS_PLAN.values()]
    chosen = statuses[:count] + rng.choices(
        statuses, weights=shares, k=max(0, count - len(statuses))
    )
    rng.shuffle(chosen)
    return chosen


def _customer_weights(rng: random.Random, count: int) -> list[float]:
    # A few customers write a lot, most write now and then (a long tail, as in real queues).
    return [rng.paretovariate(1.2) for _ in range(count)]


# --- Views, macros and custom statuses --------------------------------------------------------


def _cond(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


def _act(field: str, value: Any) -> dict[str, Any]:
    return {"field": field, "value": value}


UNSOLVED = _cond("status", "less_than", Status.SOLVED)
MY_OPEN_TICKETS = "我的待办 / My open tickets"


def _view_specs(team: Team) -> list[dict[str, Any]]:
    aftersales = team.groups["aftersales"]
    return [
        {
            "title": "未分配 / Unassigned",
            "conditions": {"all": [UNSOLVED, _cond("assignee_id", "not_present")]},
            # Oldest first: whoever picks from this queue takes the longest wait.
            "execution": {"sort_by": "created_at", "sort_order": "asc"},
        },
        {
            # Zendesk's "Your unsolved tickets": one shared view, each agent sees their own.
            "title": MY_OPEN_TICKETS,
            "conditions": {"all": [UNSOLVED, _cond("assignee_id", "is", "current_user")]},
        },
        {
            "title": "紧急 / Urgent",
            "conditions": {"all": [UNSOLVED, _cond("priority", "is", Priority.URGENT)]},
        },
        {
            "title": "待客户回复 / Pending",
            "conditions": {"all": [_cond("status", "is", Status.PENDING)]},
        },
        {
            "title": "最近解决 / Recently solved",
            "conditions": {"all": [_cond("status", "is", Status.SOLVED)]},
        },
        {
            "title": "售后队列 / After-sales queue",
            "conditions": {"all": [UNSOLVED, _cond("group_id", "is", aftersales.pk)]},
            "restriction": Restriction.GROUP,
            "restriction_group": aftersales,
        },
    ]


def _macro_specs(team: Team) -> list[dict[str, Any]]:
    return [
        {
            "title": "请提供订单号 / Ask for the order number",
            "actions": [
                _act("status", Status.PENDING),
                _act(
                    "comment_value",
                    "您好，为了尽快帮您处理，请提供一下订单号。\n\n"
                    "Hello, to help you faster, could you send us your order number?",
                ),
            ],
        },
        {
            "title": "退货已受理 / Return accepted",
            "actions": [
                _act("status", Status.PENDING),
                _act("current_tags", "refund return"),
                _act(
                    "comment_value",
                    "您的退货申请已受理，快递员将在 1–2 个工作日内上门取件。\n\n"
                    "Your return is approved; a courier will collect it within 1–2 business days.",
                ),
            ],
        },
        {
            "title": "升级到技术支持 / Escalate to Tier 2",
            "actions": [
                _act("group_id", team.groups["tier2"].pk),
                _act("priority", Priority.HIGH),
                _act("comment_mode_is_public", False),
                _act("comment_value", "一线已排查，转技术支持。\n\nChecked by Tier 1, escalated."),
            ],
        },
        {
            "title": "发票已开具 / Invoice issued",
            "actions": [
                _act("status", Status.SOLVED),
                _act("current_tags", "invoice"),
                _act(
                    "comment_value",
                    "发票已开具并发送到您的邮箱，请查收。\n\n"
                    "Your invoice has been issued and emailed to you.",
                ),
            ],
        },
        {
            "title": "解决并致谢 / Solve with thanks",
            "actions": [
                _act("status", Status.SOLVED),
                _act(
                    "comment_value",
                    "问题已解决，感谢您的耐心！如有其他问题请直接回复。\n\n"
                    "This is now resolved — thank you for your patience! Just reply if anything "
                    "else comes up.",
                ),
            ],
        },
    ]


CUSTOM_STATUSES = [
    # (category, agent label, customer label, zh agent label, zh customer label)
    (Status.HOLD, "Waiting for parts", "Waiting for parts", "等待配件", "等待配件"),
    (Status.PENDING, "Shipped back", "Shipped back to you", "已寄回", "已寄回给您"),
]


def _make_workflow(team: Team, admin: User | None) -> tuple[int, int]:
    """Views, macros and custom statuses; returns (views, macros) created.

    Shared views and macros need an admin. Without one (``kefu demo`` on a fresh database,
    before the first admin exists) every agent gets them as personal ones instead. Anything
    with the same title and owner is left alone, so a second run adds nothing here.
    """
    owners: Sequence[User] = [admin] if admin is not None else team.agents
    existing_views = set(View.objects.values_list("title", "restriction_user_id"))
    views = 0
    for spec in _view_specs(team):
        for owner in owners:
            options = dict(spec)
            if admin is None:
                options.update(restriction=Restriction.USER, restriction_group=None)
            personal = options.get("restriction") == Restriction.USER
            if (spec["title"], owner.pk if personal else None) not in existing_views:
                ticket_actions.create_view(actor=owner, **options)
                views += 1

    restriction = Restriction.SHARED if admin is not None else Restriction.USER
    existing_macros = set(Macro.objects.values_list("title", "restriction_user_id"))
    macros = 0
    for spec in _macro_specs(team):
        for owner in owners:
            key = (spec["title"], owner.pk if restriction == Restriction.USER else None)
            if key not in existing_macros:
                ticket_actions.create_macro(actor=owner, restriction=restriction, **spec)
                macros += 1

    for category, agent_label, end_user_label, zh_agent, zh_end_user in CUSTOM_STATUSES:
        if not CustomStatus.objects.filter(agent_label=agent_label).exists():
            ticket_actions.create_custom_status(
                status_category=category,
                agent_label=agent_label,
                end_user_label=end_user_label,
                translations={"zh-hans": {"agent_label": zh_agent, "end_user_label": zh_end_user}},
            )
    return views, macros


# Business hours and a first SLA policy, so the SLA badges, the report and the settings pages
# have something to show. Targets in business minutes per priority (first reply, next reply,
# total resolution), the kind of promise the seed documents make.
DEMO_SCHEDULE = "上海办公时间 / Shanghai office hours"
DEMO_POLICY = "标准服务 / Standard service"
DEMO_TARGETS = {
    Priority.URGENT: (30, 60, 8 * 60),
    Priority.HIGH: (2 * 60, 4 * 60, 2 * 9 * 60),
    Priority.NORMAL: (4 * 60, 8 * 60, 5 * 9 * 60),
    Priority.LOW: (9 * 60, 2 * 9 * 60, 10 * 9 * 60),
}
DEMO_SUPPORT_ADDRESS = "support@kefu-demo.example"


def _make_service_setup(run: _Run, team: Team) -> None:
    """A Shanghai office schedule (Mon–Fri 9:00–18:00 with China's holidays, where the
    chinesecalendar package has them), one SLA policy for every ticket, and a support
    address. Each is left alone when one with its name exists already."""
    from kefu.channels.email import actions as email
    from kefu.channels.email.models import SupportAddress
    from kefu.sla import actions as sla
    from kefu.sla.models import Schedule, SlaPolicy

    if not Schedule.objects.filter(name=DEMO_SCHEDULE).exists():
        day = 24 * 60
        schedule = sla.create_schedule(
            name=DEMO_SCHEDULE,
            time_zone="Asia/Shanghai",
            intervals=[
                {"start_time": d * day + 9 * 60, "end_time": d * day + 18 * 60} for d in range(1, 6)
            ],
        )
        sla.load_china_holidays(schedule, years=[run.now.year - 1, run.now.year, run.now.year + 1])
    if not SlaPolicy.objects.filter(title=DEMO_POLICY).exists():
        sla.create_policy(
            title=DEMO_POLICY,
            filter={"all": [], "any": []},
            policy_metrics=[
                {"priority": priority, "metric": metric, "target": target, "business_hours": True}
                for priority, minutes in DEMO_TARGETS.items()
                for metric, target in zip(
                    ("first_reply_time", "next_reply_time", "total_resolution_time"),
                    minutes,
                    strict=True,
                )
            ],
        )
    if not SupportAddress.objects.filter(email=DEMO_SUPPORT_ADDRESS).exists():
        email.create_support_address(
            email=DEMO_SUPPORT_ADDRESS, name="Kefu 演示客服 / Kefu demo support",
            group=team.groups.get("tier1"),
        )  # fmt: skip


# --- Entry point ------------------------------------------------------------------------------


def generate(
    *, customers: int = 200, tickets: int = 1000, seed: int = 7, stdout: TextIO | None = None
) -> dict[str, Any]:
    """Create the demo team, customers and ``tickets`` tickets; returns what was created.

    Safe to call on a database with data: groups, organizations and agents are reused by
    name/email, new customers get addresses nobody has, and tickets are only ever added.
    """
    if customers < 1 or tickets < 0:
        raise ValueError("customers must be at least 1 and tickets not negative")
    started = time.monotonic()
    run = _Run(rng=random.Random(seed), now=clock.now())
    admin = (
        User.objects.filter(role=Role.ADMIN, is_active=True, suspended=False).order_by("id").first()
    )

    _say(stdout, f"Creating the support team and {customers:,} customers…")
    with transaction.atomic():
        team = _make_team(run)
        orgs = [(spec, _get_or_create_organization(spec, team.groups)) for spec in ORGANIZATIONS]
        people = _make_customers(run, customers, orgs)
        views, macros = _make_workflow(team, admin)
        _make_service_setup(run, team)
        run.custom_statuses = {
            s.status_category: s
            for s in CustomStatus.objects.filter(
                agent_label__in=[spec[1] for spec in CUSTOM_STATUSES]
            )
        }
    _say(stdout, f"  {len(team.agents)} agents in {len(team.groups)} groups, {len(orgs)} "
                 f"organizations, {views} views, {macros} macros")  # fmt: skip

    _say(stdout, f"Creating {tickets:,} tickets…")
    weights = _customer_weights(run.rng, len(people))
    statuses = _statuses(run.rng, tickets)
    comments = 0
    ticket_started = time.monotonic()
    for start in range(0, tickets, BATCH_SIZE):
        batch_statuses = statuses[start : start + BATCH_SIZE]
        requesters = run.rng.choices(people, weights=weights, k=len(batch_statuses))
        items = [
            _ticket(run, customer, team, status)
            for customer, status in zip(requesters, batch_statuses, strict=True)
        ]
        # Oldest first, so ticket numbers grow with time as they would have in real life.
        items.sort(key=lambda item: item.created_at or run.now)
        # actor=None: each ticket's creation is attributed to its requester, who wrote in.
        ticket_actions.import_tickets(items, actor=None)
        comments += sum(len(item.comments) for item in items)
        done = start + len(items)
        elapsed = time.monotonic() - ticket_started
        _say(stdout, f"  {done:,}/{tickets:,} tickets ({done / elapsed:,.0f}/s)")

    # Imported history runs no ticket hooks: the SLA states and ticket metrics of the demo's
    # tickets (solved ones too, so the SLA report has figures) are built by a task.
    from kefu.sla.tasks import rebuild_all_tickets

    rebuild_all_tickets.enqueue()

    # A bulk load changes the tables' shape completely. Without fresh statistics SQLite (which
    # never gathers them by itself) and PostgreSQL (until autovacuum comes by) plan the view
    # queries for the empty tables they knew, which at 100,000 tickets costs 10x on SQLite.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    seconds = time.monotonic() - started
    _say(stdout, f"Demo data ready in {seconds:.1f}s.")
    return {
        "groups": len(team.groups),
        "agents": len(team.agents),
        "organizations": len(orgs),
        "customers": len(people),
        "tickets": tickets,
        "comments": comments,
        "views": views,
        "macros": macros,
        "seconds": round(seconds, 2),
    }
