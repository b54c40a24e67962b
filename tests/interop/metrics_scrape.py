#!/usr/bin/env python3
"""Scrapes a Cairn node's /metrics and parses it with the Prometheus
project's own OpenMetrics parser (prometheus_client), which refuses
anything the format does not allow (a missing "# EOF", a bad type, a
counter without _total, ...).

Usage: metrics_scrape.py URL [USER PASSWORD]
Prints JSON: {"content_type": ..., "samples": [[name, {labels}, value], ...],
"families": {name: type}}. Exits non-zero, saying why, on any failure.
"""
import base64
import json
import sys
import urllib.request

from prometheus_client.openmetrics.parser import text_string_to_metric_families


def main():
    url = sys.argv[1]
    request = urllib.request.Request(url)
    if len(sys.argv) == 4:
        token = base64.b64encode(f"{sys.argv[2]}:{sys.argv[3]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=30) as answer:
        content_type = answer.headers.get("Content-Type", "")
        text = answer.read().decode("utf-8")
    samples = []
    families = {}
    for family in text_string_to_metric_families(text):
        families[family.name] = family.type
        for s in family.samples:
            samples.append([s.name, dict(s.labels), s.value])
    json.dump({"content_type": content_type, "samples": samples, "families": families}, sys.stdout)


if __name__ == "__main__":
    main()
