"""Locust users for the web benchmark: signed-in learners (session cookies made by bench/web.py) who take a
mock exam (question page, then an htmx answer save, as every click does) and practise (question page, answer,
next), plus the bare view as the baseline. Read by `locust -f bench/locustfile.py`; accounts from the JSON file
named by BENCH_WEB_ACCOUNTS."""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from typing import Any

from locust import HttpUser, between, task

ACCOUNTS: list[dict[str, Any]] = json.loads(open(os.environ["BENCH_WEB_ACCOUNTS"]).read())  # noqa: SIM115
_next = itertools.count()
CHOICE = re.compile(r'name="choice" value="([^"]+)"')
ITEM = re.compile(r'name="item" value="(\d+)"')


class Learner(HttpUser):
    wait_time = between(3, 10)  # a click every 3-10 s: a learner answering briskly

    def on_start(self) -> None:
        self.account = ACCOUNTS[next(_next) % len(ACCOUNTS)]
        self.client.cookies.set("sessionid", self.account["session"])
        self.client.cookies.set("csrftoken", self.account["csrf"])
        self.headers = {"X-CSRFToken": self.account["csrf"], "Referer": self.host or ""}
        self.n = 1
        self.choices: list[str] = []

    @task(4)
    def exam(self) -> None:
        attempt, total = self.account["attempt"], self.account["questions"]
        with self.client.get(f"/exams/attempts/{attempt}/q/{self.n}/", name="exam question page",
                             catch_response=True) as page:  # fmt: skip
            choices = CHOICE.findall(page.text or "")
            if page.status_code != 200:
                page.failure(f"status {page.status_code}")
        data = {"time_ms": "5000"}
        if choices:
            data["choice"] = random.choice(choices)
        else:
            data["flagged"] = "0"
        self.client.post(f"/exams/attempts/{attempt}/q/{self.n}/save/", data=data, name="exam answer save",
                         headers={**self.headers, "HX-Request": "true"})  # fmt: skip
        self.n = self.n % total + 1

    @task(3)
    def practise(self) -> None:
        session = self.account["session_pk"]
        page = self.client.get(f"/practice/sessions/{session}/", name="practice question page")
        item, choices = ITEM.findall(page.text or ""), CHOICE.findall(page.text or "")
        if item and choices:
            self.client.post(f"/practice/sessions/{session}/answer/", name="practice answer save",
                             data={"item": item[0], "choice": random.choice(choices), "confidence": "2"},
                             headers={**self.headers, "HX-Request": "true"})  # fmt: skip
            self.client.post(f"/practice/sessions/{session}/next/", name="practice next",
                             headers={**self.headers, "HX-Request": "true"})  # fmt: skip

    @task(1)
    def bare(self) -> None:
        self.client.get("/bench/bare/", name="bare Django view")
