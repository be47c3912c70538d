"""The words the demo data set is made of: names, places, products, codes, articles.

Plain constants, no I/O. `services/demo.py` combines them with a seeded random generator,
so the same seed always gives the same data set. Addresses use the reserved `.example`
domain so that no notification ever reaches a real mailbox.
"""

from __future__ import annotations

# The service organisation the demo is about.
COMPANY = "Nordhafen Service GmbH"
COMPANY_DOMAIN = "nordhafen-service.example"
PORTAL = "https://portal.nordhafen-service.example"

# --- people -----------------------------------------------------------------------------

# Per country: given names (female, male), surnames (plain, or (male, female) pairs).
FIRST_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "DE": (
        (
            "Anna",
            "Käthe",
            "Jürgen",
            "Sabine",
            "Ursula",
            "Katrin",
            "Dörte",
            "Lena",
            "Sophie",
            "Marie",
            "Hannah",
            "Jutta",
            "Birgit",
            "Renée",
            "Gisela",
            "Lea",
            "Annegret",
            "Heike",
        ),
        (
            "Jörg",
            "Sören",
            "Björn",
            "Günther",
            "Maximilian",
            "Lukas",
            "Thomas",
            "Stefan",
            "Wolfgang",
            "Frank",
            "Jens",
            "Rüdiger",
            "Uwe",
            "Matthias",
            "Kai",
            "Ömer",
            "Jürgen",
            "Hans-Peter",
        ),
    ),
    "NL": (
        ("Sanne", "Eva", "Lotte", "Femke", "Marieke", "Anouk", "Ingrid", "Noë", "Fleur"),
        ("Jan", "Pieter", "Daan", "Bram", "Joost", "Thijs", "Sem", "Ruud", "Geert", "Maarten"),
    ),
    "PL": (
        (
            "Katarzyna",
            "Małgorzata",
            "Agnieszka",
            "Zofia",
            "Grażyna",
            "Bożena",
            "Ewa",
            "Joanna",
            "Jadwiga",
            "Elżbieta",
        ),
        ("Łukasz", "Paweł", "Michał", "Piotr", "Krzysztof", "Wojciech", "Jędrzej", "Tomasz"),
    ),
    "SE": (
        ("Åsa", "Märta", "Ingrid", "Karin", "Maja", "Elsa", "Linnéa", "Sofia", "Astrid"),
        ("Björn", "Göran", "Sven", "Lars", "Anders", "Oskar", "Måns", "Jörgen", "Nils"),
    ),
    "ES": (
        ("María", "Lucía", "Inés", "Sofía", "Carmen", "Begoña", "Pilar", "Ángela", "Nuria"),
        ("José", "Jesús", "Álvaro", "Javier", "Raúl", "Íñigo", "Sergio", "Tomás", "Andrés"),
    ),
}

SURNAMES: dict[str, tuple[str | tuple[str, str], ...]] = {
    "DE": (
        "Müller",
        "Schmidt",
        "Schneider",
        "Fischer",
        "Weber",
        "Meyer",
        "Wagner",
        "Becker",
        "Schulz",
        "Hoffmann",
        "Schäfer",
        "Koch",
        "Bauer",
        "Richter",
        "Klein",
        "Wolf",
        "Schröder",
        "Neumann",
        "Schwarz",
        "Zimmermann",
        "Braun",
        "Krüger",
        "Hartmann",
        "Lange",
        "Werner",
        "Krause",
        "Lehmann",
        "Köhler",
        "Weiß",
        "Jäger",
        "Groß",
        "Böhm",
        "Öztürk",
        "Löwe",
        "Strauß",
        "Kühn",
        "Voß",
        "Fuchs",
        "Dietrich",
        "Engel",
    ),
    "NL": (
        "de Vries",
        "van den Berg",
        "Jansen",
        "Bakker",
        "Visser",
        "Smit",
        "Meijer",
        "de Boer",
        "Mulder",
        "de Groot",
        "Bos",
        "Vos",
        "Peters",
        "Hendriks",
        "van Dijk",
        "Dekker",
        "Brouwer",
        "van der Linden",
        "IJzerman",
        "Çelik",
    ),
    "PL": (
        "Nowak",
        ("Kowalski", "Kowalska"),
        ("Wiśniewski", "Wiśniewska"),
        "Wójcik",
        "Kowalczyk",
        ("Kamiński", "Kamińska"),
        ("Lewandowski", "Lewandowska"),
        ("Zieliński", "Zielińska"),
        ("Szymański", "Szymańska"),
        "Woźniak",
        ("Dąbrowski", "Dąbrowska"),
        ("Kozłowski", "Kozłowska"),
        "Mazur",
        "Krawczyk",
        ("Grabowski", "Grabowska"),
        "Król",
        "Michalak",
        "Wróbel",
    ),
    "SE": (
        "Andersson",
        "Johansson",
        "Karlsson",
        "Nilsson",
        "Eriksson",
        "Larsson",
        "Olsson",
        "Persson",
        "Svensson",
        "Gustafsson",
        "Jönsson",
        "Lindqvist",
        "Sjöberg",
        "Åberg",
        "Öberg",
        "Lundström",
        "Hellström",
        "Ekström",
        "Bergström",
        "Nyström",
    ),
    "ES": (
        "García",
        "Fernández",
        "González",
        "Rodríguez",
        "López",
        "Martínez",
        "Sánchez",
        "Pérez",
        "Gómez",
        "Martín",
        "Jiménez",
        "Ruiz",
        "Hernández",
        "Díaz",
        "Moreno",
        "Muñoz",
        "Álvarez",
        "Romero",
        "Navarro",
        "Domínguez",
        "Ibáñez",
        "Castaño",
        "Peña",
    ),
}

# Company name patterns per country; {s} a surname, {c} a city.
COMPANY_PATTERNS: dict[str, tuple[str, ...]] = {
    "DE": (
        "{s} GmbH",
        "{s} & {s2} GmbH & Co. KG",
        "Bäckerei {s}",
        "Autohaus {s}",
        "Praxis Dr. {s}",
        "{s} Elektrotechnik",
        "Stadtwerke {c}",
        "Hotel {s} {c}",
        "Apotheke am Markt {c}",
        "{s} Logistik AG",
        "Getränke {s} KG",
        "Brauerei {s}",
        "Steuerkanzlei {s}",
        "Möbelhaus {s}",
        "Zahnarztpraxis {s}",
        "{s} Maschinenbau GmbH",
    ),
    "NL": (
        "{s} B.V.",
        "Bakkerij {s}",
        "{s} & Zn.",
        "Gemeente {c}",
        "Tandartspraktijk {s}",
        "Transportbedrijf {s}",
        "Hotel {c} Centrum",
        "Apotheek {s}",
        "{s} Installatietechniek",
    ),
    "PL": (
        "{s} Sp. z o.o.",
        "Piekarnia {s}",
        "Hurtownia {s}",
        "{s} i Wspólnicy",
        "Przychodnia Zdrowie {c}",
        "Apteka pod Różą {c}",
        "Drukarnia {s}",
        "Hotel Wisła {c}",
    ),
    "SE": (
        "{s} AB",
        "{s}s Bygg AB",
        "Café {s}",
        "{c} kommun",
        "Tandläkare {s}",
        "{s} Transport AB",
        "Hotell Norrsken {c}",
        "Apoteket {s}",
    ),
    "ES": (
        "{s} S.L.",
        "Hermanos {s} S.A.",
        "Farmacia {s}",
        "Clínica Dental {s}",
        "Talleres {s}",
        "Panadería {s}",
        "Hotel Plaza {c}",
        "Distribuciones {s} S.L.",
    ),
}

# Cities: name, postal code, area code (national, without trunk 0), service region.
CITIES: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "DE": (
        ("Berlin", "10115", "30", "DE-EAST"),
        ("Hamburg", "20095", "40", "DE-NORTH"),
        ("München", "80331", "89", "DE-SOUTH"),
        ("Köln", "50667", "221", "DE-WEST"),
        ("Düsseldorf", "40213", "211", "DE-WEST"),
        ("Frankfurt am Main", "60311", "69", "DE-SOUTH"),
        ("Stuttgart", "70173", "711", "DE-SOUTH"),
        ("Leipzig", "04109", "341", "DE-EAST"),
        ("Nürnberg", "90402", "911", "DE-SOUTH"),
        ("Dresden", "01067", "351", "DE-EAST"),
        ("Hannover", "30159", "511", "DE-NORTH"),
        ("Bremen", "28195", "421", "DE-NORTH"),
        ("Lübeck", "23552", "451", "DE-NORTH"),
        ("Münster", "48143", "251", "DE-WEST"),
        ("Würzburg", "97070", "931", "DE-SOUTH"),
        ("Göttingen", "37073", "551", "DE-NORTH"),
        ("Potsdam", "14467", "331", "DE-EAST"),
        ("Essen", "45127", "201", "DE-WEST"),
    ),
    "NL": (
        ("Amsterdam", "1012 AB", "20", "NL"),
        ("Rotterdam", "3011 AD", "10", "NL"),
        ("Den Haag", "2511 CV", "70", "NL"),
        ("Utrecht", "3511 LX", "30", "NL"),
        ("Eindhoven", "5611 AZ", "40", "NL"),
        ("Groningen", "9711 LM", "50", "NL"),
    ),
    "PL": (
        ("Warszawa", "00-001", "22", "PL"),
        ("Kraków", "30-001", "12", "PL"),
        ("Łódź", "90-001", "42", "PL"),
        ("Wrocław", "50-001", "71", "PL"),
        ("Poznań", "60-001", "61", "PL"),
        ("Gdańsk", "80-001", "58", "PL"),
    ),
    "SE": (
        ("Stockholm", "111 20", "8", "SE"),
        ("Göteborg", "411 03", "31", "SE"),
        ("Malmö", "211 20", "40", "SE"),
        ("Uppsala", "753 10", "18", "SE"),
        ("Västerås", "722 12", "21", "SE"),
        ("Örebro", "702 10", "19", "SE"),
    ),
    "ES": (
        ("Madrid", "28013", "91", "ES"),
        ("Barcelona", "08002", "93", "ES"),
        ("Valencia", "46002", "96", "ES"),
        ("Sevilla", "41004", "95", "ES"),
        ("Málaga", "29015", "95", "ES"),
        ("Zaragoza", "50001", "976", "ES"),
    ),
}

STREETS: dict[str, tuple[str, ...]] = {
    "DE": (
        "Hauptstraße",
        "Bahnhofstraße",
        "Schillerstraße",
        "Goethestraße",
        "Lindenallee",
        "Am Mühlenteich",
        "Königsallee",
        "Friedrichstraße",
        "Große Bleichen",
        "Schloßstraße",
        "Industriestraße",
        "Gartenweg",
        "Marktplatz",
        "Rosenstraße",
        "Münsterstraße",
    ),
    "NL": (
        "Keizersgracht",
        "Stationsweg",
        "Kerkstraat",
        "Dorpsstraat",
        "Coolsingel",
        "Prinsengracht",
        "Industrieweg",
        "Molenstraat",
    ),
    "PL": (
        "ul. Marszałkowska",
        "ul. Piotrkowska",
        "ul. Długa",
        "ul. Świętokrzyska",
        "al. Jerozolimskie",
        "ul. Słoneczna",
        "ul. Zielona",
        "ul. Kościuszki",
    ),
    "SE": (
        "Drottninggatan",
        "Storgatan",
        "Kungsgatan",
        "Sveavägen",
        "Östra Hamngatan",
        "Järnvägsgatan",
        "Skolgatan",
        "Åsgatan",
    ),
    "ES": (
        "Calle Mayor",
        "Gran Vía",
        "Calle de Alcalá",
        "Avenida de la Constitución",
        "Calle Real",
        "Paseo de la Castellana",
        "Calle del Carmen",
        "Avenida de Andalucía",
    ),
}

# Share of customers per country (per mille), and the international prefix.
COUNTRY_WEIGHTS = (("DE", 52), ("NL", 14), ("PL", 12), ("SE", 10), ("ES", 12))
COUNTRY_CODES = {"DE": "49", "NL": "31", "PL": "48", "SE": "46", "ES": "34"}
# Mobile prefixes (national significant number starts), per country.
MOBILE_PREFIXES = {
    "DE": ("151", "160", "170", "171", "176"),
    "NL": ("6",),
    "PL": ("501", "601", "691", "782"),
    "SE": ("70", "72", "73"),
    "ES": ("612", "634", "690"),
}
CONTACT_ROLES = (
    "Office manager",
    "Store manager",
    "IT contact",
    "Facility manager",
    "Owner",
    "Head of accounts",
    "Practice manager",
    "Shift lead",
    "Purchasing",
)

# --- products -----------------------------------------------------------------------------

# item, description, unit type, warranty months
ITEMS: tuple[tuple[str, str, str, int], ...] = (
    ("VIR-LP4200", "Vireo LP-4200 laser printer", "printer", 24),
    ("VIR-MF6100", "Vireo MF-6100 multifunction printer", "printer", 24),
    ("KES-POS12", "Kestrel POS-12 till terminal", "pos-terminal", 36),
    ("KES-CR3", "Kestrel CR-3 card reader", "pos-terminal", 24),
    ("AUR-NX220", "Aurora NX-220 switch, 24 ports", "network", 60),
    ("AUR-WAP5", "Aurora WAP-5 wireless access point", "network", 36),
    ("TUN-HV30", "Tundra HV-30 heat pump", "hvac", 60),
    ("TUN-AC12", "Tundra AC-12 split air conditioner", "hvac", 24),
    ("BOR-UPS3K", "Boreal UPS-3000 power supply", "ups", 36),
    ("FAL-K90", "Falke K-90 bean-to-cup coffee machine", "coffee", 12),
    ("LUX-NB14", "Luxor NB-14 notebook", "laptop", 24),
    ("LUX-DS27", "Luxor DS-27 docking station", "laptop", 24),
    ("ZEN-AC200", "Zenit AC-200 access control reader", "access", 36),
)
UNIT_LOCATIONS = (
    "Reception",
    "Back office",
    "Shop floor",
    "1st floor, room 104",
    "Warehouse",
    "Kitchen",
    "Server room",
    "Checkout 2",
    "Basement, plant room",
    "Main entrance",
)

# --- organisation -------------------------------------------------------------------------

CALENDAR_BUSINESS = "Berlin office hours"
CALENDAR_EXTENDED = "Extended service hours"
CALENDAR_ALWAYS = "24/7"

# code, name, calendar, on_site
DEPARTMENTS: tuple[tuple[str, str, str, bool], ...] = (
    ("SD", "Service Desk (first level)", CALENDAR_BUSINESS, False),
    ("FS", "Field Service", CALENDAR_BUSINESS, True),
    ("DR", "Depot Repair", CALENDAR_BUSINESS, False),
    ("FAC", "Facilities", CALENDAR_BUSINESS, True),
    ("NOC", "Network Operations Center", CALENDAR_ALWAYS, False),
)

# login, name, role, department, skills, region
AGENTS: tuple[tuple[str, str, str, str | None, str, str | None], ...] = (
    ("helga.sommer", "Helga Sommer", "admin", None, "", None),
    ("katrin.vogel", "Katrin Vogel", "supervisor", "SD", "de,en,escalations", None),
    ("jonas.becker", "Jonas Becker", "agent", "SD", "de,en,printers,software", None),
    ("marta.wisniewska", "Marta Wiśniewska", "agent", "SD", "pl,de,en,software", None),
    ("sanne.devries", "Sanne de Vries", "agent", "SD", "nl,de,en,pos", None),
    ("lucia.fernandez", "Lucía Fernández", "agent", "SD", "es,en,software", None),
    ("erik.lindqvist", "Erik Lindqvist", "agent", "SD", "sv,en,network", None),
    ("tobias.krueger", "Tobias Krüger", "agent", "SD", "de,en,laptops", None),
    ("aylin.oezdemir", "Aylin Özdemir", "agent", "SD", "de,tr,en,billing", None),
    ("rainer.hoffmann", "Rainer Hoffmann", "supervisor", "FS", "de,en,printers,pos", None),
    ("mehmet.yilmaz", "Mehmet Yılmaz", "agent", "FS", "de,printers,pos,ups", "DE-WEST"),
    ("stefan.braun", "Stefan Braun", "agent", "FS", "de,printers,coffee,ups", "DE-SOUTH"),
    ("dirk.schulte", "Dirk Schulte", "agent", "FS", "de,pos,printers", "DE-NORTH"),
    ("uwe.lehmann", "Uwe Lehmann", "agent", "FS", "de,printers,pos,coffee", "DE-EAST"),
    ("jan.bakker", "Jan Bakker", "agent", "FS", "nl,de,pos,printers", "NL"),
    ("piotr.zielinski", "Piotr Zieliński", "agent", "FS", "pl,printers,pos", "PL"),
    ("karin.johansson", "Karin Johansson", "agent", "FS", "sv,printers,pos,ups", "SE"),
    ("javier.ruiz", "Javier Ruiz", "agent", "FS", "es,printers,pos,coffee", "ES"),
    ("birgit.schroeder", "Birgit Schröder", "supervisor", "DR", "de,laptops", None),
    ("lukas.wagner", "Lukas Wagner", "agent", "DR", "de,laptops,printers", None),
    ("olga.nowak", "Olga Nowak", "agent", "DR", "pl,de,laptops", None),
    ("felix.hartmann", "Felix Hartmann", "agent", "DR", "de,laptops,ups", None),
    ("thomas.koenig", "Thomas König", "supervisor", "FAC", "de,hvac,access", None),
    ("sven.petersen", "Sven Petersen", "agent", "FAC", "de,hvac", "DE-NORTH"),
    ("claudia.richter", "Claudia Richter", "agent", "FAC", "de,access,hvac", "DE-SOUTH"),
    ("goran.nilsson", "Göran Nilsson", "agent", "FAC", "sv,hvac,access", "SE"),
    ("nina.brandt", "Nina Brandt", "supervisor", "NOC", "de,en,network", None),
    ("ali.hassan", "Ali Hassan", "agent", "NOC", "en,de,network", None),
    ("julia.neumann", "Julia Neumann", "agent", "NOC", "de,network,vpn", None),
    ("marek.kaminski", "Marek Kamiński", "agent", "NOC", "pl,en,network,vpn", None),
)

# --- codes ----------------------------------------------------------------------------

# general code, name, ((specific, name), ...)
REASONS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "HW",
        "Hardware fault",
        (
            ("NO-POWER", "Does not switch on"),
            ("NOISE", "Unusual noise"),
            ("DISPLAY", "Display or screen fault"),
            ("PAPER", "Paper handling"),
            ("DAMAGE", "Physical damage"),
            ("ERROR", "Error code shown"),
        ),
    ),
    (
        "SW",
        "Software",
        (
            ("LOGIN", "Cannot log in"),
            ("CRASH", "Application crashes"),
            ("UPDATE", "Update failed"),
            ("LICENSE", "Licence expired"),
            ("CONFIG", "Configuration"),
        ),
    ),
    (
        "NET",
        "Network",
        (
            ("OUTAGE", "No connection at all"),
            ("SLOW", "Slow connection"),
            ("WLAN", "Wireless network"),
            ("VPN", "VPN access"),
        ),
    ),
    (
        "FAC",
        "Building services",
        (
            ("HEATING", "Heating"),
            ("COOLING", "Cooling / air conditioning"),
            ("ACCESS", "Access control"),
            ("LEAK", "Water leak"),
        ),
    ),
    (
        "SVC",
        "Service request",
        (
            ("INSTALL", "Installation"),
            ("MOVE", "Move or relocation"),
            ("MAINT", "Planned maintenance"),
            ("LOAN", "Loan device"),
            ("RETURN", "Return"),
        ),
    ),
    (
        "ADM",
        "Administration",
        (
            ("INVOICE", "Invoice question"),
            ("CONTRACT", "Contract question"),
            ("ADDRESS", "Change of address"),
        ),
    ),
    (
        "INFO",
        "Information",
        (
            ("HOWTO", "How to use"),
            ("STATUS", "Status of a repair"),
            ("HOURS", "Opening and service hours"),
            ("PRICE", "Prices and fees"),
            ("WARRANTY", "Warranty and contract cover"),
        ),
    ),
    (
        "COMPL",
        "Complaint",
        (
            ("DELAY", "Waited too long"),
            ("QUALITY", "Repair did not last"),
            ("STAFF", "Conduct of staff"),
        ),
    ),
    ("FB", "Feedback", (("PRAISE", "Praise"), ("IDEA", "Suggestion"))),
)

RESOLUTIONS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "FIXED",
        "Fixed",
        (
            ("REMOTE", "Fixed remotely"),
            ("ONSITE", "Fixed on site"),
            ("PART", "Part replaced"),
            ("CONFIG", "Configuration changed"),
            ("RESTART", "Restart / reset"),
        ),
    ),
    ("REPLACED", "Replaced", (("UNIT", "Unit replaced"), ("LOAN", "Loan unit supplied"))),
    ("INFO", "Information given", (("ANSWERED", "Question answered"), ("KB", "KB article sent"))),
    ("NOFAULT", "No fault found", (("USER", "Operating error"), ("NOREPRO", "Not reproducible"))),
    (
        "NOACT",
        "No action",
        (
            ("DUPLICATE", "Duplicate"),
            ("WITHDRAWN", "Withdrawn by the customer"),
        ),
    ),
    (
        "EXTERNAL",
        "Solved externally",
        (
            ("SUBCON", "By the subcontractor"),
            ("VENDOR", "By the manufacturer"),
        ),
    ),
    ("WO", "Work order", (("DONE", "Work order completed"),)),
)

REQUEST_TYPES: tuple[tuple[str, str], ...] = (
    ("FAULT", "Fault report"),
    ("SERVICE", "Service request"),
    ("QUESTION", "Question"),
    ("STATUS", "Order or repair status"),
    ("COMPLAINT", "Complaint"),
    ("FEEDBACK", "Feedback"),
    ("BILLING", "Billing question"),
)

# code, name, kind, repair kind, description, estimated minutes, billable
WORK_ORDER_TEMPLATES: tuple[tuple[str, str, str, str | None, str, int, bool], ...] = (
    (
        "WO-ONSITE-PRN",
        "On-site printer repair",
        "service",
        None,
        "Engineer visit: diagnose, clean feed path, replace worn parts, test print.",
        90,
        True,
    ),
    (
        "WO-ONSITE-POS",
        "On-site till repair",
        "service",
        None,
        "Engineer visit: check terminal, card reader and receipt printer, test payment.",
        60,
        True,
    ),
    (
        "WO-ONSITE-UPS",
        "UPS battery replacement",
        "service",
        None,
        "Replace battery pack, run self-test, dispose of old batteries.",
        45,
        True,
    ),
    (
        "WO-FAC-HVAC",
        "Heating/cooling call-out",
        "service",
        None,
        "Technician visit: check pressure, sensors and controller; log readings.",
        120,
        True,
    ),
    (
        "WO-FAC-ACCESS",
        "Access control repair",
        "service",
        None,
        "Check reader, controller and door strike; re-enrol cards if needed.",
        60,
        False,
    ),
    (
        "WO-SUBCON-HVAC",
        "Subcontracted HVAC service",
        "subcontract",
        None,
        "Hand over to the HVAC subcontractor under the agreement; they report back.",
        180,
        True,
    ),
    (
        "WO-DEPOT",
        "Depot repair",
        "repair",
        "depot_repair",
        "Unit collected by courier, repaired in the workshop and returned.",
        240,
        True,
    ),
    (
        "WO-LOAN",
        "Loan device",
        "repair",
        "item_loan",
        "Ship a loan device for the time of the repair; collect it afterwards.",
        30,
        False,
    ),
    (
        "WO-DELIVERY",
        "Replacement delivery",
        "repair",
        "item_delivery",
        "Ship a replacement unit to the customer.",
        30,
        False,
    ),
    (
        "WO-RECEIPT",
        "Return receipt",
        "repair",
        "item_receipt",
        "Receive the returned unit at the depot and check it in.",
        20,
        False,
    ),
)

# department, provider (code, name), category (code, name), problems ((code, name, template),)
SERVICE_TREE: tuple[
    tuple[str, str, str, str, str, tuple[tuple[str, str, str | None], ...]], ...
] = (
    (
        "SD",
        "REMOTE",
        "Remote support",
        "SOFTWARE",
        "Software",
        (
            ("LOGIN-FAIL", "User cannot log in", None),
            ("APP-CRASH", "Application crashes", None),
            ("UPDATE-FAIL", "Update failed", None),
            ("LICENSE", "Licence expired", None),
        ),
    ),
    (
        "SD",
        "REMOTE",
        "Remote support",
        "ACCOUNT",
        "Accounts",
        (
            ("PASSWORD", "Password reset", None),
            ("NEW-USER", "New user account", None),
        ),
    ),
    (
        "FS",
        "ONSITE",
        "On-site engineers",
        "PRINTER",
        "Printers",
        (
            ("PAPER-JAM", "Recurring paper jam", "WO-ONSITE-PRN"),
            ("PRINT-QUALITY", "Poor print quality", "WO-ONSITE-PRN"),
            ("ERROR-CODE", "Printer error code", "WO-ONSITE-PRN"),
        ),
    ),
    (
        "FS",
        "ONSITE",
        "On-site engineers",
        "POS",
        "Till systems",
        (
            ("TILL-FROZEN", "Till frozen", "WO-ONSITE-POS"),
            ("CARD-READER", "Card reader declines cards", "WO-ONSITE-POS"),
            ("RECEIPT", "Receipt printer fault", "WO-ONSITE-POS"),
        ),
    ),
    (
        "FS",
        "ONSITE",
        "On-site engineers",
        "POWER",
        "Power and UPS",
        (
            ("UPS-BATTERY", "UPS battery worn out", "WO-ONSITE-UPS"),
            ("UPS-ALARM", "UPS alarm", None),
        ),
    ),
    (
        "FS",
        "ONSITE",
        "On-site engineers",
        "COFFEE",
        "Coffee machines",
        (
            ("DESCALE", "Descaling needed", None),
            ("NO-WATER", "Water supply fault", "WO-ONSITE-PRN"),
        ),
    ),
    (
        "FAC",
        "HOUSE",
        "In-house technicians",
        "HVAC",
        "Heating and cooling",
        (
            ("NO-HEAT", "No heating", "WO-FAC-HVAC"),
            ("NO-COOLING", "No cooling", "WO-FAC-HVAC"),
            ("HVAC-NOISE", "Noisy unit", "WO-FAC-HVAC"),
        ),
    ),
    (
        "FAC",
        "HOUSE",
        "In-house technicians",
        "ACCESS",
        "Access control",
        (
            ("CARD-REJECTED", "Badge rejected", "WO-FAC-ACCESS"),
            ("DOOR-OPEN", "Door does not lock", "WO-FAC-ACCESS"),
        ),
    ),
    (
        "FAC",
        "PARTNER",
        "Service partners",
        "HVAC-SUB",
        "Subcontracted HVAC",
        (
            ("ANNUAL-MAINT", "Annual maintenance", "WO-SUBCON-HVAC"),
            ("REFRIGERANT", "Refrigerant leak", "WO-SUBCON-HVAC"),
        ),
    ),
    (
        "DR",
        "WORKSHOP",
        "Workshop",
        "NOTEBOOK",
        "Notebooks",
        (
            ("NO-BOOT", "Notebook does not start", "WO-DEPOT"),
            ("DISPLAY", "Broken display", "WO-DEPOT"),
            ("KEYBOARD", "Keyboard fault", "WO-DEPOT"),
            ("BATTERY", "Battery does not charge", "WO-DEPOT"),
        ),
    ),
    (
        "DR",
        "LOGISTICS",
        "Logistics",
        "RMA",
        "Returns and loans",
        (
            ("LOAN-DEVICE", "Loan device needed", "WO-LOAN"),
            ("REPLACEMENT", "Replacement unit", "WO-DELIVERY"),
            ("RETURN", "Return to depot", "WO-RECEIPT"),
        ),
    ),
    (
        "NOC",
        "NETWORK",
        "Network team",
        "WAN",
        "Site connection",
        (
            ("LINK-DOWN", "Site offline", None),
            ("SLOW-LINK", "Slow connection", None),
            ("VPN", "VPN tunnel down", None),
        ),
    ),
    (
        "NOC",
        "NETWORK",
        "Network team",
        "WLAN",
        "Wireless",
        (
            ("NO-SIGNAL", "No wireless signal", None),
            ("WLAN-AUTH", "Wireless log-in fails", None),
        ),
    ),
)

# code, name, rank, response, follow-up, warning, late, resolve (working minutes), basis,
# calendar (None: the department's), default
PRIORITIES: tuple[tuple[str, str, int, int, int, int, int, int, str, str | None, bool], ...] = (
    ("P1", "Critical: business stopped", 1, 30, 60, 120, 240, 240, "all", CALENDAR_ALWAYS, False),
    ("P2", "High: major impact", 2, 60, 240, 360, 480, 480, "contract", None, False),
    ("P3", "Normal", 3, 240, 960, 1440, 1920, 1920, "business", None, True),
    ("P4", "Low: no hurry", 4, 480, 2400, 3600, 4800, 4800, "business", None, False),
)

# priority, at state, action, target priority, target department
ESCALATION_ACTIONS: tuple[tuple[str, str, str, str | None, str | None], ...] = (
    ("P1", "follow_up", "notify", None, None),
    ("P1", "warning", "notify", None, None),
    ("P1", "late", "reassign", None, "SD"),
    ("P2", "warning", "notify", None, None),
    ("P2", "late", "raise_priority", "P1", None),
    ("P3", "late", "notify", None, None),
)

# Routing rules, first match wins: name, unit type, reason (G or G/S), region, priority,
# channel, request type, department, owner, least loaded, skill.
ROUTING_RULES: tuple[
    tuple[
        str,
        str | None,
        str | None,
        str | None,
        str | None,
        str | None,
        str | None,
        str,
        str | None,
        bool,
        str | None,
    ],
    ...,
] = (
    (
        "Network outages to the NOC",
        None,
        "NET/OUTAGE",
        None,
        None,
        None,
        None,
        "NOC",
        None,
        True,
        "network",
    ),
    ("Heating and cooling", "hvac", None, None, None, None, None, "FAC", None, True, "hvac"),
    ("Access control", "access", None, None, None, None, None, "FAC", None, True, "access"),
    (
        "Notebooks to depot repair",
        "laptop",
        None,
        None,
        None,
        None,
        None,
        "DR",
        None,
        True,
        "laptops",
    ),
    (
        "Printers in the Netherlands",
        "printer",
        None,
        "NL",
        None,
        None,
        None,
        "FS",
        "jan.bakker",
        False,
        None,
    ),
    (
        "Printers in Poland",
        "printer",
        None,
        "PL",
        None,
        None,
        None,
        "FS",
        "piotr.zielinski",
        False,
        None,
    ),
    ("Printers on site", "printer", None, None, None, None, None, "FS", None, True, "printers"),
    ("Till systems on site", "pos-terminal", None, None, None, None, None, "FS", None, True, "pos"),
    ("UPS on site", "ups", None, None, None, None, None, "FS", None, True, "ups"),
    ("Coffee machines on site", "coffee", None, None, None, None, None, "FS", None, True, "coffee"),
    (
        "Network equipment to the NOC",
        "network",
        None,
        None,
        None,
        None,
        None,
        "NOC",
        None,
        True,
        "network",
    ),
    (
        "Web forms wait in the desk queue",
        None,
        None,
        None,
        None,
        "web",
        "action",
        "SD",
        None,
        False,
        None,
    ),
    ("Critical calls to first level", None, None, None, "P1", None, None, "SD", None, True, None),
    ("Default: service desk", None, None, None, None, None, None, "SD", None, True, None),
)

# code, subcontractor, contact, phone, item, unit type, customer index (None: any)
SUBCONTRACTS: tuple[tuple[str, str, str, str, str | None, str | None], ...] = (
    ("SUB-KYL-01", "Kylteknik Norr AB", "Måns Ekström", "+46 8 555 012 34", None, "hvac"),
    (
        "SUB-NOW-01",
        "Elektro Nowak Sp. z o.o.",
        "Grażyna Nowak",
        "+48 22 555 01 23",
        "VIR-MF6100",
        None,
    ),
    (
        "SUB-LEV-01",
        "Climatización Levante S.L.",
        "Íñigo Castaño",
        "+34 96 555 0123",
        "TUN-AC12",
        None,
    ),
)

# Customers flagged at intake: (level, reason).
BLOCK_REASONS: tuple[tuple[str, str], ...] = (
    ("warn", "Payment reminder 2 open: announce that on-site visits are charged in advance."),
    ("warn", "Site access only with escort: ask the caller to meet the engineer at gate 3."),
    ("warn", "Customer prefers Polish; hand over to a Polish-speaking agent if possible."),
    ("warn", "Contract renewal pending: confirm the cover before promising a visit."),
    ("warn", "Dog on the premises: engineer to call 15 minutes before arrival."),
    ("warn", "Complaint open with management: keep the supervisor informed."),
    ("block", "Account closed after insolvency proceedings; refer to accounts receivable."),
    ("block", "Unpaid invoices over 90 days: no service until accounts receivable clears it."),
    ("block", "Contract terminated by the customer; offer a paid one-off visit quote only."),
    ("block", "Repeated abuse of staff: service refused by management (letter of notice)."),
)

# --- incident scenarios ---------------------------------------------------------------------

# Action requests: reason, problem code path (or None), unit types it fits (empty: any or
# none), request-type code, titles, what the caller said, work note, actual problem,
# actual solution, resolution, priority weights (P1..P4).
ACTION_SCENARIOS: tuple[dict, ...] = (
    {
        "reason": "HW/PAPER",
        "problem": "FS/ONSITE/PRINTER/PAPER-JAM",
        "units": ("printer",),
        "type": "FAULT",
        "titles": (
            "Paper jam in tray 2",
            "Printer jams on every second page",
            "Paper crumples in the duplex unit",
        ),
        "said": (
            "The printer jams every few pages, we have already opened all flaps.",
            "Paper gets stuck at the back, the display says 'Jam in tray 2'.",
        ),
        "note": "Talked the caller through the paper path; jam cleared but it returns.",
        "problem_text": "Worn pick-up roller in tray 2 pulls two sheets at once.",
        "solution": "Replaced pick-up and separation rollers, cleaned the paper path, test "
        "print of 50 pages without jam.",
        "resolution": "FIXED/PART",
        "weights": (1, 15, 60, 24),
    },
    {
        "reason": "HW/ERROR",
        "problem": "FS/ONSITE/PRINTER/ERROR-CODE",
        "units": ("printer",),
        "type": "FAULT",
        "titles": ("Printer shows error E-312", "Fuser error 50.1 on the MF-6100"),
        "said": (
            "The printer stopped with error E-312 and does not print any more.",
            "Display shows 50.1 fuser error after switching on.",
        ),
        "note": "Power cycle did not clear the error; fuser unit needs replacing.",
        "problem_text": "Fuser unit at end of life (312,000 pages).",
        "solution": "Replaced the fuser unit and reset the maintenance counter.",
        "resolution": "FIXED/PART",
        "weights": (2, 30, 55, 13),
    },
    {
        "reason": "HW/DISPLAY",
        "problem": "FS/ONSITE/PRINTER/PRINT-QUALITY",
        "units": ("printer",),
        "type": "FAULT",
        "titles": ("Grey stripes on every print", "Faded prints on the left side"),
        "said": ("All prints have a grey stripe down the middle, also after a new toner.",),
        "note": "Asked for a test page photo by e-mail: drum damage visible.",
        "problem_text": "Scratched imaging drum.",
        "solution": "Drum unit replaced; print quality checked with the test page.",
        "resolution": "FIXED/PART",
        "weights": (0, 10, 60, 30),
    },
    {
        "reason": "HW/NO-POWER",
        "problem": "FS/ONSITE/POS/TILL-FROZEN",
        "units": ("pos-terminal",),
        "type": "FAULT",
        "titles": ("Till frozen at checkout 2", "Till does not start after power cut"),
        "said": (
            "Our till is frozen in the middle of a sale, customers are waiting!",
            "After the power cut this morning checkout 2 does not start.",
        ),
        "note": "Guided a hard reset (hold power 10 s); terminal stuck at boot logo.",
        "problem_text": "Corrupted system partition after the power failure.",
        "solution": "Re-imaged the terminal with firmware 4.2.1 and restored the till "
        "configuration; test sale completed.",
        "resolution": "FIXED/CONFIG",
        "weights": (25, 50, 20, 5),
    },
    {
        "reason": "HW/ERROR",
        "problem": "FS/ONSITE/POS/CARD-READER",
        "units": ("pos-terminal",),
        "type": "FAULT",
        "titles": ("Card reader declines all cards", "Contactless payment not working"),
        "said": ("Every card is declined with 'Terminal not activated', cash only since 9.",),
        "note": "Terminal lost its activation after the update; re-activation failed remotely.",
        "problem_text": "Card reader key store lost during the firmware update.",
        "solution": "Re-injected the payment keys and re-activated the terminal; three test "
        "payments approved.",
        "resolution": "FIXED/CONFIG",
        "weights": (30, 50, 20, 0),
    },
    {
        "reason": "HW/NOISE",
        "problem": "FS/ONSITE/POWER/UPS-BATTERY",
        "units": ("ups",),
        "type": "FAULT",
        "titles": ("UPS beeps every few minutes", "UPS shows 'replace battery'"),
        "said": ("The UPS in the server room keeps beeping and shows a battery symbol.",),
        "note": "Self-test failed: battery capacity 38 %.",
        "problem_text": "Battery pack worn out after four years.",
        "solution": "Battery pack replaced, self-test passed, runtime 22 minutes at load.",
        "resolution": "FIXED/PART",
        "weights": (5, 35, 50, 10),
    },
    {
        "reason": "SVC/MAINT",
        "problem": "FS/ONSITE/COFFEE/DESCALE",
        "units": ("coffee",),
        "type": "SERVICE",
        "titles": ("Coffee machine asks for descaling", "Descaling programme aborts"),
        "said": ("The machine says 'descale' and the programme stops after two minutes.",),
        "note": "Read the descaling script with the caller; programme aborts at step 3.",
        "problem_text": "Descaling valve blocked with lime.",
        "solution": "Cleaned the valve and ran the descaling programme; machine working.",
        "resolution": "FIXED/ONSITE",
        "weights": (0, 5, 55, 40),
    },
    {
        "reason": "FAC/HEATING",
        "problem": "FAC/HOUSE/HVAC/NO-HEAT",
        "units": ("hvac",),
        "type": "FAULT",
        "titles": ("No heating in the offices", "Heat pump shows error F4"),
        "said": (
            "It is 16 degrees in the office, the heat pump display says F4.",
            "Radiators are cold since this morning.",
        ),
        "note": "Error F4 = low flow; asked the caller to check the pressure gauge (0.6 bar).",
        "problem_text": "Low water pressure in the heating circuit, air in the system.",
        "solution": "Refilled to 1.5 bar, bled the radiators and reset the heat pump.",
        "resolution": "FIXED/ONSITE",
        "weights": (15, 45, 35, 5),
    },
    {
        "reason": "FAC/COOLING",
        "problem": "FAC/HOUSE/HVAC/NO-COOLING",
        "units": ("hvac",),
        "type": "FAULT",
        "titles": ("Air conditioning blows warm air", "Server room too warm"),
        "said": ("The air conditioning only blows warm air, it is 29 degrees in here.",),
        "note": "Outdoor unit fan not turning according to the caller.",
        "problem_text": "Outdoor fan capacitor failed.",
        "solution": "Replaced the fan capacitor; outlet temperature 12 °C after 10 minutes.",
        "resolution": "FIXED/PART",
        "weights": (20, 45, 30, 5),
    },
    {
        "reason": "FAC/ACCESS",
        "problem": "FAC/HOUSE/ACCESS/CARD-REJECTED",
        "units": ("access",),
        "type": "FAULT",
        "titles": ("Badge rejected at the main entrance", "Door reader shows red light"),
        "said": ("None of our badges opens the main entrance since this morning.",),
        "note": "Controller unreachable from the management software.",
        "problem_text": "Access controller lost its network configuration.",
        "solution": "Restored the controller configuration and re-synchronised the cards.",
        "resolution": "FIXED/CONFIG",
        "weights": (20, 50, 25, 5),
    },
    {
        "reason": "FAC/COOLING",
        "problem": "FAC/PARTNER/HVAC-SUB/ANNUAL-MAINT",
        "units": ("hvac",),
        "type": "SERVICE",
        "titles": ("Annual air-conditioning maintenance", "F-gas leak check due"),
        "said": ("The yearly maintenance of our air conditioning is due next month.",),
        "note": "Handed to the HVAC partner under the subcontract agreement.",
        "problem_text": "Scheduled maintenance and leak check.",
        "solution": "Partner completed the maintenance, leak check passed, report filed.",
        "resolution": "EXTERNAL/SUBCON",
        "weights": (0, 0, 40, 60),
    },
    {
        "reason": "HW/NO-POWER",
        "problem": "DR/WORKSHOP/NOTEBOOK/NO-BOOT",
        "units": ("laptop",),
        "type": "FAULT",
        "titles": ("Notebook does not start", "Notebook stays black after power on"),
        "said": ("My notebook does not start, the power light blinks orange three times.",),
        "note": "Blink code 3 = memory; no remote fix. Collection by courier arranged.",
        "problem_text": "Defective memory module.",
        "solution": "Replaced the memory module in the workshop; returned by courier.",
        "resolution": "FIXED/PART",
        "weights": (0, 25, 60, 15),
    },
    {
        "reason": "HW/DAMAGE",
        "problem": "DR/WORKSHOP/NOTEBOOK/DISPLAY",
        "units": ("laptop",),
        "type": "FAULT",
        "titles": ("Cracked notebook display", "Display flickers and goes dark"),
        "said": ("The screen of my notebook is cracked after it fell off the desk.",),
        "note": "Accidental damage: not covered by warranty, quote sent.",
        "problem_text": "Display panel broken (accidental damage).",
        "solution": "Display panel replaced after the quote was accepted.",
        "resolution": "FIXED/PART",
        "weights": (0, 10, 60, 30),
    },
    {
        "reason": "SVC/LOAN",
        "problem": "DR/LOGISTICS/RMA/LOAN-DEVICE",
        "units": ("laptop",),
        "type": "SERVICE",
        "titles": ("Loan notebook during repair", "Needs a replacement device today"),
        "said": (
            "Can we get a loan notebook while ours is in repair? Our accountant has "
            "nothing to work on.",
        ),
        "note": "Loan device reserved, shipping today.",
        "problem_text": "Loan device needed for the time of the depot repair.",
        "solution": "Loan notebook delivered; collected again after the repair.",
        "resolution": "REPLACED/LOAN",
        "weights": (0, 30, 60, 10),
    },
    {
        "reason": "SW/LOGIN",
        "problem": "SD/REMOTE/ACCOUNT/PASSWORD",
        "units": (),
        "type": "SERVICE",
        "titles": ("Cannot log in to the customer portal", "Portal password expired"),
        "said": ("I cannot log in to your portal, it says my password expired.",),
        "note": "Identity confirmed with customer number and postcode.",
        "problem_text": "Portal password expired after 180 days.",
        "solution": "Sent a password reset link; caller logged in successfully.",
        "resolution": "FIXED/REMOTE",
        "weights": (0, 10, 60, 30),
    },
    {
        "reason": "SW/CRASH",
        "problem": "SD/REMOTE/SOFTWARE/APP-CRASH",
        "units": ("pos-terminal",),
        "type": "FAULT",
        "titles": ("Till software closes itself", "Back-office app crashes on reports"),
        "said": ("The till app closes itself when we print the daily report.",),
        "note": "Reproduced with remote access: crash on the Z-report.",
        "problem_text": "Known bug in till software 4.1 with long item names.",
        "solution": "Updated the till software to 4.2.1 remotely; Z-report prints.",
        "resolution": "FIXED/REMOTE",
        "weights": (5, 35, 50, 10),
    },
    {
        "reason": "SW/UPDATE",
        "problem": "SD/REMOTE/SOFTWARE/UPDATE-FAIL",
        "units": (),
        "type": "FAULT",
        "titles": ("Update stops at 45 %", "Firmware update failed"),
        "said": ("The update stops at 45 % with error 0x80070005.",),
        "note": "Remote session: insufficient rights for the update service.",
        "problem_text": "Update service ran without administrator rights.",
        "solution": "Corrected the service account, update installed.",
        "resolution": "FIXED/CONFIG",
        "weights": (0, 15, 60, 25),
    },
    {
        "reason": "SW/LICENSE",
        "problem": "SD/REMOTE/SOFTWARE/LICENSE",
        "units": (),
        "type": "SERVICE",
        "titles": ("Licence expired message", "Software says trial ended"),
        "said": ("Since Monday the program says our licence has expired.",),
        "note": "Licence renewal was booked but the key not installed.",
        "problem_text": "New licence key not activated.",
        "solution": "Activated the renewed licence key remotely.",
        "resolution": "FIXED/CONFIG",
        "weights": (0, 20, 60, 20),
    },
    {
        "reason": "NET/OUTAGE",
        "problem": "NOC/NETWORK/WAN/LINK-DOWN",
        "units": ("network",),
        "type": "FAULT",
        "titles": ("Branch offline", "No internet and no tills online"),
        "said": ("Our whole shop is offline, neither the tills nor the phones work.",),
        "note": "Site router unreachable from the NOC; carrier ticket opened.",
        "problem_text": "Fibre cut by road works at the carrier.",
        "solution": "Carrier repaired the fibre; site back online, tills synchronised.",
        "resolution": "EXTERNAL/VENDOR",
        "weights": (55, 35, 10, 0),
    },
    {
        "reason": "NET/SLOW",
        "problem": "NOC/NETWORK/WAN/SLOW-LINK",
        "units": ("network",),
        "type": "FAULT",
        "titles": ("Very slow connection", "Card payments take a minute"),
        "said": ("Everything is terribly slow since lunch, card payments take a minute.",),
        "note": "Packet loss 12 % on the uplink.",
        "problem_text": "Faulty switch port negotiating 10 Mbit/s half duplex.",
        "solution": "Moved the uplink to another port and replaced the patch cable.",
        "resolution": "FIXED/CONFIG",
        "weights": (10, 45, 40, 5),
    },
    {
        "reason": "NET/VPN",
        "problem": "NOC/NETWORK/WAN/VPN",
        "units": (),
        "type": "FAULT",
        "titles": ("VPN does not connect", "Home office cannot reach the server"),
        "said": ("I cannot connect to the VPN from home, it says certificate invalid.",),
        "note": "Client certificate expired yesterday.",
        "problem_text": "Expired VPN client certificate.",
        "solution": "Issued a new certificate and walked the user through the import.",
        "resolution": "FIXED/REMOTE",
        "weights": (0, 30, 55, 15),
    },
    {
        "reason": "NET/WLAN",
        "problem": "NOC/NETWORK/WLAN/NO-SIGNAL",
        "units": ("network",),
        "type": "FAULT",
        "titles": ("No WLAN in the meeting rooms", "Wireless drops every few minutes"),
        "said": ("In the meeting rooms on the first floor there is no wireless at all.",),
        "note": "Access point offline in the controller.",
        "problem_text": "Access point lost power (PoE port disabled).",
        "solution": "Re-enabled the PoE port; access point online, coverage checked.",
        "resolution": "FIXED/CONFIG",
        "weights": (0, 20, 60, 20),
    },
    {
        "reason": "SVC/INSTALL",
        "problem": None,
        "units": ("printer", "pos-terminal"),
        "type": "SERVICE",
        "titles": ("Install a second printer", "Set up a new checkout"),
        "said": ("We bought a second device and would like it installed next week.",),
        "note": "Appointment requested; engineer to confirm by phone.",
        "problem_text": "New installation requested.",
        "solution": "Installed and configured; staff shown the basics.",
        "resolution": "FIXED/ONSITE",
        "weights": (0, 5, 45, 50),
    },
    {
        "reason": "SVC/MOVE",
        "problem": None,
        "units": (),
        "type": "SERVICE",
        "titles": ("Office move: equipment to the new floor", "Relocate server rack"),
        "said": (
            "We move to the third floor in two weeks; can you move and reconnect everything?",
        ),
        "note": "Site survey booked.",
        "problem_text": "Relocation of equipment.",
        "solution": "Equipment moved and reconnected; all devices tested.",
        "resolution": "FIXED/ONSITE",
        "weights": (0, 0, 40, 60),
    },
    {
        "reason": "COMPL/DELAY",
        "problem": None,
        "units": (),
        "type": "COMPLAINT",
        "titles": ("Complaint: engineer did not come", "Complaint about waiting time"),
        "said": ("The engineer was announced for yesterday and never showed up.",),
        "note": "Apologised; escalated to the field-service supervisor.",
        "problem_text": "Visit missed because of a scheduling error.",
        "solution": "Visit rescheduled with a fixed slot; supervisor called the customer.",
        "resolution": "FIXED/ONSITE",
        "weights": (0, 45, 50, 5),
    },
    {
        "reason": "ADM/INVOICE",
        "problem": None,
        "units": (),
        "type": "BILLING",
        "titles": ("Invoice charged for warranty repair", "Duplicate invoice received"),
        "said": ("We were charged for a repair that should be under warranty.",),
        "note": "Forwarded to accounts receivable with the work order number.",
        "problem_text": "Warranty repair invoiced by mistake.",
        "solution": "Credit note issued and sent to the customer.",
        "resolution": "FIXED/CONFIG",
        "weights": (0, 5, 55, 40),
    },
)

# Information requests: reason, request type, question, answer, KB slug (or None).
INFO_SCENARIOS: tuple[tuple[str, str, str, str, str | None], ...] = (
    (
        "INFO/STATUS",
        "STATUS",
        "When will the engineer come for our printer?",
        "Visit planned for Thursday between 10 and 12; the engineer calls 30 minutes ahead.",
        None,
    ),
    (
        "INFO/STATUS",
        "STATUS",
        "Where is my notebook? It went to repair last week.",
        "Repair finished yesterday, courier delivers tomorrow; tracking link sent by e-mail.",
        "portal-track-repair",
    ),
    (
        "INFO/HOURS",
        "QUESTION",
        "Are you open on Easter Monday?",
        "The service desk is closed on public holidays; network emergencies go to the NOC "
        "24/7 line.",
        "night-on-call-noc",
    ),
    (
        "INFO/HOWTO",
        "QUESTION",
        "How do I reset my password for the portal?",
        "Explained the 'Forgot password' link; reset mail arrives within 5 minutes.",
        "portal-password-reset",
    ),
    (
        "INFO/WARRANTY",
        "QUESTION",
        "Is our printer still under warranty?",
        "Warranty runs until the date on file; repairs are free of charge until then.",
        "warranty-terms",
    ),
    (
        "INFO/HOWTO",
        "QUESTION",
        "What does error E-312 on the LP-4200 mean?",
        "E-312 is a paper feed error in tray 2; read the paper-jam script with the caller.",
        "printer-e312",
    ),
    (
        "INFO/PRICE",
        "QUESTION",
        "How much does an on-site visit cost without a contract?",
        "Call-out fee plus labour per started half hour; quote sent by e-mail.",
        None,
    ),
    (
        "INFO/HOWTO",
        "QUESTION",
        "How do I descale the K-90 coffee machine?",
        "Walked through the descaling programme step by step.",
        "coffee-descale",
    ),
    (
        "INFO/STATUS",
        "STATUS",
        "Has my complaint from last week been handled?",
        "Supervisor called back on Friday; credit note is on its way.",
        None,
    ),
    (
        "ADM/CONTRACT",
        "QUESTION",
        "What does our service contract cover?",
        "Parts and labour, next-business-day response; consumables are not covered.",
        "warranty-terms",
    ),
    (
        "INFO/HOWTO",
        "QUESTION",
        "How do we send a notebook in for repair?",
        "Book a courier pick-up in the portal or via the depot line; pack it in the box.",
        "courier-pickup",
    ),
    (
        "ADM/INVOICE",
        "BILLING",
        "Can you send a copy of invoice 2024-11873?",
        "Copy sent to the accounts address on file.",
        "accounts-receivable",
    ),
)

# Comments: reason, request type, text.
COMMENTS: tuple[tuple[str, str, str], ...] = (
    ("FB/PRAISE", "FEEDBACK", "Thanks to the engineer, very friendly and fixed it in minutes."),
    ("FB/PRAISE", "FEEDBACK", "Great service, the loan notebook arrived the same day."),
    ("COMPL/DELAY", "COMPLAINT", "The engineer arrived two hours late without calling."),
    ("COMPL/STAFF", "COMPLAINT", "The agent on the phone yesterday was rather impatient."),
    ("FB/IDEA", "FEEDBACK", "It would help to get an SMS when the engineer is on his way."),
    ("ADM/ADDRESS", "FEEDBACK", "Please note our new delivery address from next month."),
    ("COMPL/QUALITY", "COMPLAINT", "Same printer problem again only two weeks after repair."),
    ("FB/PRAISE", "FEEDBACK", "The portal's repair tracking is really useful, thank you."),
)

PENDING_REASONS = (
    "waiting for spare part from the manufacturer",
    "waiting for the customer to confirm a visit date",
    "waiting for the customer to send photos of the fault",
    "waiting for the carrier",
    "customer on holiday until next week",
)
ABANDON_NOTES = (
    "caller hung up in the queue",
    "line dropped during the greeting",
    "wrong number",
    "caller will call back later",
)
CALLBACK_NOTES = (
    "Called the customer back: confirmed the fix works.",
    "Called back, left a message on the voicemail.",
    "Called back and agreed an appointment for tomorrow morning.",
    "Sent an e-mail with the next steps and the reference number.",
)
EMAIL_OUT_NOTES = (
    "Sent confirmation with the incident number and the expected response time.",
    "E-mailed the customer the visit slot.",
    "Sent the KB article link and asked to confirm.",
)
DISPATCH_NOTES = (
    "Engineer dispatched, ETA 2 hours.",
    "Visit booked for the next business day, 08:00-12:00.",
    "Courier pick-up booked for tomorrow.",
)

# --- knowledge base -------------------------------------------------------------------------

# slug, kind, title, body (Markdown), url, link slug, tags, codes (problem paths prefixed
# "problem:", reason paths "reason:"), status, earlier versions (title, body) oldest first.
KB_ARTICLES: tuple[dict, ...] = (
    {
        "slug": "intake-identify-caller",
        "kind": "script",
        "title": "Intake: identify the caller and the unit",
        "body": (
            "Use this for **every** call.\n\n"
            '1. Greet: "Nordhafen Service, my name is ... How can I help?"\n'
            "2. Ask for the customer number, or search by phone number, e-mail or name.\n"
            "3. Check the banner: a *warn* message is read out if relevant; a *block* means no "
            "action request can be registered - explain why and offer the number of "
            "accounts receivable.\n"
            "4. Ask for the serial number on the type plate (back or underside of the unit).\n"
            "5. Check the open incidents of the customer first: is this the same problem? "
            "Then add the call as an event instead of opening a new incident.\n"
            "6. Search the knowledge base with the caller's words.\n"
        ),
        "tags": "intake script basics",
        "codes": (),
        "status": "published",
        "versions": (
            (
                "Intake: identify the caller",
                "1. Greet.\n2. Ask for the customer number.\n3. Ask for the serial number.\n",
            ),
        ),
    },
    {
        "slug": "printer-paper-jam",
        "kind": "script",
        "title": "Clear a paper jam (Vireo LP-4200 / MF-6100)",
        "body": (
            "Ask the caller to stand next to the printer.\n\n"
            "1. Switch the printer **off** and wait 30 seconds (fuser is hot!).\n"
            "2. Open the front cover and pull the toner cartridge out.\n"
            "3. Remove visible paper slowly with both hands; do not tear it.\n"
            "4. Pull out tray 2 completely and check for sheets behind it.\n"
            "5. Open the rear flap and remove paper from the duplex unit.\n"
            "6. Close everything, switch on, print a test page (menu > Reports > Config).\n\n"
            "Jams again within 20 pages? Worn rollers: register an action request with "
            "problem code FS/ONSITE/PRINTER/PAPER-JAM.\n"
        ),
        "tags": "printer paper jam vireo lp-4200 mf-6100",
        "codes": ("problem:FS/ONSITE/PRINTER/PAPER-JAM", "reason:HW/PAPER"),
        "status": "published",
        "versions": (
            (
                "Clear a paper jam (LP-4200)",
                "1. Switch off.\n2. Open the front cover.\n3. Remove the paper.\n",
            ),
            (
                "Clear a paper jam (LP-4200)",
                "1. Switch off and wait.\n2. Open the front "
                "cover, remove the toner.\n3. Remove the paper.\n4. Check tray 2.\n",
            ),
        ),
    },
    {
        "slug": "printer-e312",
        "kind": "link",
        "title": "Printer error E-312",
        "body": "E-312 is a paper feed error in tray 2: follow the paper-jam script.",
        "link": "printer-paper-jam",
        "tags": "printer error e-312 tray",
        "codes": ("problem:FS/ONSITE/PRINTER/ERROR-CODE", "reason:HW/ERROR"),
        "status": "published",
    },
    {
        "slug": "printer-service-manual",
        "kind": "url",
        "title": "Vireo LP-4200 service manual (vendor portal)",
        "body": "Error code list, spare part numbers and maintenance intervals.",
        "url": "https://support.vireo-printing.example/manuals/lp-4200",
        "tags": "printer manual vireo error codes parts",
        "codes": ("problem:FS/ONSITE/PRINTER/ERROR-CODE",),
        "status": "published",
    },
    {
        "slug": "printer-streaks",
        "kind": "script",
        "title": "Stripes or faded prints",
        "body": (
            "1. Ask which colour the stripes are and whether they are always in the same "
            "place.\n"
            "2. Let the caller shake the toner cartridge gently and re-insert it.\n"
            "3. Print the cleaning page (menu > Maintenance > Cleaning page).\n"
            "4. Still stripes in the same place: drum damage. Ask for a photo of a test "
            "page by e-mail and register an action request (PRINT-QUALITY).\n"
        ),
        "tags": "printer quality stripes toner drum",
        "codes": ("problem:FS/ONSITE/PRINTER/PRINT-QUALITY", "reason:HW/DISPLAY"),
        "status": "published",
    },
    {
        "slug": "till-frozen",
        "kind": "script",
        "title": "Till frozen: restart sequence for the Kestrel POS-12",
        "body": (
            "The shop is usually busy: keep it short.\n\n"
            "1. Ask the caller to finish or park the current sale if the screen reacts.\n"
            "2. Hold the power button for **10 seconds** until the screen goes dark.\n"
            "3. Wait 10 seconds, switch on again; start-up takes about 90 seconds.\n"
            "4. Stuck at the logo for more than 3 minutes? Register an action request "
            "(FS/ONSITE/POS/TILL-FROZEN), priority P2 if it is the only till.\n"
            "5. Remind the caller that the card reader still works stand-alone for "
            "payments.\n"
        ),
        "tags": "till pos kestrel frozen restart checkout",
        "codes": ("problem:FS/ONSITE/POS/TILL-FROZEN", "reason:HW/NO-POWER"),
        "status": "published",
        "versions": (("Till frozen", "Hold the power button for 10 seconds.\n"),),
    },
    {
        "slug": "card-reader-declines",
        "kind": "script",
        "title": "Card reader declines all cards",
        "body": (
            "1. Ask for the exact message on the reader.\n"
            "2. 'Terminal not activated': restart the reader (unplug for 10 s).\n"
            "3. Check the network cable at the back; the green LED must blink.\n"
            "4. Still declined: register an action request (CARD-READER), priority P1 if "
            "the shop cannot take payments at all.\n"
        ),
        "tags": "card reader payment declined pos contactless",
        "codes": ("problem:FS/ONSITE/POS/CARD-READER", "reason:HW/ERROR"),
        "status": "published",
    },
    {
        "slug": "card-terminal-offline",
        "kind": "link",
        "title": "Card terminal offline",
        "body": "See the till restart sequence first.",
        "link": "till-frozen",
        "tags": "card terminal offline pos",
        "codes": ("problem:FS/ONSITE/POS/CARD-READER",),
        "status": "published",
    },
    {
        "slug": "pos-firmware-notes",
        "kind": "url",
        "title": "Kestrel POS firmware release notes",
        "body": "Known issues and fixes per firmware version (4.2.1 fixes the Z-report crash).",
        "url": "https://partners.kestrel-pos.example/firmware/release-notes",
        "tags": "pos firmware kestrel release notes update",
        "codes": ("problem:SD/REMOTE/SOFTWARE/APP-CRASH",),
        "status": "published",
    },
    {
        "slug": "ups-alarm",
        "kind": "script",
        "title": "UPS alarm beeping: what to ask",
        "body": (
            "1. Is the power on in the building? If not, the UPS is working as intended: "
            "tell the caller how long it lasts (display shows minutes).\n"
            "2. Battery symbol shown: run the self-test (hold the test button 3 s).\n"
            "3. Self-test fails: register UPS-BATTERY; the engineer brings a battery pack.\n"
        ),
        "tags": "ups alarm battery beeping power",
        "codes": ("problem:FS/ONSITE/POWER/UPS-BATTERY", "problem:FS/ONSITE/POWER/UPS-ALARM"),
        "status": "published",
    },
    {
        "slug": "coffee-descale",
        "kind": "script",
        "title": "Coffee machine descaling (Falke K-90)",
        "body": (
            "1. Empty the drip tray and the grounds container.\n"
            "2. Dissolve one descaling tablet in 0.5 l of lukewarm water in the tank.\n"
            "3. Menu > Care > Descale, place a 1 l container under the outlet.\n"
            "4. The programme runs about 25 minutes; do not switch off.\n"
            "5. Rinse the tank and fill with fresh water when asked.\n"
        ),
        "tags": "coffee descale falke k-90 lime",
        "codes": ("problem:FS/ONSITE/COFFEE/DESCALE", "reason:SVC/MAINT"),
        "status": "published",
    },
    {
        "slug": "heat-pump-f4",
        "kind": "script",
        "title": "Heat pump shows error F4: first checks",
        "body": (
            "1. Ask for the pressure on the gauge next to the unit (normal 1.2-2.0 bar).\n"
            "2. Below 1 bar: low flow, that is what F4 means. Do not let the caller refill "
            "unless trained.\n"
            "3. Ask whether radiators gurgle (air in the system).\n"
            "4. Register an action request NO-HEAT; in winter priority P2 for offices, P1 for "
            "care homes and surgeries.\n"
        ),
        "tags": "heating heat pump f4 pressure tundra",
        "codes": ("problem:FAC/HOUSE/HVAC/NO-HEAT", "reason:FAC/HEATING"),
        "status": "published",
    },
    {
        "slug": "heating-not-working",
        "kind": "link",
        "title": "Heating not working",
        "body": "Start with the heat pump first checks.",
        "link": "heat-pump-f4",
        "tags": "heating cold radiator",
        "codes": ("reason:FAC/HEATING",),
        "status": "published",
    },
    {
        "slug": "water-leak-safety",
        "kind": "script",
        "title": "Caller reports a water leak (safety first)",
        "body": (
            "1. Is water near electrical equipment or sockets? Tell the caller **not** to "
            "touch anything and to switch off the fuse for that room if it is safe to reach.\n"
            "2. Ask where the main water valve is and whether someone can close it.\n"
            "3. Give the facilities emergency number and register the incident as P1.\n"
        ),
        "tags": "leak water safety emergency facilities",
        "codes": ("reason:FAC/LEAK",),
        "status": "published",
    },
    {
        "slug": "facilities-emergency-line",
        "kind": "phone",
        "title": "Facilities emergency line (water, gas, fire damage)",
        "body": (
            "**+49 30 555 019 90** - day and night.\n\n"
            "Call for water leaks, gas smell (after the fire brigade), broken entrance doors. "
            "Have the site address and the incident number ready."
        ),
        "tags": "emergency facilities phone leak night",
        "codes": ("reason:FAC/LEAK",),
        "status": "published",
    },
    {
        "slug": "emergency-leak",
        "kind": "link",
        "title": "Emergency: water leak",
        "body": "Call the facilities emergency line.",
        "link": "facilities-emergency-line",
        "tags": "leak emergency",
        "codes": ("reason:FAC/LEAK",),
        "status": "published",
    },
    {
        "slug": "hvac-partner-sweden",
        "kind": "phone",
        "title": "Kylteknik Norr AB: HVAC subcontractor hotline (Sweden)",
        "body": (
            "**+46 8 555 012 34**, Mon-Fri 07:00-18:00 CET; ask for the service dispatcher "
            "(Måns Ekström).\n\nQuote the agreement SUB-KYL-01 and the incident number."
        ),
        "tags": "hvac subcontractor sweden kylteknik phone",
        "codes": (
            "problem:FAC/PARTNER/HVAC-SUB/ANNUAL-MAINT",
            "problem:FAC/PARTNER/HVAC-SUB/REFRIGERANT",
        ),
        "status": "published",
    },
    {
        "slug": "elektro-nowak-oncall",
        "kind": "phone",
        "title": "Elektro Nowak: on-call technician (Poland)",
        "body": "**+48 22 555 01 23** - multifunction printers in Poland, agreement SUB-NOW-01.",
        "tags": "subcontractor poland printer phone",
        "codes": ("problem:FS/ONSITE/PRINTER/ERROR-CODE",),
        "status": "published",
    },
    {
        "slug": "night-on-call-noc",
        "kind": "phone",
        "title": "Night and weekend on-call: Network Operations",
        "body": (
            "**+49 30 555 019 00** - 24/7 for site outages and VPN failures.\n\n"
            "Only for P1 network incidents outside office hours."
        ),
        "tags": "noc network on-call night weekend phone",
        "codes": ("problem:NOC/NETWORK/WAN/LINK-DOWN", "reason:NET/OUTAGE"),
        "status": "published",
    },
    {
        "slug": "site-offline",
        "kind": "script",
        "title": "Site offline: first-level checklist",
        "body": (
            "1. Are other sites of the customer affected? Check the NOC status page.\n"
            "2. Ask the caller to look at the router: which LEDs are lit?\n"
            "3. Power-cycle the router (unplug 30 s) - only once.\n"
            "4. Still offline: P1 if tills are affected; routing sends it to the NOC.\n"
        ),
        "tags": "network outage offline router site wan",
        "codes": ("problem:NOC/NETWORK/WAN/LINK-DOWN", "reason:NET/OUTAGE"),
        "status": "published",
        "versions": (("Site offline", "Power-cycle the router, then call the NOC.\n"),),
    },
    {
        "slug": "status-page",
        "kind": "url",
        "title": "Status page: network and portal",
        "body": "Current outages and planned maintenance.",
        "url": "https://status.nordhafen-service.example",
        "tags": "status outage network portal maintenance",
        "codes": ("reason:NET/OUTAGE",),
        "status": "published",
    },
    {
        "slug": "vpn-checklist",
        "kind": "script",
        "title": "VPN cannot connect: checklist",
        "body": (
            "1. Does the internet work at home (open any web page)?\n"
            "2. Error 'certificate invalid': certificates last one year; check the date in "
            "the client.\n"
            "3. Error 'authentication failed': password expired? Send to PASSWORD.\n"
            "4. Otherwise register NOC/NETWORK/WAN/VPN with the exact error text.\n"
        ),
        "tags": "vpn home office certificate remote",
        "codes": ("problem:NOC/NETWORK/WAN/VPN", "reason:NET/VPN"),
        "status": "published",
    },
    {
        "slug": "wlan-meeting-rooms",
        "kind": "script",
        "title": "No wireless signal in some rooms",
        "body": (
            "1. Which rooms? One access point usually covers two or three rooms.\n"
            "2. Is the light on the access point (ceiling) on?\n"
            "3. Off: PoE port or cable; register NO-SIGNAL with the room numbers.\n"
        ),
        "tags": "wlan wireless wifi access point meeting room",
        "codes": ("problem:NOC/NETWORK/WLAN/NO-SIGNAL", "reason:NET/WLAN"),
        "status": "published",
    },
    {
        "slug": "aurora-switch-guide",
        "kind": "url",
        "title": "Aurora NX-220 configuration guide",
        "body": "Port settings, PoE budget and firmware upgrade steps.",
        "url": "https://docs.aurora-networks.example/nx-220/configuration",
        "tags": "switch aurora network poe configuration",
        "codes": ("problem:NOC/NETWORK/WAN/SLOW-LINK",),
        "status": "published",
    },
    {
        "slug": "portal-password-reset",
        "kind": "script",
        "title": "Password reset for the customer portal",
        "body": (
            "1. Confirm the identity: customer number **and** postcode of the site.\n"
            "2. Tell the caller to click 'Forgot password' on the portal log-in page.\n"
            "3. The mail arrives within 5 minutes; check the spam folder.\n"
            "4. No mail: check the e-mail address on file and correct it if needed.\n"
        ),
        "tags": "portal password reset login account",
        "codes": ("problem:SD/REMOTE/ACCOUNT/PASSWORD", "reason:SW/LOGIN"),
        "status": "published",
    },
    {
        "slug": "forgot-password",
        "kind": "link",
        "title": "Forgot password",
        "body": "Use the portal password reset script.",
        "link": "portal-password-reset",
        "tags": "password forgot login",
        "codes": ("reason:SW/LOGIN",),
        "status": "published",
    },
    {
        "slug": "portal-track-repair",
        "kind": "url",
        "title": "Customer portal: track your repair",
        "body": "Customers see the status of depot repairs and courier tracking here.",
        "url": PORTAL + "/repairs",
        "tags": "portal repair status tracking depot",
        "codes": ("reason:INFO/STATUS",),
        "status": "published",
    },
    {
        "slug": "notebook-no-boot",
        "kind": "script",
        "title": "Notebook does not start: triage before depot repair",
        "body": (
            "1. Is the charger plugged in and the charging LED on?\n"
            "2. Hold the power button 15 seconds (drains residual power), then try again.\n"
            "3. Orange blink codes: 2 = battery, 3 = memory, 4 = mainboard.\n"
            "4. No fix: register NO-BOOT; the depot books a courier and, if covered, a loan "
            "device.\n"
        ),
        "tags": "notebook laptop boot start luxor depot",
        "codes": ("problem:DR/WORKSHOP/NOTEBOOK/NO-BOOT", "reason:HW/NO-POWER"),
        "status": "published",
    },
    {
        "slug": "laptop-wont-start",
        "kind": "link",
        "title": "Laptop won't start",
        "body": "See the notebook triage script.",
        "link": "notebook-no-boot",
        "tags": "laptop start",
        "codes": ("problem:DR/WORKSHOP/NOTEBOOK/NO-BOOT",),
        "status": "published",
    },
    {
        "slug": "courier-pickup",
        "kind": "phone",
        "title": "Courier pick-up for depot returns",
        "body": "**+49 40 555 017 77**, Mon-Fri 08:00-16:00. Pick-up next business day if "
        "booked before 14:00.",
        "tags": "courier pickup depot return shipping phone",
        "codes": ("problem:DR/LOGISTICS/RMA/RETURN",),
        "status": "published",
    },
    {
        "slug": "accounts-receivable",
        "kind": "phone",
        "title": "Accounts receivable (billing questions, blocked accounts)",
        "body": "**+49 30 555 019 40**, Mon-Thu 09:00-15:00, Fri 09:00-12:00.",
        "tags": "billing invoice accounts blocked payment phone",
        "codes": ("reason:ADM/INVOICE",),
        "status": "published",
    },
    {
        "slug": "warranty-terms",
        "kind": "url",
        "title": "Warranty terms and conditions",
        "body": "What the manufacturer's warranty and our service contracts cover.",
        "url": PORTAL + "/legal/warranty",
        "tags": "warranty contract terms cover",
        "codes": ("reason:INFO/WARRANTY", "reason:ADM/CONTRACT"),
        "status": "published",
    },
    {
        "slug": "access-badge-rejected",
        "kind": "script",
        "title": "Access badge rejected at the door",
        "body": (
            "1. One badge or all badges? One badge: usually expired - the site's security "
            "contact re-enables it.\n"
            "2. All badges: is the reader light red or off? Off means no power.\n"
            "3. Register CARD-REJECTED; if the main entrance is affected, priority P2.\n"
        ),
        "tags": "access badge door reader zenit",
        "codes": ("problem:FAC/HOUSE/ACCESS/CARD-REJECTED", "reason:FAC/ACCESS"),
        "status": "published",
    },
    {
        "slug": "deescalation",
        "kind": "script",
        "title": "Angry caller: de-escalation",
        "body": (
            "1. Let the caller finish; do not interrupt.\n"
            '2. Acknowledge: "I understand this stops your business."\n'
            "3. Summarise the problem in one sentence and say what happens next, with a time.\n"
            "4. Offer a call-back by the supervisor if the caller asks for it.\n"
        ),
        "tags": "complaint angry caller script",
        "codes": ("reason:COMPL/DELAY", "reason:COMPL/STAFF"),
        "status": "published",
    },
    {
        "slug": "old-fax-support",
        "kind": "phone",
        "title": "Fax support line (discontinued)",
        "body": "The fax support line was switched off; use e-mail.",
        "tags": "fax legacy",
        "codes": (),
        "status": "retired",
    },
    {
        "slug": "sms-visit-notice",
        "kind": "script",
        "title": "SMS notice before the engineer's visit (draft)",
        "body": "Planned: customers receive an SMS 30 minutes before the visit.",
        "tags": "sms notification visit",
        "codes": (),
        "status": "draft",
    },
)
