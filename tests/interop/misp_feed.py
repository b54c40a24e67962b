#!/usr/bin/env python3
"""PyMISP and pytaxonomies as judges of Cairn's MISP feeds (tests/tests/misp.rs).

  check DIR            every event of DIR's manifest loads with PyMISP, and
                       re-written by PyMISP's feed generator (to_feed with
                       meta, json.dump indent=2; json.dumps manifest; md5
                       hashes) gives the same bytes: event files, manifest.json
                       and hashes.csv. PyMISP's feed_meta_generator run on a
                       copy agrees too. Every tag in a namespace pytaxonomies
                       knows resolves there. Prints a JSON summary.
  generate DIR [BAD]   writes a feed with PyMISP as its feed generator does;
                       BAD = "no-tlp" or "two-tlp" adds one event without a
                       tlp: tag, or with two. Prints the events as JSON.
  get URL [USER PASS]  one HTTP GET: prints {"status", "body"} as JSON.
  fetch URL USER PASS DIR
                       downloads the feed at URL (manifest.json, every event
                       it names, hashes.csv) into DIR, as a MISP instance
                       pulling it would; prints the file names.
"""
import base64
import json
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import uuid
from datetime import date
from pathlib import Path



def check(directory):
    from pymisp import MISPEvent
    from pymisp.tools.feed import feed_meta_generator
    from pytaxonomies import Taxonomies

    d = Path(directory)
    manifest_text = (d / "manifest.json").read_text()
    hashes_text = (d / "hashes.csv").read_text() if (d / "hashes.csv").exists() else ""
    listed = list(json.loads(manifest_text).keys())
    taxonomies = Taxonomies()
    manifest, hashes, problems = {}, [], []
    summary = {"events": [], "tags_checked": 0}
    for u in listed:
        path = d / f"{u}.json"
        text = path.read_text()
        e = MISPEvent()
        e.load_file(str(path))
        feed = e.to_feed(with_meta=True)
        hashes += [[h, e.uuid] for h in feed["Event"].pop("_hashes")]
        manifest.update(feed["Event"].pop("_manifest"))
        again = json.dumps(feed, indent=2)
        if again != text:
            problems.append(f"{u}.json differs from PyMISP's rewrite:\n--- ours\n{text}\n--- PyMISP\n{again}")
        tags = [t.name for t in e.tags]
        for t in tags:
            ns = t.split(":", 1)[0]
            if ns in taxonomies:
                summary["tags_checked"] += 1
                try:
                    taxonomies.revert_machinetag(t)
                except Exception as err:
                    problems.append(f"{u}: tag {t!r} is not in pytaxonomies' {ns}: {err!r}")
        tlp = [t for t in tags if t.startswith("tlp:")]
        if len(tlp) != 1:
            problems.append(f"{u}: {len(tlp)} tlp: tags: {tlp}")
        summary["events"].append({
            "uuid": e.uuid, "info": e.info, "tags": tags, "orgc": e.Orgc.name,
            "attributes": [[a.type, a.value] for a in e.attributes],
            "reports": [r.content for r in e.event_reports],
        })
    ours = json.dumps(manifest)
    if ours != manifest_text:
        problems.append(f"manifest.json differs:\n--- ours\n{manifest_text}\n--- PyMISP\n{ours}")
    expected_hashes = "".join(f"{h},{u}\n" for h, u in hashes)
    if expected_hashes != hashes_text:
        problems.append(f"hashes.csv differs:\n--- ours\n{hashes_text}\n--- PyMISP\n{expected_hashes}")
    # PyMISP's own generator of manifest and hashes, on a copy (it reads the
    # events in directory order, so compare content, not order).
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "feed"
        shutil.copytree(d, copy)
        feed_meta_generator(copy)
        theirs = json.loads((copy / "manifest.json").read_text())
        if theirs != json.loads(manifest_text):
            problems.append("feed_meta_generator's manifest.json differs")
        if sorted((copy / "hashes.csv").read_text().splitlines()) != sorted(hashes_text.splitlines()):
            problems.append("feed_meta_generator's hashes.csv differs")
    summary["problems"] = problems
    print(json.dumps(summary))


def generate(directory, bad=None):
    from pymisp import MISPEvent, MISPObject, MISPOrganisation

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    org = MISPOrganisation()
    org.name = "CSIRT Example"
    org.uuid = str(uuid.uuid4())

    def event(info, tags):
        e = MISPEvent()
        e.info = info
        e.Orgc = org
        e.date = date(2026, 11, 2)
        for t in tags:
            e.add_tag(t)
        return e

    events = []
    e = event("CVE-2026-7777 in a PACS server", ["tlp:green", 'nis2:impact-sectors-impacted="health"'])
    e.add_attribute("vulnerability", "CVE-2026-7777")
    e.add_event_report("Advisory", "Patch the PACS server now.")
    events.append((e, "vulnerability", "GREEN"))
    e = event("Phishing wave against water utilities", ["tlp:amber", 'rsit:fraud="phishing"', "workflow:state=\"complete\""])
    e.add_attribute("domain", "login-water.example")
    e.add_attribute("ip-dst", "203.0.113.9")
    f = MISPObject("file")
    f.add_attribute("filename", "invoice.exe")
    f.add_attribute("sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
    e.add_object(f)
    events.append((e, "indicator-of-compromise", "AMBER"))
    e = event("Grid operator reports a near miss", ["tlp:clear", "cairn-kind:near-miss", 'nis2:nature-severity="medium"'])
    e.add_attribute("comment", "Caught by the night shift before any impact.")
    events.append((e, "near-miss", "CLEAR"))
    e = event("Sector-wide alert", ["tlp:white"])
    e.add_event_report("Alert", "Expect DDoS this weekend.")
    events.append((e, "cybersecurity-alert", "CLEAR"))
    if bad == "no-tlp":
        events.append((event("An event without a marking", ['rsit:other="other"']), None, None))
    elif bad == "two-tlp":
        events.append((event("An event with two markings", ["tlp:green", "tlp:amber"]), None, None))

    manifest, hashes, out = {}, [], []
    for e, kind, tlp in events:
        feed = e.to_feed(with_meta=True)
        hashes += [[h, e.uuid] for h in feed["Event"].pop("_hashes")]
        manifest.update(feed["Event"].pop("_manifest"))
        with (d / f"{e.uuid}.json").open("w") as fh:
            json.dump(feed, fh, indent=2)
        out.append({"uuid": e.uuid, "info": e.info, "kind": kind, "tlp": tlp})
    with (d / "manifest.json").open("w") as fh:
        fh.write(json.dumps(manifest))
    with (d / "hashes.csv").open("w") as fh:
        for h, u in hashes:
            fh.write(f"{h},{u}\n")
    print(json.dumps(out))


def http_get(url, user=None, password=None):
    request = urllib.request.Request(url)
    if user is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def get(url, user=None, password=None):
    status, body = http_get(url, user, password)
    print(json.dumps({"status": status, "body": body.decode("utf-8", "replace")}))


def fetch(url, user, password, directory):
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)

    def one(name):
        status, body = http_get(url + name, user, password)
        if status != 200:
            sys.exit(f"GET {url}{name}: {status} {body[:200]!r}")
        (d / name).write_bytes(body)
        return body

    names = ["manifest.json"]
    for u in json.loads(one("manifest.json")):
        one(f"{u}.json")
        names.append(f"{u}.json")
    one("hashes.csv")
    print(json.dumps(names + ["hashes.csv"]))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"check": check, "generate": generate, "get": get, "fetch": fetch}[cmd](*args)
