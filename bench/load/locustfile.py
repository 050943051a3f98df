"""The load run's people (`make load`, bench/load/run.py): CSMs, managers and a usage feed, against gunicorn.

- CSMs log in, open their account list (their own book, sometimes every account or a search), an Account 360
  of one of their accounts and My work, and log activities through the page's form (CSRF token included).
- Managers log in and open the portfolio dashboard, the renewals board, the forecast, the team page and the
  team's compensation.
- One usage feed sends batches of product usage events to the API with the bearer token of the tenant's ops
  service account, at a steady pace.

Who logs in and with what comes from the file bench/load/setup.py writes, named by LOAD_SETUP. Request names
are the labels below, so the statistics come out per page and API call. This module imports no Django: the
test (tests/bench/test_load.py) resolves PAGES against the URL conf.

The app runs with its production settings, which expect a TLS-terminating proxy in front (HTTPS redirect,
Secure cookies, strict CSRF origin checks). Locust plays that proxy on 127.0.0.1: every request says
`X-Forwarded-Proto: https`, forms are posted with the HTTPS origin, and the client's cookie jar returns
Secure cookies over the plain connection.
"""

import itertools
import json
import os
import random
import uuid
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar, DefaultCookiePolicy
from urllib.parse import urlencode

from locust import FastHttpUser, between, constant_pacing, task

# label -> (URL name, path template). The templates take the tenant slug and an account id; a renamed or
# moved route fails tests/bench/test_load.py.
PAGES = {
    "Login form": ("login", "/login/"),
    "Login": ("login", "/login/"),
    "Account list": ("accounts:list", "/t/{slug}/accounts/"),
    "Account list, all accounts": ("accounts:list", "/t/{slug}/accounts/"),
    "Account search": ("accounts:list", "/t/{slug}/accounts/"),
    "Account 360": ("accounts:detail", "/t/{slug}/accounts/{account_id}/"),
    "Log activity (POST)": ("accounts:log_activity", "/t/{slug}/accounts/{account_id}/activities/"),
    "My work": ("plans:my_work", "/t/{slug}/plans/my-work/"),
    "Portfolio dashboard": ("health:portfolio", "/t/{slug}/health/"),
    "Renewals board": ("renewals:board", "/t/{slug}/renewals/"),
    "Forecast": ("forecast:page", "/t/{slug}/forecast/"),
    "Team page": ("team:page", "/t/{slug}/team/"),
    "Team compensation": ("compensation:team", "/t/{slug}/compensation/team/"),
}
API_CALLS = {
    "Usage batch (POST /api/v1/usage-events/)": ("usageevent-list", "/api/v1/usage-events/"),
}
FEATURES = ["login", "search", "report.view", "report.export", "dashboard.view", "invite.send", "api.call",
            "workflow.run", "alert.create", "note.add", "file.upload", "integration.sync"]
ACTIVITY_KINDS = ["call", "meeting", "email", "note"]
BEHIND_TLS_PROXY = {"X-Forwarded-Proto": "https"}

_setup: dict | None = None
_next_csm = itertools.count()
_next_manager = itertools.count()


def setup() -> dict:
    """What bench/load/setup.py wrote: the tenant, the people and their password, the API token."""
    global _setup
    if _setup is None:
        path = os.environ.get("LOAD_SETUP", "var/load/setup.json")
        with open(path) as file:
            _setup = json.load(file)
    return _setup


def path(label: str, **values) -> str:
    template = (PAGES | API_CALLS)[label][1]
    return template.format(slug=setup()["tenant"], **values)


def _cookie(jar: CookieJar, name: str) -> str:
    return next((cookie.value for cookie in jar if cookie.name == name), "")


class _Person(FastHttpUser):
    """A person of the tenant who logs in once (the password setup.py set) and then browses."""

    abstract = True
    default_headers = BEHIND_TLS_PROXY
    wait_time = between(float(os.environ.get("LOAD_THINK_MIN", "1")), float(os.environ.get("LOAD_THINK_MAX", "4")))
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self):
        # The proxy ends TLS, so the Secure session and CSRF cookies travel over plain HTTP from here on.
        self.client.cookiejar.set_policy(DefaultCookiePolicy(secure_protocols=("https", "wss", "http")))

    def form_headers(self) -> dict:
        return {"Content-Type": "application/x-www-form-urlencoded",
                "Origin": self.host.replace("http://", "https://", 1)}

    def login(self, email: str) -> None:
        self.client.get(path("Login form"), name="Login form")
        body = urlencode({"username": email, "password": setup()["password"],
                          "csrfmiddlewaretoken": _cookie(self.client.cookiejar, "csrftoken")})
        with self.client.post(path("Login"), data=body, headers=self.form_headers(), allow_redirects=False,
                              name="Login", catch_response=True) as response:
            if response.status_code != 302:
                response.failure(f"login of {email} answered {response.status_code}")

    def page(self, label: str, query: str = "", **values) -> None:
        with self.client.get(path(label, **values) + query, name=label, allow_redirects=False,
                             catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{label} answered {response.status_code}")


class Csm(_Person):
    weight = 3

    def on_start(self):
        super().on_start()
        people = setup()["csms"]
        self.me = people[next(_next_csm) % len(people)]
        self.login(self.me["email"])

    @task(4)
    def account_list(self):
        self.page("Account list")

    @task(1)
    def account_list_all(self):
        self.page("Account list, all accounts", f"?csm=&page={random.randint(1, 20)}")

    @task(1)
    def account_search(self):
        self.page("Account search", "?csm=&" + urlencode({"q": random.choice(setup()["search_terms"])}))

    @task(5)
    def account_360(self):
        self.page("Account 360", account_id=random.choice(self.me["accounts"]))

    @task(2)
    def my_work(self):
        self.page("My work")

    @task(1)
    def log_activity(self):
        account_id = random.choice(self.me["accounts"])
        now = datetime.now(UTC) - timedelta(minutes=random.randint(0, 600))
        body = urlencode({
            "kind": random.choice(ACTIVITY_KINDS), "subject": "Load run check-in",
            "occurred_at": now.strftime("%Y-%m-%dT%H:%M"), "minutes_spent": random.choice([15, 30, 45]),
            "body": "Logged by the load run (bench/load).", "csrfmiddlewaretoken": _cookie(self.client.cookiejar,
                                                                                           "csrftoken"),
        })
        with self.client.post(path("Log activity (POST)", account_id=account_id), data=body,
                              headers=self.form_headers(),
                              name="Log activity (POST)", allow_redirects=False, catch_response=True) as response:
            if response.status_code != 302:  # the form redirects to the Account 360 when the activity is saved
                response.failure(f"logging an activity answered {response.status_code}")


class Manager(_Person):
    weight = 1

    def on_start(self):
        super().on_start()
        people = setup()["managers"]
        self.me = people[next(_next_manager) % len(people)]
        self.login(self.me["email"])

    @task
    def portfolio(self):
        self.page("Portfolio dashboard")

    @task
    def renewals_board(self):
        self.page("Renewals board")

    @task
    def forecast(self):
        self.page("Forecast")

    @task
    def team(self):
        self.page("Team page")

    @task
    def team_compensation(self):
        self.page("Team compensation")


class UsageFeed(FastHttpUser):
    """A product's usage pipeline: one batch every LOAD_INGEST_EVERY seconds, LOAD_BATCH_EVENTS events each."""

    fixed_count = 1
    default_headers = BEHIND_TLS_PROXY
    wait_time = constant_pacing(float(os.environ.get("LOAD_INGEST_EVERY", "2")))
    network_timeout = 60.0

    @task
    def send_batch(self):
        accounts = setup()["usage_accounts"]
        now = datetime.now(UTC)
        events = [{"account": random.choice(accounts),
                   "occurred_at": (now - timedelta(seconds=random.randrange(6 * 3600))).isoformat(),
                   "event": random.choice(FEATURES), "user_id": f"user-{random.randint(1, 40)}",
                   "quantity": random.randint(1, 5)}
                  for _ in range(int(os.environ.get("LOAD_BATCH_EVENTS", "1000")))]
        label = next(iter(API_CALLS))
        with self.client.post(path(label), json={"batch_id": f"load-{uuid.uuid4().hex}", "events": events},
                              headers={"Authorization": f"Bearer {setup()['token']}"}, name=label,
                              catch_response=True) as response:
            if response.status_code != 201:
                response.failure(f"usage batch answered {response.status_code}: {response.text[:200]}")
