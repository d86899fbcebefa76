"""Default rules as data (editable): trigger categories, the notification triggers a new
Zendesk account has, escalation tiers with their automations, and the complaint severity
field (docs/rules.md, "Defaults"). Groups and the field are created only if missing."""

from django.db import migrations

from kefu.core.ids import allocate_ids

TIERS = [
    (
        "tier1",
        "Tier 1 一线支持",
        "Front line: first answer on every request · 一线：所有请求的第一响应",
    ),
    ("tier2", "Tier 2 二线专家", "Experts: answer within 48 hours · 二线专家：48 小时内答复"),
    ("tier3", "Tier 3 研发", "Engineering: fix within 30 days · 研发：30 天内解决"),
]
SEVERITY_TITLE = "Complaint severity / 投诉等级"
SEVERITY_OPTIONS = [
    ("1 Critical / 严重", "complaint_1_critical"),
    ("2 Major / 重要", "complaint_2_major"),
    ("3 Moderate / 一般", "complaint_3_moderate"),
    ("4 Minor / 轻微", "complaint_4_minor"),
]

SIGNATURE = "\n\n— {{ticket.owner.name}}\n{{ticket.url}}"


def notification_triggers():
    return [
        (
            "Notify requester of received request / 通知请求者已收到请求",
            {
                "all": [
                    {"field": "update_type", "operator": "is", "value": "Create"},
                    {"field": "status", "operator": "is_not", "value": "solved"},
                    {"field": "is_public", "operator": "is", "value": True},
                ],
                "any": [],
            },
            [
                {
                    "field": "notification_user",
                    "value": [
                        "requester_and_ccs",
                        "[Request received 已收到您的请求] {{ticket.title}}",
                        "Your request #{{ticket.id}} has been received and is being reviewed "
                        "by our support staff.\n您的请求 #{{ticket.id}} 已收到，客服人员正在处理。"
                        "\n\n{{ticket.description}}",
                    ],
                }
            ],
        ),
        (
            "Notify requester of public comment / 通知请求者有新回复",
            {
                "all": [
                    {"field": "update_type", "operator": "is", "value": "Change"},
                    {"field": "comment_is_public", "operator": "is", "value": True},
                    {"field": "role", "operator": "is", "value": "agent"},
                ],
                "any": [],
            },
            [
                {
                    "field": "notification_user",
                    "value": [
                        "requester_and_ccs",
                        "[#{{ticket.id}}] {{ticket.title}}",
                        "{{ticket.latest_public_comment}}" + SIGNATURE,
                    ],
                }
            ],
        ),
        (
            "Notify group of new ticket / 通知组有新工单",
            {
                "all": [
                    {"field": "update_type", "operator": "is", "value": "Create"},
                    {"field": "assignee_id", "operator": "is", "value": ""},
                    {"field": "group_id", "operator": "present", "value": None},
                ],
                "any": [],
            },
            [
                {
                    "field": "notification_group",
                    "value": [
                        "group_id",
                        "[New ticket 新工单] #{{ticket.id}} {{ticket.title}}",
                        "{{ticket.requester.name}}: {{ticket.description}}\n\n{{ticket.url}}",
                    ],
                }
            ],
        ),
        (
            "Notify assignee of assignment / 通知受理人已分配",
            {
                "all": [
                    {"field": "assignee_id", "operator": "changed", "value": None},
                    {"field": "assignee_id", "operator": "is_not", "value": "current_user"},
                    {"field": "assignee_id", "operator": "present", "value": None},
                ],
                "any": [],
            },
            [
                {
                    "field": "notification_user",
                    "value": [
                        "assignee_id",
                        "[Assigned to you 已分配给您] #{{ticket.id}} {{ticket.title}}",
                        "#{{ticket.id}} {{ticket.title}}\n{{ticket.url}}",
                    ],
                }
            ],
        ),
    ]


def create_defaults(apps, schema_editor):
    db = schema_editor.connection.alias
    Group = apps.get_model("accounts", "Group")
    TicketField = apps.get_model("tickets", "TicketField")
    TicketFieldOption = apps.get_model("tickets", "TicketFieldOption")
    TriggerCategory = apps.get_model("rules", "TriggerCategory")
    Trigger = apps.get_model("rules", "Trigger")
    Automation = apps.get_model("rules", "Automation")

    tiers = {}
    for key, name, description in TIERS:
        group = Group.objects.using(db).filter(name=name).first()
        if group is None:
            group = Group(id=allocate_ids(1, using=db)[0], name=name, description=description)
            group.save(using=db, force_insert=True)
        tiers[key] = group

    field = TicketField.objects.using(db).filter(title=SEVERITY_TITLE).first()
    if field is None:
        field_id, *option_ids = allocate_ids(1 + len(SEVERITY_OPTIONS), using=db)
        field = TicketField(
            id=field_id,
            type="tagger",
            title=SEVERITY_TITLE,
            description="1 critical … 4 minor. Triggers and routing use it. "
            "投诉等级：1 严重 … 4 轻微，触发器与路由使用。",
            title_in_portal=SEVERITY_TITLE,
            position=100,
        )
        field.save(using=db, force_insert=True)
        TicketFieldOption.objects.using(db).bulk_create(
            TicketFieldOption(id=oid, field=field, name=name, value=value, position=i)
            for i, (oid, (name, value)) in enumerate(zip(option_ids, SEVERITY_OPTIONS, strict=True))
        )

    notifications_id, routing_id = allocate_ids(2, using=db)
    notifications = TriggerCategory(id=notifications_id, name="Notifications 通知", position=1)
    notifications.save(using=db, force_insert=True)
    routing = TriggerCategory(id=routing_id, name="Routing and escalation 路由与升级", position=0)
    routing.save(using=db, force_insert=True)

    triggers = [(notifications, t) for t in notification_triggers()]
    severity = f"custom_fields_{field.pk}"
    triggers += [
        (
            routing,
            (
                "Critical complaints are urgent and go to Tier 2 / 严重投诉：紧急并转二线",
                {"all": [{"field": severity, "operator": "is", "value": "complaint_1_critical"}],
                 "any": []},
                [{"field": "priority", "value": "urgent"},
                 {"field": "group_id", "value": tiers["tier2"].pk}],
            ),
        ),
        (
            routing,
            (
                "Major complaints are high priority / 重要投诉：高优先级",
                {"all": [{"field": severity, "operator": "is", "value": "complaint_2_major"}],
                 "any": []},
                [{"field": "priority", "value": "high"}],
            ),
        ),
    ]  # fmt: skip
    ids = allocate_ids(len(triggers), using=db)
    Trigger.objects.using(db).bulk_create(
        Trigger(
            id=tid,
            category=category,
            title=title,
            conditions=conditions,
            actions=actions,
            position=position,
        )
        for position, (tid, (category, (title, conditions, actions))) in enumerate(
            zip(ids, triggers, strict=True), start=1
        )
    )

    automations = [
        (
            "Escalate to Tier 2 after 24 hours / 24 小时未解决升级到二线",
            {
                "all": [
                    {"field": "group_id", "operator": "is", "value": tiers["tier1"].pk},
                    {"field": "status", "operator": "less_than", "value": "pending"},
                    {"field": "NEW", "operator": "greater_than", "value": 23},
                ],
                "any": [],
            },
            [
                {
                    "field": "escalate_to_group",
                    "value": [tiers["tier2"].pk, "Not solved by Tier 1 within 24 hours"],
                }
            ],
        ),
        (
            "Escalate to Tier 3 after 48 hours / 二线 48 小时未解决升级到研发",
            {
                "all": [
                    {"field": "group_id", "operator": "is", "value": tiers["tier2"].pk},
                    {"field": "status", "operator": "less_than", "value": "pending"},
                    {"field": "updated_at", "operator": "greater_than", "value": 47},
                ],
                "any": [],
            },
            [
                {
                    "field": "escalate_to_group",
                    "value": [tiers["tier3"].pk, "No progress in Tier 2 within 48 hours"],
                }
            ],
        ),
    ]
    ids = allocate_ids(len(automations), using=db)
    Automation.objects.using(db).bulk_create(
        Automation(id=aid, title=title, conditions=conditions, actions=actions, position=i)
        for i, (aid, (title, conditions, actions)) in enumerate(
            zip(ids, automations, strict=True), start=1
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("rules", "0001_initial"),
        ("accounts", "0002_light_agent_role"),
        ("tickets", "0003_ticket_list_indexes"),
        ("core", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
