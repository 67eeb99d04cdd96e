"""The fixed vocabulary of the demo: stores, staff, brands, product templates, names, texts.

Everything here is constant, so the printed logins and the story client never need the
database, and the random generators only choose among these values.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# One password for every demo login, printed next to the logins (at least 10 characters,
# as AUTH_PASSWORD_VALIDATORS asks of real accounts).
DEMO_PASSWORD = "clienteling-demo"  # noqa: S105 (printed on purpose: it is the demo's login)
ADMIN_USERNAME = "admin"
MANAGERS_GROUP = "Store managers"


@dataclass(frozen=True)
class StoreSpec:
    code: str
    name: str
    time_zone: str
    country: str
    city: str
    address_line: str
    postal_code: str
    phone: str
    currency: str
    # Prefix of employee codes and POS order ids, e.g. NYC-A01, NYC-00001234.
    prefix: str
    # Share of the clients whose home store this is.
    weight: float
    # Sales tax added on top of the price (New York); VAT is included in European prices.
    tax_rate: float
    locale: str


STORES: list[StoreSpec] = [
    StoreSpec(
        code="nyc-soho",
        name="SoHo, New York",
        time_zone="America/New_York",
        country="US",
        city="New York",
        address_line="112 Prince Street",
        postal_code="10012",
        phone="+1 212 555 0140",
        currency="USD",
        prefix="NYC",
        weight=0.45,
        tax_rate=0.08875,
        locale="us",
    ),
    StoreSpec(
        code="paris-marais",
        name="Le Marais, Paris",
        time_zone="Europe/Paris",
        country="FR",
        city="Paris",
        address_line="24 rue des Francs-Bourgeois",
        postal_code="75003",
        phone="+33 1 99 00 12 40",
        currency="EUR",
        prefix="PAR",
        weight=0.30,
        tax_rate=0.0,
        locale="fr",
    ),
    StoreSpec(
        code="london-marylebone",
        name="Marylebone, London",
        time_zone="Europe/London",
        country="GB",
        city="London",
        address_line="61 Marylebone High Street",
        postal_code="W1U 5HZ",
        phone="+44 20 7946 0140",
        currency="GBP",
        prefix="LON",
        weight=0.25,
        tax_rate=0.0,
        locale="gb",
    ),
]
DEMO_STORE_CODES = frozenset(store.code for store in STORES)


@dataclass(frozen=True)
class StaffSpec:
    username: str
    first_name: str
    last_name: str
    role: str  # a StaffMember.Role value
    store_code: str
    employee_code: str


def _username(first_name: str) -> str:
    """A login from a first name, in plain ASCII: "Inès" -> "ines"."""
    return unicodedata.normalize("NFKD", first_name).encode("ascii", "ignore").decode().lower()


def _staff(
    store: StoreSpec, role: str, letter: str, people: list[tuple[str, str]]
) -> list[StaffSpec]:
    return [
        StaffSpec(
            username=_username(first),
            first_name=first,
            last_name=last,
            role=role,
            store_code=store.code,
            employee_code=f"{store.prefix}-{letter}{number:02d}",
        )
        for number, (first, last) in enumerate(people, start=1)
    ]


_NYC, _PAR, _LON = STORES
# Four associates, four stylists and four managers per store. The first associate of
# the first store, `ava`, has the story client in her book: the printed logins say so.
STAFF: list[StaffSpec] = [
    *_staff(
        _NYC,
        "associate",
        "A",
        [("Ava", "Thompson"), ("Marcus", "Reed"), ("Priya", "Shah"), ("Diego", "Alvarez")],
    ),
    *_staff(
        _NYC,
        "stylist",
        "S",
        [("Sofia", "Russo"), ("Jordan", "Lee"), ("Naomi", "Brooks"), ("Elena", "Petrova")],
    ),
    *_staff(
        _NYC,
        "manager",
        "M",
        [("Grace", "Kim"), ("Daniel", "Hart"), ("Rachel", "Stein"), ("Omar", "Haddad")],
    ),
    *_staff(
        _PAR,
        "associate",
        "A",
        [("Camille", "Martin"), ("Hugo", "Bernard"), ("Inès", "Moreau"), ("Louis", "Garnier")],
    ),
    *_staff(
        _PAR,
        "stylist",
        "S",
        [("Chloé", "Lefèvre"), ("Manon", "Girard"), ("Théo", "Rousseau"), ("Léa", "Fontaine")],
    ),
    *_staff(
        _PAR,
        "manager",
        "M",
        [
            ("Juliette", "Mercier"),
            ("Antoine", "Lambert"),
            ("Margaux", "Dupont"),
            ("Nicolas", "Faure"),
        ],
    ),
    *_staff(
        _LON,
        "associate",
        "A",
        [("Oliver", "Bennett"), ("Amelia", "Clarke"), ("Harry", "Patel"), ("Isla", "Murray")],
    ),
    *_staff(
        _LON,
        "stylist",
        "S",
        [("Freya", "Hughes"), ("Leo", "Okafor"), ("Poppy", "Walsh"), ("George", "Whitaker")],
    ),
    *_staff(
        _LON,
        "manager",
        "M",
        [("Charlotte", "Evans"), ("James", "Fletcher"), ("Emily", "Carter"), ("Samuel", "Price")],
    ),
]
STORY_ASSOCIATE = STAFF[0].username
DEMO_USERNAMES = frozenset([ADMIN_USERNAME, *(staff.username for staff in STAFF)])

# Model permissions of the "Store managers" group: what a manager needs in the admin to
# run a store, and no more. Deliberately absent:
# - auth.user add/change: Django's user form lets anyone who may change users make them
#   superusers, so creating accounts stays with the superuser;
# - delete on clients, orders and consent: orders come from the POS and consent is an
#   append-only history;
# - customers.ingest_data: that is for integration accounts only.
# Permissions of models that do not exist (yet) are skipped.
MANAGER_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "auth.user": ("view",),
    "stores.store": ("view", "change"),
    "stores.staffmember": ("view", "add", "change"),
    # What their staff tried and were refused, and the alerts it raised (marked reviewed).
    "stores.refusedaccess": ("view",),
    "stores.securityalert": ("view", "change"),
    "catalog.brand": ("view", "add", "change"),
    "catalog.category": ("view", "add", "change"),
    "catalog.product": ("view", "add", "change"),
    "customers.customer": ("view", "add", "change"),
    "customers.consentevent": ("view", "add"),
    "customers.contactpreferences": ("view", "add", "change"),
    "customers.size": ("view", "add", "change", "delete"),
    "customers.preference": ("view", "add", "change", "delete"),
    "customers.note": ("view", "add", "change", "delete"),
    "customers.order": ("view",),
    "customers.orderline": ("view",),
    "customers.engagementevent": ("view",),
    # Reasons to contact and the contact log: to follow up on the team's outreach.
    "customers.reason": ("view", "change"),
    "customers.contact": ("view",),
    # Who looked at which client: managers answer for their store's data.
    "customers.auditevent": ("view",),
    # Offers and points rules of their store; what the app opened and earned, read only.
    "customers.offer": ("view", "add", "change"),
    "customers.pointsrule": ("view", "add", "change"),
    "customers.clientoffer": ("view",),
    "customers.pointsmovement": ("view",),
}
# Apps whose every model managers may view, add and change (fitting rooms, templates,
# automation rules as they are built), on top of the explicit list above.
MANAGER_APPS = ("appointments",)


# --- The story client ----------------------------------------------------------------


@dataclass(frozen=True)
class StoryClient:
    first_name: str
    last_name: str
    email: str
    phone: str
    store_code: str
    dress_size: str
    shoe_size: str
    years_a_member: int
    target_lifetime_value: int  # in whole currency units
    situation: str
    note: str


STORY_CLIENT = StoryClient(
    first_name="Claire",
    last_name="Dubois",
    email="claire.dubois@example.com",
    phone="+12125550199",
    store_code="nyc-soho",
    dress_size="38",
    shoe_size="38",
    years_a_member=8,
    target_lifetime_value=25_000,
    situation=(
        "I'm starting a new role in the spring with a lot of client dinners, and I fly to "
        "Paris every other month. I want fewer, better pieces that travel well, and "
        "comfortable heels I can stand in all evening. Points don't interest me."
    ),
    note=(
        "Claire has only ever bought dresses with us, always in person with Ava. She has "
        "mentioned needing comfortable heels for dinners and a bag that fits a laptop: "
        "worth showing her shoes and bags next visit. Turned down points-only offers twice: "
        "talk about the piece, not the points. Hems need taking up 2 cm."
    ),
)


# --- Catalog ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CategorySpec:
    slug: str
    name: str
    parent: str | None = None


CATEGORIES: list[CategorySpec] = [
    CategorySpec("dresses", "Dresses"),
    CategorySpec("shoes", "Shoes"),
    CategorySpec("bags", "Bags"),
    CategorySpec("accessories", "Accessories"),
    CategorySpec("beauty", "Beauty"),
    CategorySpec("skin-care", "Skin care", parent="beauty"),
    CategorySpec("make-up", "Make-up", parent="beauty"),
    CategorySpec("fragrance", "Fragrance", parent="beauty"),
]

# Brand name -> the product kinds (category slugs) it makes.
BRANDS: dict[str, tuple[str, ...]] = {
    "Maison Verlaine": ("dresses", "accessories"),
    "Atelier Roux": ("dresses", "bags"),
    "Hollis & Wren": ("dresses", "shoes"),
    "Calder Row": ("shoes", "bags"),
    "Studio Kesh": ("dresses", "accessories"),
    "Nordlys": ("dresses", "shoes", "bags"),
    "Sable & Co": ("bags", "accessories"),
    "Oro Vivo": ("accessories",),
    "Bellweather": ("shoes", "dresses"),
    "Marguerite Lenoir": ("dresses", "bags"),
    "Lumière Botanique": ("skin-care", "fragrance"),
    "Dermaline": ("skin-care",),
    "Petal Theory": ("make-up",),
    "Kōsa Beauty": ("make-up", "skin-care"),
    "Maison Ambre": ("fragrance",),
}

# Colour name -> RGB, used both for the product's colour and for its drawn picture.
COLOURS: dict[str, tuple[int, int, int]] = {
    "black": (28, 28, 30),
    "ivory": (238, 230, 212),
    "navy": (30, 42, 84),
    "emerald": (20, 120, 84),
    "burgundy": (118, 26, 46),
    "blush pink": (232, 176, 178),
    "red": (196, 32, 40),
    "camel": (193, 154, 107),
    "cobalt": (0, 71, 171),
    "sage": (156, 175, 136),
    "floral print": (214, 110, 140),
    "chocolate": (92, 58, 38),
    "tan": (205, 160, 112),
    "silver": (190, 192, 196),
    "gold": (212, 175, 55),
    "white": (246, 246, 244),
    "lilac": (190, 160, 210),
    "mustard": (214, 168, 40),
}

DRESS_COLOURS = [
    "black",
    "ivory",
    "navy",
    "emerald",
    "burgundy",
    "blush pink",
    "red",
    "camel",
    "cobalt",
    "sage",
    "floral print",
    "lilac",
]
SHOE_COLOURS = ["black", "tan", "chocolate", "ivory", "red", "silver", "navy", "camel"]
BAG_COLOURS = ["black", "tan", "chocolate", "camel", "burgundy", "ivory", "navy", "emerald"]
ACCESSORY_COLOURS = ["gold", "silver", "black", "ivory", "navy", "red", "floral print", "camel"]

# Make-up shades: name -> RGB.
LIP_SHADES: dict[str, tuple[int, int, int]] = {
    "Cerise": (190, 30, 80),
    "Nude Rose": (200, 140, 130),
    "Brick": (160, 60, 45),
    "Berry": (130, 30, 70),
    "Coral Bay": (240, 110, 90),
    "Classic Red": (200, 20, 35),
    "Mauve": (170, 110, 130),
}
COMPLEXION_SHADES: dict[str, tuple[int, int, int]] = {
    "1N Porcelain": (240, 214, 190),
    "2W Sand": (226, 190, 156),
    "3N Honey": (204, 160, 120),
    "4W Caramel": (176, 124, 84),
    "5N Chestnut": (134, 88, 60),
    "6W Espresso": (92, 60, 40),
}

DRESS_SIZES = ["34", "36", "38", "40", "42", "44"]
SHOE_SIZES = ["35", "36", "37", "38", "39", "40", "41"]
ONE_SIZE = "One size"

MODEL_NAMES = [
    "Celeste",
    "Odette",
    "Marlow",
    "Juniper",
    "Aurélie",
    "Sienna",
    "Romy",
    "Elodie",
    "Harper",
    "Iris",
    "Colette",
    "Noor",
    "Delphine",
    "Tessa",
    "Margot",
    "Vera",
    "Léonie",
    "Nina",
    "Ottilie",
    "Saskia",
    "Anouk",
    "Bianca",
    "Flora",
    "Greta",
    "Ines",
    "Lou",
    "Maren",
    "Paloma",
    "Rosa",
    "Yara",
]
DRESS_FABRICS = [
    "Silk",
    "Crepe",
    "Linen",
    "Satin",
    "Jersey",
    "Velvet",
    "Poplin",
    "Chiffon",
    "Tweed",
    "Lace",
]
DRESS_CUTS = [
    "Slip",
    "Wrap",
    "Midi",
    "Maxi",
    "Shirt",
    "Sheath",
    "A-Line",
    "Pleated",
    "Tiered",
    "Bias-Cut",
    "Shift",
    "Halter",
]
SHOE_MATERIALS = ["Leather", "Suede", "Patent", "Satin", "Calfskin", "Nappa"]
SHOE_TYPES = [
    "Ankle Boot",
    "Knee Boot",
    "Pump",
    "Slingback",
    "Ballet Flat",
    "Loafer",
    "Mule",
    "Strappy Sandal",
    "Sneaker",
    "Espadrille",
]
BAG_MATERIALS = ["Leather", "Grained Leather", "Suede", "Canvas", "Quilted Leather", "Raffia"]
BAG_TYPES = [
    "Tote",
    "Crossbody",
    "Clutch",
    "Bucket Bag",
    "Shoulder Bag",
    "Top-Handle Bag",
    "Hobo",
    "Saddle Bag",
    "Mini Bag",
    "Belt Bag",
]
ACCESSORY_TYPES = [
    "Silk Scarf",
    "Cashmere Wrap",
    "Leather Belt",
    "Hoop Earrings",
    "Pearl Drop Earrings",
    "Signet Ring",
    "Chain Necklace",
    "Sunglasses",
    "Leather Gloves",
    "Card Holder",
    "Hair Clip",
    "Cuff Bracelet",
]


@dataclass(frozen=True)
class ConsumableSpec:
    name: str
    replenish_after_days: int
    price_range: tuple[int, int]
    # "lip" or "complexion": sold in shades; None: one variant.
    shades: str | None = None


SKIN_CARE: list[ConsumableSpec] = [
    ConsumableSpec("Hydrating Serum 30 ml", 45, (58, 145)),
    ConsumableSpec("Vitamin C Serum 30 ml", 45, (64, 160)),
    ConsumableSpec("Rich Night Cream 50 ml", 60, (72, 185)),
    ConsumableSpec("Daily Moisturiser 50 ml", 60, (48, 120)),
    ConsumableSpec("Cleansing Balm 100 ml", 75, (38, 72)),
    ConsumableSpec("Gentle Gel Cleanser 150 ml", 75, (32, 58)),
    ConsumableSpec("Eye Cream 15 ml", 90, (55, 130)),
    ConsumableSpec("SPF 50 Day Fluid 50 ml", 45, (38, 68)),
    ConsumableSpec("Balancing Toner 200 ml", 60, (34, 60)),
    ConsumableSpec("Face Oil 30 ml", 60, (60, 150)),
]
MAKE_UP: list[ConsumableSpec] = [
    ConsumableSpec("Velvet Lipstick", 90, (34, 52), shades="lip"),
    ConsumableSpec("Satin Lip Colour", 90, (30, 46), shades="lip"),
    ConsumableSpec("Skin Tint Foundation 30 ml", 60, (44, 72), shades="complexion"),
    ConsumableSpec("Radiant Concealer", 75, (30, 42), shades="complexion"),
    ConsumableSpec("Lengthening Mascara", 90, (28, 40)),
    ConsumableSpec("Cream Blush", 90, (32, 48), shades="lip"),
]
FRAGRANCES = [
    "Figue Noire",
    "Iris Poudré",
    "Bois de Santal",
    "Fleur d'Oranger",
    "Ambre Doré",
    "Thé Vert",
    "Rose Sauvage",
    "Vétiver Fumé",
    "Néroli Blanc",
    "Cuir Ancien",
]
FRAGRANCE_SIZES = [
    ("Eau de Parfum 50 ml", 90, (120, 210)),
    ("Eau de Parfum 100 ml", 90, (165, 285)),
]

# How many products of each kind: about 300 in all.
PRODUCT_COUNTS = {
    "dresses": 90,
    "shoes": 50,
    "bags": 40,
    "accessories": 40,
    "skin-care": 30,
    "make-up": 30,
    "fragrance": 20,
}
SKU_PREFIXES = {
    "dresses": "DR",
    "shoes": "SH",
    "bags": "BG",
    "accessories": "AC",
    "skin-care": "SK",
    "make-up": "MU",
    "fragrance": "FR",
}
# Price ranges in whole units for the kinds that are not consumables.
PRICE_RANGES = {
    "dresses": (245, 1450),
    "shoes": (295, 1150),
    "bags": (450, 2950),
    "accessories": (85, 690),
}

# --- People ----------------------------------------------------------------------------

FIRST_NAMES = {
    "us": {
        "f": [
            "Emma",
            "Olivia",
            "Madison",
            "Sophia",
            "Isabella",
            "Charlotte",
            "Abigail",
            "Emily",
            "Harper",
            "Ella",
            "Avery",
            "Scarlett",
            "Grace",
            "Chloe",
            "Lily",
            "Aaliyah",
            "Zoe",
            "Hannah",
            "Layla",
            "Nora",
            "Riley",
            "Stella",
            "Maya",
            "Lucy",
            "Jasmine",
            "Valentina",
            "Naomi",
            "Gabriela",
            "Mei",
            "Keisha",
            "Rebecca",
            "Jennifer",
            "Lauren",
            "Danielle",
            "Samantha",
            "Alexis",
            "Morgan",
            "Taylor",
            "Brooke",
            "Catherine",
        ],
        "m": [
            "James",
            "Michael",
            "Ethan",
            "Daniel",
            "Matthew",
            "David",
            "Andrew",
            "Jonathan",
            "Marcus",
            "Kevin",
            "Luis",
            "Ryan",
            "Brandon",
            "Tyler",
            "Jason",
        ],
    },
    "fr": {
        "f": [
            "Camille",
            "Léa",
            "Manon",
            "Chloé",
            "Inès",
            "Sarah",
            "Emma",
            "Louise",
            "Jade",
            "Alice",
            "Juliette",
            "Clémence",
            "Pauline",
            "Margaux",
            "Mathilde",
            "Élodie",
            "Anaïs",
            "Océane",
            "Marion",
            "Lucie",
            "Hélène",
            "Sophie",
            "Amélie",
            "Aurore",
            "Charlotte",
            "Noémie",
            "Justine",
            "Éléonore",
            "Capucine",
            "Bérénice",
            "Agathe",
            "Victoire",
            "Solène",
            "Apolline",
            "Yasmine",
            "Nadia",
            "Salomé",
            "Constance",
        ],
        "m": [
            "Thomas",
            "Nicolas",
            "Julien",
            "Maxime",
            "Antoine",
            "Alexandre",
            "Hugo",
            "Lucas",
            "Mathieu",
            "Romain",
            "Karim",
            "Guillaume",
            "Pierre",
            "Étienne",
            "Adrien",
        ],
    },
    "gb": {
        "f": [
            "Olivia",
            "Amelia",
            "Isla",
            "Ava",
            "Mia",
            "Isabella",
            "Sophie",
            "Grace",
            "Lily",
            "Freya",
            "Emily",
            "Poppy",
            "Ella",
            "Evie",
            "Charlotte",
            "Florence",
            "Imogen",
            "Harriet",
            "Rosie",
            "Matilda",
            "Phoebe",
            "Eleanor",
            "Beatrice",
            "Priya",
            "Aisha",
            "Niamh",
            "Siobhan",
            "Fiona",
            "Victoria",
            "Georgia",
            "Jessica",
            "Hannah",
            "Zara",
            "Ruby",
            "Daisy",
            "Alice",
            "Clara",
            "Esme",
        ],
        "m": [
            "Oliver",
            "George",
            "Harry",
            "Jack",
            "Charlie",
            "Thomas",
            "William",
            "Alfie",
            "Henry",
            "Edward",
            "Rajesh",
            "Callum",
            "Rory",
            "Ben",
            "Samuel",
        ],
    },
}
LAST_NAMES = {
    "us": [
        "Smith",
        "Johnson",
        "Williams",
        "Brown",
        "Jones",
        "Garcia",
        "Miller",
        "Davis",
        "Rodriguez",
        "Martinez",
        "Hernandez",
        "Lopez",
        "Wilson",
        "Anderson",
        "Taylor",
        "Moore",
        "Jackson",
        "Lee",
        "Harris",
        "Clark",
        "Lewis",
        "Robinson",
        "Walker",
        "Young",
        "Allen",
        "King",
        "Wright",
        "Scott",
        "Nguyen",
        "Hill",
        "Green",
        "Adams",
        "Baker",
        "Nelson",
        "Carter",
        "Mitchell",
        "Perez",
        "Roberts",
        "Chen",
        "Kim",
        "Patel",
        "Cohen",
        "Goldberg",
        "Rossi",
        "O'Brien",
        "Murphy",
        "Sullivan",
        "Washington",
        "Bennett",
        "Reyes",
    ],
    "fr": [
        "Martin",
        "Bernard",
        "Thomas",
        "Petit",
        "Robert",
        "Richard",
        "Durand",
        "Leroy",
        "Moreau",
        "Simon",
        "Laurent",
        "Lefebvre",
        "Michel",
        "Garcia",
        "David",
        "Bertrand",
        "Roux",
        "Vincent",
        "Fournier",
        "Morel",
        "Girard",
        "André",
        "Mercier",
        "Dupont",
        "Lambert",
        "Bonnet",
        "François",
        "Martinez",
        "Legrand",
        "Garnier",
        "Faure",
        "Rousseau",
        "Blanc",
        "Guérin",
        "Muller",
        "Henry",
        "Roussel",
        "Nicolas",
        "Perrin",
        "Morin",
        "Mathieu",
        "Clément",
        "Gauthier",
        "Dumont",
        "Lopez",
        "Fontaine",
        "Chevalier",
        "Robin",
        "Benali",
        "Nguyen",
    ],
    "gb": [
        "Smith",
        "Jones",
        "Taylor",
        "Brown",
        "Williams",
        "Wilson",
        "Johnson",
        "Davies",
        "Robinson",
        "Wright",
        "Thompson",
        "Evans",
        "Walker",
        "White",
        "Roberts",
        "Green",
        "Hall",
        "Wood",
        "Jackson",
        "Clarke",
        "Patel",
        "Khan",
        "Lewis",
        "James",
        "Phillips",
        "Mason",
        "Mitchell",
        "Rose",
        "Davis",
        "Rodgers",
        "Hughes",
        "Ahmed",
        "Cooper",
        "Harrison",
        "Ward",
        "Morris",
        "Turner",
        "Palmer",
        "Fletcher",
        "Kaur",
        "Campbell",
        "Murray",
        "Stewart",
        "Kelly",
        "O'Connor",
        "Bailey",
        "Shaw",
        "Lloyd",
        "Ellis",
        "Singh",
    ],
}
EMAIL_DOMAINS = ["example.com", "example.net", "example.org"]

# Fictional phone ranges only (they pass phonenumbers.is_valid_number, and no real
# person answers them): 555-01XX in US area codes, Ofcom's drama ranges in the UK,
# ARCEP's fiction ranges in France. (country code, first national number, how many).
PHONE_RANGES: dict[str, list[tuple[int, int, int]]] = {
    "us": [
        (1, int(f"{area}5550100"), 100)
        for area in (
            212,
            646,
            917,
            347,
            718,
            332,
            929,
            516,
            631,
            914,
            201,
            973,
            908,
            862,
            203,
            202,
            215,
            301,
            305,
            310,
            312,
            404,
            415,
            424,
            503,
            512,
            617,
            702,
            713,
            720,
            786,
            805,
            818,
        )
    ],
    "fr": [
        (33, first, 10_000) for first in (199000000, 261910000, 353010000, 465710000, 536490000)
    ],
    "gb": [
        (44, first, 1000)
        for first in (
            2079460000,
            1134960000,
            1144960000,
            1164960000,
            1174960000,
            1184960000,
            1214960000,
            1314960000,
            1414960000,
            1514960000,
            1614960000,
            1914980000,
            2920180000,
            2896496000,
        )
    ],
}
# Clients who live in another time zone than their home store's.
OTHER_TIME_ZONES = [
    "America/Los_Angeles",
    "America/Chicago",
    "Europe/Berlin",
    "Asia/Dubai",
    "Europe/Madrid",
]

# --- Words -----------------------------------------------------------------------------

STYLES = [
    "minimalist",
    "romantic",
    "classic tailoring",
    "bohemian",
    "bold prints",
    "sporty chic",
    "wrap silhouettes",
    "vintage-inspired",
    "monochrome",
    "statement sleeves",
]
OCCASIONS = [
    "weddings",
    "work events",
    "travel",
    "gala evenings",
    "holidays",
    "date nights",
    "client dinners",
    "garden parties",
    "the opera",
]
CONSENT_WORDING = {
    "email": "Yes, you may email me about new arrivals, events and my orders.",
    "sms": "Yes, you may text me about my orders, appointments and news.",
    "phone": "Yes, my associate may call me.",
    "push": "Allow notifications from the app.",
}
REVOCATION_WORDING = {
    "email": "Unsubscribed from the link in an email.",
    "sms": "Replied STOP.",
    "phone": "Asked us not to call any more.",
    "push": "Turned notifications off in the app.",
}
SITUATIONS = [
    "I just started a new job and need a work wardrobe that doesn't feel stiff.",
    "We're moving to London in the autumn, so I'm looking for coats and proper boots.",
    "I'm pregnant (due in March) — comfortable dresses that will still fit for a while, please.",
    "My sister's wedding is in Provence this summer: I'm a bridesmaid and need something for the rehearsal dinner too.",
    "I lost weight this year and nothing fits; I'd like to rebuild the basics slowly.",
    "I travel every week for work and want pieces that don't crease in a suitcase.",
    "My skin has become very sensitive; I'm trying to simplify my routine.",
    "Retired this year — finally time for colour!",
    "Looking for a gift for my partner's 40th, something they'd never buy themselves.",
    "I walk everywhere, so shoes need to be comfortable first and pretty second.",
    "I have three black-tie events this winter and hate wearing the same thing twice.",
    "I'm rebuilding my wardrobe after having twins; practical but still me.",
]
NOTES = [
    "Prefers appointments on Saturday mornings; likes an oat-milk flat white.",
    "Travels to {city} often — ask about the trip.",
    "Daughter's wedding in June: looking for a mother-of-the-bride dress.",
    "Returned the {colour} pumps: too narrow. Try a wider fit next time.",
    "Allergic to heavily scented skin care — fragrance-free only.",
    "Loves {brand}; call when the new collection lands.",
    "Away every August; no messages then.",
    "Very particular about hem lengths; book the tailor when she comes in.",
    "Buys gifts for her husband before the holidays: ties, scarves, leather goods.",
    "Works in finance, needs polished pieces for client meetings.",
    "Prefers WhatsApp-style short texts, not long emails.",
    "Came in with her mother, who may become a client too.",
    "Asked to be told when the {colour} colourway is back in stock.",
    "Her sizes run between two: always try both.",
]
