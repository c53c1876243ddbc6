"""The demo city at real scale (`volunteer-app seed-demo --scale small|city`): deterministic for a --seed and
clock, fictitious throughout (every phone in 199 0xxx xxxx), with planted cases of padding for the signals.

plan.py holds the scales, the demo logins and the planted phones and devices; city.py, people.py and
activities.py plan the parts; database.py streams the rows in one transaction; demo.py is the command.
"""
from .database import Seeder, seed_database
from .demo import seed_demo_command
from .plan import (
    DEMO_PASSWORD,
    DISTRICT_OFFICE_PHONE,
    LEADER_PHONE,
    OFFICE_PHONE,
    PLANTED_DEVICE_HASHES,
    PLANTED_OVERLAP_PHONES,
    PLANTED_ROSTER_LEADER_PHONES,
    SCALES,
    VOLUNTEER_PHONE,
    Scale,
)

__all__ = ["DEMO_PASSWORD", "DISTRICT_OFFICE_PHONE", "LEADER_PHONE", "OFFICE_PHONE", "PLANTED_DEVICE_HASHES",
           "PLANTED_OVERLAP_PHONES", "PLANTED_ROSTER_LEADER_PHONES", "SCALES", "VOLUNTEER_PHONE", "Scale", "Seeder",
           "seed_database", "seed_demo_command"]
