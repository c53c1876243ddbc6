"""Volunteers and memberships: planned, then streamed as rows."""
from __future__ import annotations



from ..accounts.numbers import city_code, numberer
from .content import SUSPEND_REASONS, TEAM_DESCRIPTIONS, _chinese_name
from .plan import (
    DEMO_PASSWORD_HASH,
    DISTRICT_OFFICE_PHONE,
    LEADER_PHONE,
    OFFICE_PHONE,
    PHONE_BASE,
    PHONE_SPACE,
    PHONE_STEP,
    PLANTED_OVERLAP_PHONES,
    PLANTED_ROSTER_LEADER_PHONES,
    TeamPlan,
    VOLUNTEER_PHONE,
)


class PeoplePlan:
    """Seeder's part that plans memberships and writes volunteers, teams and memberships."""

    def plan_memberships(self) -> None:
        """Primary memberships are the team blocks; ~8% of people also join a nearby team."""
        rng = self.rng
        active_by_district: dict[int, list[TeamPlan]] = {}
        for team in self.teams:
            if team.status != "pending":
                active_by_district.setdefault(team.district, []).append(team)
        self.team_of: list[TeamPlan | None] = [None] * (self.volunteer_count + 1)
        for team in self.teams:
            for vid in range(team.first_member, team.first_member + team.size):
                self.team_of[vid] = team
        self.second: list[tuple[int, TeamPlan, str]] = []  # (volunteer, team, status)
        for vid in range(3, self.volunteer_count + 1):
            team = self.team_of[vid]
            if team.status == "pending" or rng.random() >= 0.08:
                continue
            other = rng.choice(active_by_district[team.district])
            if other is not team:
                self.second.append((vid, other, "left" if rng.random() < 0.05 else "active"))
        # Planted overlaps: people of one team who also belong to a second team of the same district.
        self.overlap_people: list[tuple[int, TeamPlan, TeamPlan]] = []
        candidates = [t for t in self.teams[2:] if t.status == "active" and t not in self.roster_teams]
        for i in range(self.scale.planted):
            home = candidates[(i * 7) % len(candidates)]
            nearby = [t for t in active_by_district[home.district] if t is not home and t.status == "active"
                      and t not in self.roster_teams]
            other = nearby[0] if nearby else next(t for t in candidates + self.demo_teams if t is not home)
            vid = home.first_member + home.size - 1 - i
            self.second = [s for s in self.second if s[0] != vid]
            self.second.append((vid, other, "active"))
            self.overlap_people.append((vid, home, other))
        # A few requests waiting for a leader's approval (three for the demo leader's team).
        self.pending: list[tuple[int, TeamPlan]] = []
        taken = {(vid, team.id) for vid, team, _s in self.second}
        for i in range(self.scale.pending_requests):
            team = self.demo_teams[0] if i < 3 else rng.choice(self.teams[2:])
            vid = rng.randint(3, self.volunteer_count)
            if self.team_of[vid] is team or (vid, team.id) in taken or vid == self.demo_leader:
                continue
            taken.add((vid, team.id))
            self.pending.append((vid, team))
        # Activity pools with a keenness weight: a few stalwarts, many occasional, some who rarely come.
        for team in self.teams:
            team.pool = list(range(team.first_member, team.first_member + team.size))
        for vid, team, status in self.second:
            if status == "active":
                team.pool.append(vid)
        self.demo_teams[1].pool.append(self.demo_leader)
        for team in self.teams:
            leaders = set(team.leaders)
            weights = []
            for vid in team.pool:
                r = rng.random()
                w = 6.0 if r < 0.2 else 1.5 if r < 0.55 else 0.3
                if vid in leaders:
                    w = 8.0
                weights.append(w)
            if team is self.demo_teams[0]:
                weights[team.pool.index(self.demo_volunteer)] = 10.0
            team.weights = weights
            total = 0.0
            cum = []
            for w in weights:
                total += w
                cum.append(total)
            team.cum = cum

    def _volunteer_rows(self):
        """The two office accounts, then every team's block of people, with names and phones."""
        rng, ts = self.rng, self.ts
        hash_ = DEMO_PASSWORD_HASH
        district1 = self.units[0][0]
        old = self.now - 420 * 86400
        number = numberer(city_code())
        yield (1, "周敏", OFFICE_PHONE, OFFICE_PHONE[-4:], hash_, number(1), "office", None, None, True, 1,
               ts(old - 900 * 86400), ts(old - 900 * 86400))
        yield (2, "陈静", DISTRICT_OFFICE_PHONE, DISTRICT_OFFICE_PHONE[-4:], hash_, number(2), "office", None, district1,
               True, 1,
               ts(old - 800 * 86400), ts(old - 800 * 86400))
        reserved = {self.demo_leader: ("李建国", LEADER_PHONE), self.demo_volunteer: ("王小红", VOLUNTEER_PHONE)}
        for i, (vid, _home, _other) in enumerate(self.overlap_people):
            reserved[vid] = (None, PLANTED_OVERLAP_PHONES[i])
        for i, team in enumerate(self.roster_teams):
            reserved[team.leaders[0]] = (None, PLANTED_ROSTER_LEADER_PHONES[i])
        self.names: dict[int, tuple[str, str]] = {}
        self.created = [0] * (self.volunteer_count + 1)
        leaders = {vid for team in self.teams for vid in team.leaders}
        index = 0
        for team in self.teams:
            for vid in range(team.first_member, team.first_member + team.size):
                name = _chinese_name(rng)
                if vid in reserved:
                    name = reserved[vid][0] or name
                    phone = reserved[vid][1]
                else:
                    phone = "1990" + f"{PHONE_BASE + (index * PHONE_STEP + self.seed) % PHONE_SPACE:07d}"
                    index += 1
                if team.status == "pending":
                    created = team.created - rng.randint(0, 3) * 86400
                else:
                    created = old - int(rng.random() * 1400 * 86400)
                created += rng.randint(8 * 3600, 20 * 3600)
                self.created[vid] = created
                if vid in leaders:
                    self.names[vid] = (name, phone)
                yield (vid, name, phone, phone[-4:], hash_, number(vid), "volunteer", rng.choice(team.community_ids),
                       None, True, 1, ts(created), ts(created))
        self.report["volunteers"] = self.volunteer_count - 2

    def _team_rows(self):
        """Team rows; the first leader is the contact and the applicant."""
        rng, ts = self.rng, self.ts
        for team in self.teams:
            leader_name, leader_phone = self.names[team.leaders[0]]
            decided = team.created + rng.randint(1, 10) * 86400 if team.status != "pending" else None
            reason = rng.choice(SUSPEND_REASONS) if team.status == "suspended" else None
            decided = team.suspended_at if team.status == "suspended" else decided
            yield (team.id, team.name, team.unit_id, TEAM_DESCRIPTIONS.get(team.kind, TEAM_DESCRIPTIONS[""]),
                   leader_name, leader_phone, team.status, reason, team.leaders[0],
                   1 if decided else None, ts(decided) if decided else None,
                   "auto" if rng.random() < 0.15 else "approve", f"{rng.getrandbits(64):016x}", ts(team.created))

    def _membership_rows(self):
        """Primary memberships (team blocks), second teams, pending requests, the demo leader's second team."""
        rng, ts, created = self.rng, self.ts, self.created
        n = 0
        for team in self.teams:
            leaders = set(team.leaders)
            for vid in range(team.first_member, team.first_member + team.size):
                joined = max(team.created, created[vid]) + rng.randint(1, 20) * 3600
                n += 1
                yield (n, team.id, vid, "leader" if vid in leaders else "member", "active", ts(joined), ts(joined),
                       ts(joined))
        for vid, team, status in self.second:
            joined = max(team.created, created[vid]) + rng.randint(1, 15) * 86400
            updated = self.now - rng.randint(5, 60) * 86400 if status == "left" else joined
            n += 1
            role = "leader" if vid in team.leaders else "member"
            yield (n, team.id, vid, role, status, ts(joined), ts(joined), ts(updated))
        for vid, team in self.pending:
            asked = self.now - rng.randint(1, 10) * 86400 - rng.randint(0, 86000)
            n += 1
            yield (n, team.id, vid, "member", "pending", ts(asked), None, ts(asked))
        # The demo leader also leads the second demo team (their own membership of it).
        n += 1
        joined = max(self.demo_teams[1].created, created[self.demo_leader]) + 86400
        yield (n, self.demo_teams[1].id, self.demo_leader, "leader", "active", ts(joined), ts(joined), ts(joined))
        self.report["memberships"] = n
