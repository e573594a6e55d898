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

Run ``python -m profiling.sample --out DIR`` to write a store (see :func:`main`).
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

EVENTS_PER_USER = 55.0
"""Average number of events per user aimed at when ``n_events`` is not given."""

_SECONDS_PER_DAY = 86_400
_DAYS_PER_MONTH = 365.25 / 12
_LATENT_DIM = 8
_TASTE_STRENGTH = 1.6
_CANDIDATES = 12
_CHUNK = 200_000
_EVENT_TYPES = ("view", "cart", "purchase", "rating")
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
        "Electronics", 0.10, 120.0, 0.85,
        ("Voltix", "Nexora", "Brightwave", "Quantex", "Ampera"),
        ("Headphones", "Smartwatch", "Bluetooth Speaker", "Tablet", "Laptop", "Monitor",
         "Webcam", "Power Bank", "Wi-Fi Router", "Gaming Console"),
        ("noise cancelling", "fast charging", "a 4K display", "USB-C ports",
         "long battery life", "wireless connectivity", "Bluetooth 5.3", "low latency"),
        ("gaming", "streaming", "the home office", "travel", "video calls"),
    ),
    CategorySpec(
        "Books", 0.12, 14.0, 0.4,
        ("Paperlantern", "Inkwell Press", "Marlow House", "Redfern Books"),
        ("Novel", "Cookbook", "Biography", "Thriller", "Fantasy Saga", "Poetry Collection",
         "History", "Science Guide", "Graphic Novel", "Travel Guide"),
        ("a hardcover binding", "illustrated chapters", "an award-winning author",
         "a bestselling series", "annotated notes", "a large print edition",
         "a gripping plot"),
        ("book clubs", "bedtime reading", "long commutes", "rainy weekends",
         "gift giving"),
    ),
    CategorySpec(
        "Home & Kitchen", 0.10, 35.0, 0.8,
        ("Hearthly", "Dwellio", "Kitchiva", "CasaNova"),
        ("Chef's Knife", "Frying Pan", "Blender", "Coffee Maker", "Storage Set",
         "Bedding Set", "Table Lamp", "Cookware Set", "Vacuum Cleaner", "Towel Set"),
        ("a non-stick coating", "stainless steel", "dishwasher safe parts",
         "a stackable design", "a ceramic finish", "soft cotton", "an energy efficient motor"),
        ("everyday cooking", "small apartments", "family dinners", "meal prep",
         "guest rooms"),
    ),
    CategorySpec(
        "Toys & Games", 0.08, 25.0, 0.7,
        ("Playnest", "Giggle & Co", "Tinkertown", "Wonderblocks"),
        ("Building Set", "Board Game", "Jigsaw Puzzle", "Plush Bear", "Remote Control Car",
         "Doll House", "Card Game", "Science Kit", "Action Figure", "Marble Run"),
        ("1000 pieces", "STEM learning", "rechargeable batteries", "cooperative play",
         "non-toxic materials", "collectible figures", "easy instructions"),
        ("birthday parties", "family game night", "rainy afternoons", "classrooms",
         "kids aged 6 and up"),
    ),
    CategorySpec(
        "Baby", 0.07, 22.0, 0.6,
        ("Little Sprout", "Cuddlebee", "Nestling", "Babyloom"),
        ("Diaper Pack", "Baby Wipes", "Stroller", "Baby Monitor", "Feeding Bottle Set",
         "Swaddle Blanket", "High Chair", "Teething Ring", "Baby Carrier", "Crib Sheet"),
        ("hypoallergenic materials", "BPA-free plastic", "organic cotton",
         "a fragrance-free formula", "an easy fold frame", "machine washable fabric",
         "pediatrician approved design"),
        ("newborns", "night feeds", "daycare", "travel with toddlers", "the nursery"),
    ),
    CategorySpec(
        "Beauty", 0.09, 18.0, 0.7,
        ("Glowra", "Petalis", "Velvetine", "Lumiere", "Aurelle"),
        ("Face Serum", "Moisturizer", "Lipstick", "Mascara", "Shampoo", "Perfume",
         "Nail Polish Set", "Sunscreen", "Eyeshadow Palette", "Hair Mask"),
        ("hyaluronic acid", "vitamin C", "a cruelty-free formula", "long-lasting color",
         "SPF 50 protection", "paraben-free ingredients", "a vegan formula"),
        ("a daily skincare routine", "evenings out", "sensitive skin", "summer days",
         "self-care"),
    ),
    CategorySpec(
        "Sports & Outdoors", 0.08, 40.0, 0.85,
        ("Stridex", "Trailforge", "Peakline", "Summitra"),
        ("Yoga Mat", "Running Shoes", "Camping Tent", "Water Bottle", "Dumbbell Set",
         "Cycling Helmet", "Hiking Backpack", "Fitness Band", "Sleeping Bag",
         "Tennis Racket"),
        ("breathable mesh", "a waterproof shell", "shock absorbing soles",
         "ultralight fabric", "a non-slip grip", "insulated walls", "adjustable straps"),
        ("hiking", "marathon training", "home workouts", "camping trips", "cycling"),
    ),
    CategorySpec(
        "Fashion", 0.11, 38.0, 0.8,
        ("Urbanthread", "Corduroy Lane", "Nordkind", "Silk & Sage", "Maison Vela"),
        ("Dress", "Denim Jacket", "Sneakers", "Handbag", "Wool Scarf", "Leather Belt",
         "Blazer", "Summer Hat", "Knit Sweater", "Ankle Boots"),
        ("a slim fit", "organic cotton", "genuine leather", "soft knit", "a tailored cut",
         "a relaxed fit", "seasonal colors"),
        ("office wear", "weekend outings", "evening events", "casual days", "travel"),
    ),
    CategorySpec(
        "Grocery", 0.09, 6.0, 0.55,
        ("Pantry Pal", "Daily Harvest", "Greenfield", "Golden Grain"),
        ("Coffee Beans", "Olive Oil", "Pasta", "Granola", "Green Tea", "Dark Chocolate",
         "Basmati Rice", "Peanut Butter", "Sparkling Water", "Breakfast Cereal"),
        ("organic ingredients", "fair trade sourcing", "a gluten-free recipe",
         "a family size pack", "no added sugar", "whole grains", "a cold pressed flavor"),
        ("breakfast", "quick lunches", "pantry stocking", "snacking", "weeknight dinners"),
    ),
    CategorySpec(
        "Garden", 0.05, 30.0, 0.8,
        ("Rootwise", "Mossgate", "Bloomcraft", "Verdana"),
        ("Garden Hose", "Pruning Shears", "Planter Pot", "Seed Kit", "Lawn Mower",
         "Garden Gloves", "Watering Can", "Compost Bin", "Solar Lights", "Raised Bed"),
        ("rust resistant steel", "a weatherproof finish", "an ergonomic handle",
         "recycled plastic", "frost hardy seeds", "solar power", "UV protection"),
        ("balcony gardens", "vegetable patches", "lawn care", "spring planting",
         "patios"),
    ),
    CategorySpec(
        "Pet Supplies", 0.05, 20.0, 0.7,
        ("Furlife", "Pawsome", "Whiskerly", "Barkley & Co"),
        ("Dog Food", "Cat Litter", "Chew Toy", "Pet Bed", "Dog Leash", "Scratching Post",
         "Aquarium Filter", "Cat Treats", "Grooming Brush", "Pet Carrier"),
        ("a grain-free recipe", "vet recommended nutrition", "durable rubber",
         "a washable cover", "odor control", "high protein content", "reflective stitching"),
        ("puppies", "senior cats", "daily walks", "indoor pets", "travel with pets"),
    ),
    CategorySpec(
        "Office", 0.06, 15.0, 0.8,
        ("Papertrail", "Deskly", "Inkbridge", "Officio"),
        ("Notebook", "Gel Pens", "Desk Organizer", "Office Chair", "Printer Paper",
         "Desk Lamp", "Stapler", "Whiteboard", "Label Maker", "Ergonomic Mouse"),
        ("recycled paper", "an ergonomic design", "refillable cartridges",
         "adjustable height", "smudge-free ink", "a compact footprint", "a bulk pack"),
        ("the home office", "students", "meetings", "daily planning", "school supplies"),
    ),
)  # fmt: skip
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
        name="bargain_hunter", share=0.20,
        category_weights={"Pet Supplies": 3.0, "Garden": 3.0, "Office": 2.0,
                          "Sports & Outdoors": 2.0, "Home & Kitchen": 1.5},
        category_base=0.6, concentration=30.0, price_beta=1.6,
        sessions_per_week=1.6, views_per_session=4.5, cart_rate=0.24, buy_rate=0.36,
        rating_rate=0.18,
        hours=((11.5, 1.5, 0.35), (15.0, 1.6, 0.55), (20.0, 1.5, 0.1)),
        weekdays=(0.85, 0.85, 0.85, 0.9, 1.2, 1.7, 1.6), regularity=0.2,
        quantity_probs=(0.8, 0.15, 0.05), age=(40.0, 13.0), gender_probs=(0.52, 0.45, 0.03),
    ),
    PersonaSpec(
        name="tech_enthusiast", share=0.14,
        category_weights={"Electronics": 9.0, "Office": 3.0, "Sports & Outdoors": 0.8,
                          "Books": 0.8},
        category_base=0.25, concentration=10.0, price_beta=-1.3,
        sessions_per_week=0.9, views_per_session=6.0, cart_rate=0.12, buy_rate=0.42,
        rating_rate=0.22,
        hours=((21.0, 1.4, 0.55), (23.5, 1.3, 0.35), (13.0, 2.0, 0.10)),
        weekdays=(1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.1), regularity=0.3,
        quantity_probs=(0.94, 0.05, 0.01), age=(31.0, 8.0), gender_probs=(0.22, 0.75, 0.03),
    ),
    PersonaSpec(
        name="family_shopper", share=0.18,
        category_weights={"Baby": 6.0, "Toys & Games": 5.0, "Grocery": 4.0,
                          "Home & Kitchen": 2.0},
        category_base=0.3, concentration=20.0, price_beta=0.3,
        sessions_per_week=1.3, views_per_session=5.0, cart_rate=0.28, buy_rate=0.55,
        rating_rate=0.15,
        hours=((9.5, 1.4, 0.6), (14.0, 1.5, 0.2), (20.5, 1.2, 0.2)),
        weekdays=(0.7, 0.7, 0.7, 0.7, 0.9, 2.2, 2.1), regularity=0.3,
        quantity_probs=(0.6, 0.28, 0.12), age=(36.0, 6.0), gender_probs=(0.62, 0.36, 0.02),
    ),
    PersonaSpec(
        name="loyal_bookworm", share=0.14,
        category_weights={"Books": 12.0, "Office": 1.0, "Home & Kitchen": 0.8},
        category_base=0.25, concentration=10.0, price_beta=0.0,
        sessions_per_week=1.0, views_per_session=3.5, cart_rate=0.22, buy_rate=0.5,
        rating_rate=0.65,
        hours=((20.0, 1.5, 0.7), (7.5, 1.0, 0.2), (13.0, 1.5, 0.1)),
        weekdays=(1.0, 1.0, 1.0, 1.0, 1.0, 1.05, 1.1), regularity=0.85,
        quantity_probs=(0.95, 0.04, 0.01), age=(50.0, 14.0), gender_probs=(0.6, 0.37, 0.03),
    ),
    PersonaSpec(
        name="fashion_beauty", share=0.20,
        category_weights={"Fashion": 7.0, "Beauty": 6.0, "Sports & Outdoors": 1.0,
                          "Home & Kitchen": 0.6},
        category_base=0.25, concentration=10.0, price_beta=-0.7,
        sessions_per_week=1.1, views_per_session=5.0, cart_rate=0.18, buy_rate=0.4,
        rating_rate=0.2,
        hours=((12.5, 1.0, 0.4), (19.5, 1.6, 0.5), (16.0, 1.5, 0.1)),
        weekdays=(1.3, 1.3, 1.3, 1.3, 1.2, 0.6, 0.5), regularity=0.3,
        quantity_probs=(0.9, 0.08, 0.02), age=(29.0, 8.0), gender_probs=(0.8, 0.17, 0.03),
    ),
    PersonaSpec(
        name="lapsing", share=0.14,
        category_weights={}, category_base=1.0, concentration=16.0, price_beta=0.2,
        sessions_per_week=0.8, views_per_session=3.5, cart_rate=0.15, buy_rate=0.35,
        rating_rate=0.12,
        hours=((13.0, 4.0, 1.0),),
        weekdays=(1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0), regularity=0.2,
        quantity_probs=(0.88, 0.1, 0.02), age=(42.0, 15.0), gender_probs=(0.5, 0.47, 0.03),
        lapsing=True,
    ),
)  # fmt: skip
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
        ``user_id, persona``: the planted ground truth.
    """

    events: pl.DataFrame
    users: pl.DataFrame
    items: pl.DataFrame
    personas: pl.DataFrame


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
            }
        )
        .with_columns(
            _zero_padded("I", pl.col("_n"), width).alias("item_id"),
            pl.concat_str(["brand", "adj", "noun"], separator=" ").alias("title"),
            pl.when(pl.col("_variant"))
            .then(
                pl.format(
                    "{} {} by {} with {} and {}. Ideal for {}.",
                    "adj", pl.col("noun").str.to_lowercase(), "brand", "feat_a",
                    "feat_b", "use",
                )
            )
            .otherwise(
                pl.format(
                    "This {} {} features {}. A {} pick for {}, with {}.",
                    pl.col("adj").str.to_lowercase(), pl.col("noun").str.to_lowercase(),
                    "feat_a", pl.col("category").str.to_lowercase(), "use", "feat_b",
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
    )  # fmt: skip
    return _Items(category, price, price_z, style, cum, guide, starts, counts, frame)


# ---------------------------------------------------------------------------------------
# users
# ---------------------------------------------------------------------------------------


def _persona_table(attr: str) -> np.ndarray:
    return np.array([getattr(p, attr) for p in PERSONAS], dtype=np.float64)


def _make_users(rng: np.random.Generator, n_users: int, first_day: int, last_day: int) -> _Users:
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
    eps = rng.beta(2.0, 10.0, n_users)[:, None]
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

    # active windows: late joiners, lapsing users, a few quiet churners elsewhere
    span = last_day - first_day
    lapsing = np.array([p.lapsing for p in PERSONAS])[persona]
    start = np.full(n_users, first_day, dtype=np.int64)
    late = (rng.random(n_users) < 0.25) & ~lapsing
    start[late] = first_day + np.floor(rng.random(late.sum()) * max(span - 30, 1)).astype(np.int64)
    early_late = lapsing & (rng.random(n_users) < 0.15)
    start[early_late] = first_day + np.floor(rng.random(early_late.sum()) * 45).astype(np.int64)
    stop = np.full(n_users, last_day, dtype=np.int64)
    lapse_len = np.floor(rng.uniform(1.5, 6.0, n_users) * _DAYS_PER_MONTH).astype(np.int64)
    stop[lapsing] = np.minimum(start[lapsing] + lapse_len[lapsing], last_day - 90)
    churn = ~lapsing & ~late & (rng.random(n_users) < 0.06)
    stop[churn] = last_day - np.floor(rng.uniform(30, 150, churn.sum())).astype(np.int64)
    stop = np.minimum(np.maximum(stop, start + 7), last_day)
    start = np.minimum(start, stop)

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
            "persona": np.array([p.name for p in PERSONAS])[persona],
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
        frame=frame,
    )


# ---------------------------------------------------------------------------------------
# events
# ---------------------------------------------------------------------------------------


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
    for lo in range(0, n, _CHUNK):  # chunks of views, each fully vectorized
        hi = min(lo + _CHUNK, n)
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
    pos = regular * (k + rng.random(n_s)) / n_sess[s_user] + (1 - regular) * rng.random(n_s)
    day = users.first_day[s_user] + np.floor(pos * span_days[s_user]).astype(np.int64)
    target = _draw_rows(rng, users.weekday_cum, s_user, 7)
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
    day = day + (target - weekday + 3) % 7 - 3
    day = np.clip(day, users.first_day[s_user], users.last_day[s_user])

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
    s_cat = _draw_rows(rng, users.cat_cum, s_user, n_cat)

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
    p_cart = _sigmoid(users.cart_logit[v_user] + 0.5 * z)
    carted = rng.random(v_sess.size) < p_cart
    c_idx = np.flatnonzero(carted)
    c_ts = v_ts[c_idx] + 10 + np.floor(np.minimum(rng.exponential(90.0, c_idx.size), 500))
    p_buy = _sigmoid(users.buy_logit[v_user[c_idx]] + 0.4 * z[c_idx])
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


def _trim(rng: np.random.Generator, events: dict[str, np.ndarray], n_events: int) -> None:
    """Drop random leaf events (uncarted views, ratings) down to exactly ``n_events``."""
    surplus = events["ts"].size - n_events
    if surplus <= 0:
        return
    leaves = np.flatnonzero(events["leaf"])
    drop = rng.choice(leaves, size=min(surplus, leaves.size), replace=False)
    keep = np.ones(events["ts"].size, dtype=bool)
    keep[drop] = False
    for key in list(events):
        events[key] = events[key][keep]


def _assemble_events(events: dict[str, np.ndarray], items: _Items, n_users: int) -> pl.DataFrame:
    user_width = _id_width(n_users, 6)
    item_width = _id_width(items.category.size, 5)
    item_number = items.frame.get_column("_n").to_numpy()
    is_buy = events["type"] == 2
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
    return frame.with_columns(
        pl.Series("_order", order_no),
    ).select(
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
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    end_s = int(end.timestamp())
    last_day = end_s // _SECONDS_PER_DAY
    first_day = last_day - int(round(months * _DAYS_PER_MONTH)) + 1

    item_rng, user_rng, event_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(random_state).spawn(3)
    )
    items = _make_items(item_rng, n_items)
    users = _make_users(user_rng, n_users, first_day, last_day)

    # scale session rates so the expected number of events hits the target
    target = float(n_events) if n_events is not None else EVENTS_PER_USER * n_users
    span_days = (users.last_day - users.first_day + 1).astype(np.float64)
    expected = float(np.sum(users.rate * span_days * _expected_events_per_session(users)))
    scale = target / expected
    if n_events is not None:
        scale *= 1.03  # a small surplus of leaf events is trimmed off below
    for _ in range(8):
        raw = _merge_repeats(_simulate_events(event_rng, items, users, scale, end_s))
        produced = raw["ts"].size
        if n_events is None or produced - int(raw["leaf"].sum()) <= n_events <= produced:
            break
        scale *= 1.05 * n_events / produced
    else:  # pragma: no cover - only with absurd targets
        raise ValueError(f"could not simulate exactly {n_events} events")
    if n_events is not None:
        _trim(event_rng, raw, n_events)

    events = _assemble_events(raw, items, n_users)
    user_frame = users.frame
    return SampleStore(
        events=events,
        users=user_frame.drop("persona"),
        items=items.frame.sort("item_id").drop("_n"),
        personas=user_frame.select("user_id", "persona"),
    )


def write_store(store: SampleStore, directory: str | Path) -> dict[str, Path]:
    """Write a store as ``events.parquet``, ``users.csv``, ``items.csv``, ``personas.csv``.

    Parameters
    ----------
    store : SampleStore
        The store to write.
    directory : str or Path
        Output directory (created if missing; files are overwritten).

    Returns
    -------
    dict of str to Path
        File name stem (``"events"``, ``"users"``, ``"items"``, ``"personas"``) to path.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "events": out / "events.parquet",
        "users": out / "users.csv",
        "items": out / "items.csv",
        "personas": out / "personas.csv",
    }
    store.events.write_parquet(paths["events"], compression="zstd", statistics=True)
    store.users.write_csv(paths["users"])
    store.items.write_csv(paths["items"])
    store.personas.write_csv(paths["personas"])
    return paths


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: ``python -m profiling.sample --out DIR [options]``.

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
        prog="python -m profiling.sample",
        description="Write a seeded synthetic e-commerce store (events.parquet, "
        "users.csv, items.csv, personas.csv).",
    )
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--users", type=int, default=3000, help="number of users")
    parser.add_argument("--items", type=int, default=500, help="number of items")
    parser.add_argument(
        "--events", type=int, default=None, help=f"exact number of events "
        f"(default: about {EVENTS_PER_USER:g} per user)"
    )  # fmt: skip
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
