"""Recruitment in the demo city (issue 14): upcoming activities open for sign-up, and sign-ups on recent ones.

The next 14 days hold `Scale.upcoming` scheduled activities, a share of them public to a street, a district or
the whole city, with headcount limits, deadlines, meeting points and what to bring, admitted automatically or by
the leader; their sign-ups are admitted, pending, waitlisted (a few activities are nearly full, or full with a
line), declined or cancelled. Closed activities of the last RECRUIT_DAYS days took sign-ups too: whoever was
admitted and has no attendance is a no-show (RECRUIT_NO_SHOW, about one in ten), some attendees walked in
without signing up. Each activity's admitted_count and waitlist_count equal its sign-ups, as the sign-up
service keeps them. Rows are written directly (database.py), as attendances are.
"""
from __future__ import annotations

import math
from datetime import timedelta

from .content import DECLINE_REASONS, MEETING_POINTS, REQUIREMENTS
from .plan import ActivitySpec, Recruit, TeamPlan

RECRUIT_DAYS = 60  # closed activities this recent recruited through the app, RECRUIT_SHARE of them
RECRUIT_SHARE = 0.55
RECRUIT_NO_SHOW = (0.02, 0.18)  # per activity, uniform: about 10% overall, times the team's habit (0.5-1.5)
# Places left unfilled, at most this share of the limit: the popular themes fill up, the demanding ones less.
THEME_SLACK = {"civilized_traffic": 0.15, "sanitation": 0.2, "community_service": 0.2, "civility_promotion": 0.3,
               "culture": 0.3, "ecology": 0.35, "elderly_disabled": 0.45, "minors": 0.5, "emergency": 0.6}
UPCOMING_DAYS = 14
CITY_CENTRE = (30.58, 114.30)  # the fictitious city's meeting coordinates lie around here


class RecruitPlan:
    """Seeder's part that plans recruitment and writes the sign-up rows."""

    def plan_upcoming(self) -> list[ActivitySpec]:
        """Scheduled activities over the next UPCOMING_DAYS days, busier teams and weekends more, recruiting."""
        rng, today = self.rng, self.today
        teams = [t for t in self.teams if t.status == "active"]
        days = [today + timedelta(days=n) for n in range(1, UPCOMING_DAYS + 1)]
        day_weights = [2.2 if day.weekday() >= 5 else 1.0 for day in days]
        rates = [t.size ** 0.6 * rng.uniform(0.5, 1.5) for t in teams]
        factor = self.scale.upcoming / sum(rates)
        specs = []
        for team, rate in zip(teams, rates):
            n = rate * factor
            n = int(n) + (rng.random() < n - int(n))
            if team in self.demo_teams:
                n = max(n, 2)
            chosen = rng.choices(days, weights=day_weights, k=n)
            if team is self.demo_teams[0]:
                chosen[0] = days[1]  # the demo volunteer's activity: the day after tomorrow
            for day in sorted(chosen):
                spec = self._activity_on(team, day)
                spec.status = "scheduled"
                self._recruit(spec)
                specs.append(spec)
        # The demo volunteer is admitted to the demo team's first upcoming activity (open to the team, auto).
        self.demo_upcoming = mine = next(s for s in specs if s.team is self.demo_teams[0])
        mine.audience, mine.recruit.audience_unit = "team", None
        mine.recruit.admission, mine.recruit.capacity = "auto", max(mine.recruit.capacity or 0, 12)
        # And one public activity nearby is full, with people in line (every scale shows a waitlist).
        self.demo_full = full = next(s for s in specs if s.team is not self.demo_teams[0])
        full.audience, full.recruit.audience_unit = "unit", self._street_id_of(full.team)
        full.recruit.admission, full.recruit.capacity = "auto", 8
        return specs

    def plan_past_recruitment(self, specs: list[ActivitySpec]) -> None:
        """Mark recent closed activities that recruited; the 学雷锋 days were always open to the city."""
        rng, since = self.rng, self.now - RECRUIT_DAYS * 86400
        for spec in specs:
            if spec.title.startswith("学雷锋"):
                spec.audience = "city"
            if (spec.status == "closed" and spec.start >= since and not spec.is_retro and not spec.roster
                    and not spec.forced and not spec.device and not spec.long_credit and rng.random() < RECRUIT_SHARE):
                self._recruit(spec)

    def _recruit(self, spec: ActivitySpec) -> None:
        """Who may sign up, how many, until when, how they are admitted, where to meet, what to bring."""
        rng, team = self.rng, spec.team
        rec = spec.recruit = Recruit()
        r = rng.random()
        if r < 0.5:
            spec.audience = "team"
        elif r < 0.72:
            spec.audience, rec.audience_unit = "unit", self._street_id_of(team)
        elif r < 0.87:
            spec.audience, rec.audience_unit = "unit", self.district_unit_ids[team.district]
        else:
            spec.audience = "city"
        if spec.status == "scheduled":
            rec.capacity = max(4, int(spec.k * rng.uniform(0.6, 1.3))) if rng.random() < 0.85 else None
        if rng.random() < 0.7:
            rec.deadline = spec.start - rng.choice((2, 12, 24, 48)) * 3600
        rec.admission = "leader" if rng.random() < 0.4 else "auto"
        rec.admitted_only = rng.random() < (0.4 if rec.admission == "leader" else 0.12)
        if rng.random() < 0.75:
            rec.meeting_point = rng.choice(MEETING_POINTS).format(place=spec.place)[:200]
            if rng.random() < 0.6:
                lat, lng = CITY_CENTRE
                rec.meeting_at = (round(lat + (team.district - 2.5) * 0.03 + rng.uniform(-0.02, 0.02), 6),
                                  round(lng + (team.district % 3 - 1) * 0.04 + rng.uniform(-0.02, 0.02), 6))
        if rng.random() < 0.6:
            rec.requirements = rng.choice(REQUIREMENTS[spec.theme])

    def _street_id_of(self, team: TeamPlan) -> int:
        """The street a team belongs to (its own unit for a street team)."""
        return self.street_of_community.get(team.unit_id, team.unit_id)

    # -- rows ------------------------------------------------------------------------------

    def _signup_rows(self, spec: ActivitySpec, attendees: list[int], created: int) -> list[tuple]:
        """The sign-up rows of one recruiting activity (ids given); sets its admitted and waitlisted counts."""
        recruit = spec.recruit
        if spec.status == "scheduled":
            plan = self._upcoming_signups(spec)
            first, last = created + 600, min(self.now, recruit.deadline or spec.start) - 600
        else:
            plan = self._past_signups(spec, attendees)
            first, last = created + 600, (recruit.deadline or spec.start) - 600
        ts, rng, leader = self.ts, self.rng, self._recorder(spec)
        closed_at = spec.end + (spec.id % 40) * 60
        last = max(last, first + 60)
        step = (last - first) / (len(plan) + 1)
        rows = []
        next_id = self.next_signup_id
        for n, (vid, status) in enumerate(plan):
            signed = first + int(step * (n + 1))
            decided_by = decided_at = reason = None
            updated = signed
            if recruit.admission == "leader" and status in ("admitted", "no_show", "declined"):
                decided_by, decided_at = leader, min(signed + rng.randint(600, 86400), last + 300)
                updated = decided_at
                if status == "declined":
                    reason = rng.choice(DECLINE_REASONS)
            elif status == "cancelled":
                updated = min(signed + rng.randint(600, 86400), last + 300)
            if status == "no_show":
                updated = closed_at
            rows.append((next_id + n, spec.id, vid, status, ts(signed), ts(updated), decided_by,
                         ts(decided_at) if decided_at else None, reason))
        self.next_signup_id = next_id + len(rows)
        recruit.admitted = sum(1 for _vid, status in plan if status == "admitted")
        recruit.waitlisted = sum(1 for _vid, status in plan if status == "waitlisted")
        return rows

    def _upcoming_signups(self, spec: ActivitySpec) -> list[tuple[int, str]]:
        """(volunteer, status) in sign-up order: admitted up to the limit then in line, or pending the leader."""
        rng, cap = self.rng, spec.recruit.capacity
        if cap:
            u = rng.random()
            if u < 0.07 or spec is self.demo_full:
                wanted = cap + rng.randint(1, 6)  # full, with a waitlist
            elif u < 0.16:
                wanted = cap - rng.randint(1, min(2, cap - 1))  # nearly full
            else:
                wanted = int(cap * rng.uniform(0.1, 0.85))
        else:
            wanted = rng.randint(2, 15)
        people = self._candidates(spec, wanted + 2)
        if spec is self.demo_upcoming:
            people = [self.demo_volunteer] + [v for v in people if v != self.demo_volunteer]
        plan, admitted = [], 0
        decided = int(len(people) * rng.uniform(0.4, 0.9))
        for n, vid in enumerate(people):
            if n and rng.random() < 0.05:
                plan.append((vid, "cancelled"))
                continue
            full = cap is not None and admitted >= cap
            if spec.recruit.admission == "auto" or n == 0 and spec is self.demo_upcoming:
                status = "waitlisted" if full else "admitted"
            elif n >= decided:
                status = "waitlisted" if full else "pending"
            elif rng.random() < 0.08:
                status = "declined"
            else:
                status = "waitlisted" if full else "admitted"
            admitted += status == "admitted"
            plan.append((vid, status))
        return plan

    def _past_signups(self, spec: ActivitySpec, attendees: list[int]) -> list[tuple[int, str]]:
        """(volunteer, status) of a closed activity: most attendees were admitted (some walked in), about one
        admitted person in ten never came (no_show); a full activity left a short line; a few cancelled."""
        rng = self.rng
        walk_in = 0.04 if spec.recruit.admitted_only else 0.1
        came = [vid for vid in attendees if rng.random() >= walk_in]
        rate = rng.uniform(*RECRUIT_NO_SHOW) * (0.5 + (spec.team.id * 0.618034) % 1)
        missing = int(len(came) * rate / (1 - rate) + rng.random())
        present = set(attendees)
        extra = [vid for vid in self._candidates(spec, missing + 6) if vid not in present]
        no_shows, others = extra[:missing], extra[missing:]
        admitted = len(came) + len(no_shows)
        slack = THEME_SLACK.get(spec.theme, 0.3)
        extra = 0 if rng.random() < 0.3 else rng.randint(1, max(1, math.ceil(admitted * slack)))
        spec.recruit.capacity = admitted + extra
        plan = [(vid, "admitted") for vid in came] + [(vid, "no_show") for vid in no_shows]
        rng.shuffle(plan)
        for vid in others[:rng.randint(0, 3)]:
            if spec.recruit.capacity == admitted and rng.random() < 0.5:
                plan.append((vid, "waitlisted"))
            elif spec.recruit.admission == "leader" and rng.random() < 0.4:
                plan.append((vid, "declined"))
            else:
                plan.insert(rng.randint(0, len(plan)), (vid, "cancelled"))
        return plan

    def _candidates(self, spec: ActivitySpec, k: int) -> list[int]:
        """Up to k distinct people likely to sign up: the team's keen members, and for a public activity people
        of other teams of its street, district or city."""
        rng, team = self.rng, spec.team
        if spec.audience == "team":
            others: list[TeamPlan] = []
        elif spec.audience == "city":
            others = self.signup_teams["city"]
        else:
            others = self.signup_teams.get(spec.recruit.audience_unit) or [team]
        chosen: dict[int, None] = {}
        for _ in range(3 * k + 6):
            if len(chosen) >= k:
                break
            source = team if not others or rng.random() < 0.6 else rng.choice(others)
            vid = source.pool[int(rng.random() ** 1.5 * len(source.pool))]
            chosen.setdefault(vid, None)
        return list(chosen)

    def plan_signup_teams(self) -> None:
        """Teams by street and district (their unit ids) and city-wide, where public activities draw people from;
        the district units' ids by district index."""
        self.district_unit_ids = {u[4]: u[0] for u in self.units if u[2] == "district"}
        self.district_unit_ids = {int(code[1:]) - 1: uid for code, uid in self.district_unit_ids.items()}
        groups: dict = {"city": []}
        for team in self.teams:
            if team.status != "active":
                continue
            groups["city"].append(team)
            groups.setdefault(self._street_id_of(team), []).append(team)
            groups.setdefault(self.district_unit_ids[team.district], []).append(team)
        self.signup_teams = groups

