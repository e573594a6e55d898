"""Seeded synthetic e-commerce store: behaviour events, users, items and planted personas.

This module owns the generator behind ``sample_data/`` and the large synthetic logs used
for benchmarks. Everything is vectorized over arrays (numpy for the simulation, polars
for assembly and output), so 500,000 users and 10 million events take well under a
minute.

The simulation, in order:

1. **Items.** Twelve categories, each with invented brands on a budget-to-premium
   ladder, log-normal prices around a category median, titles
   ``"<Brand> <style adjective> <noun>"`` and one-to-two sentence descriptions built
   from the category's vocabulary. Each item has a latent style vector (the title
   adjective names its dominant direction) and a Zipf-like popularity within its
   category.
2. **Users.** Each user gets one of six personas (see :data:`PERSONAS`) and, with noise
   around the persona, a category preference (persona Dirichlet prior plus mass on
   random categories), a price attitude, a latent taste vector, an activity rate,
   hour-of-day and weekday rhythms, an active window (late joiners, lapsing users) and
   demographics.
3. **Sessions.** Per user a Poisson number of sessions spread over the active window
   (regularly for steady personas), placed on preferred weekdays and hours.
4. **Funnel.** Each session views items of mostly one preferred category, each view
   picked among popularity-drawn candidates by taste and price affinity (Gumbel-max);
   some views are carted minutes later, some carts are bought together at checkout
   (one ``order_id`` per session), and some purchases are rated days later with stars
   that follow the affinity.
5. **Calendar.** Sessions follow a store-wide daily intensity (a flat base plus a
   mid-December holiday peak); :data:`PROMOTIONS` add sessions (more from price-sensitive
   users) and lift the funnel; each category's share of sessions has a season.
6. **Planted signals** (ground truth in ``SampleStore.signals`` and ``.paths``): churners
   whose activity decays to a stop, growers whose activity rises, bots (bursts of views,
   no purchase), refund-heavy users, refill buyers (one consumable at a regular
   interval), and ordered paths (an accessory after a device, the next volume of a book
   series).
7. **Next batch.** The simulation runs on for ``next_days`` after the period; those events
   and the period's last ``overlap_days`` again form ``SampleStore.next_batch``.

Run ``python -m profiling.data.sample --out DIR`` to write a store (see :func:`main`).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

__all__ = [
    "CATEGORIES",
    "DEFAULT_END",
    "EVENTS_PER_USER",
    "NEXT_BATCH_FILE",
    "PROMOTIONS",
    "PERSONAS",
    "CategorySpec",
    "PersonaSpec",
    "SampleStore",
    "generate_store",
    "main",
    "write_store",
]

DEFAULT_END = datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC)
"""Default end of the simulated period (inclusive)."""

NEXT_BATCH_FILE = "events_next_month.parquet"
"""The second batch: the month after the period, plus its last days again (duplicates)."""

EVENTS_PER_USER = 55.0
"""Average number of events per user aimed at when ``n_events`` is not given."""

_SECONDS_PER_DAY = 86_400
_DAYS_PER_MONTH = 365.25 / 12
_LATENT_DIM = 8
_TASTE_STRENGTH = 1.6
_CANDIDATES = 12
SNIFF_CHUNK = 200_000
_EVENT_TYPES = ("view", "cart", "purchase", "rating", "refund")
_REGIONS = ("North", "South", "East", "West", "Central")
_REGION_WEIGHTS = (0.21, 0.19, 0.2, 0.24, 0.16)
_GENDERS = ("F", "M", "other")

# One adjective per signed latent direction: the title adjective of an item names the
# direction its style vector leans to most, so item text carries taste signal.
_STYLE_WORDS = (
    ("Classic", "Modern"),
    ("Compact", "Deluxe"),
    ("Eco-Friendly", "Premium"),
    ("Minimalist", "Colorful"),
    ("Rugged", "Elegant"),
    ("Lightweight", "Heavy-Duty"),
    ("Vintage", "Smart"),
    ("Cozy", "Sporty"),
)


@dataclass(frozen=True)
class CategorySpec:
    """Vocabulary and price level of one product category.

    Attributes
    ----------
    name : str
        Category name as written to ``items.csv``.
    share : float
        Share of the catalogue's items in this category.
    median_price : float
        Median unit price of a mid-tier item.
    price_sigma : float
        Log-normal spread of item prices around the brand-adjusted median.
    brands : tuple of str
        Invented brand names, ordered from budget to premium.
    nouns : tuple of str
        Product nouns used in titles and descriptions.
    features : tuple of str
        Feature phrases used in descriptions.
    uses : tuple of str
        Occasions/uses used in descriptions ("ideal for ...").
    """

    name: str
    share: float
    median_price: float
    price_sigma: float
    brands: tuple[str, ...]
    nouns: tuple[str, ...]
    features: tuple[str, ...]
    uses: tuple[str, ...]


CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec(
        "Electronics",
        0.10,
        120.0,
        0.85,
        ("Voltix", "Nexora", "Brightwave", "Quantex", "Ampera"),
        (
            "Headphones",
            "Smartwatch",
            "Bluetooth Speaker",
            "Tablet",
            "Laptop",
            "Monitor",
            "Webcam",
            "Power Bank",
            "Wi-Fi Router",
            "Gaming Console",
        ),
        (
            "noise cancelling",
            "fast charging",
            "a 4K display",
            "USB-C ports",
            "long battery life",
            "wireless connectivity",
            "Bluetooth 5.3",
            "low latency",
        ),
        ("gaming", "streaming", "the home office", "travel", "video calls"),
    ),
    CategorySpec(
        "Books",
        0.12,
        14.0,
        0.4,
        ("Paperlantern", "Inkwell Press", "Marlow House", "Redfern Books"),
        (
            "Novel",
            "Cookbook",
            "Biography",
            "Thriller",
            "Fantasy Saga",
            "Poetry Collection",
            "History",
            "Science Guide",
            "Graphic Novel",
            "Travel Guide",
        ),
        (
            "a hardcover binding",
            "illustrated chapters",
            "an award-winning author",
            "a bestselling series",
            "annotated notes",
            "a large print edition",
            "a gripping plot",
        ),
        ("book clubs", "bedtime reading", "long commutes", "rainy weekends", "gift giving"),
    ),
    CategorySpec(
        "Home & Kitchen",
        0.10,
        35.0,
        0.8,
        ("Hearthly", "Dwellio", "Kitchiva", "CasaNova"),
        (
            "Chef's Knife",
            "Frying Pan",
            "Blender",
            "Coffee Maker",
            "Storage Set",
            "Bedding Set",
            "Table Lamp",
            "Cookware Set",
            "Vacuum Cleaner",
            "Towel Set",
        ),
        (
            "a non-stick coating",
            "stainless steel",
            "dishwasher safe parts",
            "a stackable design",
            "a ceramic finish",
            "soft cotton",
            "an energy efficient motor",
        ),
        ("everyday cooking", "small apartments", "family dinners", "meal prep", "guest rooms"),
    ),
    CategorySpec(
        "Toys & Games",
        0.08,
        25.0,
        0.7,
        ("Playnest", "Giggle & Co", "Tinkertown", "Wonderblocks"),
        (
            "Building Set",
            "Board Game",
            "Jigsaw Puzzle",
            "Plush Bear",
            "Remote Control Car",
            "Doll House",
            "Card Game",
            "Science Kit",
            "Action Figure",
            "Marble Run",
        ),
        (
            "1000 pieces",
            "STEM learning",
            "rechargeable batteries",
            "cooperative play",
            "non-toxic materials",
            "collectible figures",
            "easy instructions",
        ),
        (
            "birthday parties",
            "family game night",
            "rainy afternoons",
            "classrooms",
            "kids aged 6 and up",
        ),
    ),
    CategorySpec(
        "Baby",
        0.07,
        22.0,
        0.6,
        ("Little Sprout", "Cuddlebee", "Nestling", "Babyloom"),
        (
            "Diaper Pack",
            "Baby Wipes",
            "Stroller",
            "Baby Monitor",
            "Feeding Bottle Set",
            "Swaddle Blanket",
            "High Chair",
            "Teething Ring",
            "Baby Carrier",
            "Crib Sheet",
        ),
        (
            "hypoallergenic materials",
            "BPA-free plastic",
            "organic cotton",
            "a fragrance-free formula",
            "an easy fold frame",
            "machine washable fabric",
            "pediatrician approved design",
        ),
        ("newborns", "night feeds", "daycare", "travel with toddlers", "the nursery"),
    ),
    CategorySpec(
        "Beauty",
        0.09,
        18.0,
        0.7,
        ("Glowra", "Petalis", "Velvetine", "Lumiere", "Aurelle"),
        (
            "Face Serum",
            "Moisturizer",
            "Lipstick",
            "Mascara",
            "Shampoo",
            "Perfume",
            "Nail Polish Set",
            "Sunscreen",
            "Eyeshadow Palette",
            "Hair Mask",
        ),
        (
            "hyaluronic acid",
            "vitamin C",
            "a cruelty-free formula",
            "long-lasting color",
            "SPF 50 protection",
            "paraben-free ingredients",
            "a vegan formula",
        ),
        ("a daily skincare routine", "evenings out", "sensitive skin", "summer days", "self-care"),
    ),
    CategorySpec(
        "Sports & Outdoors",
        0.08,
        40.0,
        0.85,
        ("Stridex", "Trailforge", "Peakline", "Summitra"),
        (
            "Yoga Mat",
            "Running Shoes",
            "Camping Tent",
            "Water Bottle",
            "Dumbbell Set",
            "Cycling Helmet",
            "Hiking Backpack",
            "Fitness Band",
            "Sleeping Bag",
            "Tennis Racket",
        ),
        (
            "breathable mesh",
            "a waterproof shell",
            "shock absorbing soles",
            "ultralight fabric",
            "a non-slip grip",
            "insulated walls",
            "adjustable straps",
        ),
        ("hiking", "marathon training", "home workouts", "camping trips", "cycling"),
    ),
    CategorySpec(
        "Fashion",
        0.11,
        38.0,
        0.8,
        ("Urbanthread", "Corduroy Lane", "Nordkind", "Silk & Sage", "Maison Vela"),
        (
            "Dress",
            "Denim Jacket",
            "Sneakers",
            "Handbag",
            "Wool Scarf",
            "Leather Belt",
            "Blazer",
            "Summer Hat",
            "Knit Sweater",
            "Ankle Boots",
        ),
        (
            "a slim fit",
            "organic cotton",
            "genuine leather",
            "soft knit",
            "a tailored cut",
            "a relaxed fit",
            "seasonal colors",
        ),
        ("office wear", "weekend outings", "evening events", "casual days", "travel"),
    ),
    CategorySpec(
        "Grocery",
        0.09,
        6.0,
        0.55,
        ("Pantry Pal", "Daily Harvest", "Greenfield", "Golden Grain"),
        (
            "Coffee Beans",
            "Olive Oil",
            "Pasta",
            "Granola",
            "Green Tea",
            "Dark Chocolate",
            "Basmati Rice",
            "Peanut Butter",
            "Sparkling Water",
            "Breakfast Cereal",
        ),
        (
            "organic ingredients",
            "fair trade sourcing",
            "a gluten-free recipe",
            "a family size pack",
            "no added sugar",
            "whole grains",
            "a cold pressed flavor",
        ),
        ("breakfast", "quick lunches", "pantry stocking", "snacking", "weeknight dinners"),
    ),
    CategorySpec(
        "Garden",
        0.05,
        30.0,
        0.8,
        ("Rootwise", "Mossgate", "Bloomcraft", "Verdana"),
        (
            "Garden Hose",
            "Pruning Shears",
            "Planter Pot",
            "Seed Kit",
            "Lawn Mower",
            "Garden Gloves",
            "Watering Can",
            "Compost Bin",
            "Solar Lights",
            "Raised Bed",
        ),
        (
            "rust resistant steel",
            "a weatherproof finish",
            "an ergonomic handle",
            "recycled plastic",
            "frost hardy seeds",
            "solar power",
            "UV protection",
        ),
        ("balcony gardens", "vegetable patches", "lawn care", "spring planting", "patios"),
    ),
    CategorySpec(
        "Pet Supplies",
        0.05,
        20.0,
        0.7,
        ("Furlife", "Pawsome", "Whiskerly", "Barkley & Co"),
        (
            "Dog Food",
            "Cat Litter",
            "Chew Toy",
            "Pet Bed",
            "Dog Leash",
            "Scratching Post",
            "Aquarium Filter",
            "Cat Treats",
            "Grooming Brush",
            "Pet Carrier",
        ),
        (
            "a grain-free recipe",
            "vet recommended nutrition",
            "durable rubber",
            "a washable cover",
            "odor control",
            "high protein content",
            "reflective stitching",
        ),
        ("puppies", "senior cats", "daily walks", "indoor pets", "travel with pets"),
    ),
    CategorySpec(
        "Office",
        0.06,
        15.0,
        0.8,
        ("Papertrail", "Deskly", "Inkbridge", "Officio"),
        (
            "Notebook",
            "Gel Pens",
            "Desk Organizer",
            "Office Chair",
            "Printer Paper",
            "Desk Lamp",
            "Stapler",
            "Whiteboard",
            "Label Maker",
            "Ergonomic Mouse",
        ),
        (
            "recycled paper",
            "an ergonomic design",
            "refillable cartridges",
            "adjustable height",
            "smudge-free ink",
            "a compact footprint",
            "a bulk pack",
        ),
        ("the home office", "students", "meetings", "daily planning", "school supplies"),
    ),
)
"""The twelve product categories of the synthetic catalogue."""

_CATEGORY_INDEX = {spec.name: i for i, spec in enumerate(CATEGORIES)}


@dataclass(frozen=True)
class PersonaSpec:
    """Behavioural prior of one planted persona.

    Every user draws their own parameters around these values, so personas overlap.

    Attributes
    ----------
    name : str
        Identifier written to ``personas.csv``.
    share : float
        Expected share of users with this persona.
    category_weights : dict of str to float
        Dirichlet prior weights per category name; categories not listed get
        ``category_base``.
    category_base : float
        Prior weight of unlisted categories.
    concentration : float
        Dirichlet concentration (higher: users follow the prior more closely).
    price_beta : float
        Price attitude: positive prefers cheaper items within a category, negative
        prefers premium ones (per-user value drawn around it).
    sessions_per_week : float
        Median relative shopping-session rate (rescaled to hit the event target).
    views_per_session : float
        Mean number of item views per session.
    cart_rate : float
        Mean probability that a view is followed by an add-to-cart.
    buy_rate : float
        Mean probability that a carted item is bought.
    rating_rate : float
        Mean probability that a purchased item is rated later.
    hours : tuple of (float, float, float)
        Mixture of session start hours as ``(mean hour, sd in hours, weight)``.
    weekdays : tuple of float
        Relative weight of Monday .. Sunday.
    regularity : float
        0 = sessions at random times, 1 = evenly spaced over the active window.
    quantity_probs : tuple of float
        Probabilities of buying 1, 2 or 3 units of an item.
    age : tuple of (float, float)
        Mean and standard deviation of age.
    gender_probs : tuple of float
        Probabilities of ``F``, ``M`` and ``other``.
    lapsing : bool
        Whether users stop being active months before the end of the period.
    """

    name: str
    share: float
    category_weights: dict[str, float]
    category_base: float
    concentration: float
    price_beta: float
    sessions_per_week: float
    views_per_session: float
    cart_rate: float
    buy_rate: float
    rating_rate: float
    hours: tuple[tuple[float, float, float], ...]
    weekdays: tuple[float, ...]
    regularity: float
    quantity_probs: tuple[float, float, float]
    age: tuple[float, float]
    gender_probs: tuple[float, float, float]
    lapsing: bool = False


PERSONAS: tuple[PersonaSpec, ...] = (
    PersonaSpec(
        name="bargain_hunter",
        share=0.20,
        category_weights={
            "Pet Supplies": 3.0,
            "Garden": 3.0,
            "Office": 2.0,
            "Sports & Outdoors": 2.0,
            "Home & Kitchen": 1.5,
        },
        category_base=0.6,
        concentration=30.0,
        price_beta=1.6,
        sessions_per_week=1.6,
        views_per_session=4.5,
        cart_rate=0.24,
        buy_rate=0.36,
        rating_rate=0.18,
        hours=((11.5, 1.5, 0.35), (15.0, 1.6, 0.55), (20.0, 1.5, 0.1)),
        weekdays=(0.85, 0.85, 0.85, 0.9, 1.2, 1.7, 1.6),
        regularity=0.2,
        quantity_probs=(0.8, 0.15, 0.05),
        age=(40.0, 13.0),
        gender_probs=(0.52, 0.45, 0.03),
    ),
    PersonaSpec(
        name="tech_enthusiast",
        share=0.14,
        category_weights={
            "Electronics": 9.0,
            "Office": 3.0,
            "Sports & Outdoors": 0.8,
            "Books": 0.8,
        },
        category_base=0.25,
        concentration=10.0,
        price_beta=-1.3,
        sessions_per_week=0.9,
        views_per_session=6.0,
        cart_rate=0.12,
        buy_rate=0.42,
        rating_rate=0.22,
        hours=((21.0, 1.4, 0.55), (23.5, 1.3, 0.35), (13.0, 2.0, 0.10)),
        weekdays=(1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.1),
        regularity=0.3,
        quantity_probs=(0.94, 0.05, 0.01),
        age=(31.0, 8.0),
        gender_probs=(0.22, 0.75, 0.03),
    ),
    PersonaSpec(
        name="family_shopper",
        share=0.18,
        category_weights={"Baby": 6.0, "Toys & Games": 5.0, "Grocery": 4.0, "Home & Kitchen": 2.0},
        category_base=0.3,
        concentration=20.0,
        price_beta=0.3,
        sessions_per_week=1.3,
        views_per_session=5.0,
        cart_rate=0.28,
        buy_rate=0.55,
        rating_rate=0.15,
        hours=((9.5, 1.4, 0.6), (14.0, 1.5, 0.2), (20.5, 1.2, 0.2)),
        weekdays=(0.7, 0.7, 0.7, 0.7, 0.9, 2.2, 2.1),
        regularity=0.3,
        quantity_probs=(0.6, 0.28, 0.12),
        age=(36.0, 6.0),
        gender_probs=(0.62, 0.36, 0.02),
    ),
    PersonaSpec(
        name="loyal_bookworm",
        share=0.14,
        category_weights={"Books": 12.0, "Office": 1.0, "Home & Kitchen": 0.8},
        category_base=0.25,
        concentration=10.0,
        price_beta=0.0,
        sessions_per_week=1.0,
        views_per_session=3.5,
        cart_rate=0.22,
        buy_rate=0.5,
        rating_rate=0.65,
        hours=((20.0, 1.5, 0.7), (7.5, 1.0, 0.2), (13.0, 1.5, 0.1)),
        weekdays=(1.0, 1.0, 1.0, 1.0, 1.0, 1.05, 1.1),
        regularity=0.85,
        quantity_probs=(0.95, 0.04, 0.01),
        age=(50.0, 14.0),
        gender_probs=(0.6, 0.37, 0.03),
    ),
    PersonaSpec(
        name="fashion_beauty",
        share=0.20,
        category_weights={
            "Fashion": 7.0,
            "Beauty": 6.0,
            "Sports & Outdoors": 1.0,
            "Home & Kitchen": 0.6,
        },
        category_base=0.25,
        concentration=10.0,
        price_beta=-0.7,
        sessions_per_week=1.1,
        views_per_session=5.0,
        cart_rate=0.18,
        buy_rate=0.4,
        rating_rate=0.2,
        hours=((12.5, 1.0, 0.4), (19.5, 1.6, 0.5), (16.0, 1.5, 0.1)),
        weekdays=(1.3, 1.3, 1.3, 1.3, 1.2, 0.6, 0.5),
        regularity=0.3,
        quantity_probs=(0.9, 0.08, 0.02),
        age=(29.0, 8.0),
        gender_probs=(0.8, 0.17, 0.03),
    ),
    PersonaSpec(
        name="lapsing",
        share=0.14,
        category_weights={},
        category_base=1.0,
        concentration=16.0,
        price_beta=0.2,
        sessions_per_week=0.8,
        views_per_session=3.5,
        cart_rate=0.15,
        buy_rate=0.35,
        rating_rate=0.12,
        hours=((13.0, 4.0, 1.0),),
        weekdays=(1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
        regularity=0.2,
        quantity_probs=(0.88, 0.1, 0.02),
        age=(42.0, 15.0),
        gender_probs=(0.5, 0.47, 0.03),
        lapsing=True,
    ),
)
"""The six planted personas (ground truth written to ``personas.csv``)."""


@dataclass(frozen=True)
class SampleStore:
    """A generated store: four polars DataFrames.

    Attributes
    ----------
    events : polars.DataFrame
        ``user_id, item_id, event_type, timestamp, quantity, price, rating, order_id``,
        sorted by timestamp.
    users : polars.DataFrame
        ``user_id, age, gender, region, signup_date``.
    items : polars.DataFrame
        ``item_id, title, category, brand, price, description``.
    personas : polars.DataFrame
        ``user_id, persona``: the planted ground truth (``bot`` for the planted bots).
    next_batch : polars.DataFrame
        Events of the ``next_days`` after the period plus the period's last
        ``overlap_days`` again (rows that duplicate ``events``), same columns.
    signals : polars.DataFrame
        One row per planted user signal: ``user_id, signal, item_id, detail``; signal is
        ``churner``, ``grower``, ``bot``, ``refund_heavy`` or ``refill`` (item_id: the
        refilled item).
    paths : polars.DataFrame
        One row per planted ordered pair: ``item_id, next_item_id, kind``
        (``accessory`` after a device, ``next_volume`` of a book series).
    """

    events: pl.DataFrame
    users: pl.DataFrame
    items: pl.DataFrame
    personas: pl.DataFrame
    next_batch: pl.DataFrame
    signals: pl.DataFrame
    paths: pl.DataFrame


@dataclass(frozen=True)
class _Items:
    """Internal item arrays, sorted by category (index = internal item number)."""

    category: np.ndarray  # int, per item
    price: np.ndarray  # float, per item
    price_z: np.ndarray  # standardized log price within category
    style: np.ndarray  # (n_items, d) latent style vectors
    cum: np.ndarray  # popularity CDF: category c runs over (c, c + 1]
    guide: np.ndarray  # guide table: bin j of category c -> first item whose cum > c + j/n_c
    guide_start: np.ndarray  # per category: offset of its bins in ``guide``
    count: np.ndarray  # per category: number of items (and of guide bins)
    next_item: np.ndarray  # planted successor (accessory or next volume), -1 if none
    path_kind: np.ndarray  # 0 none, 1 accessory after a device, 2 next volume of a series
    frame: pl.DataFrame


@dataclass(frozen=True)
class _Users:
    """Internal per-user arrays (index = internal user number)."""

    persona: np.ndarray
    cat_cum: np.ndarray  # flat CDF over categories: user u runs over (u, u + 1]
    price_beta: np.ndarray
    taste: np.ndarray  # (n_users, d)
    rate: np.ndarray  # relative sessions per day
    views: np.ndarray  # mean views per session
    cart_logit: np.ndarray
    buy_logit: np.ndarray
    rating_rate: np.ndarray
    hour_shift: np.ndarray
    weekday_cum: np.ndarray  # flat CDF over weekdays: user u runs over (u, u + 1]
    first_day: np.ndarray  # first possible active day (days since epoch)
    last_day: np.ndarray  # last possible active day (days since epoch)
    pref: np.ndarray  # (n_users, n_categories) category preference
    trend: np.ndarray  # 0 steady, 1 churner (activity decays to a stop), 2 grower
    role: np.ndarray  # 0 shopper, 1 bot, 2 refund-heavy, 3 refill buyer
    refill_item: np.ndarray  # item bought again at a regular interval (role 3), else -1
    refill_days: np.ndarray  # interval of the refills in days (role 3)
    frame: pl.DataFrame


def _logit(p: np.ndarray | float) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    return np.log(p / (1.0 - p))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _flat_cdf(weights: np.ndarray) -> np.ndarray:
    """Row-wise CDFs laid end to end: row ``r`` runs over ``(r, r + 1]``.

    ``np.searchsorted(cdf, r + u, side="right")`` with ``u`` uniform in ``[0, 1)`` then
    draws column ``index - r * n_cols`` from row ``r`` for many rows at once.
    """
    cum = np.cumsum(weights, axis=1)
    cum /= cum[:, -1:]
    cum[:, -1] = 1.0
    cum += np.arange(weights.shape[0], dtype=np.float64)[:, None]
    return cum.ravel()


def _draw_rows(
    rng: np.random.Generator, flat_cdf: np.ndarray, rows: np.ndarray, width: int
) -> np.ndarray:
    """Draw one column per entry of ``rows`` from the row CDFs of :func:`_flat_cdf`."""
    pos = np.searchsorted(flat_cdf, rows + rng.random(rows.size), side="right")
    return np.minimum(pos - rows * width, width - 1)


def _zero_padded(prefix: str, numbers: pl.Expr, width: int) -> pl.Expr:
    return pl.concat_str([pl.lit(prefix), numbers.cast(pl.String).str.zfill(width)])


def _id_width(n: int, minimum: int) -> int:
    return max(minimum, len(str(max(n, 1))))


def _allocate(total: int, shares: np.ndarray) -> np.ndarray:
    """Split ``total`` into integer parts proportional to ``shares``, each at least 1."""
    shares = shares / shares.sum()
    rest = total - shares.size
    raw = shares * rest
    counts = np.floor(raw).astype(np.int64)
    short = rest - counts.sum()
    counts[np.argsort(-(raw - counts), kind="stable")[:short]] += 1
    return counts + 1


# ---------------------------------------------------------------------------------------
# items
# ---------------------------------------------------------------------------------------


def _make_items(rng: np.random.Generator, n_items: int) -> _Items:
    n_cat = len(CATEGORIES)
    counts = _allocate(n_items, np.array([c.share for c in CATEGORIES]))
    category = np.repeat(np.arange(n_cat), counts)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank_in_cat = np.arange(n_items) - np.repeat(starts, counts)

    # brands: per category a budget-to-premium ladder of price factors
    n_brands = np.array([len(c.brands) for c in CATEGORIES])
    brand = np.floor(rng.random(n_items) * n_brands[category]).astype(np.int64)
    tier = brand / np.maximum(n_brands[category] - 1, 1) - 0.5  # -0.5 .. 0.5
    median = np.array([c.median_price for c in CATEGORIES])[category]
    sigma = np.array([c.price_sigma for c in CATEGORIES])[category]
    log_price = np.log(median) + 1.1 * tier + 0.75 * sigma * rng.standard_normal(n_items)
    raw = np.exp(log_price)
    price = np.where(raw >= 10, np.floor(raw) + 0.99, np.round(np.maximum(raw, 0.5), 2))
    log_p = np.log(price)
    cat_mean = np.bincount(category, log_p, n_cat) / counts
    cat_sd = np.sqrt(np.bincount(category, (log_p - cat_mean[category]) ** 2, n_cat) / counts)
    price_z = (log_p - cat_mean[category]) / np.where(cat_sd > 0, cat_sd, 1.0)[category]

    # latent style and Zipf-like popularity within category
    style = rng.standard_normal((n_items, _LATENT_DIM))
    zipf_rank = np.empty(n_items, dtype=np.int64)
    order = np.lexsort((rng.random(n_items), category))  # shuffled within category
    zipf_rank[order] = rank_in_cat + 1
    popularity = zipf_rank ** -rng.uniform(0.9, 1.15)
    cum = np.empty(n_items)
    within = np.cumsum(popularity)
    cat_total = np.bincount(category, popularity, n_cat)
    before = np.concatenate([[0.0], np.cumsum(cat_total)[:-1]])
    cum[:] = (within - before[category]) / cat_total[category] + category
    cum[np.cumsum(counts) - 1] = np.arange(1, n_cat + 1, dtype=np.float64)
    # guide table (one bin per item) so that draws need O(1) steps instead of a search
    bins = np.repeat(np.arange(n_cat), counts) + rank_in_cat / np.repeat(counts, counts)
    guide = np.searchsorted(cum, bins, side="right")

    # text: flat vocabularies with per-category offsets, indexed by array
    def vocab(field: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lists = [getattr(c, field) for c in CATEGORIES]
        sizes = np.array([len(x) for x in lists])
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        return np.array([w for x in lists for w in x], dtype=object), offsets, sizes

    def pick(field: str, k: int = 1) -> list[np.ndarray]:
        words, offsets, sizes = vocab(field)
        size = sizes[category]
        first = np.floor(rng.random(n_items) * size).astype(np.int64)
        picks = [first]
        for j in range(1, k):  # distinct picks: offset by 1..size-1 from the first
            step = 1 + np.floor(rng.random(n_items) * (size - 1)).astype(np.int64)
            picks.append((picks[0] + step * j) % size)
        return [words[offsets[category] + p] for p in picks]

    brand_words, brand_off, _ = vocab("brands")
    brand_name = brand_words[brand_off[category] + brand]
    (noun,) = pick("nouns")
    feat_a, feat_b = pick("features", 2)
    (use,) = pick("uses")
    lean = np.abs(style).argmax(axis=1)
    positive = style[np.arange(n_items), lean] > 0
    styles = np.array(_STYLE_WORDS, dtype=object)
    adjective = styles[lean, positive.astype(np.int64)]
    next_item, path_kind, volume = _plant_paths(rng, category, noun)
    # a series shares the first volume's brand, style and noun; titles end in "Vol. k"
    first_volume = _first_volume(next_item, path_kind)
    brand_name = brand_name[first_volume]
    adjective = adjective[first_volume]
    noun = noun[first_volume]
    category_name = np.array([c.name for c in CATEGORIES], dtype=object)[category]

    width = _id_width(n_items, 5)
    number = rng.permutation(n_items) + 1  # item ids are not grouped by category
    frame = (
        pl.DataFrame(
            {
                "_n": number,
                "brand": brand_name.astype(str),
                "adj": adjective.astype(str),
                "noun": noun.astype(str),
                "feat_a": feat_a.astype(str),
                "feat_b": feat_b.astype(str),
                "use": use.astype(str),
                "category": category_name.astype(str),
                "price": price,
                "_variant": rng.random(n_items) < 0.5,
                "_volume": volume,
            }
        )
        .with_columns(
            _zero_padded("I", pl.col("_n"), width).alias("item_id"),
            pl.when(pl.col("_volume") > 0)
            .then(pl.format("{} {} {} Vol. {}", "brand", "adj", "noun", "_volume"))
            .otherwise(pl.concat_str(["brand", "adj", "noun"], separator=" "))
            .alias("title"),
            pl.when(pl.col("_variant"))
            .then(
                pl.format(
                    "{} {} by {} with {} and {}. Ideal for {}.",
                    "adj",
                    pl.col("noun").str.to_lowercase(),
                    "brand",
                    "feat_a",
                    "feat_b",
                    "use",
                )
            )
            .otherwise(
                pl.format(
                    "This {} {} features {}. A {} pick for {}, with {}.",
                    pl.col("adj").str.to_lowercase(),
                    pl.col("noun").str.to_lowercase(),
                    "feat_a",
                    pl.col("category").str.to_lowercase(),
                    "use",
                    "feat_b",
                )
            )
            .alias("description"),
        )
        .with_columns(  # repeated titles get a model number: "... No. 2"
            pl.when(pl.int_range(pl.len()).over("title") > 0)
            .then(pl.format("{} No. {}", "title", pl.int_range(1, pl.len() + 1).over("title")))
            .otherwise("title")
            .alias("title")
        )
        .select("item_id", "title", "category", "brand", "price", "description", "_n")
    )
    return _Items(
        category, price, price_z, style, cum, guide, starts, counts, next_item, path_kind, frame
    )


_DEVICES = ("Smartwatch", "Tablet", "Laptop", "Monitor", "Gaming Console")
_ACCESSORIES = ("Headphones", "Bluetooth Speaker", "Webcam", "Power Bank", "Wi-Fi Router")
_SERIES_NOUNS = ("Fantasy Saga", "Thriller", "Graphic Novel", "Novel")
_SERIES_LENGTH = 3
_CONSUMABLE_CATEGORIES = ("Grocery", "Pet Supplies", "Baby")


def _plant_paths(
    rng: np.random.Generator, category: np.ndarray, noun: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ordered item paths: each device has one accessory bought after it; books of the
    series nouns form series of :data:`_SERIES_LENGTH` volumes read in order.

    Returns per item: the successor (-1 if none), the kind of the edge out of it
    (1 accessory, 2 next volume) and the volume number (0 when not in a series).
    """
    n = category.size
    next_item = np.full(n, -1, dtype=np.int64)
    kind = np.zeros(n, dtype=np.int8)
    volume = np.zeros(n, dtype=np.int64)
    electronics = category == _CATEGORY_INDEX["Electronics"]
    devices = np.flatnonzero(electronics & np.isin(noun, _DEVICES))
    accessories = np.flatnonzero(electronics & np.isin(noun, _ACCESSORIES))
    if devices.size and accessories.size:
        next_item[devices] = rng.choice(accessories, size=devices.size)
        kind[devices] = 1
    books = np.flatnonzero((category == _CATEGORY_INDEX["Books"]) & np.isin(noun, _SERIES_NOUNS))
    books = rng.permutation(books)
    n_series = books.size // _SERIES_LENGTH
    for s in range(n_series):
        chain = books[s * _SERIES_LENGTH : (s + 1) * _SERIES_LENGTH]
        next_item[chain[:-1]] = chain[1:]
        kind[chain[:-1]] = 2
        volume[chain] = np.arange(1, _SERIES_LENGTH + 1)
    return next_item, kind, volume


def _first_volume(next_item: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Per item, the first volume of its series (the item itself when not in one)."""
    first = np.arange(next_item.size)
    series = np.flatnonzero(kind == 2)
    for _ in range(_SERIES_LENGTH):  # walk each edge forward, one volume per round
        first[next_item[series]] = first[series]
    return first


# ---------------------------------------------------------------------------------------
# users
# ---------------------------------------------------------------------------------------


def _persona_table(attr: str) -> np.ndarray:
    return np.array([getattr(p, attr) for p in PERSONAS], dtype=np.float64)


def _make_users(
    rng: np.random.Generator,
    n_users: int,
    first_day: int,
    last_day: int,
    data_last_day: int,
    items: _Items,
    n_bots: int = 0,
    n_refunders: int = 0,
) -> _Users:
    n_cat = len(CATEGORIES)
    n_per = len(PERSONAS)
    shares = _persona_table("share")
    persona = rng.choice(n_per, size=n_users, p=shares / shares.sum())

    # category preference: persona Dirichlet prior + some mass on random categories
    prior = np.empty((n_per, n_cat))
    for k, p in enumerate(PERSONAS):
        w = np.full(n_cat, p.category_base)
        for name, value in p.category_weights.items():
            w[_CATEGORY_INDEX[name]] = value
        prior[k] = p.concentration * w / w.sum()
    pref = rng.standard_gamma(prior[persona])
    pref /= pref.sum(axis=1, keepdims=True)
    stray = rng.standard_gamma(np.full((n_users, n_cat), 1.0))
    stray /= np.maximum(stray.sum(axis=1, keepdims=True), 1e-12)
    eps = rng.beta(2.0, 14.0, n_users)[:, None]
    pref = (1.0 - eps) * pref + eps * stray + 1e-9

    # price attitude, taste, activity, funnel propensities
    price_beta = _persona_table("price_beta")[persona] + 0.5 * rng.standard_normal(n_users)
    persona_taste = rng.normal(0.0, 0.5, (n_per, _LATENT_DIM))
    taste = persona_taste[persona] + rng.standard_normal((n_users, _LATENT_DIM))
    rate = _persona_table("sessions_per_week")[persona] / 7.0
    rate = rate * np.exp(0.45 * rng.standard_normal(n_users))
    views = _persona_table("views_per_session")[persona] * np.exp(
        0.25 * rng.standard_normal(n_users)
    )
    cart_logit = _logit(_persona_table("cart_rate"))[persona] + 0.3 * rng.standard_normal(n_users)
    buy_logit = _logit(_persona_table("buy_rate"))[persona] + 0.3 * rng.standard_normal(n_users)
    rating_rate = _sigmoid(
        _logit(_persona_table("rating_rate"))[persona] + 0.4 * rng.standard_normal(n_users)
    )

    # rhythms: per-user hour shift and weekday weights around the persona's
    hour_shift = 0.9 * rng.standard_normal(n_users)
    weekdays = np.array([p.weekdays for p in PERSONAS])
    weekdays = 40.0 * weekdays / weekdays.sum(axis=1, keepdims=True)
    weekday_w = rng.standard_gamma(weekdays[persona])

    # active windows. ``last_day`` includes the next-batch period after ``data_last_day``.
    # Signups are spread over the period (late joiners), lapsing users come and go through
    # the first half, churners fade out and growers pick up, so the base stays steady.
    span = data_last_day - first_day
    lapsing = np.array([p.lapsing for p in PERSONAS])[persona]
    start = np.full(n_users, first_day, dtype=np.int64)
    late = (rng.random(n_users) < 0.25) & ~lapsing
    start[late] = first_day + np.floor(rng.random(late.sum()) * max(span - 30, 1)).astype(np.int64)
    # lapsing users may have started before the period (their events before it are not
    # in the log), so the period does not open with only a few of them active
    start[lapsing] = first_day - 60 + np.floor(rng.random(lapsing.sum()) * 210).astype(np.int64)
    stop = np.full(n_users, last_day, dtype=np.int64)
    lapse_len = np.floor(rng.uniform(2.5, 5.0, n_users) * _DAYS_PER_MONTH).astype(np.int64)
    stop[lapsing] = np.minimum(start[lapsing] + lapse_len[lapsing], data_last_day - 90)
    start = np.maximum(start, first_day)
    # churners: activity decays over their whole window down to a stop in the last months
    draw = rng.random(n_users)
    churner = ~lapsing & ~late & (draw < 0.07)
    stop[churner] = data_last_day - np.floor(rng.uniform(0, 100, churner.sum())).astype(np.int64)
    grower = ~lapsing & ~late & (draw >= 0.07) & (draw < 0.13)
    rate[grower] *= 1.4
    stop = np.minimum(np.maximum(stop, start + 7), last_day)
    start = np.minimum(start, stop)
    trend = np.where(churner, 1, np.where(grower, 2, 0)).astype(np.int8)

    # roles: bots, refund-heavy shoppers and refill buyers (planted risk and repeat signals)
    role = np.zeros(n_users, dtype=np.int8)
    steady = np.flatnonzero(~lapsing & (trend == 0) & ~late)
    picked = rng.choice(steady, size=min(n_bots + n_refunders, steady.size), replace=False)
    role[picked[:n_bots]] = 1
    role[picked[n_bots:]] = 2
    buy_logit[role == 2] += 1.0
    rate[role == 2] *= 2.5  # enough purchases for their refunds to stand out
    cart_logit[role == 2] += 0.8
    consumable = np.array([_CATEGORY_INDEX[c] for c in _CONSUMABLE_CATEGORIES])
    refill = (
        (role == 0)
        & ~lapsing
        & (rng.random(n_users) < np.where(pref[:, consumable].sum(axis=1) > 0.25, 0.3, 0.0))
    )
    role[refill] = 3
    best = consumable[pref[:, consumable].argmax(axis=1)]
    refill_item = np.where(refill, _draw_popular(rng, items, best), -1)
    refill_days = rng.integers(14, 36, n_users)

    # demographics and signup dates
    age_mu = np.array([p.age[0] for p in PERSONAS])[persona]
    age_sd = np.array([p.age[1] for p in PERSONAS])[persona]
    age = np.clip(np.rint(age_mu + age_sd * rng.standard_normal(n_users)), 18, 80)
    gender_p = np.array([p.gender_probs for p in PERSONAS])
    gender_cum = _flat_cdf(gender_p[persona])
    gender = _draw_rows(rng, gender_cum, np.arange(n_users), len(_GENDERS))
    region = rng.choice(len(_REGIONS), size=n_users, p=np.array(_REGION_WEIGHTS))
    before = np.floor(rng.exponential(400.0, n_users)).astype(np.int64)
    signup = np.where(late, start - np.floor(rng.exponential(3.0, n_users)), start - before)
    signup = np.minimum(np.maximum(signup, 10_957), start)  # not before 2000-01-01

    width = _id_width(n_users, 6)
    frame = pl.DataFrame(
        {
            "_n": np.arange(1, n_users + 1),
            "age": age.astype(np.int64),
            "gender": np.array(_GENDERS)[gender],
            "region": np.array(_REGIONS)[region],
            "signup_date": pl.Series(signup.astype(np.int32)).cast(pl.Date),
            "persona": np.where(role == 1, "bot", np.array([p.name for p in PERSONAS])[persona]),
        }
    ).select(
        _zero_padded("U", pl.col("_n"), width).alias("user_id"),
        "age",
        "gender",
        "region",
        "signup_date",
        "persona",
    )
    return _Users(
        persona=persona,
        cat_cum=_flat_cdf(pref),
        price_beta=price_beta,
        taste=taste,
        rate=rate,
        views=views,
        cart_logit=cart_logit,
        buy_logit=buy_logit,
        rating_rate=rating_rate,
        hour_shift=hour_shift,
        weekday_cum=_flat_cdf(weekday_w),
        first_day=start,
        last_day=stop,
        pref=pref,
        trend=trend,
        role=role,
        refill_item=refill_item,
        refill_days=refill_days,
        frame=frame,
    )


# ---------------------------------------------------------------------------------------
# events
# ---------------------------------------------------------------------------------------


PROMOTIONS: tuple[tuple[str, int, int], ...] = (
    ("Spring sale", 74, 3),
    ("Summer sale", 166, 3),
    ("Black Friday weekend", 331, 4),
)
"""Promotions as (name, first day of the year (1 = 1 January), length in days)."""

_HOLIDAY_PEAK_DOY = 345  # mid-December
_HOLIDAY_WIDTH = 16.0  # days (standard deviation of the bump)
_HOLIDAY_LIFT = 0.9  # +90 % sessions at the peak

# Category seasonality: (category, peak day of year, strength): the category's share of
# sessions is multiplied by exp(strength * cos(2 pi (doy - peak) / 365)); toys and
# electronics also rise with the holiday peak.
_SEASONS = (
    ("Garden", 130, 0.8),
    ("Sports & Outdoors", 180, 0.4),
    ("Fashion", 100, 0.2),
    ("Toys & Games", 350, 0.3),
    ("Beauty", 350, 0.15),
)
_HOLIDAY_CATEGORIES = (("Toys & Games", 1.6), ("Electronics", 0.8), ("Beauty", 0.4))


def _day_of_year(days: np.ndarray) -> np.ndarray:
    """1-based day of the year of epoch days."""
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    return (d - d.astype("datetime64[Y]")).astype(np.int64) + 1


def _holiday(doy: np.ndarray) -> np.ndarray:
    """The holiday bump (0..1) by day of year, wrapping around the new year."""
    dist = np.abs(doy - _HOLIDAY_PEAK_DOY)
    dist = np.minimum(dist, 365 - dist)
    return np.exp(-0.5 * (dist / _HOLIDAY_WIDTH) ** 2)


def _promo_index(doy: np.ndarray) -> np.ndarray:
    """Index into :data:`PROMOTIONS` of each day of year, -1 outside promotions."""
    out = np.full(doy.shape, -1, dtype=np.int64)
    for i, (_, first, length) in enumerate(PROMOTIONS):
        out[(doy >= first) & (doy < first + length)] = i
    return out


def _season_weights(doy: np.ndarray) -> np.ndarray:
    """(n, n_categories) multipliers of each category's session share by day of year."""
    w = np.ones((doy.size, len(CATEGORIES)))
    for name, peak, strength in _SEASONS:
        w[:, _CATEGORY_INDEX[name]] *= np.exp(strength * np.cos(2 * np.pi * (doy - peak) / 365.0))
    bump = _holiday(doy)
    for name, lift in _HOLIDAY_CATEGORIES:
        w[:, _CATEGORY_INDEX[name]] *= 1.0 + lift * bump
    return w


def _warp_days(
    first_day: np.ndarray, last_day: np.ndarray, pos: np.ndarray, period: tuple[int, int]
) -> np.ndarray:
    """Days in ``[first_day, last_day]`` at quantile ``pos`` of the store-wide daily
    intensity (flat base plus the holiday peak), so sessions crowd into busy weeks."""
    lo, hi = period
    days = np.arange(lo, hi + 1)
    cum = np.concatenate([[0.0], np.cumsum(1.0 + _HOLIDAY_LIFT * _holiday(_day_of_year(days)))])
    a = cum[first_day - lo]
    b = cum[last_day - lo + 1]
    found = np.searchsorted(cum, a + pos * (b - a), side="right") - 1
    return np.clip(lo + found, first_day, last_day)


def _expected_events_per_session(users: _Users) -> np.ndarray:
    cart = _sigmoid(users.cart_logit)
    buy = _sigmoid(users.buy_logit)
    return users.views * (1.0 + cart + cart * buy * (1.0 + 0.9 * users.rating_rate))


def _draw_popular(rng: np.random.Generator, items: _Items, cat: np.ndarray) -> np.ndarray:
    """Draw one item per entry of ``cat`` by popularity within that category.

    Inverse-CDF sampling with a guide table: start at the guide bin of the uniform draw
    and step forward until the item's CDF passes it (about one step on average).
    """
    u = rng.random(cat.size)
    target = np.minimum(cat + u, np.nextafter(cat + 1.0, cat))
    idx = items.guide[items.guide_start[cat] + (u * items.count[cat]).astype(np.int64)]
    todo = np.flatnonzero(items.cum[idx] <= target)
    while todo.size:  # a handful of vectorized rounds over shrinking subsets
        idx[todo] += 1
        todo = todo[items.cum[idx[todo]] <= target[todo]]
    return idx


def _choose_items(
    rng: np.random.Generator,
    items: _Items,
    users: _Users,
    v_user: np.ndarray,
    v_cat: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Pick the viewed item of each view: popularity-drawn candidates, Gumbel-max on
    taste and price affinity (approximately ``p ~ popularity * exp(affinity)``)."""
    n = v_user.size
    chosen = np.empty(n, dtype=np.int32)
    affinity = np.empty(n, dtype=np.float32)
    style = items.style.astype(np.float32)
    taste = (users.taste * (_TASTE_STRENGTH / np.sqrt(_LATENT_DIM))).astype(np.float32)
    price_z = items.price_z.astype(np.float32)
    beta = users.price_beta.astype(np.float32)
    for lo in range(0, n, SNIFF_CHUNK):  # chunks of views, each fully vectorized
        hi = min(lo + SNIFF_CHUNK, n)
        u = v_user[lo:hi]
        c = v_cat[lo:hi]
        cand = _draw_popular(rng, items, np.repeat(c, _CANDIDATES)).reshape(-1, _CANDIDATES)
        aff = np.einsum("md,mkd->mk", taste[u], style[cand])
        aff -= beta[u][:, None] * price_z[cand]
        best = np.argmax(aff + rng.gumbel(size=aff.shape).astype(np.float32), axis=1)
        rows = np.arange(hi - lo)
        chosen[lo:hi] = cand[rows, best]
        affinity[lo:hi] = aff[rows, best]
    return chosen, affinity


def _simulate_events(
    rng: np.random.Generator,
    items: _Items,
    users: _Users,
    scale: float,
    end_s: int,
    period: tuple[int, int],
    data_last_day: int,
) -> dict[str, np.ndarray]:
    n_users = users.persona.size
    n_cat = len(CATEGORIES)

    # sessions per user
    span_days = (users.last_day - users.first_day + 1).astype(np.float64)
    n_sess = np.maximum(rng.poisson(scale * users.rate * span_days), 1)
    s_user = np.repeat(np.arange(n_users), n_sess)
    n_s = s_user.size
    first = np.concatenate([[0], np.cumsum(n_sess)[:-1]])
    k = np.arange(n_s) - np.repeat(first, n_sess)

    # day: blend of evenly spaced and random positions, moved to a preferred weekday
    regular = _persona_table("regularity")[users.persona][s_user]
    # a share ``regularity`` of the sessions sits near its evenly spaced slot, the rest
    # anywhere: both are uniform over the window, so the store's traffic stays level (a
    # weighted sum of the two would bunch sessions in the middle of the period)
    slot = (k + 0.5 + 0.5 * (rng.random(n_s) - 0.5)) / n_sess[s_user]
    pos = np.where(rng.random(n_s) < regular, slot, rng.random(n_s))
    # churners' session density falls linearly to zero at their stop, growers' rises
    trend = users.trend[s_user]
    pos = np.where(trend == 1, 1.0 - np.sqrt(1.0 - pos), np.where(trend == 2, np.sqrt(pos), pos))
    day = _warp_days(users.first_day[s_user], users.last_day[s_user], pos, period)
    target = _draw_rows(rng, users.weekday_cum, s_user, 7)
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
    # promotion days keep their date so that the spikes stay sharp
    shift = np.where(_promo_index(_day_of_year(day)) >= 0, 0, (target - weekday + 3) % 7 - 3)
    day = np.clip(day + shift, users.first_day[s_user], users.last_day[s_user])
    # every user's first drawn session falls in the main period, so that every user of
    # users.csv has events in the first batch (the next batch adds to known users)
    late_first = (k == 0) & (day > data_last_day)
    lo = users.first_day[s_user[late_first]]
    day[late_first] = lo + (day[late_first] - lo) * np.maximum(data_last_day - lo, 0) // np.maximum(
        users.last_day[s_user[late_first]] - lo, 1
    )
    day[late_first] = np.minimum(day[late_first], data_last_day)

    # promotions: extra sessions, more of them from price-sensitive users
    all_days = np.arange(period[0], period[1] + 1)
    promo_days = all_days[_promo_index(_day_of_year(all_days)) >= 0]
    p_promo = np.minimum(2.0 * scale * users.rate * (0.4 + _sigmoid(1.5 * users.price_beta)), 0.9)
    extra_user, extra_day = [], []
    for d in promo_days:
        eligible = (users.first_day <= d) & (users.last_day >= d) & (users.role != 1)
        hit = np.flatnonzero(eligible & (rng.random(n_users) < p_promo))
        extra_user.append(hit)
        extra_day.append(np.full(hit.size, d, dtype=np.int64))
    if extra_user:
        s_user = np.concatenate([s_user, *extra_user])
        day = np.concatenate([day, *extra_day])
        n_s = s_user.size
    doy = _day_of_year(day)
    s_promo = _promo_index(doy) >= 0

    # hour: persona mixture + per-user shift + per-session noise
    n_comp = max(len(p.hours) for p in PERSONAS)
    mix = np.zeros((len(PERSONAS), n_comp, 3))
    mix[:, :, 2] = 1e-12
    for j, p in enumerate(PERSONAS):
        mix[j, : len(p.hours)] = p.hours
    s_persona = users.persona[s_user]
    comp = _draw_rows(rng, _flat_cdf(mix[:, :, 2]), s_persona, n_comp)
    hour = (
        mix[s_persona, comp, 0]
        + mix[s_persona, comp, 1] * rng.standard_normal(n_s)
        + users.hour_shift[s_user]
    ) % 24.0
    s_start = day * _SECONDS_PER_DAY + np.floor(hour * 3600.0).astype(np.int64)
    # the session's category: the user's preference times the category's season
    s_cat = np.empty(n_s, dtype=np.int64)
    for lo in range(0, n_s, SNIFF_CHUNK):
        hi = min(lo + SNIFF_CHUNK, n_s)
        w = np.cumsum(users.pref[s_user[lo:hi]] * _season_weights(doy[lo:hi]), axis=1)
        u = rng.random(hi - lo) * w[:, -1]
        s_cat[lo:hi] = np.minimum((w < u[:, None]).sum(axis=1), n_cat - 1)

    # views: mostly the session's category, sometimes another preferred one
    n_views = 1 + rng.poisson(np.maximum(users.views[s_user] - 1.0, 0.0))
    v_sess = np.repeat(np.arange(n_s), n_views)
    v_user = s_user[v_sess]
    v_cat = s_cat[v_sess]
    other = rng.random(v_sess.size) < 0.2
    v_cat[other] = _draw_rows(rng, users.cat_cum, v_user[other], n_cat)
    v_item, v_aff = _choose_items(rng, items, users, v_user, v_cat)
    gaps = np.minimum(rng.exponential(100.0, v_sess.size), 900.0) + 5.0
    offset = np.cumsum(gaps)
    v_first = np.concatenate([[0], np.cumsum(n_views)[:-1]])
    offset -= np.repeat(offset[v_first] - gaps[v_first], n_views)
    v_ts = s_start[v_sess] + np.floor(offset).astype(np.int64)
    s_last_view = v_ts[v_first + n_views - 1]

    # funnel: carts minutes after the view, purchases at one checkout per session
    z = (v_aff - v_aff.mean()) / max(float(v_aff.std()), 1e-9)
    # promotions lift the funnel, most for price-sensitive users
    v_lift = s_promo[v_sess] * (0.3 + 0.3 * np.maximum(users.price_beta[v_user], 0.0))
    p_cart = _sigmoid(users.cart_logit[v_user] + 0.5 * z + v_lift)
    carted = rng.random(v_sess.size) < p_cart
    c_idx = np.flatnonzero(carted)
    c_ts = v_ts[c_idx] + 10 + np.floor(np.minimum(rng.exponential(90.0, c_idx.size), 500))
    p_buy = _sigmoid(users.buy_logit[v_user[c_idx]] + 0.4 * z[c_idx] + v_lift[c_idx])
    bought = rng.random(c_idx.size) < p_buy
    b_idx = c_idx[bought]
    b_sess = v_sess[b_idx]
    checkout = s_last_view + 600 + np.floor(rng.exponential(180.0, n_s)).astype(np.int64)
    b_ts = checkout[b_sess]
    qprobs = np.array([p.quantity_probs for p in PERSONAS])
    grocery = v_cat[b_idx] == _CATEGORY_INDEX["Grocery"]
    qty_rows = users.persona[v_user[b_idx]]
    q_cum = _flat_cdf(qprobs)
    quantity = 1 + _draw_rows(rng, q_cum, qty_rows, 3)
    extra = grocery & (rng.random(b_idx.size) < 0.15)
    quantity = np.minimum(quantity + extra, 3)

    # shift sessions that would run past the end back before it
    s_end = np.maximum(s_last_view, np.where(np.bincount(b_sess, minlength=n_s) > 0, checkout, 0))
    overshoot = np.maximum(s_end - end_s, 0)
    overshoot = np.where(overshoot > 0, overshoot + 60, 0)
    v_ts = v_ts - overshoot[v_sess]
    c_ts = c_ts - overshoot[v_sess[c_idx]]
    b_ts = b_ts - overshoot[b_sess]

    # ratings some days after the purchase; stars follow the affinity
    rated = rng.random(b_idx.size) < users.rating_rate[v_user[b_idx]]
    r_idx = b_idx[rated]
    r_ts = b_ts[rated] + 3600 * 6 + np.floor(rng.exponential(5.0 * 86400, r_idx.size))
    stars = np.clip(np.rint(3.6 + 0.9 * z[r_idx] + 0.8 * rng.standard_normal(r_idx.size)), 1, 5)
    keep = r_ts <= end_s
    r_idx, r_ts, stars = r_idx[keep], r_ts[keep], stars[keep]

    n_v, n_c, n_b, n_r = v_sess.size, c_idx.size, b_idx.size, r_idx.size
    leaf_view = ~carted
    leaf_view[v_first[first]] = False
    nan = np.nan
    return {
        "user": np.concatenate([v_user, v_user[c_idx], v_user[b_idx], v_user[r_idx]]),
        "item": np.concatenate([v_item, v_item[c_idx], v_item[b_idx], v_item[r_idx]]),
        "type": np.repeat(np.arange(4, dtype=np.int8), [n_v, n_c, n_b, n_r]),
        "ts": np.concatenate([v_ts, c_ts, b_ts, r_ts]).astype(np.int64),
        "quantity": np.concatenate([np.zeros(n_v + n_c), quantity, np.zeros(n_r)]),
        "rating": np.concatenate([np.full(n_v + n_c + n_b, nan), stars]),
        "session": np.concatenate([v_sess, v_sess[c_idx], b_sess, v_sess[r_idx]]),
        # a view is a "leaf" when nothing follows from it; ratings are leaves too. Each
        # user's first view is kept off the list so that trimming never empties a user.
        "leaf": np.concatenate(
            [leaf_view, np.zeros(n_c + n_b, dtype=bool), np.ones(n_r, dtype=bool)]
        ),
    }


def _one_item_sessions(
    rng: np.random.Generator,
    user: np.ndarray,
    item: np.ndarray,
    t0: np.ndarray,
    first_session: int,
    quantity: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """One short session per entry: a view at ``t0``, an add-to-cart seconds later and
    a purchase at checkout ~10 minutes later."""
    n = user.size
    t_cart = t0 + 20 + rng.integers(0, 180, n)
    t_buy = t0 + 600 + rng.integers(0, 300, n)
    session = first_session + np.arange(n)
    qty = np.ones(n) if quantity is None else quantity.astype(np.float64)
    return {
        "user": np.tile(user, 3),
        "item": np.tile(item, 3),
        "type": np.repeat(np.arange(3, dtype=np.int8), n),
        "ts": np.concatenate([t0, t_cart, t_buy]).astype(np.int64),
        "quantity": np.concatenate([np.zeros(2 * n), qty]),
        "rating": np.full(3 * n, np.nan),
        "session": np.tile(session, 3),
        "leaf": np.zeros(3 * n, dtype=bool),
    }


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def _daytime(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """A time between 09:00 and 21:00 on each day, in epoch seconds."""
    return days * _SECONDS_PER_DAY + rng.integers(9 * 3600, 21 * 3600, days.size)


def _plant_signals(
    rng: np.random.Generator,
    items: _Items,
    users: _Users,
    events: dict[str, np.ndarray],
    end_s: int,
    data_end_s: int,
) -> dict[str, np.ndarray]:
    """Add the planted sequences, refills, refunds and bots to the simulated events.

    - after buying a device (or volume k of a series) users often come back days later
      for its accessory (or volume k + 1): ordered paths that order-blind models miss;
    - refill buyers buy the same consumable every ``refill_days`` (jittered by a day);
    - refund-heavy users return most of what they buy days later;
    - bots' shopping is replaced by bursts of views seconds apart, with nothing bought.
    """
    parts = [events]
    next_session = int(events["session"].max()) + 1 if events["session"].size else 0
    buys = events["type"] == 2
    src_user, src_item, src_ts = events["user"][buys], events["item"][buys], events["ts"][buys]
    for _ in range(_SERIES_LENGTH):  # a chain of volumes grows by one per round
        nxt = items.next_item[src_item]
        kind = items.path_kind[src_item]
        go = (nxt >= 0) & (rng.random(src_item.size) < np.where(kind == 1, 0.5, 0.6))
        delay = np.where(kind == 1, rng.uniform(1, 14, kind.size), rng.uniform(5, 35, kind.size))
        t0 = src_ts + np.floor(delay * _SECONDS_PER_DAY).astype(np.int64)
        go &= (t0 + 1200 <= end_s) & (t0 // _SECONDS_PER_DAY <= users.last_day[src_user])
        block = _one_item_sessions(rng, src_user[go], nxt[go], t0[go], next_session)
        next_session += int(go.sum())
        parts.append(block)
        n = int(go.sum())
        src_user, src_item, src_ts = src_user[go], nxt[go], block["ts"][2 * n :]

    refill = np.flatnonzero(users.role == 3)
    if refill.size:
        every = users.refill_days[refill]
        offset = np.floor(rng.random(refill.size) * every).astype(np.int64)
        span = users.last_day[refill] - users.first_day[refill] - offset
        count = np.maximum(span // every + 1, 1)
        r_user = np.repeat(refill, count)
        k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        day = np.repeat(users.first_day[refill] + offset, count) + k * np.repeat(every, count)
        day = day + rng.integers(-1, 2, day.size)
        day = np.clip(day, users.first_day[r_user], users.last_day[r_user])
        t0 = _daytime(rng, day)
        keep = t0 + 1200 <= end_s
        qty = 1 + (rng.random(int(keep.sum())) < 0.25)
        parts.append(
            _one_item_sessions(
                rng, r_user[keep], users.refill_item[r_user[keep]], t0[keep], next_session, qty
            )
        )
        next_session += int(keep.sum())

    merged = _concat(parts)
    refunder = users.role[merged["user"]] == 2
    ret = np.flatnonzero(refunder & (merged["type"] == 2) & (rng.random(merged["ts"].size) < 0.8))
    r_ts = merged["ts"][ret] + np.floor(rng.uniform(2, 20, ret.size) * _SECONDS_PER_DAY)
    ret, r_ts = ret[r_ts <= end_s], r_ts[r_ts <= end_s]
    refunds = {key: merged[key][ret] for key in merged}
    refunds["type"] = np.full(ret.size, 4, dtype=np.int8)
    refunds["ts"] = r_ts.astype(np.int64)

    bot = np.flatnonzero(users.role == 1)
    keep = users.role[merged["user"]] != 1
    merged = {key: value[keep] for key, value in merged.items()}
    bot_parts = [merged, refunds]
    if bot.size:
        n_bursts = rng.integers(6, 11, bot.size)
        b_user = np.repeat(bot, n_bursts)
        n_views = rng.integers(60, 121, b_user.size)
        last = np.minimum(users.last_day[b_user], data_end_s // _SECONDS_PER_DAY - 1)
        start_day = users.first_day[b_user] + np.floor(
            rng.random(b_user.size) * np.maximum(last - users.first_day[b_user], 1)
        ).astype(np.int64)
        start = start_day * _SECONDS_PER_DAY + rng.integers(0, _SECONDS_PER_DAY, b_user.size)
        v_burst = np.repeat(np.arange(b_user.size), n_views)
        gaps = rng.integers(1, 5, v_burst.size)
        offset = np.cumsum(gaps)
        burst_first = np.cumsum(n_views) - n_views
        offset -= np.repeat(offset[burst_first], n_views)
        n = v_burst.size
        bot_parts.append(
            {
                "user": b_user[v_burst],
                "item": rng.integers(0, items.category.size, n),
                "type": np.zeros(n, dtype=np.int8),
                "ts": np.minimum(start[v_burst] + offset, data_end_s).astype(np.int64),
                "quantity": np.zeros(n),
                "rating": np.full(n, np.nan),
                "session": next_session + v_burst,
                "leaf": np.zeros(n, dtype=bool),
            }
        )
    return _concat(bot_parts)


def _merge_repeats(events: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One row per (session, item, event type, second): an item drawn twice into one order
    becomes one order line with the summed quantity, as a real order export has it."""
    key_cols = (events["ts"], events["type"], events["item"], events["session"])
    order = np.lexsort(key_cols)
    keys = np.stack([c[order] for c in key_cols], axis=1)
    first = np.ones(order.size, dtype=bool)
    first[1:] = np.any(keys[1:] != keys[:-1], axis=1)
    group = np.cumsum(first) - 1
    quantity = np.zeros(int(first.sum()), dtype=events["quantity"].dtype)
    np.add.at(quantity, group, events["quantity"][order])
    keep = np.sort(order[first])  # original order of the first row of each group
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = group
    merged = {k: v[keep] for k, v in events.items()}
    merged["quantity"] = quantity[rank[keep]]
    return merged


def _trim(
    rng: np.random.Generator, events: dict[str, np.ndarray], n_events: int, data_end_s: int
) -> None:
    """Drop random leaf events (uncarted views, ratings) of the main period (up to
    ``data_end_s``) until it holds exactly ``n_events``."""
    main = events["ts"] <= data_end_s
    surplus = int(main.sum()) - n_events
    if surplus <= 0:
        return
    leaves = np.flatnonzero(events["leaf"] & main)
    drop = rng.choice(leaves, size=min(surplus, leaves.size), replace=False)
    keep = np.ones(events["ts"].size, dtype=bool)
    keep[drop] = False
    for key in list(events):
        events[key] = events[key][keep]


def _assemble_events(events: dict[str, np.ndarray], items: _Items, n_users: int) -> pl.DataFrame:
    user_width = _id_width(n_users, 6)
    item_width = _id_width(items.category.size, 5)
    item_number = items.frame.get_column("_n").to_numpy()
    is_buy = (events["type"] == 2) | (events["type"] == 4)
    frame = pl.DataFrame(
        {
            "_user": events["user"].astype(np.int64) + 1,
            "_item": item_number[events["item"]],
            "_type": events["type"],
            "timestamp": pl.Series(events["ts"] * 1_000_000).cast(pl.Datetime("us", "UTC")),
            "quantity": pl.Series(events["quantity"].astype(np.int64)).scatter(
                np.flatnonzero(~is_buy), None
            ),
            "price": pl.Series(items.price[events["item"]]).scatter(
                np.flatnonzero(events["type"] == 3), None
            ),
            "rating": pl.Series(events["rating"]).fill_nan(None),
            "_session": events["session"],
        }
    ).sort(["timestamp", "_session", "_type", "_item"])
    # order ids in chronological order: one per session with purchases
    buy = frame.get_column("_type").to_numpy() == 2
    sess = frame.get_column("_session").to_numpy()[buy]
    new = np.concatenate([[True], sess[1:] != sess[:-1]]) if sess.size else sess.astype(bool)
    order_no = np.zeros(frame.height, dtype=np.int64)
    order_no[buy] = np.cumsum(new)
    order_width = _id_width(int(new.sum()), 7)
    types = pl.Series(_EVENT_TYPES)
    refund = pl.col("_type") == 4
    return (
        frame.with_columns(
            pl.Series("_order", order_no),
        )
        .with_columns(  # a refund carries the order id of the purchase it returns
            pl.when(refund).then(pl.col("_order").max().over("_session")).otherwise("_order")
        )
        .select(
            _zero_padded("U", pl.col("_user"), user_width).alias("user_id"),
            _zero_padded("I", pl.col("_item"), item_width).alias("item_id"),
            pl.col("_type")
            .replace_strict(list(range(len(_EVENT_TYPES))), types, return_dtype=pl.String)
            .alias("event_type"),
            "timestamp",
            "quantity",
            "price",
            "rating",
            pl.when(pl.col("_order") > 0)
            .then(_zero_padded("O", pl.col("_order"), order_width))
            .alias("order_id"),
        )
    )


# ---------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------


def generate_store(
    n_users: int = 3000,
    n_items: int = 500,
    n_events: int | None = None,
    months: int = 12,
    end: datetime = DEFAULT_END,
    random_state: int | None = 42,
    *,
    next_days: int = 31,
    overlap_days: int = 3,
    n_bots: int | None = None,
    n_refunders: int | None = None,
) -> SampleStore:
    """Generate a synthetic e-commerce store with planted personas.

    Parameters
    ----------
    n_users : int, default 3000
        Number of users (every user gets at least one session).
    n_items : int, default 500
        Number of catalogue items; at least one per category (>= 12).
    n_events : int, optional
        Exact number of events wanted. By default about :data:`EVENTS_PER_USER` per
        user on average (natural variation, no trimming).
    months : int, default 12
        Length of the simulated period, ending at ``end``.
    end : datetime, default 2026-06-30 23:59:59 UTC
        Last instant of the period; no event is later. Naive datetimes are read as UTC.
    random_state : int or None, default 42
        Seed; the same seed and arguments give identical output.

    Returns
    -------
    SampleStore
        Events sorted by timestamp, users, items and the persona ground truth.

    Raises
    ------
    ValueError
        If a size is too small or ``months`` is not positive.
    """
    if n_users < 1:
        raise ValueError(f"n_users must be >= 1, got {n_users}")
    if n_items < len(CATEGORIES):
        raise ValueError(f"n_items must be >= {len(CATEGORIES)}, got {n_items}")
    if months < 1:
        raise ValueError(f"months must be >= 1, got {months}")
    if n_events is not None and n_events < n_users:
        raise ValueError(f"n_events must be >= n_users ({n_users}), got {n_events}")
    if next_days < 0:
        raise ValueError(f"next_days must be >= 0, got {next_days}")
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    data_end_s = int(end.timestamp())
    data_last_day = data_end_s // _SECONDS_PER_DAY
    first_day = data_last_day - int(round(months * _DAYS_PER_MONTH)) + 1
    # the simulation runs on through the next batch's period; its events are split off
    end_s = data_end_s + next_days * _SECONDS_PER_DAY
    last_day = end_s // _SECONDS_PER_DAY
    if n_bots is None:
        n_bots = n_users // 375
    if n_refunders is None:
        n_refunders = n_users // 500

    item_rng, user_rng, event_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(random_state).spawn(3)
    )
    items = _make_items(item_rng, n_items)
    users = _make_users(
        user_rng, n_users, first_day, last_day, data_last_day, items, n_bots, n_refunders
    )

    # scale session rates so the expected number of events hits the target
    target = float(n_events) if n_events is not None else EVENTS_PER_USER * n_users
    main_days = (np.minimum(users.last_day, data_last_day) - users.first_day + 1).clip(1)
    expected = float(
        np.sum(users.rate * main_days.astype(np.float64) * _expected_events_per_session(users))
    )
    scale = target / expected
    if n_events is not None:
        scale *= 1.03  # a small surplus of leaf events is trimmed off below
    for _ in range(8):
        raw = _simulate_events(
            event_rng, items, users, scale, end_s, (first_day, last_day), data_last_day
        )
        raw = _merge_repeats(_plant_signals(event_rng, items, users, raw, end_s, data_end_s))
        main = raw["ts"] <= data_end_s
        produced = int(main.sum())
        if n_events is None or produced - int((raw["leaf"] & main).sum()) <= n_events <= produced:
            break
        scale *= 1.05 * n_events / produced
    else:  # pragma: no cover - only with absurd targets
        raise ValueError(f"could not simulate exactly {n_events} events")
    if n_events is not None:
        _trim(event_rng, raw, n_events, data_end_s)

    events = _assemble_events(raw, items, n_users)
    end_lit = pl.lit(end).cast(pl.Datetime("us", "UTC"))
    overlap = end_lit - pl.duration(days=overlap_days)
    user_frame = users.frame
    return SampleStore(
        events=events.filter(pl.col("timestamp") <= end_lit),
        users=user_frame.drop("persona"),
        items=items.frame.sort("item_id").drop("_n"),
        personas=user_frame.select("user_id", "persona"),
        next_batch=events.filter(pl.col("timestamp") > overlap),
        signals=_signals_frame(users, items, data_last_day),
        paths=_paths_frame(items),
    )


def _signals_frame(users: _Users, items: _Items, data_last_day: int) -> pl.DataFrame:
    """One row per planted user signal: user_id, signal, item_id, detail."""
    width = _id_width(users.persona.size, 6)
    item_ids = items.frame.get_column("item_id").to_numpy()
    has_refill = users.refill_item >= 0
    refill_item = np.where(has_refill, item_ids[np.maximum(users.refill_item, 0)], None)
    stop = np.minimum(users.last_day, data_last_day)
    frame = pl.DataFrame(
        {
            "_n": np.arange(1, users.persona.size + 1),
            "_trend": users.trend.astype(np.int64),
            "_role": users.role.astype(np.int64),
            "_stop": pl.Series(stop.astype(np.int32)).cast(pl.Date),
            "_every": users.refill_days,
            "item_id": pl.Series(refill_item.tolist(), dtype=pl.String),
        }
    )
    user_id = _zero_padded("U", pl.col("_n"), width).alias("user_id")
    trend = frame.filter(pl.col("_trend") > 0).select(
        user_id,
        pl.when(pl.col("_trend") == 1)
        .then(pl.lit("churner"))
        .otherwise(pl.lit("grower"))
        .alias("signal"),
        pl.lit(None, pl.String).alias("item_id"),
        pl.when(pl.col("_trend") == 1)
        .then(pl.format("activity fades to a stop by {}", pl.col("_stop").cast(pl.String)))
        .otherwise(pl.lit("activity rises through the period"))
        .alias("detail"),
    )
    names = pl.Series(["", "bot", "refund_heavy", "refill"])
    role = frame.filter(pl.col("_role") > 0).select(
        user_id,
        pl.col("_role").replace_strict([0, 1, 2, 3], names, return_dtype=pl.String).alias("signal"),
        "item_id",
        pl.when(pl.col("_role") == 1)
        .then(pl.lit("bursts of views seconds apart, no purchase"))
        .when(pl.col("_role") == 2)
        .then(pl.lit("returns about 80 % of purchases"))
        .otherwise(pl.format("buys the item again every {} days", "_every"))
        .alias("detail"),
    )
    return pl.concat([trend, role]).sort("user_id", "signal")


def _paths_frame(items: _Items) -> pl.DataFrame:
    """One row per planted ordered pair: item_id, next_item_id, kind."""
    ids = items.frame.get_column("item_id").to_numpy()
    src = np.flatnonzero(items.next_item >= 0)
    kinds = np.array(["", "accessory", "next_volume"], dtype=object)
    return pl.DataFrame(
        {
            "item_id": ids[src].astype(str),
            "next_item_id": ids[items.next_item[src]].astype(str),
            "kind": kinds[items.path_kind[src]].astype(str),
        },
        schema={"item_id": pl.String, "next_item_id": pl.String, "kind": pl.String},
    ).sort("kind", "item_id")


def write_store(store: SampleStore, directory: str | Path) -> dict[str, Path]:
    """Write a store: ``events.parquet``, ``users.csv``, ``items.csv``, the next batch
    (:data:`NEXT_BATCH_FILE`) and the ground truth (``personas.csv``, ``signals.csv``,
    ``paths.csv``).

    Parameters
    ----------
    store : SampleStore
        The store to write.
    directory : str or Path
        Output directory (created if missing; files are overwritten).

    Returns
    -------
    dict of str to Path
        Table name (``"events"``, ``"users"``, ``"items"``, ``"personas"``,
        ``"next_batch"``, ``"signals"``, ``"paths"``) to path.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "events": out / "events.parquet",
        "users": out / "users.csv",
        "items": out / "items.csv",
        "personas": out / "personas.csv",
        "next_batch": out / NEXT_BATCH_FILE,
        "signals": out / "signals.csv",
        "paths": out / "paths.csv",
    }
    store.events.write_parquet(paths["events"], compression="zstd", statistics=True)
    store.next_batch.write_parquet(paths["next_batch"], compression="zstd", statistics=True)
    store.users.write_csv(paths["users"])
    store.items.write_csv(paths["items"])
    store.personas.write_csv(paths["personas"])
    store.signals.write_csv(paths["signals"])
    store.paths.write_csv(paths["paths"])
    return paths


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: ``python -m profiling.data.sample --out DIR [options]``.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Process exit code (0 on success).
    """
    parser = argparse.ArgumentParser(
        prog="python -m profiling.data.sample",
        description="Write a seeded synthetic e-commerce store (events.parquet, "
        "users.csv, items.csv, personas.csv).",
    )
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--users", type=int, default=3000, help="number of users")
    parser.add_argument("--items", type=int, default=500, help="number of items")
    parser.add_argument(
        "--events",
        type=int,
        default=None,
        help=f"exact number of events (default: about {EVENTS_PER_USER:g} per user)",
    )
    parser.add_argument("--months", type=int, default=12, help="length of the period")
    parser.add_argument(
        "--end",
        type=datetime.fromisoformat,
        default=DEFAULT_END,
        help="end of the period, ISO 8601 (default: 2026-06-30T23:59:59+00:00)",
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    try:
        store = generate_store(
            n_users=args.users,
            n_items=args.items,
            n_events=args.events,
            months=args.months,
            end=args.end,
            random_state=args.seed,
        )
    except ValueError as exc:
        parser.error(str(exc))
    generated = time.perf_counter()
    paths = write_store(store, args.out)
    written = time.perf_counter()
    size_mb = sum(p.stat().st_size for p in paths.values()) / 1e6
    print(
        f"{store.events.height:,} events, {store.users.height:,} users, "
        f"{store.items.height:,} items -> {args.out} ({size_mb:.1f} MB); "
        f"generated in {generated - started:.1f} s, written in {written - generated:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
