"""A year of activities per team with their attendances, and the planted cases of padding."""
from __future__ import annotations

import bisect
from datetime import date, datetime, timedelta


from ..workdays import add_working_days
from .content import CANCEL_REASONS, PARKS, RIVERS, ROADS, SCHOOLS, THEME_TEXT, THEME_TIMES, VOID_REASONS, _choose_theme
from .plan import ActivitySpec, CHINA, Recruit, PLANTED_DEVICE_HASHES, TeamPlan, _day_weights, _local_midnight


NOT_RECRUITING = Recruit()


class ActivityPlan:
    """Seeder's part that plans activities and makes their attendance rows."""

    def plan_activities(self) -> None:
        """A year of activities per team by the day weights, the planted cases, and what is scheduled or open."""
        rng, scale = self.rng, self.scale
        start_day = self.today - timedelta(days=365)
        days = [start_day + timedelta(days=i) for i in range(365)]  # up to yesterday
        self.day_weights = _day_weights(days)
        cum, total = [], 0.0
        for w in self.day_weights:
            total += w
            cum.append(total)
        window_start = _local_midnight(start_day)
        working = [t for t in self.teams if t.status != "pending"]
        rates = [t.size ** 0.6 * rng.uniform(0.5, 1.5) for t in working]
        roster_extra = 10 * len(self.roster_teams) + self.scale.planted
        wanted = scale.activities - roster_extra
        factor = wanted / sum(rates)
        specs: list[ActivitySpec] = []
        for team, rate in zip(working, rates):
            n = rate * factor
            n = int(n) + (rng.random() < n - int(n))
            hi = len(days)
            if team.status == "suspended":
                hi = max(1, (team.suspended_at - window_start) // 86400)
            for day_index in sorted(bisect.bisect(cum, rng.random() * cum[hi - 1]) for _ in range(n)):
                specs.append(self._activity_on(team, days[min(day_index, hi - 1)]))
        self._plant_rosters(specs)
        self._plant_overlaps(specs)
        # Planted retro logs (late, or without photos), then cancellations and clean retro logs.
        closed = [s for s in specs if s.status == "closed" and not s.forced and not s.roster]
        old = [s for s in closed if s.end < self.now - 60 * 86400 and s.team not in self.demo_teams]
        picks = rng.sample(old, 2 * scale.planted)
        for n, spec in enumerate(picks):
            spec.is_retro, spec.k = True, spec.k * 1.7
            spec.late, spec.no_photo = n < scale.planted, n >= scale.planted
            spec.photos = 1 if spec.late else 0
        for spec in closed:
            if spec.is_retro:
                continue
            r = rng.random()
            if r < 0.015:
                spec.status = "cancelled"
                spec.reason = rng.choice(CANCEL_REASONS)
            elif r < 0.045 and spec.end < self.now - 21 * 86400:
                spec.is_retro = True
                spec.k *= 1.7
                spec.photos = 1 + (rng.random() < 0.4)
        live = [s for s in closed if s.status == "closed" and not s.is_retro and s.k >= 12]
        picks = rng.sample(live, 2 * scale.planted)
        for i, spec in enumerate(picks[: scale.planted]):
            spec.device = PLANTED_DEVICE_HASHES[i % len(PLANTED_DEVICE_HASHES)]
        for spec in picks[scale.planted:]:
            spec.long_credit = True
        # The demo team's last closed activities carry a photo, so that pages have one to show.
        for spec in [s for s in specs if s.team is self.demo_teams[0] and s.status == "closed"][-3:]:
            spec.photos = max(spec.photos, 1)
        self.plan_signup_teams()
        self.plan_past_recruitment(specs)
        specs.extend(self._upcoming())
        # Attendees: scaled to the target total, never more than 70% of the team's pool.
        flexible = [s for s in specs if s.status == "closed" and not s.roster]
        factor = (scale.attendances - sum(len(s.forced) for s in specs)) / sum(s.k for s in flexible)
        for spec in flexible:
            spec.k = max(2, min(int(spec.k * factor + rng.random()), int(len(spec.team.pool) * 0.7)))
            if spec.device:
                spec.k = max(spec.k, 10)  # enough people behind the one device
        specs.sort(key=lambda s: (s.start, s.team.id))
        for i, spec in enumerate(specs, start=1):
            spec.id = i
        self.specs = specs

    def _activity_on(self, team: TeamPlan, day: date) -> ActivitySpec:
        """One activity of the team on that day: theme, local start time, length, wanted attendees."""
        rng = self.rng
        theme = _choose_theme(rng, team.kind, day)
        start_min, lengths, base_k = THEME_TIMES[theme]
        weekend = day.weekday() >= 5
        hour = rng.choice(start_min[1] if weekend else start_min[0])
        start = _local_midnight(day) + hour * 3600 + rng.choice((0, 0, 30)) * 60
        end = start + rng.choice(lengths) * 60
        k = base_k * rng.lognormvariate(0, 0.35) * (1.2 if weekend else 1.0)
        if (day.month, day.day) == (3, 5):
            k *= 2.2
        spec = ActivitySpec(team, theme, start, end, k=k)
        spec.title, spec.place = self._words(theme, team, day)
        return spec

    def _words(self, theme: str, team: TeamPlan, day: date) -> tuple[str, str]:
        """A title and a place fitting the theme and the team's neighbourhood."""
        rng = self.rng
        titles, places = THEME_TEXT[theme]
        title = rng.choice(titles)
        if (day.month, day.day) == (3, 5):
            title = "学雷锋纪念日·" + title
        elif (day.month, day.day) == (12, 5):
            title = "国际志愿者日·" + title
        community = self.unit_names[rng.choice(team.community_ids)]
        street_id = team.unit_id if team.unit_id not in team.community_ids else None
        street = self.unit_names[street_id] if street_id else self._street_of(team.community_ids[0])
        road, road2 = rng.sample(ROADS, 2)
        place = rng.choice(places).format(
            community=community, street=street, road=road, road2=road2, n=rng.randint(1, 36),
            line=rng.randint(1, 6), school=rng.choice(SCHOOLS), park=rng.choice(PARKS),
            river=rng.choice(RIVERS), bank=rng.choice(("东岸", "西岸", "南岸", "北岸", "段")),
        )
        return title, place

    def _street_of(self, community_id: int) -> str:
        """The name of the street a community belongs to."""
        return self.unit_names[self.street_of_community[community_id]]

    def _plant_rosters(self, specs: list[ActivitySpec]) -> None:
        """Ten Saturdays in a row, the same twelve names, typed in by the leader."""
        rng = self.rng
        for team in self.roster_teams:
            people = team.pool[len(team.leaders): len(team.leaders) + 12]
            saturday = self.today - timedelta(days=(self.today.weekday() - 5) % 7 + 7 * rng.randint(3, 8))
            for week in range(10):
                day = saturday - timedelta(days=7 * week)
                start = _local_midnight(day) + 9 * 3600
                spec = ActivitySpec(team, "sanitation", start, start + 2 * 3600, roster=True, forced=list(people))
                spec.title, spec.place = "周末环境清洁", f"{self.unit_names[team.community_ids[0]]}小区"
                specs.append(spec)

    def _plant_overlaps(self, specs: list[ActivitySpec]) -> None:
        """The planted person attends an activity of each of their teams, 30 minutes apart."""
        for vid, home, other in self.overlap_people:
            mine = [s for s in specs if s.team is home and not s.roster and s.start < self.now - 14 * 86400]
            first = mine[-1]
            first.forced.append(vid)
            second = ActivitySpec(other, first.theme, first.start + 1800, first.end + 1800, k=first.k)
            second.title, second.place = self._words(first.theme, other, datetime.fromtimestamp(first.start, CHINA).date())
            second.forced.append(vid)
            specs.append(second)

    def _upcoming(self) -> list[ActivitySpec]:
        """One activity open right now for the demo leader's team, and the next two weeks' scheduled ones."""
        start = self.now - self.now % 1800 - 1800
        team = self.demo_teams[0]
        open_now = ActivitySpec(team, "civilized_traffic", start, start + 3 * 3600, status="open", k=6)
        open_now.title, open_now.place = "文明交通劝导", self._words("civilized_traffic", team, self.today)[1]
        return [open_now] + self.plan_upcoming()

    def _attendances(self, spec: ActivitySpec) -> list[tuple]:
        """The attendance rows of one activity as stored (ids given); keeps each volunteer's busy time."""
        rng, ts, busy, devices = self.rng, self.ts, self.busy, self.devices
        days, times, day0 = ts.days, ts.times, ts.first_day
        random_ = rng.random
        start, end, team = spec.start, spec.end, spec.team
        chosen = list(dict.fromkeys(spec.forced))
        if not spec.roster:
            wanted = len(chosen) + int(spec.k)
            taken = set(chosen)
            reserved = self.reserved
            for vid in rng.choices(team.pool, cum_weights=team.cum, k=int(spec.k * 1.5) + 4):
                if len(chosen) >= wanted:
                    break
                if vid in taken or busy[vid] > start:
                    continue
                if vid in reserved and any(s < end + 3600 and start < e + 3600 for s, e in reserved[vid]):
                    continue
                if spec.status == "open" and vid == self.demo_volunteer:
                    continue  # left for the demo: they check in themselves
                taken.add(vid)
                chosen.append(vid)
        for vid in chosen:
            if busy[vid] < end + 3600:
                busy[vid] = end + 3600  # an hour's gap: the next check-in never precedes this check-out
        recorder = self._recorder(spec)
        window = (end - start) // 60
        rows = []
        next_id = self.next_attendance_id
        if spec.is_retro:
            spec.logged = self._retro_logged_at(spec)
            for n, vid in enumerate(chosen):
                rows.append((next_id + n, spec.id, vid, ts(start), ts(end), False, window, "retro_log", recorder,
                             ts(spec.logged + n), None, None, None))
        elif spec.status == "open":
            for n, vid in enumerate(chosen):
                checked_in = start - 600 + int(random_() * min(self.now - start + 600, 3000))
                rows.append((next_id + n, spec.id, vid, ts(checked_in), None, False, 0, "self_scan", None,
                             ts(checked_in + 2), devices[vid], None, None))
        else:
            rows = self._live_attendances(spec, chosen, recorder, next_id)
        self.next_attendance_id = next_id + len(rows)
        return rows

    def _live_attendances(self, spec: ActivitySpec, chosen: list[int], recorder: int, next_id: int) -> list[tuple]:
        """Records of an activity run live: scans with their real times, or names the leader typed in.

        The hot loop of the seed (a million rows): one branch per method, timestamps by table look-up;
        the planted oddities are written over a few rows afterwards.
        """
        rng, ts, devices = self.rng, self.ts, self.devices
        days, times, day0 = ts.days, ts.times, ts.first_day
        random_ = rng.random
        start, end, window, activity_id = spec.start, spec.end, (spec.end - spec.start) // 60, spec.id
        span = end - start
        start_text, end_text = ts(start), ts(end)
        manual_share = 1.0 if spec.roster else spec.team.manual_share
        scan_share = manual_share + (1 - manual_share) * 0.17  # leader scans among the rest
        rows = []
        append = rows.append
        for n, vid in enumerate(chosen):
            r = random_()
            if r < manual_share:
                created = start + int(random_() * span)
                append((next_id + n, activity_id, vid, start_text, end_text, False, window, "leader_manual", recorder,
                        days[created // 86400 - day0] + times[created % 86400], None, None, None))
                continue
            checked_in = start - 900 + int(random_() * random_() * 2400)
            r2 = random_()
            if r2 < 0.15:
                checked_out, auto = end, True  # still there at closing: checked out by the close
            elif r2 < 0.2:
                checked_out, auto = start + int(span * (0.3 + 0.6 * random_())), False
            else:
                checked_out, auto = end - 900 + int(random_() * 2100), False
            counted_in = checked_in if checked_in > start else start
            counted_out = checked_out if checked_out < end else end
            credited = (counted_out - counted_in) // 60 if counted_out > counted_in else 0
            created = checked_in + 1 + int(random_() * 4)
            if r < scan_share:
                method, device, by = "leader_scan", None, recorder
            else:
                method, device, by = "self_scan", devices[vid], None
            append((next_id + n, activity_id, vid, days[checked_in // 86400 - day0] + times[checked_in % 86400],
                    days[checked_out // 86400 - day0] + times[checked_out % 86400], auto, credited, method, by,
                    days[created // 86400 - day0] + times[created % 86400], device, None, None))
        if spec.device:
            # Planted: one phone checks eight different people in within four minutes.
            for n, row in enumerate(rows[:8]):
                checked_in = start - 300 + n * 25 + int(random_() * 20)
                checked_out = end - 900 + int(random_() * 2100)
                credited = (min(checked_out, end) - start) // 60
                rows[n] = row[:3] + (ts(checked_in), ts(checked_out), False, credited, "self_scan", None,
                                     ts(checked_in + 2), spec.device, None, None)
        if spec.long_credit and rows:
            # Planted: a leader typed a whole day for a short activity.
            credited = window + 240 + int(random_() * 120)
            rows[0] = rows[0][:3] + (start_text, ts(start + credited * 60), False, credited, "leader_manual",
                                     recorder, ts(start + int(random_() * span)), None, None, None)
        elif rows and not (spec.device or spec.roster) and random_() < 0.08 and end < self.now - 3 * 86400:
            # Now and then a leader voids a record (a duplicate, someone who did not come), with a reason.
            j = int(random_() * len(rows))
            rows[j] = rows[j][:11] + (ts(end + 86400 + int(random_() * 86400)), rng.choice(VOID_REASONS))
        return rows

    def _recorder(self, spec: ActivitySpec) -> int:
        """The leader who created the activity and records for it."""
        leaders = spec.team.leaders
        return leaders[spec.id % len(leaders)]

    def _retro_logged_at(self, spec: ActivitySpec) -> int:
        """Retro logs are written within 10 working days, or 15–30 working days late for the planted ones."""
        end_day = datetime.fromtimestamp(spec.end, CHINA).date()
        n = self.rng.randint(15, 30) if spec.late else self.rng.randint(1, 9)
        logged = _local_midnight(add_working_days(end_day, n)) + self.rng.randint(9 * 3600, 17 * 3600)
        return min(logged, self.now - 3600)

    def _activity_created(self, spec: ActivitySpec) -> int:
        """When the activity row was written: days before it (live), just before its records (retro)."""
        if spec.is_retro:
            return spec.logged - 30
        if spec.status == "scheduled":
            return min(self.now - 3600, spec.start - 3 * 86400)
        return spec.start - (2 + spec.id % 12) * 86400 - (spec.id * 7919) % 36000

    def _activity_row(self, spec: ActivitySpec, theme_id: int, count: int, minutes: int, created: int) -> tuple:
        """The activity as stored, with its denormalised attendee count and minutes."""
        ts = self.ts
        opened = closed = None
        if spec.status in ("open", "closed") and not spec.is_retro:
            opened = ts(spec.start - 600 - (spec.id % 10) * 60)
        if spec.status == "closed":
            closed = ts(created + 60) if spec.is_retro else ts(spec.end + (spec.id % 40) * 60)
        r = spec.recruit or NOT_RECRUITING
        lat, lng = r.meeting_at or (None, None)
        return (spec.id, spec.team.id, theme_id, spec.team.unit_id, spec.title, spec.place, ts(spec.start),
                ts(spec.end), spec.status, "poster" if spec.id % 5 == 0 else "rotating", spec.audience == "team",
                r.capacity, spec.audience, r.audience_unit, ts(r.deadline) if r.deadline else None,
                r.admission, r.admitted_only, r.meeting_point, lat, lng, r.requirements, r.admitted,
                r.waitlisted, spec.is_retro, f"{self.rng.getrandbits(128):032x}", spec.reason,
                self._recorder(spec), ts(created), opened, closed, count, minutes)
