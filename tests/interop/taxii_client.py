"""Drives a TAXII 2.1 server with OASIS taxii2-client, as a SIEM, OpenCTI or
MISP would, and prints what it saw as one JSON object (for the Rust tests in
tests/tests/taxii.rs).

    taxii_client.py walk URL USER PASSWORD LIMIT
        discovery -> API root -> collections -> every page of objects and of
        the manifest with LIMIT per request, one object by id and its versions
    taxii_client.py add URL USER PASSWORD BUNDLE
        add_objects with the bundle's objects, waiting for the status
    taxii_client.py codes URL USER PASSWORD READER READER_PASSWORD
        the HTTP status of requests a server must refuse (USER may write,
        READER may not)
"""
import json
import sys

import requests
from taxii2client.v21 import Server, as_pages

MEDIA = "application/taxii+json;version=2.1"


def connect(url, user, password):
    server = Server(url, user=user, password=password)
    root = server.default or server.api_roots[0]
    collection = root.collections[0]
    seen = {
        "title": server.title,
        "api_roots": [r.url for r in server.api_roots],
        "api_root": {
            "title": root.title,
            "versions": root.versions,
            "max_content_length": root.max_content_length,
        },
        "collections": [
            {"id": c.id, "title": c.title, "can_read": c.can_read, "can_write": c.can_write}
            for c in root.collections
        ],
    }
    return root, collection, seen


def walk(url, user, password, limit):
    _, collection, seen = connect(url, user, password)
    pages, objects = [], []
    for envelope in as_pages(collection.get_objects, per_request=limit):
        pages.append(len(envelope.get("objects", [])))
        objects.extend(envelope.get("objects", []))
    manifest = []
    for envelope in as_pages(collection.get_manifest, per_request=limit):
        manifest.extend(envelope.get("objects", []))
    seen.update(pages=pages, objects=objects, manifest=manifest)
    items = [o for o in objects if o["type"] != "marking-definition"]
    if items:
        sample = items[-1]["id"]
        seen["by_id"] = collection.get_object(sample)
        seen["versions"] = collection.object_versions(sample)
        last_added = manifest[-1]["date_added"]
        seen["after_last"] = collection.get_objects(added_after=last_added)
        seen["reports"] = collection.get_objects(type="report", limit=1000)
    return seen


def add(url, user, password, bundle_file):
    _, collection, seen = connect(url, user, password)
    with open(bundle_file) as f:
        bundle = json.load(f)
    status = collection.add_objects({"objects": bundle["objects"]})
    seen["status"] = {
        "id": status.id,
        "status": status.status,
        "total_count": status.total_count,
        "success_count": status.success_count,
        "failure_count": status.failure_count,
        "successes": status.successes,
        "failures": status.failures,
    }
    return seen


def codes(url, user, password, reader, reader_password):
    _, collection, _ = connect(url, user, password)
    objects = collection.url + "objects/"
    root = collection.url.rsplit("/collections/", 1)[0] + "/"
    auth = (user, password)
    accept = {"Accept": MEDIA}
    post = {"Accept": MEDIA, "Content-Type": MEDIA}
    big = json.dumps({"objects": [{"type": "x", "pad": "x" * (1 << 20)}]})
    return {
        "no_credentials": requests.get(url, headers=accept).status_code,
        "wrong_password": requests.get(url, headers=accept, auth=(user, "wrong")).status_code,
        "json_only": requests.get(url, headers={"Accept": "application/json"}, auth=auth).status_code,
        "unknown_collection": requests.get(root + "collections/nope/", headers=accept, auth=auth).status_code,
        "unknown_object": requests.get(objects + "indicator--00000000-0000-4000-8000-000000000000/",
                                       headers=accept, auth=auth).status_code,
        "bad_limit": requests.get(objects + "?limit=0", headers=accept, auth=auth).status_code,
        "post_json": requests.post(objects, headers={"Accept": MEDIA, "Content-Type": "application/json"},
                                   data="{}", auth=auth).status_code,
        "post_too_large": requests.post(objects, headers=post, data=big, auth=auth).status_code,
        "post_as_reader": requests.post(objects, headers=post, data='{"objects": []}',
                                        auth=(reader, reader_password)).status_code,
        "content_type": requests.get(url, headers=accept, auth=auth).headers.get("Content-Type"),
    }


def main():
    mode, url, user, password = sys.argv[1:5]
    if mode == "walk":
        seen = walk(url, user, password, int(sys.argv[5]))
    elif mode == "add":
        seen = add(url, user, password, sys.argv[5])
    elif mode == "codes":
        seen = codes(url, user, password, sys.argv[5], sys.argv[6])
    else:
        sys.exit("mode must be walk, add or codes")
    json.dump(seen, sys.stdout)


if __name__ == "__main__":
    main()
