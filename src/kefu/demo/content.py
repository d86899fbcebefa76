"""What the demo says: names, companies, the support team and the conversations, in Chinese
and English. Data only; ``generator`` decides who says what, when.

Placeholders such as ``{order}`` and ``{product}`` are filled per ticket (``_context``).
"""

# Lines of Chinese text count double width, so the 100-column limit would force most of these
# sentences onto two lines mid-phrase; the data reads better whole.
# ruff: noqa: E501

from dataclasses import dataclass

from kefu.tickets.choices import TicketType

type Lang = str  # "zh" or "en"

AGENT_DOMAIN = "kefu-demo.example"  # RFC 2606 names: no demo email can reach a real inbox
FREE_MAIL_DOMAINS = ("example.com", "example.net", "example.org")

# --- People and companies ---------------------------------------------------------------------

# (hanzi, pinyin) so a Chinese name gets a plausible email address.
SURNAMES = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"),
    ("高", "gao"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"), ("彭", "peng"),
]  # fmt: skip
GIVEN_NAMES = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("秀英", "xiuying"), ("敏", "min"),
    ("静", "jing"), ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"),
    ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"),
    ("超", "chao"), ("秀兰", "xiulan"), ("霞", "xia"), ("平", "ping"), ("刚", "gang"),
    ("婷婷", "tingting"), ("子涵", "zihan"), ("浩然", "haoran"), ("思远", "siyuan"),
    ("雨桐", "yutong"), ("欣怡", "xinyi"), ("梓萱", "zixuan"), ("俊杰", "junjie"),
    ("嘉怡", "jiayi"), ("晓东", "xiaodong"), ("建国", "jianguo"), ("丹", "dan"), ("宇", "yu"),
]  # fmt: skip
FIRST_NAMES = [
    "Emma", "Liam", "Olivia", "Noah", "Ava", "James", "Sophia", "Lucas", "Mia", "Ethan",
    "Isabella", "Mason", "Charlotte", "Logan", "Amelia", "Daniel", "Harper", "Henry", "Grace",
    "Samuel", "Chloe", "Jack", "Ella", "Owen", "Lily", "Ryan", "Zoe", "Nathan", "Hannah",
    "David", "Sarah", "Michael", "Laura", "Peter", "Rachel", "Tom", "Kevin", "Vivian",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Johnson", "Brown", "Taylor", "Anderson", "Thomas", "Moore", "Martin", "Jackson",
    "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Hall", "Young", "King",
    "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Carter", "Mitchell", "Roberts",
    "Turner", "Phillips", "Campbell", "Parker", "Evans", "Edwards", "Collins", "Nguyen",
    "Patel", "Kim", "Murphy",
]  # fmt: skip
EN_TIME_ZONES = (
    "America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Berlin",
    "Asia/Singapore", "Australia/Sydney",
)  # fmt: skip


@dataclass(frozen=True)
class OrgSpec:
    name: str
    domain: str
    lang: Lang
    shared_tickets: bool = False
    tags: tuple[str, ...] = ()
    group: str | None = None  # key of GROUPS: where its tickets usually go


ORGANIZATIONS = [
    OrgSpec("华信科技 Huaxin Technology", "huaxin-tech.example", "zh", True, ("enterprise", "vip"),
            group="tier2"),
    OrgSpec("东域商城 Dongyu Mall", "dongyu-mall.example", "zh", False, ("retail",)),
    OrgSpec("青禾食品 Qinghe Foods", "qinghe-foods.example", "zh", True, ("enterprise",)),
    OrgSpec("远航物流 Yuanhang Logistics", "yuanhang-logistics.example", "zh", False,
            ("logistics",)),
    OrgSpec("星联通信 Xinglian Telecom", "xinglian.example", "zh", True, ("enterprise", "vip")),
    OrgSpec("云杉教育 Yunshan Education", "yunshan-edu.example", "zh", False, ("education",)),
    OrgSpec("Northwind Outfitters", "northwind-outfitters.example", "en", False, ("retail",)),
    OrgSpec("Bluefin Analytics", "bluefin-analytics.example", "en", True, ("enterprise", "vip"),
            group="tier2"),
    OrgSpec("Maple & Stone Furniture", "maplestone.example", "en", False, ("retail",)),
    OrgSpec("Harbor Health Clinics", "harborhealth.example", "en", True, ("healthcare",)),
    OrgSpec("Zenith Bikes", "zenithbikes.example", "en", False, ("retail",)),
]  # fmt: skip


@dataclass(frozen=True)
class GroupSpec:
    key: str
    name: str
    description: str
    default: bool = False


# The tier groups are the ones the rules app's data migration creates (rules/migrations/0002:
# its escalation automations and complaint triggers point at them), so the demo reuses them.
GROUPS = [
    GroupSpec("tier1", "Tier 1 一线支持", "First answer on every request · 所有请求的第一响应",
              default=True),
    GroupSpec("tier2", "Tier 2 二线专家", "Accounts, logins, bugs, API and integrations · 技术问题"),
    GroupSpec("aftersales", "售后服务 After-sales", "Returns, repairs, warranty, complaints · 退换修"),
    GroupSpec("billing", "财务 Billing", "Invoices, payments, refunds to cards · 发票与付款"),
]  # fmt: skip

# (name, email local part, language, groups). The first is the team lead, in every group.
AGENTS = [
    ("周敏", "zhou.min", "zh", ("tier1", "tier2", "aftersales", "billing")),
    ("李娜", "li.na", "zh", ("tier1",)),
    ("王强", "wang.qiang", "zh", ("tier1",)),
    ("Grace Lin", "grace.lin", "en", ("tier1", "aftersales")),
    ("Daniel Brooks", "daniel.brooks", "en", ("tier1",)),
    ("陈杰", "chen.jie", "zh", ("tier2",)),
    ("赵磊", "zhao.lei", "zh", ("tier2",)),
    ("Priya Raman", "priya.raman", "en", ("tier2", "tier1")),
    ("黄丽", "huang.li", "zh", ("aftersales",)),
    ("刘洋", "liu.yang", "zh", ("aftersales",)),
    ("Oliver Grant", "oliver.grant", "en", ("aftersales",)),
    ("孙芳", "sun.fang", "zh", ("billing",)),
    ("Emily Wu", "emily.wu", "en", ("billing", "aftersales")),
]  # fmt: skip

PRODUCTS: dict[Lang, list[str]] = {
    "zh": [
        "X200 扫地机器人", "S3 智能手表", "Air Pro 蓝牙耳机", "Ergo 5 人体工学椅", "P9 空气净化器",
        "K8 机械键盘", "Mini 咖啡机", "T7 平板电脑", "智能门锁 L2", "4K 投影仪 V6",
    ],
    "en": [
        "X200 robot vacuum", "S3 smartwatch", "Air Pro earbuds", "Ergo 5 office chair",
        "P9 air purifier", "K8 mechanical keyboard", "Mini espresso machine", "T7 tablet",
        "L2 smart lock", "V6 4K projector",
    ],
}  # fmt: skip


# --- Conversations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    """One kind of request: where it goes, how it is tagged, and what people say about it.

    Texts are keyed by language; ``{placeholders}`` are filled per ticket. Subjects travel with
    the first message they summarize, and each agent question with the answer it gets.
    """

    key: str
    group: str  # a GroupSpec key
    tags: tuple[str, ...]
    types: tuple[str | None, ...]
    requests: dict[Lang, list[tuple[str, str]]]  # (subject, first message)
    asks: dict[Lang, list[tuple[str, str]]]  # (the agent asks, the customer answers)
    notes: dict[Lang, list[str]]  # internal notes
    resolutions: dict[Lang, list[str]]
    weight: int = 10
    priorities: tuple[int, int, int, int] = (15, 55, 22, 8)  # low, normal, high, urgent


# fmt: off
TOPICS = [
    Topic(
        key="refund", group="aftersales", tags=("refund", "return"), weight=16,
        types=(TicketType.QUESTION, TicketType.INCIDENT, None),
        requests={
            "zh": [
                ("申请七天无理由退货：订单 {order}", "您好，我在贵司购买的{product}（订单号 {order}）收到后不太满意，包装还没拆，想申请七天无理由退货，请问怎么操作？"),
                ("退货寄回一周了，退款还没到账", "上周已经把{product}寄回去了，快递单号 {tracking}，到现在退款 {amount} 还没有到账，麻烦帮忙查一下。"),
                ("收到的颜色不对，要求退款", "收到的{product}和页面描述的颜色不一样，订单 {order}，我想退货退款。"),
            ],
            "en": [
                ("Return and refund for order {order}", "Hello, I received my {product} (order {order}) but it isn't what I expected. It's still unopened and I'd like to return it for a refund. What do I need to do?"),
                ("Refund not received a week after returning", "I sent the {product} back last week (tracking {tracking}) but I still haven't received my refund of {amount}. Could you look into it?"),
                ("Wrong colour delivered – refund please", "The {product} I received is a different colour from the one I ordered (order {order}). I'd like a refund, please."),
            ],
        },
        asks={
            "zh": [
                ("麻烦您提供一下商品外包装和序列号的照片，我们确认后会马上为您生成退货单。", "照片已经拍好附上了，序列号在盒子侧面。"),
                ("请问退回时是否保留了原包装和配件？另外麻烦提供一下支付账户的后四位，方便财务核对。", "原包装和配件都在，付款卡号后四位是 {last4}。"),
            ],
            "en": [
                ("Could you send us a photo of the packaging and the serial number? Once we have it we'll create the return label for you.", "Photos attached — the serial number is on the side of the box."),
                ("Did you keep the original box and accessories? Please also tell us the last four digits of the card you paid with so finance can match the payment.", "Yes, everything is in the original box. The card ends in {last4}."),
            ],
        },
        notes={
            "zh": ["已和仓库确认，退货件 {tracking} 昨天已签收，等质检。", "客户是第二次退同一款商品，已提醒质检重点检查。"],
            "en": ["Warehouse confirms return {tracking} arrived yesterday; waiting for QC.", "Second return of this model by this customer — flagged to QC."],
        },
        resolutions={
            "zh": ["退款 {amount} 已经原路退回，一般 1–3 个工作日到账，请留意银行通知。", "已为您办理退货，退货单号 {tracking}，快递员明天上门取件，仓库签收后 24 小时内为您退款。"],
            "en": ["Your refund of {amount} has been issued to your original payment method. It usually shows up within 1–3 business days.", "Your return is approved. A courier will collect the parcel tomorrow (return {tracking}); the refund is processed within 24 hours of it reaching us."],
        },
    ),
    Topic(
        key="invoice", group="billing", tags=("invoice", "billing"), weight=10,
        types=(TicketType.QUESTION, TicketType.TASK), priorities=(25, 60, 12, 3),
        requests={
            "zh": [
                ("申请开具增值税专用发票", "您好，我们公司需要开增值税专用发票，订单号 {order}，金额 {amount}，请问需要提供哪些信息？"),
                ("发票抬头开错了，需要重开", "发票 {invoice} 的抬头写错了，应该是我们公司的全称，麻烦作废重开。"),
                ("订单 {order} 的电子发票在哪里下载？", "订单 {order} 已经确认收货，但是一直没收到电子发票，请问在哪里可以下载？"),
            ],
            "en": [
                ("Invoice needed for order {order}", "Hi, our accounts team needs a proper invoice for order {order} ({amount}). What details do you need from us?"),
                ("Wrong company name on invoice {invoice}", "Invoice {invoice} has the wrong company name on it. Could you cancel it and issue a corrected one?"),
                ("Where can I download my invoices?", "I can't find the invoice for order {order} in my account. Where do I download it?"),
            ],
        },
        asks={
            "zh": [
                ("请提供完整的开票信息：公司名称、纳税人识别号、地址电话、开户行及账号。", "开票信息如下：{company}，税号 91310000{last4}5678X，其他信息见附件。"),
                ("请确认一下新的发票抬头和税号，我们核对后会重新开具。", "抬头是「{company}」，税号没有变。"),
            ],
            "en": [
                ("Please send us the full billing details: company name, VAT/tax number and billing address.", "Company: {company}. VAT number GB{last4}1234. Billing address attached."),
                ("Could you confirm the exact company name and tax number you'd like on the corrected invoice?", "It should read \"{company}\"; the tax number stays the same."),
            ],
        },
        notes={
            "zh": ["原发票 {invoice} 已在税务系统作废，待重开。", "客户要求开专票，需要财务主管审批。"],
            "en": ["Original invoice {invoice} voided in the accounting system; reissue pending.", "Customer needs a VAT invoice — needs sign-off from the finance lead."],
        },
        resolutions={
            "zh": ["新的发票已经开具并发送到您的邮箱，发票号 {invoice}，请查收。", "电子发票可以在「我的订单 → 订单详情 → 下载发票」中下载，我们也已重新发送到您的邮箱。"],
            "en": ["The invoice ({invoice}) has been issued and emailed to you.", "You'll find every invoice under My orders → Order details → Download invoice. I've also emailed this one to you."],
        },
    ),
    Topic(
        key="delivery", group="tier1", tags=("delivery", "shipping"), weight=18,
        types=(TicketType.QUESTION, TicketType.INCIDENT),
        requests={
            "zh": [
                ("快递五天没有更新物流信息", "我的订单 {order} 已经下单五天了，物流信息一直停在“已揽收”，快递单号 {tracking}，请问是什么情况？"),
                ("包裹显示已签收但我没收到", "快递显示昨天已签收，但是家里没人收到，也不在快递柜里，订单号 {order}。"),
                ("能否修改订单 {order} 的收货地址？", "下单后发现地址填错了，订单 {order} 还没发货的话能改一下地址吗？"),
            ],
            "en": [
                ("Where is my order {order}?", "I placed order {order} five days ago and the tracking ({tracking}) still says 'label created'. Is it actually on its way?"),
                ("Parcel marked delivered but not received", "The tracking says my parcel was delivered yesterday, but nothing arrived and the neighbours don't have it. Order {order}."),
                ("Can I change the delivery address for {order}?", "I entered the wrong address for order {order}. If it hasn't shipped yet, can you change it?"),
            ],
        },
        asks={
            "zh": [
                ("麻烦您再确认一下收货地址和联系电话，我们这边联系快递公司核实。", "地址没错，电话是 {phone}，白天都可以联系。"),
                ("请问方便问一下门卫或邻居吗？快递公司需要确认后才能立案调查。", "问过门卫和邻居了，都说没见到这个包裹。"),
            ],
            "en": [
                ("Could you confirm the delivery address and a phone number the courier can reach you on?", "The address is right; the courier can call me on {phone}."),
                ("Could you check with your building's reception or neighbours? The courier needs that before opening an investigation.", "I asked reception and both neighbours — nobody has it."),
            ],
        },
        notes={
            "zh": ["已在快递公司后台提交查件工单，单号 {tracking}。", "仓库反馈该批次因暴雨延迟发出。"],
            "en": ["Opened a trace with the courier for {tracking}.", "Warehouse says this batch left late because of the storm."],
        },
        resolutions={
            "zh": ["快递公司已经找到包裹，今天会重新派送，请保持电话畅通。", "我们已为您重新补发，新的快递单号 {tracking}，预计 2 天内送达。"],
            "en": ["The courier found the parcel and will redeliver it today.", "We've sent a replacement; the new tracking number is {tracking} and it should arrive within 2 days."],
        },
    ),
    Topic(
        key="repair", group="aftersales", tags=("repair", "warranty"), weight=10,
        types=(TicketType.INCIDENT, TicketType.PROBLEM),
        requests={
            "zh": [
                ("{product}无法开机，申请保修", "我的{product}用了四个月，昨天突然无法开机了，充电也没有反应，请问在保修期内吗？怎么申请维修？"),
                ("寄修回来还是同样的问题", "{product}寄修回来以后还是会自动关机，已经是第二次了，希望能直接换新。"),
                ("维修进度查询", "上周寄修的{product}（寄修单号 {tracking}），现在到哪一步了？"),
            ],
            "en": [
                ("{product} won't turn on", "My {product} is four months old and suddenly won't turn on, even when charging. Is it covered by the warranty, and how do I get it repaired?"),
                ("Same fault after repair", "My {product} came back from repair but it still shuts itself off. This is the second time — I'd like a replacement."),
                ("Status of my repair", "I sent my {product} in for repair last week (tracking {tracking}). Any news?"),
            ],
        },
        asks={
            "zh": [
                ("请提供一下购买凭证和机身背面的序列号，我们为您登记保修。", "购买凭证截图已附上，序列号是 SN{last4}7Q2。"),
                ("请问设备有没有进水或摔过？麻烦拍一段故障现象的视频给我们。", "没有摔过也没进水，视频已经上传了。"),
            ],
            "en": [
                ("Please send your proof of purchase and the serial number from the back of the device so we can register the warranty claim.", "Receipt attached; the serial number is SN{last4}7Q2."),
                ("Has the device been dropped or exposed to water? A short video of the fault would help our technicians.", "Never dropped, never wet. Video attached."),
            ],
        },
        notes={
            "zh": ["维修中心检测：主板电源管理芯片故障，属保修范围。", "等配件到货，预计下周二。"],
            "en": ["Repair centre diagnosis: power management chip on the main board, covered by warranty.", "Waiting for the replacement part, expected next Tuesday."],
        },
        resolutions={
            "zh": ["设备已维修完成并寄回，快递单号 {tracking}，本次维修免费，维修后享受 90 天保修。", "经检测为批次问题，我们为您直接更换了新机，已发出，单号 {tracking}。"],
            "en": ["Your device has been repaired free of charge and shipped back (tracking {tracking}). The repair carries a 90-day warranty.", "Our technicians found a known batch fault, so we've sent you a brand-new unit instead (tracking {tracking})."],
        },
    ),
    Topic(
        key="login", group="tier2", tags=("login", "account"), weight=10,
        types=(TicketType.INCIDENT, TicketType.QUESTION), priorities=(8, 50, 30, 12),
        requests={
            "zh": [
                ("无法登录，一直提示密码错误", "今天登录的时候一直提示密码错误，我确定密码没改过，重置密码也收不到短信验证码。"),
                ("手机号换了，收不到验证码", "我的手机号已经停用了，现在收不到验证码，没办法登录账号，怎么办？"),
                ("账号被锁定了", "刚才输错了几次密码，现在提示账号已锁定，公司同事都在等我处理订单。"),
            ],
            "en": [
                ("Can't log in – password reset email never arrives", "I can't log in since this morning. It says my password is wrong, and the reset email never arrives (I checked spam)."),
                ("Two-factor code not working", "My authenticator app was on my old phone and now I can't get past the two-factor step."),
                ("Account locked after too many attempts", "I mistyped my password a few times and now the account is locked. My team is waiting on me."),
            ],
        },
        asks={
            "zh": [
                ("为了保护账号安全，请提供一下注册时使用的邮箱和最近一笔订单号，我们核实身份后帮您处理。", "注册邮箱就是现在发邮件的这个，最近一笔订单是 {order}。"),
                ("请问是在网页端还是 App 上登录？方便的话截个图给我们。", "在 App 上，截图见附件。"),
            ],
            "en": [
                ("To keep your account safe, please confirm the email you signed up with and your most recent order number.", "It's this address, and my last order was {order}."),
                ("Are you logging in on the website or in the app? A screenshot of the error would help.", "The app on my phone — screenshot attached."),
            ],
        },
        notes={
            "zh": ["查日志：该账号 10 分钟内 12 次失败登录，已触发风控锁定。", "短信通道供应商今天上午有故障，已联系。"],
            "en": ["Logs show 12 failed attempts in 10 minutes; the risk engine locked the account.", "Our SMS provider had an outage this morning — raised with them."],
        },
        resolutions={
            "zh": ["已为您解除账号锁定，并发送了重置密码的链接，请在 30 分钟内完成重置。", "已经将账号绑定的手机号更新为新号码，现在可以正常接收验证码了。"],
            "en": ["I've unlocked your account and sent a password reset link — it's valid for 30 minutes.", "Two-factor has been reset on your account; you can set it up again the next time you log in."],
        },
    ),
    Topic(
        key="payment", group="billing", tags=("payment", "charge"), weight=8,
        types=(TicketType.INCIDENT, TicketType.QUESTION), priorities=(5, 45, 35, 15),
        requests={
            "zh": [
                ("同一个订单被扣了两次款", "订单 {order} 付款的时候网络卡了一下，结果银行卡被扣了两次 {amount}，请尽快退还多扣的钱。"),
                ("没开自动续费却被扣了会员费", "我没有开通过自动续费，但是这个月又被扣了会员费 {amount}，请帮我取消并退款。"),
                ("支付成功但订单显示未付款", "订单 {order} 已经付款 {amount}，银行也扣钱了，但订单还显示待付款。"),
            ],
            "en": [
                ("Charged twice for one order", "I was charged {amount} twice for order {order}. Please refund the duplicate payment."),
                ("Cancel automatic renewal and refund", "I never turned on auto-renewal but I was charged {amount} for the membership again this month. Please cancel it and refund me."),
                ("Payment taken but order shows unpaid", "My bank shows {amount} paid for order {order}, but the order still says awaiting payment."),
            ],
        },
        asks={
            "zh": [
                ("请提供一下银行扣款记录的截图（可以遮挡卡号），我们提交给支付渠道核实。", "扣款记录截图已附上，两笔都是同一分钟扣的。"),
                ("请确认一下扣款时间和金额，我们这边和支付平台对账。", "都是 {amount}，时间是昨天晚上八点左右。"),
            ],
            "en": [
                ("Could you send a screenshot of the charges on your statement (you can hide the card number)?", "Screenshot attached — both charges are in the same minute."),
                ("Please confirm the date and amount of each charge so we can reconcile it with the payment provider.", "Both were {amount}, yesterday at around 8pm."),
            ],
        },
        notes={
            "zh": ["支付渠道对账：确有两笔成功交易，第二笔为重复回调。", "已提交财务退款审批。"],
            "en": ["Payment provider shows two captured transactions; the second was a duplicate callback.", "Refund submitted for finance approval."],
        },
        resolutions={
            "zh": ["多扣的 {amount} 已经退回，预计 3–5 个工作日到账，给您带来不便非常抱歉。", "已为您关闭自动续费，本月的会员费 {amount} 也已全额退款。"],
            "en": ["The duplicate charge of {amount} has been refunded; it takes 3–5 business days to appear.", "Auto-renewal is now off and this month's {amount} has been refunded in full."],
        },
    ),
    Topic(
        key="bug", group="tier2", tags=("bug", "api"), weight=6,
        types=(TicketType.PROBLEM, TicketType.INCIDENT), priorities=(5, 35, 40, 20),
        requests={
            "zh": [
                ("订单查询 API 频繁返回 500", "从昨天下午开始调用订单查询接口经常返回 500，请求 ID：{request_id}，影响我们的发货系统，请尽快处理。"),
                ("App 升级后闪退（iOS 17）", "App 升级到最新版本以后一打开就闪退，手机是 iPhone 13，系统 iOS 17.4。"),
                ("报表导出数据不完整", "导出上个月的订单报表，只有前 1000 行，后面的数据都没有。"),
            ],
            "en": [
                ("API returns 500 on /orders", "Since yesterday afternoon the orders endpoint returns HTTP 500 for about a third of our calls (request id {request_id}). This is blocking our fulfilment."),
                ("App crashes on startup (Android 14)", "After the latest update the app crashes as soon as I open it. Pixel 7, Android 14."),
                ("CSV export is missing rows", "Exporting last month's orders only gives me the first 1,000 rows."),
            ],
        },
        asks={
            "zh": [
                ("麻烦提供一下完整的请求参数和出错时间（精确到分钟），我们让研发查一下日志。", "请求参数见附件，出错集中在 14:05 到 14:40。"),
                ("请问卸载重装后问题还在吗？方便的话导出一下崩溃日志发给我们。", "重装了还是一样，日志已附上。"),
            ],
            "en": [
                ("Could you send the full request (without secrets) and the exact times it failed? Our engineers will check the logs.", "Request attached; the failures were between 14:05 and 14:40 UTC."),
                ("Does it still happen after reinstalling? If so, please send us the crash log.", "Same after reinstalling. Crash log attached."),
            ],
        },
        notes={
            "zh": ["研发确认：新版本分页参数回归，已提 bug，修复预计周四发布。", "已定位到数据库慢查询，临时扩容。"],
            "en": ["Engineering confirmed a regression in pagination; fix scheduled for Thursday's release.", "Traced to a slow query; temporary capacity increase applied."],
        },
        resolutions={
            "zh": ["修复版本已经上线，我们观察了 24 小时没有再出现该问题，请您那边也确认一下。", "新版本已修复该问题，请更新后再试。"],
            "en": ["The fix is live and we've seen no errors in the last 24 hours. Please let us know if you still see any.", "The new version fixes this — please update and try again."],
        },
    ),
    Topic(
        key="presales", group="tier1", tags=("presales", "product_question"), weight=9,
        types=(TicketType.QUESTION,), priorities=(30, 60, 9, 1),
        requests={
            "zh": [
                ("{product}标配充电器吗？保修多久？", "想咨询一下，{product}是标配充电器吗？另外保修期是多久？"),
                ("企业批量采购有优惠吗？", "我们公司想采购 50 台{product}，请问有企业价格吗？能开专票吗？"),
                ("请问{product}有没有现货？", "{product}页面显示预售，请问什么时候能发货？"),
            ],
            "en": [
                ("Does the {product} come with a charger?", "Quick question before I buy: does the {product} come with a charger, and how long is the warranty?"),
                ("Bulk pricing for 50 units", "We're looking to buy 50 units of the {product} for our office. Do you offer volume pricing?"),
                ("Is the {product} in stock?", "The {product} page says pre-order. When will it ship?"),
            ],
        },
        asks={
            "zh": [
                ("请问您主要在什么场景下使用？我们好推荐合适的型号。", "主要是办公室用，大概 20 个人。"),
                ("方便留一下联系电话吗？我们的企业客户经理会联系您。", "可以，电话 {phone}。"),
            ],
            "en": [
                ("What will you mainly use it for? Then I can recommend the right model.", "Mostly in the office, for about 20 people."),
                ("Could you share a phone number? Our business sales team will call you.", "Sure: {phone}."),
            ],
        },
        notes={
            "zh": ["已转企业销售跟进。", "客户询价，已发报价单。"],
            "en": ["Passed to business sales.", "Quote sent to the customer."],
        },
        resolutions={
            "zh": ["{product}标配充电器，整机保修一年，电池保修两年。如有其他问题欢迎随时联系我们。", "报价单已发送到您的邮箱，50 台以上可享受 9 折，含税含运费。"],
            "en": ["The {product} comes with a charger and a one-year warranty (two years on the battery). Let us know if you have any other questions.", "I've emailed you a quote: 10% off for 50+ units, including tax and shipping."],
        },
    ),
    Topic(
        key="account", group="tier1", tags=("account",), weight=7,
        types=(TicketType.QUESTION, None), priorities=(30, 60, 9, 1),
        requests={
            "zh": [
                ("如何修改账号绑定的邮箱？", "我想把账号绑定的邮箱改成公司邮箱，在设置里找不到入口。"),
                ("会员积分没有到账", "上个月的订单 {order} 应该有 {points} 积分，但是一直没到账。"),
                ("怎么给同事开子账号？", "我们部门有三个同事也要下单，能不能在公司账号下面加子账号？"),
            ],
            "en": [
                ("Change the email on my account", "I'd like to change the email address on my account to my work address but can't find where to do it."),
                ("Loyalty points missing", "My order {order} should have earned {points} points but they never showed up."),
                ("How do I add a colleague to our account?", "Three people in my team need to place orders too. Can we add them under our company account?"),
            ],
        },
        asks={
            "zh": [
                ("为了账号安全，请用原邮箱回复这封邮件确认变更。", "已经用原邮箱回复了，请帮忙修改。"),
                ("请提供一下确认收货的时间，积分一般在确认收货 7 天后发放。", "是上个月 {days} 号确认收货的。"),
            ],
            "en": [
                ("For security, please confirm the change by replying from the address currently on the account.", "Done — I've replied from my old address."),
                ("When was the order delivered? Points are added 7 days after delivery.", "It arrived on the {days}th of last month."),
            ],
        },
        notes={
            "zh": ["积分补发需要运营审批。", "身份已核实。"],
            "en": ["Points top-up needs approval from the loyalty team.", "Identity verified."],
        },
        resolutions={
            "zh": ["已为您完成修改，下次登录即可生效。", "{points} 积分已经补发到您的账户，感谢您的耐心等待。"],
            "en": ["Done — the change is in place from your next sign-in.", "We've added the missing {points} points to your account."],
        },
    ),
    Topic(
        key="complaint", group="aftersales", tags=("complaint",), weight=4,
        types=(TicketType.INCIDENT, None), priorities=(0, 25, 50, 25),
        requests={
            "zh": [
                ("投诉：安装师傅迟到三个小时", "约好上午十点上门安装{product}，师傅下午一点才到，也没提前打电话，浪费了我半天时间，希望给个说法。"),
                ("多次联系都没有解决", "这个问题我已经联系了三次了，每次都说会处理，到现在还没有结果。"),
            ],
            "en": [
                ("Complaint about the installation service", "The technician was booked for 10am to install my {product} and turned up at 1pm without calling. I took the morning off for this."),
                ("Nobody has fixed this in a week", "This is the third time I'm writing about the same problem and nobody has actually fixed it."),
            ],
        },
        asks={
            "zh": [("非常抱歉给您带来不好的体验，请问方便留一个电话吗？我们主管会亲自联系您。", "电话 {phone}，今天下午都在。")],
            "en": [("I'm really sorry about this. Could you share a phone number? My supervisor would like to call you personally.", "You can reach me on {phone} this afternoon.")],
        },
        notes={
            "zh": ["已与安装服务商核实，师傅前一单超时。按补偿标准发放 {amount} 优惠券。", "客户情绪激动，建议主管回电。"],
            "en": ["Checked with the installation partner: the previous job overran. Compensation voucher of {amount} approved.", "Customer is upset — supervisor to call back."],
        },
        resolutions={
            "zh": ["再次向您致歉。我们已对服务商进行考核，并为您发放了 {amount} 的补偿券，已放入您的账户。"],
            "en": ["Again, our apologies. We've raised it with our installation partner and added a {amount} voucher to your account."],
        },
    ),
    Topic(
        key="order_change", group="tier1", tags=("order_change",), weight=9,
        types=(TicketType.QUESTION, TicketType.TASK),
        requests={
            "zh": [
                ("取消订单 {order}", "订单 {order} 拍错了颜色，还没发货的话请帮我取消。"),
                ("修改订单 {order} 的送货时间", "能不能把订单 {order} 的送货时间改到周六？工作日家里没人。"),
            ],
            "en": [
                ("Cancel order {order}", "I ordered the wrong colour — please cancel order {order} if it hasn't shipped yet."),
                ("Change delivery date for order {order}", "Could you move the delivery of order {order} to Saturday? Nobody is home on weekdays."),
            ],
        },
        asks={
            "zh": [("请确认一下是整单处理还是只改其中一件商品？", "整单。")],
            "en": [("Is that for the whole order or just one item?", "The whole order, please.")],
        },
        notes={
            "zh": ["仓库已拦截出库。"],
            "en": ["Warehouse stopped the shipment before dispatch."],
        },
        resolutions={
            "zh": ["已按您的要求处理订单 {order}，如有退款 {amount} 将在 1–3 个工作日内原路退回。"],
            "en": ["Order {order} is updated as you asked; any refund ({amount}) goes back to your card within 1–3 business days."],
        },
    ),
    Topic(
        key="integration", group="tier2", tags=("integration", "api"), weight=4,
        types=(TicketType.TASK, TicketType.QUESTION), priorities=(20, 55, 20, 5),
        requests={
            "zh": [
                ("对接 ERP 需要开通 API 权限", "我们准备把订单数据对接到公司的 ERP 系统，请问有开放 API 吗？需要申请权限吗？"),
                ("单点登录（SSO）配置报错", "配置 SSO 的时候回调地址一直报错 invalid_redirect_uri。"),
            ],
            "en": [
                ("Need API access for our ERP integration", "We want to connect our ERP to your platform. Is there an API, and how do we get credentials?"),
                ("SSO setup with Azure AD fails", "Setting up single sign-on with Azure AD fails with invalid_redirect_uri."),
            ],
        },
        asks={
            "zh": [("请提供一下贵司的企业账号 ID 和对接负责人的联系方式，我们开通测试环境。", "企业账号 ID 是 {last4}，对接负责人就是我，电话 {phone}。")],
            "en": [("Please send your company account ID and the technical contact's email so we can enable a sandbox.", "Account ID {last4}; I'm the technical contact.")],
        },
        notes={
            "zh": ["已开通沙箱环境，API key 通过安全渠道发送。"],
            "en": ["Sandbox enabled; API key sent through the secure channel."],
        },
        resolutions={
            "zh": ["API 权限已开通，文档地址和密钥已发送给对接负责人，测试环境有效期 30 天。", "回调地址需要和控制台里配置的完全一致（包括结尾的 /），修改后已验证可以正常登录。"],
            "en": ["API access is enabled and the docs and key have gone to your technical contact. The sandbox is valid for 30 days.", "The redirect URI must match the one in the console exactly, including the trailing slash. With that changed, sign-in works."],
        },
    ),
]

# What people say whatever the topic.
PROGRESS: dict[Lang, list[str]] = {
    "zh": ["已经为您反馈给相关部门，预计 {days} 个工作日内给您答复，请耐心等待。", "我们正在处理中，有进展会第一时间通知您。"],
    "en": ["I've passed this to the team responsible; expect an answer within {days} business days.", "We're working on it and will update you as soon as we hear back."],
}
FOLLOW_UPS: dict[Lang, list[str]] = {
    "zh": ["请问现在有进展了吗？", "已经等了好几天了，麻烦尽快处理。", "补充一下：问题今天又出现了。"],
    "en": ["Any update on this?", "It's been a few days now — could someone please look at this?", "One more thing: it happened again today."],
}
HOLD_NOTES: dict[Lang, list[str]] = {
    "zh": ["等待供应商回复，三天后跟进。", "等配件到货后再联系客户。", "等财务月底对账后处理。"],
    "en": ["Waiting on the supplier; follow up in 3 days.", "On hold until the replacement part arrives.", "Waiting for finance's month-end reconciliation."],
}
CUSTOMER_SIGN_OFFS: dict[Lang, list[str]] = {
    "zh": ["", "\n\n谢谢！", "\n\n谢谢", "\n\n辛苦了"],
    "en": ["", "\n\nThanks,\n{customer}", "\n\n{customer}", "\n\nCheers,\n{customer}"],
}
AGENT_REPLY: dict[Lang, str] = {
    "zh": "{customer}您好，\n\n{body}\n\n{agent}\n客服中心",
    "en": "Hi {customer},\n\n{body}\n\nBest regards,\n{agent}",
}
# Who invoices go to when the customer has no organization with us.
COMPANIES: dict[Lang, list[str]] = {
    "zh": ["杭州明远贸易有限公司", "深圳启航电子有限公司", "成都青木文化传媒有限公司"],
    "en": ["Brightline Trading Ltd.", "Oakfield Design Studio", "Riverside Dental Group"],
}
# fmt: on
