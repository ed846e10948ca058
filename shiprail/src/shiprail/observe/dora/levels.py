"""DORA's performance levels, from the 2023 Accelerate State of DevOps report.

The report groups its respondents into four clusters by the four keys (Google Cloud / DORA,
"Accelerate State of DevOps Report 2023", the table of software delivery performance
clusters; docs/dora.md quotes it):

=========== ===================== ==================== ============= ===================
level       deployment frequency  lead time            change fail   time to restore
=========== ===================== ==================== ============= ===================
elite       on demand (several    less than one day    5 %           less than one hour
            a day)
high        once a day to once a  one day to one week  10 %          less than one day
            week
medium      once a week to once   one week to one      15 %          one day to one week
            a month               month
low         less often            longer               above 15 %    longer
=========== ===================== ==================== ============= ===================

The report gives the clusters' typical values, not cut-offs; here each value is the upper
bound of its level (a change failure rate of 8 % is "high"), and whatever is worse than
"medium" is "low" (the report's low cluster: 64 % of changes failing, one to six months to
recover). Ties go to the better level except for deployment frequency, where exactly
one deploy a day is "high" (elite means more than one).
"""

from __future__ import annotations

from enum import StrEnum

HOUR = 3600.0
DAY = 24 * HOUR
WEEK = 7 * DAY
MONTH = 30 * DAY


class Level(StrEnum):
    elite = "elite"
    high = "high"
    medium = "medium"
    low = "low"
    #: nothing to judge (no deployment, no failure)
    none = "n/a"


def deployment_frequency(per_day: float | None) -> Level:
    if not per_day:
        return Level.none
    if per_day > 1:
        return Level.elite
    if per_day >= 1 / 7:
        return Level.high
    return Level.medium if per_day * 30 >= 1 else Level.low


def lead_time(seconds: float | None) -> Level:
    if seconds is None:
        return Level.none
    if seconds < DAY:
        return Level.elite
    if seconds <= WEEK:
        return Level.high
    return Level.medium if seconds <= MONTH else Level.low


def change_failure_rate(rate: float | None) -> Level:
    if rate is None:
        return Level.none
    if rate <= 0.05:
        return Level.elite
    if rate <= 0.10:
        return Level.high
    return Level.medium if rate <= 0.15 else Level.low


def time_to_restore(seconds: float | None) -> Level:
    if seconds is None:
        return Level.none
    if seconds < HOUR:
        return Level.elite
    if seconds < DAY:
        return Level.high
    return Level.medium if seconds <= WEEK else Level.low
