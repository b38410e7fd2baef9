"""Settings for the web benchmark's gunicorn: the platform's settings with a URL configuration that adds a bare
view (bench/web_urls.py), so the platform's pages and the baseline run on exactly the same stack."""

from trainer.settings import *  # noqa: F403

ROOT_URLCONF = "bench.web_urls"
