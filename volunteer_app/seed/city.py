"""The city tree (districts, streets, communities) and its teams, as planned."""
from __future__ import annotations



from .content import (
    COMMUNITY_SUFFIXES,
    COMMUNITY_TEAM_KINDS,
    COMMUNITY_WORDS,
    DISTRICTS,
    STREET_TEAM_KINDS,
    STREET_WORDS,
)
from .plan import TeamPlan


class CityPlan:
    """Seeder's part that plans units and teams."""

    def plan_units(self) -> None:
        """Districts, streets and communities with codes (D01-S03-C07) and materialised paths."""
        rng, scale = self.rng, self.scale
        self.units: list[tuple] = []  # (id, parent_id, level, name, code, path)
        self.streets: list[tuple[int, int, str]] = []  # (unit id, district index, name)
        self.communities: list[tuple[int, int, int, str]] = []  # (unit id, street id, district index, name)
        street_names = rng.sample(STREET_WORDS, len(STREET_WORDS))
        community_names = [a + b for a in COMMUNITY_WORDS for b in COMMUNITY_SUFFIXES]
        rng.shuffle(community_names)
        next_id = 1
        for d in range(scale.districts):
            district_id = next_id
            next_id += 1
            self.units.append((district_id, None, "district", DISTRICTS[d], f"D{d + 1:02d}", f"/{district_id}/"))
            for s in range(rng.randint(*scale.streets_per_district)):
                street_id = next_id
                next_id += 1
                name = street_names.pop() + "街道"
                self.units.append((street_id, district_id, "street", name, f"D{d + 1:02d}-S{s + 1:02d}",
                                   f"/{district_id}/{street_id}/"))
                self.streets.append((street_id, d, name))
                for c in range(rng.randint(*scale.communities_per_street)):
                    community_id = next_id
                    next_id += 1
                    cname = community_names.pop() + "社区"
                    self.units.append((community_id, street_id, "community", cname,
                                       f"D{d + 1:02d}-S{s + 1:02d}-C{c + 1:02d}",
                                       f"/{district_id}/{street_id}/{community_id}/"))
                    self.communities.append((community_id, street_id, d, cname))
        self.unit_names = {u[0]: u[3] for u in self.units}
        self.street_of_community = {cid: sid for cid, sid, _d, _n in self.communities}
        self.report.update(districts=scale.districts, streets=len(self.streets), communities=len(self.communities))

    # -- teams and people -----------------------------------------------------------------

    def plan_teams(self) -> None:
        """660 teams (most at community level), their statuses, sizes, id blocks and leaders."""
        rng, scale = self.rng, self.scale
        communities_of_street: dict[int, list[int]] = {}
        for cid, sid, _d, _n in self.communities:
            communities_of_street.setdefault(sid, []).append(cid)
        teams: list[TeamPlan] = []
        # The demo community has two teams, both led by the demo leader.
        first = self.communities[0]
        community_slots = [first, first] + self.communities[1:]
        n_community = scale.teams - scale.street_teams
        while len(community_slots) < n_community:
            community_slots.append(rng.choice(self.communities[1:]))
        used_names: set[tuple[int, str]] = set()
        for cid, sid, d, cname in community_slots[:n_community]:
            kind = "" if (cid, cname + "志愿服务队") not in used_names else rng.choice(COMMUNITY_TEAM_KINDS)
            name = f"{cname}{kind}志愿服务队"
            while (cid, name) in used_names:
                kind = rng.choice(COMMUNITY_TEAM_KINDS)
                name = f"{cname}{kind}志愿服务队"
            used_names.add((cid, name))
            teams.append(TeamPlan(len(teams) + 1, cid, d, [cid], name, kind))
        street_order = rng.sample(self.streets, len(self.streets))
        for i in range(scale.street_teams):
            sid, d, sname = street_order[i % len(street_order)]
            kind = STREET_TEAM_KINDS[i // len(street_order) % len(STREET_TEAM_KINDS)]
            teams.append(TeamPlan(len(teams) + 1, sid, d, communities_of_street[sid], f"{sname}{kind}志愿服务队", kind))
        self.teams = teams
        self.demo_teams = teams[:2]
        others = teams[2:]
        special = rng.sample(others, scale.pending_teams + scale.suspended_teams + scale.roster_teams)
        for team in special[: scale.pending_teams]:
            team.status = "pending"
        for team in special[scale.pending_teams: scale.pending_teams + scale.suspended_teams]:
            team.status = "suspended"
            team.suspended_at = self.now - rng.randint(30, 120) * 86400
        self.roster_teams = special[scale.pending_teams + scale.suspended_teams:]
        for team in teams:
            if team.status == "pending":
                team.created = self.now - rng.randint(3, 20) * 86400
            else:
                team.created = self.now - rng.randint(430, 1800) * 86400
            team.manual_share = 0.30 if rng.random() < 0.12 else 0.07

        # Sizes: log-normal around the mean, street teams larger; pending teams are only their applicant.
        people = scale.volunteers  # plus two office accounts
        working = [t for t in teams if t.status != "pending"]
        people -= len(teams) - len(working)
        raw = [rng.lognormvariate(0, 0.45) * (1.4 if t.unit_id not in t.community_ids else 1.0) for t in working]
        total_raw = sum(raw)
        minimum = 20 if scale.volunteers < 1000 else 40
        sizes = [max(minimum, int(r / total_raw * people)) for r in raw]
        excess = sum(sizes) - people
        step = 0
        while excess:
            i = step % len(sizes)
            if excess > 0 and sizes[i] > minimum:
                sizes[i] -= 1
                excess -= 1
            elif excess < 0:
                sizes[i] += 1
                excess += 1
            step += 1
        for team, size in zip(working, sizes):
            team.size = size
        for team in teams:
            if team.status == "pending":
                team.size = 1
        next_id = 3
        for team in teams:
            team.first_member = next_id
            next_id += team.size
            n_leaders = 1 if team.size < 60 or team.status == "pending" else 1 + (rng.random() < 0.6) + (team.size > 250)
            team.leaders = list(range(team.first_member, team.first_member + n_leaders))
        self.volunteer_count = next_id - 1
        # The demo leader leads both demo teams; the demo volunteer is a keen member of the first.
        self.demo_leader = self.demo_teams[0].first_member
        self.demo_teams[1].leaders.insert(0, self.demo_leader)
        self.demo_volunteer = self.demo_leader + len(self.demo_teams[0].leaders) + 3
        self.report["teams"] = len(teams)
