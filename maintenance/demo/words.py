"""The demo's vocabulary: names, places, rotations and free-text templates.

Constant data only (no randomness, no database): the generators in
:mod:`maintenance.demo.generate` and :mod:`maintenance.demo.assignments` draw from these.
Changing any of them changes the seeded rows (tests/integration/test_demo_fingerprint.py
says so).
"""

from __future__ import annotations

from datetime import date


def wordlist(text: str) -> tuple[str, ...]:
    """The whitespace-separated words of ``text``, in order."""
    return tuple(text.split())


# fmt: off

FIRST_NAMES = wordlist("""
Aaliyah Aarav Abigail Adaeze Adrian Ahmed Aiko Aisha Alejandro Alexander Alicia Amara Amelia
Amir Ana Andrea Andrew Anika Anthony Arjun Ava Benjamin Bianca Brandon Camila Carlos Caroline
Charlotte Chen Chiara Chloe Christopher Chukwuemeka Daniel David Deepa Diana Diego Dmitri
Eleanor Elena Elijah Elizabeth Emeka Emily Emma Ethan Fatima Felipe Fernando Gabriel Grace
Hana Hannah Hassan Henry Hiroshi Ibrahim Imani Isabella Isaac Jacob Jamal James Javier
Jennifer Jessica Jin Joao John Jonathan Jose Joseph Joshua Julia Kai Kavya Keisha Kenji Kevin
Khadija Kofi Laila Lakshmi Laura Leah Leila Liam Lucas Lucia Luis Maya Mateo Matthew Mei Mia
Michael Min-jun Mohammed Nadia Natalia Nathan Nia Nikhil Noah Nora Olivia Omar Oluwaseun Pablo
Patricia Priya Rachel Rafael Rahul Rebecca Ricardo Rohan Rosa Ryan Samantha Samuel Sanjay Sara
Sebastian Seo-yeon Sofia Sophia Soo-ah Stephanie Tamar Thomas Tomas Valentina Victoria Wei
William Xin Yara Yasmin Yusuf Zainab Zara Zoe
""")

LAST_NAMES = wordlist("""
Abara Acosta Adeyemi Agarwal Aguilar Ahmed Alvarez Anderson Bailey Banerjee Barnes Bauer Bello
Bennett Bhatt Brooks Brown Bui Campbell Carter Castillo Chang Chaudhry Chen Cho Choi Clark
Collins Cruz Das Davies Davis Delgado Diaz Dubois Edwards Evans Fernandez Fischer Flores Foster
Garcia Ghosh Gomez Gonzalez Gray Green Gupta Gutierrez Hall Haddad Hamid Harris Hashemi
Hernandez Hill Hoang Hughes Ibrahim Iyer Jackson James Jimenez Johnson Jones Kapoor Katz Kaur
Khan Kim King Kowalski Kumar Lee Lewis Li Lin Liu Lopez Martin Martinez Mehta Mendoza Miller
Mitchell Moore Morales Morgan Murphy Nakamura Nguyen Novak Nwosu Obi Okafor Okonkwo Oliveira
Ortiz Osei Park Patel Perez Peterson Phillips Pham Ramirez Ramos Reddy Reyes Richardson Rivera
Roberts Robinson Rodriguez Rossi Russo Saito Sanchez Santos Schmidt Scott Shah Sharma Silva
Singh Smith Sokolov Suzuki Tanaka Taylor Thomas Thompson Torres Tran Turner Vasquez Wagner
Walker Wang Washington Watson White Williams Wilson Wong Wright Wu Xu Yamamoto Yang Young Zhang
Zhao Zhou
""")

RESIDENT_PROGRAMS = (
    "Internal Medicine", "Internal Medicine", "Internal Medicine", "Family Medicine",
    "Pediatrics", "Internal Medicine-Pediatrics",
)
FACULTY_SPECIALTIES = (
    *RESIDENT_PROGRAMS, "Emergency Medicine", "Cardiology", "Pulmonary and Critical Care",
    "Gastroenterology", "Nephrology", "Infectious Disease", "Hematology/Oncology",
    "Endocrinology", "Geriatrics", "Hospital Medicine", "Neurology",
)
RESIDENT_DOMAINS = ("residents.stmarys-med.org", "uhealth.edu", "residents.uhealth.edu")
FACULTY_DOMAINS = ("stmarys-med.org", "stmarys-med.org", "uhealth.edu")
LOCATIONS = (
    "Main 5 West", "Main 6 East", "Main 7 North", "MICU 3rd floor", "CCU", "ED Pod B",
    "Clinic Bldg A, Suite 210", "Clinic Bldg C, Suite 104", "VA Medical Center",
    "Cancer Center 2", "Children's Pavilion 4", "Outpatient Surgery Center", "Dialysis Unit",
    "Sim Lab", "Riverside Community Clinic", "Telehealth hub",
)
HOLIDAYS = {
    date(2024, 7, 4): "Independence Day", date(2024, 9, 2): "Labor Day",
    date(2024, 11, 28): "Thanksgiving", date(2024, 11, 29): "Day after Thanksgiving",
    date(2024, 12, 24): "Christmas Eve", date(2024, 12, 25): "Christmas Day",
    date(2025, 1, 1): "New Year's Day", date(2025, 1, 20): "Martin Luther King Jr. Day",
    date(2025, 5, 26): "Memorial Day",
}

#: code, name, category, index into LOCATIONS, min PGY, max residents, supervised,
#: weight when the solver picks a resident's rotation for a period (0: faculty only)
ROTATION_SPEC = (
    ("IM-WARD-A", "Inpatient Medicine Wards A", "inpatient", 0, 1, 8, True, 9),
    ("IM-WARD-B", "Inpatient Medicine Wards B", "inpatient", 1, 1, 8, True, 9),
    ("IM-WARD-C", "Inpatient Medicine Wards C (teaching)", "inpatient", 2, 1, 6, True, 6),
    ("NIGHT-FLOAT", "Night Float", "inpatient", 0, 2, 4, True, 5),
    ("MICU", "Medical Intensive Care Unit", "critical_care", 3, 1, 6, True, 6),
    ("CCU", "Cardiac Care Unit", "critical_care", 4, 2, 4, True, 4),
    ("ED", "Emergency Department", "emergency", 5, 1, 6, True, 5),
    ("CLINIC-CONT", "Continuity Clinic", "ambulatory", 6, 1, 20, True, 7),
    ("CLINIC-GIM", "General Internal Medicine Clinic", "ambulatory", 7, 1, 10, True, 4),
    ("VA-WARDS", "VA Inpatient Medicine", "inpatient", 8, 1, 6, True, 4),
    ("VA-CLINIC", "VA Primary Care", "ambulatory", 8, 1, 6, True, 2),
    ("ONC", "Hematology/Oncology Consults", "consult", 9, 2, 3, True, 2),
    ("PEDS-WARD", "Pediatric Wards", "inpatient", 10, 1, 4, True, 2),
    ("GERI", "Geriatrics and Palliative Care", "consult", 0, 1, 3, True, 2),
    ("CARDS-CONS", "Cardiology Consults", "consult", 4, 2, 3, True, 3),
    ("GI-CONS", "Gastroenterology Consults", "consult", 1, 2, 2, True, 2),
    ("RENAL-CONS", "Nephrology Consults", "consult", 12, 2, 2, True, 2),
    ("ID-CONS", "Infectious Disease Consults", "consult", 2, 2, 2, True, 2),
    ("ENDO", "Endocrinology Elective", "elective", 7, 2, 2, False, 1),
    ("NEURO", "Neurology Elective", "elective", 1, 2, 2, False, 1),
    ("RESEARCH", "Research Block", "elective", 13, 2, 4, False, 2),
    ("COMMUNITY", "Community Health Rotation", "ambulatory", 14, 1, 4, True, 2),
    ("TELEHEALTH", "Telehealth and Population Health", "ambulatory", 15, 2, 3, False, 1),
    ("SIM", "Simulation and Procedures", "education", 13, 1, 6, True, 1),
    ("ATT-WARD", "Attending: Inpatient Wards", "faculty", 0, 1, 10, False, 0),
    ("ATT-ICU", "Attending: ICU", "faculty", 3, 1, 4, False, 0),
    ("ATT-CLINIC", "Attending: Clinic Precepting", "faculty", 6, 1, 10, False, 0),
    ("ATT-CONSULT", "Attending: Consult Service", "faculty", 4, 1, 6, False, 0),
    ("ATT-NIGHT", "Attending: Nocturnist", "faculty", 0, 1, 3, False, 0),
    ("ADMIN", "Administrative / Program Leadership", "faculty", 6, 1, 10, False, 0),
)
ROTATION_NAMES = tuple(spec[1] for spec in ROTATION_SPEC)
FACULTY_WEIGHTS = (4, 2, 4, 3, 1, 2)  # ATT-WARD ... ADMIN
CLINIC_ID = 1 + [spec[0] for spec in ROTATION_SPEC].index("CLINIC-CONT")

TOPICS = (
    "Sepsis bundles", "DKA management", "ACLS refresher", "Heart failure GDMT", "AKI workup",
    "Anticoagulation reversal", "Hyponatremia", "Pain management", "Delirium prevention",
    "Chest X-ray reading", "Antibiotic stewardship", "Goals-of-care conversations",
    "COPD exacerbation", "Acid-base", "Transfusion thresholds", "Syncope", "GI bleed triage",
    "Stroke codes", "Quality improvement M&M", "Wellness and burnout",
)
PROCEDURES = (
    "paracenteses", "thoracenteses", "central lines", "arterial lines", "lumbar punctures",
    "ultrasound-guided IVs", "intubations", "joint aspirations", "skin biopsies",
)
CITIES = (
    "Boston", "Chicago", "Denver", "Seattle", "Atlanta", "Houston", "Philadelphia",
    "Minneapolis", "San Diego", "Nashville", "Cleveland", "Baltimore", "Portland", "Phoenix",
)
LANGUAGES = (
    "Spanish", "Mandarin", "Hindi", "Arabic", "French", "Korean", "Yoruba", "Portuguese",
    "Vietnamese", "Russian", "Tagalog", "Haitian Creole",
)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Free-text templates: {first} {last} {rot} {loc} {topic} {proc} {city} {d1} {d2} {t1} {t2}
# {pager} {room} {n1}-{n4} {h1} {h2} are filled by generate.Pools.
ASSIGNMENT_NOTES = (
    "Covering for Dr. {last} ({rot}) on {d1:%b %d}; pager {pager}.",
    "Clinic template reduced to {n1} patients, first slot {t1}; precepting ratio 1:{n2}.",
    "Post-call from {d1:%m/%d/%Y}: must leave by {t1} (24+4 rule).",
    "Sign-out with Dr. {last} at {t1} in {loc}.",
    "Swap request #{n3} pending chief approval (submitted {d1:%b %d} {t1}).",
    "Noon conference '{topic}' at {t2}, room {room}.",
    "Duty hours logged {h1:.1f} h this week, rolling 4-week average {h2:.1f} h.",
    "Census {n1} at handoff, {n2} overnight admissions, {n4} pending discharges.",
    "Procedure log: {n2} {proc} supervised by Dr. {last}.",
    "Vacation request {d1:%m/%d}-{d2:%m/%d} denied: coverage {n2}/{n1} below minimum.",
    "Jeopardy call activated {d1:%a %b %d} {t1} for {first} {last}.",
    "Late start {t2}: {topic} board review session.",
    "Continuity panel {n4} patients; {n2} overdue follow-ups flagged on {d1:%m/%d}.",
    "Moved from {rot} per program director, ticket SCH-{n3}.",
    "Half-day for interview in {city} on {d2:%b %d}; {first} covering.",
    "Sick call {d1:%m/%d/%y} {t1}; backup {first} {last} notified at {t2}.",
)
SWAP_REASONS = (
    "Family wedding in {city} on {d1:%B %d}.",
    "Conference travel: presenting poster #{n3} in {city} {d1:%m/%d}-{d2:%m/%d}.",
    "Fellowship interview in {city} on {d1:%b %d}, flight leaves {t1}.",
    "Childcare fell through for {d1:%a %m/%d}; partner on call until {t2}.",
    "Board exam scheduled {d1:%B %d} at {t1}, need the day before off.",
    "Medical appointment {d1:%m/%d} {t1}, rescheduled twice already.",
    "Trading to balance nights: {n2} nights in {n1} days otherwise.",
    "Religious holiday observance {d1:%b %d}.",
    "Moving apartments on {d1:%m/%d}; lease ends {d2:%m/%d}.",
    "Duty hours at {h1:.1f} h for week of {d1:%b %d}; need relief to stay under 80.",
    "Sick family member in {city}, flying out {d1:%a %b %d}.",
    "Jury duty summons for {d1:%B %d}, case no. {n3}.",
)
SWAP_RESPONSES = (
    "Approved, coverage confirmed with {first} {last}.",
    "Approved by chief resident; update AMION by {d1:%m/%d}.",
    "Denied: would leave {rot} below minimum staffing ({n2}/{n1}).",
    "Denied: target resident over duty-hour limit ({h1:.1f} h).",
    "Cancelled by requester on {d1:%b %d}.",
    "Expired without response after {n2} days.",
    "Approved with conditions: {first} takes the {t1} sign-out.",
)
PERSON_NOTES = (
    "Board exam scheduled {d1:%B %d, %Y}.",
    "Prefers {rot} electives; no more than {n2} nights in a row per wellness plan.",
    "Visa renewal due {d1:%m/%d/%Y}; HR ticket {n3}.",
    "Parental leave {d1:%b %d}-{d2:%b %d}, returns to {rot}.",
    "Research day Thursdays PM; mentor Dr. {last}.",
    "Moonlighting approved up to {n2} h/month.",
    "BLS/ACLS renewal due {d1:%m/%Y}.",
    "Accommodation on file ({n3}): no 28-hour calls.",
    "Clinic {d1:%A}s from {t1}, {loc}.",
)
SCHEDULE_NOTES = (
    "Solver rerun after {n2} late leave requests; {n1} soft constraints relaxed.",
    "Published after review with chiefs on {d1:%b %d}; {n2} manual overrides.",
    "Holiday coverage rebalanced: {first} {last} moved to {rot}.",
    "Night float capped at {n2} residents; {loc} census forecast {n4}.",
)

# Swap outcomes, by frequency (an approved swap marks its assignment 'swapped').
SWAP_STATUSES = ("approved",) * 5 + ("pending", "rejected", "rejected", "cancelled", "expired")

# fmt: on
