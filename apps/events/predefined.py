"""The event types Tracardi ships, with their journey states, tags and profile mappings.

Tracardi copies a predefined event's properties into event traits and from there into the
profile; here the two steps are one mapping from the event property to the profile field.
Where Tracardi's profile keeps e-mails and phones as objects (`data.contact.email.main`), an
event may send either the plain value (`properties.email: "a@b.c"`, as Tracardi's docs show)
or the object (`properties.email.main`); both forms are mapped.

`PREDEFINED_EVENT_TYPES` is plain data; `predefined_event_types_install` writes it with the
models it is given (the data migration passes its historical models).
"""

from typing import Any

SET, SET_IF_EMPTY, APPEND, ADD, SUBTRACT, INCREMENT, DELETE = (
    "set",
    "set_if_empty",
    "append",
    "add",
    "subtract",
    "increment",
    "delete",
)


def _rule(
    profile_path: str,
    event_path: str = "",
    operation: str = SET,
    *,
    condition: str = "",
    amount: float = 1,
) -> dict[str, Any]:
    return {
        "profile_path": profile_path,
        "event_path": event_path,
        "operation": operation,
        "condition": condition,
        "amount": amount,
    }


def _copy(pairs: list[tuple[str, str]], operation: str = SET) -> list[dict[str, Any]]:
    return [_rule(profile_path, event_path, operation) for profile_path, event_path in pairs]


def _contact(profile_path: str, event_path: str, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    """An e-mail or phone sent as a plain value (-> `main`) or as an object of kinds."""
    not_object = " AND ".join(f"event@{event_path}.{kind} NOT EXISTS" for kind in kinds)
    return [
        _rule(
            f"{profile_path}.main",
            event_path,
            condition=f"event@{event_path} NOT EMPTY AND {not_object}",
        ),
        *(_rule(f"{profile_path}.{kind}", f"{event_path}.{kind}") for kind in kinds),
    ]


EMAIL_KINDS = ("main", "business", "private")
PHONE_KINDS = ("main", "business", "mobile", "whatsapp")
MESSENGERS = ("twitter", "whatsapp", "discord", "slack", "telegram", "wechat", "viber", "signal")


def _person(prefix: str = "properties") -> list[dict[str, Any]]:
    return [
        *_contact("data.contact.email", f"{prefix}.email", EMAIL_KINDS),
        *_copy(
            [
                ("data.pii.firstname", f"{prefix}.firstname"),
                ("data.pii.lastname", f"{prefix}.lastname"),
                ("data.identifier.token", f"{prefix}.login"),
            ]
        ),
    ]


IDENTIFICATION = [
    *_person(),
    *_contact("data.contact.phone", "properties.phone", PHONE_KINDS),
    *_copy(
        [
            ("data.identifier.id", "properties.id"),
            ("data.identifier.passport", "properties.passport"),
            ("data.identifier.credit_card", "properties.credit_card"),
            ("data.identifier.badge", "properties.badge"),
            *((f"data.contact.app.{app}", f"properties.{app}") for app in MESSENGERS),
        ]
    ),
    _rule("data.identifier.coupons", "properties.coupon", APPEND),
]

_PROFILE_UPDATE_FIELDS = (
    "pii.firstname pii.lastname pii.name pii.birthday pii.language.native pii.language.spoken "
    "pii.gender pii.education.level pii.civil.status pii.attributes.height "
    "pii.attributes.weight pii.attributes.shoe_number "
    "identifier.id identifier.token identifier.passport identifier.credit_card "
    "identifier.coupons identifier.badge "
    + " ".join(f"contact.app.{app}" for app in MESSENGERS)
    + " contact.address.town contact.address.county contact.address.country "
    "contact.address.postcode contact.address.street contact.address.other "
    "media.image media.webpage media.social.twitter media.social.facebook media.social.youtube "
    "media.social.instagram media.social.tiktok media.social.linkedin media.social.reddit "
    "job.position job.salary job.type job.company.name job.company.size job.company.country "
    "job.company.segment job.department "
    "preferences.purchases preferences.colors preferences.sizes preferences.devices "
    "preferences.channels preferences.payments preferences.brands preferences.fragrances "
    "preferences.services preferences.other "
    "loyalty.codes loyalty.card.id loyalty.card.name loyalty.card.issuer loyalty.card.expires "
    "loyalty.card.points"
).split()

PROFILE_UPDATE = [
    *_contact("data.contact.email", "properties.contact.email", EMAIL_KINDS),
    *_contact("data.contact.phone", "properties.contact.phone", PHONE_KINDS),
    *_copy([(f"data.{field}", f"properties.{field}") for field in _PROFILE_UPDATE_FIELDS]),
]

_INTEREST = "interests.{{event@properties.interest}}"


def _interest(direction: str) -> list[dict[str, Any]]:
    # Tracardi: properties.interest names the interest, properties.value (default 1) the step.
    return [
        _rule(_INTEREST, "properties.value", direction, condition="event@properties.value EXISTS"),
        _rule(
            _INTEREST,
            operation=INCREMENT,
            amount=1 if direction == ADD else -1,
            condition="event@properties.value NOT EXISTS",
        ),
    ]


_BEHAVIOURAL = ["event:behavioral"]
_OPERATIONAL = ["event:operational"]
_BROWSING = ["activity:browsing", "event:behavioral"]


def _type(
    event_type: str,
    name: str,
    description: str,
    state: str = "",
    tags: list[str] | None = None,
    mappings: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "type": event_type,
        "name": name,
        "description": description,
        "journey_state": state,
        "tags": tags or [],
        "mappings": mappings or [],
    }


PREDEFINED_EVENT_TYPES: list[dict[str, Any]] = [
    # The platform's own events (DESIGN §4.2).
    _type("profile-created", "Profile Created", "A new profile was created.", tags=["system"]),
    _type("session-opened", "Session Opened", "A new session was opened.", tags=["system"]),
    _type("visit-started", "Visit Started", "A new or returning visit started.", tags=["system"]),
    # Identity.
    _type(
        "identification",
        "Identification",
        "User sends PII data (an identification point for profile merging).",
        "consideration",
        ["entity:profile"],
        IDENTIFICATION,
    ),
    _type("sign-up", "Sign-Up", "User signs up.", "consideration", ["entity:profile"], _person()),
    _type("sign-in", "Sign-In", "User signs in.", "consideration", ["entity:profile"], _person()),
    _type(
        "profile-update",
        "Profile Update",
        "User updates profile data.",
        "awareness",
        ["entity:profile"],
        PROFILE_UPDATE,
    ),
    _type(
        "consent-update",
        "Consent Update",
        "User updates consents (properties.consents replaces the profile's consents).",
        "awareness",
        ["entity:profile", "activity:consent"],
        [_rule("consents", "properties.consents")],
    ),
    # The consent bar's event: properties.consents = {"<consent type id>": true | false}. No
    # mapping rules: the consent types decide what it does (grant times, auto-revoke,
    # revokable), so the profile step apps.profiles.services.consents.consents_give applies it.
    _type(
        "consent-given",
        "Consent Given",
        'The visitor chose consents in the consent bar (properties.consents: {"marketing": '
        "true, ...}). Each true grants a known consent type (until its auto-revoke days); each "
        "false revokes a revokable one. Recorded in the profile's consent history.",
        "awareness",
        ["entity:profile", "activity:consent"],
    ),
    # Traffic.
    _type("page-view", "Page View", "Customer views a page.", "awareness", ["browsing"]),
    _type(
        "screen-view",
        "Screen View",
        "Customer views a screen at a mobile device.",
        "",
        ["browsing"],
    ),
    _type(
        "search",
        "Search",
        "Customer searched for products, services, etc.",
        "",
        ["browsing", "search"],
    ),
    # Interests.
    _type(
        "increase-interest",
        "Increase Interest",
        "Increase an interest of the profile (properties.interest, properties.value = 1).",
        tags=_BEHAVIOURAL,
        mappings=_interest(ADD),
    ),
    _type(
        "decrease-interest",
        "Decrease Interest",
        "Decrease an interest of the profile (properties.interest, properties.value = 1).",
        tags=_BEHAVIOURAL,
        mappings=_interest(SUBTRACT),
    ),
    _type(
        "reset-interest",
        "Reset Interest",
        "Set an interest of the profile to properties.value.",
        tags=_BEHAVIOURAL,
        mappings=[_rule(_INTEREST, "properties.value")],
    ),
    # E-commerce: products and basket.
    _type(
        "product-clicked",
        "Product Clicked",
        "Customer clicked on a product.",
        "awareness",
        _BROWSING,
    ),
    _type(
        "product-details-page-view",
        "Product Details Page View",
        "Customer viewed a product details page.",
        "awareness",
        _BROWSING,
    ),
    _type(
        "basket-viewed",
        "Basket Viewed",
        "Customer viewed their shopping cart.",
        "consideration",
        _BROWSING,
    ),
    _type(
        "product-added-to-basket",
        "Product Added To Basket",
        "Customer added a product to their shopping cart.",
        "consideration",
        _BEHAVIOURAL,
    ),
    _type(
        "product-removed-from-basket",
        "Product Removed From Basket",
        "Customer removed a product from their shopping cart.",
        "consideration",
        _BEHAVIOURAL,
    ),
    _type(
        "product-shared", "Product Shared", "Customer shared a product.", "advocacy", _BEHAVIOURAL
    ),
    _type(
        "product-reviewed",
        "Product Reviewed",
        "Customer reviewed a product.",
        "retention",
        _BEHAVIOURAL,
    ),
    _type(
        "product-returned",
        "Product Returned",
        "Customer returned a product.",
        "retention",
        _BEHAVIOURAL,
    ),
    # E-commerce: checkout (lifetime checkout value and count metrics, as Tracardi keeps them).
    _type(
        "checkout-started",
        "Checkout Started",
        "Customer initiated the checkout process.",
        "purchase",
        ["event:behavioural"],
        [
            _rule("data.metrics.ltcosv", "properties.value", ADD),
            _rule("data.metrics.ltcosc", operation=INCREMENT),
        ],
    ),
    _type(
        "checkout-completed",
        "Checkout Completed",
        "Customer completed the check-out process.",
        "purchase",
        _OPERATIONAL,
        [
            _rule("data.metrics.ltcocv", "properties.value", ADD),
            _rule("data.metrics.ltcocc", operation=INCREMENT),
        ],
    ),
    _type(
        "checkout-status",
        "Checkout Status",
        "Customer completed a checkout step.",
        "purchase",
        _OPERATIONAL,
    ),
    _type(
        "delivery-info-entered",
        "Delivery Info Entered",
        "Customer added delivery information.",
        "purchase",
        _BEHAVIOURAL,
        _copy(
            [
                (f"data.contact.address.{part}", f"properties.delivery.{part}")
                for part in ("town", "county", "country", "postcode", "street")
            ]
        ),
    ),
    _type(
        "payment-info-entered",
        "Payment Info Entered",
        "Customer added payment information.",
        "purchase",
        _BEHAVIOURAL,
    ),
    # E-commerce: orders.
    _type("order-started", "Order Started", "Customer started an order.", "purchase", _OPERATIONAL),
    _type(
        "order-completed",
        "Order Completed",
        "Customer completed the order.",
        "purchase",
        _OPERATIONAL,
    ),
    _type(
        "order-waiting-for-dispatch",
        "Order Waiting For Dispatch",
        "Order is waiting to be dispatched from the warehouse.",
        "purchase",
        _OPERATIONAL,
    ),
    _type(
        "order-dispatched",
        "Order Dispatched",
        "Order dispatched from the warehouse.",
        "purchase",
        _OPERATIONAL,
    ),
    _type(
        "order-delivered",
        "Order Delivered",
        "The order has been delivered.",
        "purchase",
        _OPERATIONAL,
    ),
    _type(
        "order-status-change",
        "Order Status Change",
        "Order changed status.",
        "purchase",
        _OPERATIONAL,
    ),
    _type(
        "sale-completed",
        "Sale Completed",
        "The sale is completed; the customer can no longer return the product.",
        "purchase",
        _OPERATIONAL,
    ),
]


# -- the rest of Tracardi's predefined types (issue 19 item 4) ---------------------------------
# From Tracardi's tracardi/service/setup/events/*.json. Tracardi copies event properties into
# event traits (`copy`) and traits into the profile (`profile`: [trait, operation]); each rule
# here is the two steps in one, with Tracardi's operations: equal -> set,
# equals_if_not_exists -> set_if_empty, append, delete. Types with a `copy` but no `profile`
# map nothing onto the profile, as in Tracardi. Two of Tracardi's preference types read a
# trait their `copy` never writes (traits.channel, traits.payment); the rules read the event
# property the type documents (properties.channel, properties.payment), which is their intent.

_MESSAGING_IDENTITY = [
    _rule(f"data.contact.{kind}", f"properties.identity.{kind}", SET_IF_EMPTY)
    for kind in (
        "email.main",
        "email.private",
        "email.business",
        "phone.main",
        "phone.business",
        "phone.mobile",
        "phone.whatsapp",
    )
]

TRACARDI_MORE_TYPES: list[dict[str, Any]] = [
    # dispatch.json
    _type(
        "order-dispatch-in-transit",
        "Order Dispatch In Transit",
        "Order was shipped from the warehouse and is in transit",
        "purchase",
        ["event:operational"],
    ),
    _type(
        "order-awaiting-pickup",
        "Order Awaiting Pickup",
        "Package with order waits to be picked up",
        "purchase",
        ["event:operational"],
    ),
    # finance.json
    _type(
        "account-payable",
        "Account Payable",
        "`Accounts Payable` means the money that your company owes to suppliers or others "
        "for goods, services, or expenses that you haven't paid yet. It's like the list of "
        "bills you need to settle. If you don't pay by the agreed-upon due date, it can "
        "become `Payable Overdue`, indicating that you've missed the payment deadline.",
        "purchase",
        ["event:operational", "entity:payment"],
    ),
    _type(
        "account-receivable",
        "Account Receivable",
        "`Accounts Receivable` means the money that your company is waiting to get paid by "
        "customers who have bought something on credit or the payment is being transferred."
        " Basically it means that someone owes you money and it must be paid with defined "
        "due date, otherwise it becomes `Receivable overdue` - not paid payment.",
        "purchase",
        ["event:operational", "entity:payment"],
    ),
    _type(
        "payment-sent",
        "Payment Sent",
        "Company have sent money transfer.",
        "purchase",
        ["event:operational", "entity:payment"],
    ),
    _type(
        "payment-received",
        "Payment Received",
        "Company received money transfer.",
        "purchase",
        ["event:operational", "entity:payment"],
    ),
    _type(
        "payable-overdue",
        "Payable Overdue",
        "`Payable Overdue` refers to a situation where your company has an outstanding debt"
        " or financial obligation to another party, and the payment for that debt has not "
        "been made by the agreed-upon due date.",
        "purchase",
        ["event:operational", "entity:payment"],
    ),
    _type(
        "receivable-overdue",
        "Receivable Overdue",
        "`Receivable Overdue` refers to a situation in which your company is owed money by "
        "another party, but the payment has not been received by the agreed-upon due date.",
        "purchase",
        ["event:operational", "entity:payment"],
    ),
    # identity.json
    _type(
        "account-deleted",
        "Account-Deleted",
        "User deletes account.",
        "retention",
        ["event:behavioral"],
    ),
    # internal.json
    _type(
        "visit-ended",
        "Visit Ended",
        "Customer have ended visit.",
        "",
        ["event:system"],
    ),
    _type(
        "profile-inactive",
        "Profile Inactive",
        "Customer profile was marked as inactive.",
        "",
        ["event:system"],
    ),
    _type(
        "profile-archived",
        "Profile Archived",
        "Customer profile was archived.",
        "",
        ["event:system"],
    ),
    # loyalty.json
    _type(
        "loyalty-card-added",
        "Loyalty Card Added",
        "Customer adds or receives loyalty card.",
        "retention",
        ["event:operational"],
        [
            _rule("data.loyalty.card.id", "properties.id"),
            _rule("data.loyalty.card.name", "properties.name"),
            _rule("data.loyalty.card.issuer", "properties.issuer"),
            _rule("data.loyalty.card.expires", "properties.expires"),
        ],
    ),
    _type(
        "loyalty-card-removed",
        "Loyalty Card Removed",
        "Customer removes or loyalty card is deleted.",
        "retention",
        ["event:operational"],
        [
            _rule("data.loyalty.card.id", operation=DELETE),
            _rule("data.loyalty.card.name", operation=DELETE),
            _rule("data.loyalty.card.issuer", operation=DELETE),
            _rule("data.loyalty.card.expires", operation=DELETE),
        ],
    ),
    # marketing.json
    _type(
        "promotion-viewed",
        "Promotion Viewed",
        "Customer viewed promotion banner or text.",
        "awareness",
        ["event:behavioral"],
    ),
    _type(
        "promotion-clicked",
        "Promotion Clicked",
        "Customer clicked on promotion banner.",
        "awareness",
        ["event:behavioral"],
    ),
    # messaging.json
    _type(
        "messaging-started",
        "Messaging Started",
        "Customer starts conversation/messaging. Deliver a conversation id to track the "
        "whole conversation session.",
        "",
        [],
        _MESSAGING_IDENTITY,
    ),
    _type(
        "message-sent",
        "Message Sent",
        "Message was sent to the customer.",
        "",
        [],
        _MESSAGING_IDENTITY,
    ),
    _type(
        "message-status",
        "Message Status",
        "Message status update. Use to set status. e.g. message bounced, with error message"
        " if needed.",
        "",
        [],
    ),
    _type(
        "message-received",
        "Message Received",
        "Customer received message.",
        "",
        [],
        _MESSAGING_IDENTITY,
    ),
    _type(
        "message-opened",
        "Message Opened",
        "Customer opened message.",
        "",
        [],
        _MESSAGING_IDENTITY,
    ),
    _type(
        "messaging-ended",
        "Messaging Ended",
        "Customer ended conversation/messaging. Deliver a conversation id to track the "
        "whole conversation session.",
        "",
        [],
        _MESSAGING_IDENTITY,
    ),
    # preferences.json
    _type(
        "add-color-preference",
        "Add Color Preference",
        "Add color preference to current profile.",
        "",
        ["event:behavioral"],
        [_rule("data.preferences.colors", "properties.color", APPEND)],
    ),
    _type(
        "add-size-preference",
        "Add Size Preference",
        "Add size preference to current profile.",
        "",
        ["event:behavioral"],
        [_rule("data.preferences.sizes", "properties.size", APPEND)],
    ),
    _type(
        "add-brand-preference",
        "Add Brand Preference",
        "Add brand preference to current profile.",
        "",
        ["event:behavioral"],
        [_rule("data.preferences.brands", "properties.brand", APPEND)],
    ),
    _type(
        "add-channel-preference",
        "Add Channel Preference",
        "Add channel preference to current profile.",
        "",
        ["event:behavioral"],
        [_rule("data.preferences.channels", "properties.channel", APPEND)],
    ),
    _type(
        "add-payment-preference",
        "Add Payment Preference",
        "Add payment preference to current profile.",
        "",
        ["event:behavioral"],
        [_rule("data.preferences.payments", "properties.payment", APPEND)],
    ),
    # satisfaction.json
    _type(
        "rating",
        "Rating",
        "Customer rated something.",
        "retention",
        [],
    ),
    # traffic.json
    _type(
        "product-search-result",
        "Product Search Result",
        "Customer viewed a product list or product category.",
        "awareness",
        ["activity:browsing", "activity:browsing:search", "event:behavioral"],
    ),
    _type(
        "page-print",
        "Page Print",
        "Customer prints a page.",
        "awareness",
        ["activity:printing", "event:behavioral"],
    ),
    _type(
        "location",
        "Location",
        "Registers customer location.",
        "",
        ["activity:locating", "event:system"],
        [
            _rule("data.devices.last.geo.latitude", "properties.location.1"),
            _rule("data.devices.last.geo.longitude", "properties.location.0"),
            _rule("data.devices.last.geo.location", "properties.location"),
        ],
    ),
]
PREDEFINED_EVENT_TYPES += TRACARDI_MORE_TYPES


def predefined_event_types_install(*, event_type_model, mapping_model) -> int:
    """Create the predefined types that do not exist yet (an existing type, maybe edited in the
    admin, is left as it is). Returns how many were created."""
    existing = set(
        event_type_model.objects.filter(
            type__in=[item["type"] for item in PREDEFINED_EVENT_TYPES]
        ).values_list("type", flat=True)
    )
    created = 0
    for item in PREDEFINED_EVENT_TYPES:
        if item["type"] in existing:
            continue
        event_type = event_type_model.objects.create(
            type=item["type"],
            name=item["name"],
            description=item["description"],
            journey_state=item["journey_state"],
            tags=item["tags"],
            predefined=True,
        )
        mapping_model.objects.bulk_create(
            mapping_model(event_type=event_type, position=position, **rule)
            for position, rule in enumerate(item["mappings"], start=1)
        )
        created += 1
    return created
