"""The city tree as people pick from it (district → street → community) and as office scopes limit it."""
from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from .models import Unit, Volunteer


@dataclass(frozen=True)
class UnitChoices:
    """What the dependent selects show: every district, the chosen district's streets, and the communities."""

    districts: list[Unit]
    streets: list[Unit]
    communities: list[tuple[str, list[Unit]]]  # (group label "district · street", communities)
    district_id: int | None
    street_id: int | None


def unit_choices(*, session: Session, district_id: int | None = None, street_id: int | None = None) -> UnitChoices:
    """Options for the pickers; without a choice every community is listed, grouped, so no script is needed."""
    units = list(session.exec(select(Unit).order_by(Unit.level, Unit.code)))
    by_id = {unit.id: unit for unit in units}
    districts = [u for u in units if u.level == "district"]
    if district_id not in {u.id for u in districts}:
        district_id = None
    streets = [u for u in units if u.level == "street" and (district_id is None or u.parent_id == district_id)]
    if street_id not in {u.id for u in streets}:
        street_id = None
    groups: dict[int, list[Unit]] = {}
    for unit in units:
        if unit.level != "community":
            continue
        if street_id is not None and unit.parent_id != street_id:
            continue
        parent = by_id.get(unit.parent_id)
        if district_id is not None and (parent is None or parent.parent_id != district_id):
            continue
        groups.setdefault(unit.parent_id or 0, []).append(unit)
    communities = []
    for parent_id, members in groups.items():
        street = by_id.get(parent_id)
        district = by_id.get(street.parent_id) if street else None
        label = " · ".join(u.name for u in (district, street) if u is not None)
        communities.append((label, members))
    communities.sort(key=lambda item: item[0])
    return UnitChoices(districts, streets, communities, district_id, street_id)


def deepest_choice(*, session: Session, district_id: int | None, street_id: int | None,
                   community_id: int | None) -> int | None:
    """The unit a picker's choices name: the community if one is chosen, else the street, else the district.

    Each must exist at its level and lie under the one chosen above it (a community of another street named
    alongside a street counts as no choice of community).
    """
    district = session.get(Unit, district_id) if district_id else None
    district = district if district is not None and district.level == "district" else None
    street = session.get(Unit, street_id) if street_id else None
    if street is None or street.level != "street" or (district is not None and street.parent_id != district.id):
        street = None
    chosen = community(session=session, unit_id=community_id)
    if chosen is not None and street is not None and chosen.parent_id != street.id:
        chosen = None
    if chosen is not None and district is not None and not chosen.path.startswith(district.path):
        chosen = None
    unit = chosen or street or district
    return unit.id if unit is not None else None


def community(*, session: Session, unit_id: int | None) -> Unit | None:
    """The community with this id, or None (a street or district is not a home unit)."""
    if unit_id is None:
        return None
    unit = session.get(Unit, unit_id)
    return unit if unit is not None and unit.level == "community" else None


def unit_label(*, session: Session, unit_id: int | None) -> str:
    """"District · street · community" for one unit, read from its path."""
    if unit_id is None:
        return ""
    unit = session.get(Unit, unit_id)
    if unit is None:
        return ""
    ids = [int(part) for part in unit.path.strip("/").split("/") if part.isdigit()]
    names = {u.id: u.name for u in session.exec(select(Unit).where(Unit.id.in_(ids)))} if ids else {}
    return " · ".join(names[i] for i in ids if i in names) or unit.name


def office_scope(*, session: Session, office: Volunteer) -> str | None:
    """The unit path an office account is limited to, or None for the whole city."""
    if office.office_unit_id is None:
        return None
    unit = session.get(Unit, office.office_unit_id)
    # A limit that points nowhere must not widen to the whole city.
    return unit.path if unit is not None else "/-/"


def units_in_scope(scope: str | None):
    """A sub-select of unit ids under scope (every unit when scope is None)."""
    statement = select(Unit.id)
    if scope is not None:
        statement = statement.where(Unit.path.startswith(scope, autoescape=True))
    return statement


def unit_in_scope(*, session: Session, unit_id: int | None, scope: str | None) -> bool:
    """Whether a unit lies inside an office scope."""
    if scope is None:
        return True
    if unit_id is None:
        return False
    unit = session.get(Unit, unit_id)
    return unit is not None and unit.path.startswith(scope)

