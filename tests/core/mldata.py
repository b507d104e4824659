"""Small real datasets with known, seeded signal for pipeline and model tests."""

# ruff: noqa: DTZ001 - polars datetime columns here are naive, as in the lake

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

CITIES = ["paris", "lyon", "nice", "lille"]
PLANS = ["basic", "pro", "team"]


def customers(n: int = 1500, seed: int = 0) -> pl.DataFrame:
    """Customers whose churn depends on plan, tenure, city and support tickets (logistic, strong)."""
    rng = np.random.default_rng(seed)
    plan = rng.choice(PLANS, n, p=[0.5, 0.3, 0.2])
    city = rng.choice(CITIES, n)
    tenure = rng.integers(0, 60, n)
    tickets = rng.poisson(2.0, n)
    age = rng.integers(18, 80, n)
    income = rng.normal(50_000, 15_000, n).round(0)
    signup = [dt.date(2021, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 1000, n)]
    logit = -0.5 + 2.2 * (plan == "basic") - 0.07 * tenure + 1.2 * (city == "nice") + 0.6 * tickets - 1.5
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    income_with_gaps = np.where(rng.random(n) < 0.05, np.nan, income)
    return pl.DataFrame(
        {
            "customer_id": np.arange(1, n + 1),
            "age": age,
            "income": income_with_gaps,
            "city": city,
            "plan": plan,
            "tenure_months": tenure,
            "tickets": tickets,
            "signup_date": signup,
            "churned": np.where(churned, "yes", "no"),
        }
    ).with_columns(pl.col("income").fill_nan(None))


def regions() -> pl.DataFrame:
    """A lookup table keyed by city."""
    return pl.DataFrame(
        {"city": CITIES, "region_score": [0.1, 0.2, 0.9, 0.3], "coastal": [False, False, True, False]}
    )


def houses(n: int = 800, seed: int = 1) -> pl.DataFrame:
    """House prices: linear in surface and rooms, plus a district premium and noise."""
    rng = np.random.default_rng(seed)
    surface = rng.uniform(20, 200, n)
    rooms = rng.integers(1, 7, n)
    district = rng.choice(["north", "south", "center"], n)
    premium = np.select([district == "center", district == "south"], [80_000, 20_000], 0)
    price = 3_000 * surface + 10_000 * rooms + premium + rng.normal(0, 20_000, n)
    return pl.DataFrame({"surface": surface, "rooms": rooms, "district": district, "price": price})


# Three kinds of sensors, each with its own temperature/vibration regime.
_REGIMES = {"cold": (5.0, 0.2), "warm": (25.0, 1.0), "hot": (60.0, 3.0)}


def sensor_readings(
    days: int = 6, sensors: int = 12, per_day: int = 24, seed: int = 2, start_day: int = 0, shift: float = 0.0
) -> pl.DataFrame:
    """Hourly readings from ``sensors`` sensors over ``days`` days (``shift`` moves every regime)."""
    rng = np.random.default_rng(seed)
    kinds = list(_REGIMES)
    rows: dict[str, list] = {"sensor_id": [], "ts": [], "temperature": [], "vibration": []}
    start = dt.datetime(2024, 3, 1) + dt.timedelta(days=start_day)
    for s in range(sensors):
        temp, vib = _REGIMES[kinds[s % 3]]
        for step in range(days * per_day):
            rows["sensor_id"].append(f"s{s:02d}")
            rows["ts"].append(start + dt.timedelta(hours=24 * step / per_day))
            rows["temperature"].append(temp + shift + rng.normal(0, 1.0))
            rows["vibration"].append(vib * (1 + shift / 20) + abs(rng.normal(0, 0.1)))
    return pl.DataFrame(rows)
