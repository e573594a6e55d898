"""Canonical column names, event types, role synonyms and defaults shared by the library."""

from __future__ import annotations

import re

# --- canonical event columns -----------------------------------------------------------
USER_ID = "user_id"
ITEM_ID = "item_id"
EVENT_TYPE = "event_type"
TIMESTAMP = "timestamp"
QUANTITY = "quantity"
PRICE = "price"
AMOUNT = "amount"
RATING = "rating"
ORDER_ID = "order_id"
SESSION_ID = "session_id"
CHANNEL = "channel"
DEVICE = "device"

# --- item and user attribute columns ---------------------------------------------------
TITLE = "title"
CATEGORY = "category"
BRAND = "brand"
DESCRIPTION = "description"
TAGS = "tags"
AGE = "age"
GENDER = "gender"
REGION = "region"
SIGNUP_DATE = "signup_date"

IGNORE = "ignore"
"""Role meaning "do not use this column"."""
ATTRIBUTE = "attribute"
"""Role of a users or items column kept under its own name as an attribute (categorical,
numeric, ordered bands or a date), for columns no canonical role describes."""

EVENT_COLUMNS: tuple[str, ...] = (
    USER_ID,
    ITEM_ID,
    EVENT_TYPE,
    TIMESTAMP,
    QUANTITY,
    PRICE,
    AMOUNT,
    RATING,
    ORDER_ID,
    SESSION_ID,
    CHANNEL,
    DEVICE,
)
"""Columns of the cleaned events frame, in order. Every one is present after cleaning;
optional ones are null where the source had no such column."""

ITEM_ATTRIBUTES: tuple[str, ...] = (TITLE, CATEGORY, BRAND, DESCRIPTION, TAGS)
USER_ATTRIBUTES: tuple[str, ...] = (AGE, GENDER, REGION, SIGNUP_DATE)

REQUIRED_EVENT_ROLES: tuple[str, ...] = (USER_ID, TIMESTAMP)

# --- event types -------------------------------------------------------------------------
VIEW, CLICK, CART, WISHLIST, PURCHASE = "view", "click", "cart", "wishlist", "purchase"
REFUND, RATE, REVIEW, SEARCH, OTHER = "refund", "rating", "review", "search", "other"
EVENT_TYPES: tuple[str, ...] = (
    VIEW,
    CLICK,
    CART,
    WISHLIST,
    PURCHASE,
    REFUND,
    RATE,
    REVIEW,
    SEARCH,
    OTHER,
)
MONEY_EVENTS: tuple[str, ...] = (PURCHASE, REFUND)


def normalize_token(text: str) -> str:
    """Lower-case ``text`` and drop everything but letters and digits ("Customer ID" ->
    "customerid"), so that spellings of one name compare equal."""
    return re.sub(r"[^0-9a-z]", "", str(text).lower())


_EVENT_SYNONYMS: dict[str, tuple[str, ...]] = {
    VIEW: (
        "view",
        "views",
        "viewed",
        "pv",
        "pageview",
        "pageviews",
        "page",
        "detail",
        "details",
        "productview",
        "itemview",
        "viewitem",
        "viewproduct",
        "impression",
        "browse",
        "visit",
        "show",
        "display",
        "detailview",
        "productdetail",
    ),
    CLICK: ("click", "clicks", "clicked", "tap", "select", "selectitem", "selectcontent"),
    CART: (
        "cart",
        "addtocart",
        "addtobasket",
        "addcart",
        "basket",
        "carted",
        "addedtocart",
        "add",
        "atc",
        "cartadd",
    ),
    WISHLIST: (
        "wishlist",
        "fav",
        "favorite",
        "favourite",
        "favorites",
        "like",
        "likes",
        "addtowishlist",
        "save",
        "saved",
        "bookmark",
        "star",
    ),
    PURCHASE: (
        "purchase",
        "purchased",
        "purchases",
        "buy",
        "bought",
        "transaction",
        "order",
        "orders",
        "ordered",
        "checkout",
        "sale",
        "sold",
        "conversion",
        "payment",
        "paid",
    ),
    REFUND: (
        "refund",
        "refunded",
        "return",
        "returned",
        "cancel",
        "cancelled",
        "canceled",
        "cancellation",
        "chargeback",
    ),
    RATE: ("rating", "rate", "rated", "stars", "score"),
    REVIEW: ("review", "reviewed", "comment", "feedback"),
    SEARCH: ("search", "query", "searched", "viewsearchresults", "searchresults"),
    OTHER: ("other",),
}

EVENT_SYNONYMS: dict[str, str] = {
    normalize_token(raw): canonical for canonical, raws in _EVENT_SYNONYMS.items() for raw in raws
}
"""Normalized raw event name -> canonical event type."""

# --- column role synonyms (normalized names) --------------------------------------------
_ROLE_SYNONYMS: dict[str, tuple[str, ...]] = {
    USER_ID: (
        "user_id",
        "userid",
        "user",
        "customer_id",
        "customerid",
        "customer",
        "cust_id",
        "custid",
        "client_id",
        "clientid",
        "client",
        "visitor_id",
        "visitorid",
        "visitor",
        "member_id",
        "memberid",
        "buyer_id",
        "buyerid",
        "account_id",
        "accountid",
        "shopper_id",
        "person_id",
        "uid",
        "customer_unique_id",
        "customer_no",
        "customer_number",
        "reviewer_id",
        "reviewerid",
        "fullvisitorid",
        "user_session_id",
    ),
    ITEM_ID: (
        "item_id",
        "itemid",
        "item",
        "product_id",
        "productid",
        "product",
        "stockcode",
        "stock_code",
        "sku",
        "sku_id",
        "asin",
        "article_id",
        "articleid",
        "movie_id",
        "movieid",
        "book_id",
        "isbn",
        "offer_id",
        "variant_id",
        "prod_id",
        "pid",
        "iid",
        "item_code",
        "product_code",
        "productcode",
        "itemcode",
        "goods_id",
        "content_id",
    ),
    EVENT_TYPE: (
        "event_type",
        "eventtype",
        "event",
        "event_name",
        "eventname",
        "action",
        "action_type",
        "behavior",
        "behaviour",
        "behavior_type",
        "interaction",
        "interaction_type",
        "activity",
        "activity_type",
        "type",
    ),
    TIMESTAMP: (
        "timestamp",
        "ts",
        "time",
        "datetime",
        "date",
        "date_time",
        "event_time",
        "eventtime",
        "event_date",
        "event_timestamp",
        "created_at",
        "createdat",
        "invoice_date",
        "invoicedate",
        "order_date",
        "orderdate",
        "purchase_date",
        "transaction_date",
        "order_purchase_timestamp",
        "time_stamp",
        "unix_time",
        "unixtime",
        "epoch",
        "occurred_at",
        "visit_time",
        "click_time",
        "rating_time",
    ),
    QUANTITY: (
        "quantity",
        "qty",
        "units",
        "unit_count",
        "count",
        "number_of_items",
        "num_items",
        "n_items",
        "items_count",
        "pieces",
        "amount_of_items",
        "number_of_cds",
        "number_of_units",
        "nb_items",
        "quantity_ordered",
    ),
    PRICE: (
        "price",
        "unit_price",
        "unitprice",
        "item_price",
        "price_each",
        "priceeach",
        "product_price",
        "unit_cost",
        "list_price",
        "sale_price",
        "price_per_unit",
    ),
    AMOUNT: (
        "amount",
        "revenue",
        "total",
        "total_amount",
        "total_price",
        "totalprice",
        "sales",
        "sale_amount",
        "value",
        "dollar_value",
        "dollars",
        "order_value",
        "line_total",
        "subtotal",
        "spend",
        "spent",
        "payment_value",
        "gmv",
        "net_sales",
        "monetary",
        "transaction_amount",
        "purchase_amount",
    ),
    RATING: (
        "rating",
        "ratings",
        "score",
        "stars",
        "star_rating",
        "review_score",
        "overall",
        "rate",
    ),
    ORDER_ID: (
        "order_id",
        "orderid",
        "invoice",
        "invoice_no",
        "invoiceno",
        "invoice_id",
        "invoice_number",
        "order",
        "order_number",
        "transaction_id",
        "transactionid",
        "basket_id",
        "receipt_id",
        "order_no",
    ),
    SESSION_ID: ("session_id", "sessionid", "session", "user_session", "visit_id", "visitid"),
    CHANNEL: ("channel", "source", "traffic_source", "utm_source", "medium"),
    DEVICE: ("device", "device_type", "devicetype", "platform", "os", "user_agent"),
    TITLE: (
        "title",
        "name",
        "item_name",
        "product_name",
        "productname",
        "item_title",
        "product_title",
        "description",
    ),
    CATEGORY: (
        "category",
        "category_name",
        "category_code",
        "cat",
        "department",
        "genre",
        "genres",
        "product_category",
        "category_id",
        "section",
    ),
    BRAND: ("brand", "brand_name", "manufacturer", "maker", "vendor", "label"),
    DESCRIPTION: (
        "description",
        "desc",
        "details",
        "summary",
        "product_description",
        "long_description",
        "text",
        "overview",
    ),
    TAGS: ("tags", "tag", "keywords", "labels"),
    AGE: ("age", "age_years", "customer_age"),
    GENDER: ("gender", "sex"),
    REGION: (
        "region",
        "country",
        "state",
        "city",
        "location",
        "zip",
        "zipcode",
        "postal_code",
        "province",
        "area",
        "market",
    ),
    SIGNUP_DATE: (
        "signup_date",
        "signup",
        "sign_up_date",
        "registration_date",
        "registered",
        "registered_at",
        "join_date",
        "joined",
        "created",
        "created_at",
        "member_since",
        "first_seen",
        "account_created",
    ),
}


def _synonyms(*roles: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for role in roles:
        for raw in _ROLE_SYNONYMS[role]:
            out.setdefault(normalize_token(raw), role)
    return out


# Order matters where a name fits two roles: the earlier role wins ("description" is an
# item title in an event log, a description in an item catalog).
EVENT_ROLE_SYNONYMS = _synonyms(
    USER_ID,
    ITEM_ID,
    EVENT_TYPE,
    TIMESTAMP,
    QUANTITY,
    PRICE,
    AMOUNT,
    RATING,
    ORDER_ID,
    SESSION_ID,
    CHANNEL,
    DEVICE,
    TITLE,
    CATEGORY,
    BRAND,
    REGION,
    AGE,
    GENDER,
)
ITEM_ROLE_SYNONYMS = _synonyms(ITEM_ID, TITLE, CATEGORY, BRAND, PRICE, DESCRIPTION, TAGS)
ITEM_ROLE_SYNONYMS.update(_synonyms(DESCRIPTION))  # a catalog's description is a description
ITEM_ROLE_SYNONYMS["name"] = TITLE
USER_ROLE_SYNONYMS = _synonyms(USER_ID, AGE, GENDER, REGION, SIGNUP_DATE)

EVENT_ROLES: tuple[str, ...] = EVENT_COLUMNS + (TITLE, CATEGORY, BRAND, REGION, AGE, GENDER)
ITEM_ROLES: tuple[str, ...] = (ITEM_ID, TITLE, CATEGORY, BRAND, PRICE, DESCRIPTION, TAGS)
USER_ROLES: tuple[str, ...] = (USER_ID, AGE, GENDER, REGION, SIGNUP_DATE)

ROLES_BY_TABLE: dict[str, tuple[str, ...]] = {
    "events": EVENT_ROLES,
    "users": USER_ROLES + (ATTRIBUTE,),
    "items": ITEM_ROLES + (ATTRIBUTE,),
}
SYNONYMS_BY_TABLE: dict[str, dict[str, str]] = {
    "events": EVENT_ROLE_SYNONYMS,
    "users": USER_ROLE_SYNONYMS,
    "items": ITEM_ROLE_SYNONYMS,
}

# --- defaults ------------------------------------------------------------------------------
DEFAULT_K = 10
RANDOM_STATE = 42
IMPLICIT_WEIGHTS: dict[str, float] = {
    VIEW: 1.0,
    CLICK: 1.0,
    SEARCH: 0.0,
    WISHLIST: 2.0,
    CART: 3.0,
    RATE: 4.0,
    REVIEW: 4.0,
    PURCHASE: 5.0,
    REFUND: 0.0,
    OTHER: 0.0,
}
"""Implicit-feedback weight of one event of each type (view < cart < purchase)."""

SESSION_GAP_MINUTES = 30
EXAMPLES_PER_REASON = 5
