#!/usr/bin/env python3
"""Check a static, relative-published STAC catalog fully offline.

Usage: stac-check.py [--gdal-open] CATALOG_JSON

Run it with tests/clients/.venv/bin/python (pystac[validation] from requirements.txt).

Starting at CATALOG_JSON it follows every "child" and "item" link and, for every
Catalog, Collection and Item file found:
  * validates the JSON as written on disk against the STAC core JSON schema that
    pystac bundles (only STAC 1.1.0 is bundled in the pinned pystac; any other
    stac_version is an error, since its schema would have to be downloaded);
  * checks the Projection v2.0.0 and Raster v1.1.0 extension fields by hand
    (their schemas cannot be fetched offline), and that an object uses a
    proj:/raster: field exactly when it lists the extension's schema URI;
    any other extension listed in stac_extensions is an error;
  * checks every link and asset href is relative and resolves to an existing
    file, that "root" links point at CATALOG_JSON and "parent" links at the
    object that linked to it;
  * checks the walk pystac itself does (Catalog.walk) finds the same objects.
With --gdal-open, each asset GDAL should open (image/tiff*, GeoPackage, .vrt)
must be a non-empty file with the right magic bytes; the list of their absolute
paths is printed as "gdal_assets" for the caller to open with GDAL.

Prints one JSON object to stdout:
  {"catalogs": n, "collections": n, "items": n, "assets": n,
   "stac_version": "1.1.0", "core_validated": n, "errors": [...]}
and exits 1 if "errors" is non-empty (2 on bad usage), else 0.

No network access is made: an audit hook turns any socket connect/DNS lookup or
urllib request into an error, pystac's StacIO refuses non-local hrefs, and the
schema validator refuses any schema that is not bundled.
"""

import json
import math
import os
import re
import socket
import sys
import urllib.parse

ERRORS = []
NETWORK_ATTEMPTS = []

_NET_EVENTS = {
    "socket.connect",
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "socket.gethostbyaddr",
    "socket.sendto",
    "urllib.Request",
    "http.client.connect",
}


def _no_network(event, args):
    if event in _NET_EVENTS:
        shown = args
        if event in ("socket.connect", "socket.sendto"):  # args = (socket, address)
            if getattr(args[0], "family", None) == socket.AF_UNIX:
                return  # a local socket file is not network access
            shown = args[1:]
        msg = f"network access attempted ({event} {shown!r})"
        NETWORK_ATTEMPTS.append(msg)
        raise RuntimeError("stac-check.py is offline: " + msg)


sys.addaudithook(_no_network)

import pystac  # noqa: E402
import pystac.validation  # noqa: E402
from pystac.stac_io import DefaultStacIO  # noqa: E402
from pystac.validation.stac_validator import JsonSchemaSTACValidator  # noqa: E402

PROJ_URI = "https://stac-extensions.github.io/projection/v2.0.0/schema.json"
RASTER_URI = "https://stac-extensions.github.io/raster/v1.1.0/schema.json"
HAND_CHECKED_EXTENSIONS = {PROJ_URI, RASTER_URI}

PROJ_FIELDS = {
    "proj:code",
    "proj:wkt2",
    "proj:projjson",
    "proj:geometry",
    "proj:bbox",
    "proj:centroid",
    "proj:shape",
    "proj:transform",
}
RASTER_FIELDS = {"raster:bands"}
RASTER_BAND_KEYS = {
    "nodata",
    "sampling",
    "data_type",
    "bits_per_sample",
    "spatial_resolution",
    "statistics",
    "unit",
    "scale",
    "offset",
    "histogram",
}
RASTER_DATA_TYPES = {
    "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64",
    "cint16", "cint32", "cfloat32", "cfloat64",
    "other",
}
RASTER_STATISTICS_KEYS = {"minimum", "maximum", "mean", "stddev", "valid_percent"}
PROJ_CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*:[A-Za-z0-9_.\-]+$")
RFC3339_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


def err(where, msg):
    ERRORS.append(f"{where}: {msg}")


# ---------------------------------------------------------------- offline pystac


class OfflineStacIO(DefaultStacIO):
    """Reads local files only; any http(s)/other-scheme href is an error."""

    def read_text_from_href(self, href):
        scheme = urllib.parse.urlsplit(str(href)).scheme
        if scheme not in ("", "file") and not re.match(r"^[A-Za-z]$", scheme):
            raise RuntimeError(f"stac-check.py is offline: refusing to read {href}")
        return super().read_text_from_href(href)

    def write_text_to_href(self, href, txt):
        raise RuntimeError(f"stac-check.py is read-only: refusing to write {href}")


class OfflineValidator(JsonSchemaSTACValidator):
    """Core validation against pystac's bundled schemas only; extensions by hand.

    JsonSchemaSTACValidator pre-loads its schema cache from the JSON schemas bundled
    in pystac (pystac/validation/jsonschemas: STAC 1.1.0 core + GeoJSON); only a
    schema missing from that cache would be fetched, which this class forbids.
    """

    def __init__(self):
        super().__init__()
        self.core_validated = 0

    def _get_schema(self, schema_uri):
        if schema_uri not in self.schema_cache:
            raise pystac.validation.GetSchemaError(
                schema_uri, RuntimeError("schema is not bundled with pystac; offline")
            )
        return self.schema_cache[schema_uri]

    def has_core_schema(self, object_type, stac_version):
        uri = self.schema_uri_map.get_object_schema_uri(object_type, stac_version)
        return uri is not None and uri in self.schema_cache

    def validate_core(self, stac_dict, stac_object_type, stac_version, href=None):
        uri = super().validate_core(stac_dict, stac_object_type, stac_version, href)
        if uri is None:
            raise RuntimeError(f"no core schema for STAC {stac_version} {stac_object_type}")
        self.core_validated += 1
        return uri

    def validate_extension(self, stac_dict, stac_object_type, stac_version, extension_id, href=None):
        # Extension schemas would need a download: projection/raster are checked by
        # hand in check_extensions(); any other extension is reported there.
        return None


# ---------------------------------------------------------------- helpers


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def resolve_href(base_file, href, where, what):
    """Return the absolute local path of a relative href, or None (error recorded)."""
    if not isinstance(href, str) or not href:
        err(where, f"{what} href is not a non-empty string: {href!r}")
        return None
    parts = urllib.parse.urlsplit(href)
    if parts.scheme or parts.netloc:
        err(where, f"{what} href is not relative (has a scheme/host): {href}")
        return None
    if href.startswith("/") or href.startswith("\\"):
        err(where, f"{what} href is an absolute path, not relative: {href}")
        return None
    path = parts.path
    base_dir = os.path.dirname(os.path.abspath(base_file))
    candidates = [os.path.normpath(os.path.join(base_dir, path))]
    unquoted = urllib.parse.unquote(path)
    if unquoted != path:
        candidates.append(os.path.normpath(os.path.join(base_dir, unquoted)))
    for c in candidates:
        if os.path.isfile(c):
            return c
    err(where, f"{what} href does not resolve to an existing file: {href} -> {candidates[-1]}")
    return None


def check_datetime(where, name, v):
    if v is None:
        return
    if not isinstance(v, str) or not RFC3339_RE.match(v):
        err(where, f"{name} is not an RFC 3339 date-time: {v!r}")


# ---------------------------------------------------------------- extensions


def check_number_list(where, name, v, lengths):
    if not isinstance(v, list) or len(v) not in lengths or not all(is_number(x) for x in v):
        err(where, f"{name} must be a list of {' or '.join(map(str, lengths))} numbers, got {v!r}")
        return False
    return True


def check_proj_fields(where, obj, allowed):
    """Projection v2.0.0 fields present in dict obj (properties or an asset)."""
    for k in obj:
        if k.startswith("proj:") and k not in PROJ_FIELDS:
            err(where, f"unknown projection v2.0.0 field {k}")
        elif k.startswith("proj:") and not allowed:
            err(where, f"{k} is not allowed here (only in Item properties, assets, item_assets)")
    if "proj:code" in obj:
        v = obj["proj:code"]
        if v is not None and not (isinstance(v, str) and PROJ_CODE_RE.match(v)):
            err(where, f"proj:code must be a string like 'EPSG:4326' or null, got {v!r}")
    if "proj:wkt2" in obj and obj["proj:wkt2"] is not None and not isinstance(obj["proj:wkt2"], str):
        err(where, f"proj:wkt2 must be a string or null, got {obj['proj:wkt2']!r}")
    if "proj:projjson" in obj and obj["proj:projjson"] is not None and not isinstance(obj["proj:projjson"], dict):
        err(where, "proj:projjson must be an object or null")
    if "proj:geometry" in obj:
        g = obj["proj:geometry"]
        if not (isinstance(g, dict) and isinstance(g.get("type"), str) and ("coordinates" in g or "geometries" in g)):
            err(where, f"proj:geometry must be a GeoJSON geometry object, got {g!r}")
    if "proj:centroid" in obj:
        c = obj["proj:centroid"]
        if not (isinstance(c, dict) and set(c) == {"lat", "lon"} and is_number(c["lat"]) and is_number(c["lon"])
                and -90 <= c["lat"] <= 90 and -180 <= c["lon"] <= 180):
            err(where, f"proj:centroid must be {{lat: -90..90, lon: -180..180}}, got {c!r}")
    bbox = shape = transform = None
    if "proj:bbox" in obj and check_number_list(where, "proj:bbox", obj["proj:bbox"], (4, 6)):
        bbox = obj["proj:bbox"]
        half = len(bbox) // 2
        if any(bbox[i] > bbox[i + half] for i in range(half)):
            err(where, f"proj:bbox minimums exceed maximums: {bbox!r}")
    if "proj:shape" in obj:
        s = obj["proj:shape"]
        if not (isinstance(s, list) and len(s) == 2 and all(is_int(x) and x > 0 for x in s)):
            err(where, f"proj:shape must be 2 positive integers [rows, cols], got {s!r}")
        else:
            shape = s
    if "proj:transform" in obj and check_number_list(where, "proj:transform", obj["proj:transform"], (6, 9)):
        transform = obj["proj:transform"]
        if len(transform) == 9 and transform[6:] != [0, 0, 1]:
            err(where, f"proj:transform 9-element form must end with [0, 0, 1], got {transform!r}")
        if transform[0] * transform[4] - transform[1] * transform[3] == 0:
            err(where, f"proj:transform is singular: {transform!r}")
    # The three must agree: bbox = transform applied to the corners of shape.
    if bbox is not None and len(bbox) == 4 and shape is not None and transform is not None:
        a, b, c, d, e, f = transform[:6]
        rows, cols = shape
        xs, ys = [], []
        for col, row in ((0, 0), (cols, 0), (0, rows), (cols, rows)):
            xs.append(a * col + b * row + c)
            ys.append(d * col + e * row + f)
        want = [min(xs), min(ys), max(xs), max(ys)]
        pix = min(abs(v) for v in (a, b, d, e) if v != 0)
        tol = 0.01 * pix + 1e-9 * max(abs(v) for v in want)
        if any(abs(w - g) > tol for w, g in zip(want, bbox)):
            err(where, f"proj:bbox {bbox!r} disagrees with proj:transform and proj:shape "
                       f"[rows, cols]={shape!r}, which give {want!r}")


def check_raster_bands(where, bands):
    if not isinstance(bands, list):
        err(where, f"raster:bands must be a list, got {bands!r}")
        return
    for i, band in enumerate(bands):
        w = f"{where} raster:bands[{i}]"
        if not isinstance(band, dict):
            err(w, f"band must be an object, got {band!r}")
            continue
        for k in band:
            if k not in RASTER_BAND_KEYS and ":" not in k:
                err(w, f"unknown raster band field {k}")
        if "nodata" in band:
            v = band["nodata"]
            if not (is_number(v) or v in ("nan", "inf", "-inf")):
                err(w, f"nodata must be a number or 'nan'/'inf'/'-inf', got {v!r}")
        if "sampling" in band and band["sampling"] not in ("area", "point"):
            err(w, f"sampling must be 'area' or 'point', got {band['sampling']!r}")
        if "data_type" in band and band["data_type"] not in RASTER_DATA_TYPES:
            err(w, f"data_type {band['data_type']!r} is not one of {sorted(RASTER_DATA_TYPES)}")
        if "bits_per_sample" in band and not (is_int(band["bits_per_sample"]) and band["bits_per_sample"] > 0):
            err(w, f"bits_per_sample must be a positive integer, got {band['bits_per_sample']!r}")
        for k in ("spatial_resolution", "scale", "offset"):
            if k in band and not is_number(band[k]):
                err(w, f"{k} must be a number, got {band[k]!r}")
        if "unit" in band and not isinstance(band["unit"], str):
            err(w, f"unit must be a string, got {band['unit']!r}")
        if "statistics" in band:
            st = band["statistics"]
            if not isinstance(st, dict):
                err(w, f"statistics must be an object, got {st!r}")
            else:
                for k, v in st.items():
                    if k not in RASTER_STATISTICS_KEYS:
                        err(w, f"unknown statistics field {k}")
                    elif not is_number(v):
                        err(w, f"statistics.{k} must be a number, got {v!r}")
                vp = st.get("valid_percent")
                if is_number(vp) and not 0 <= vp <= 100:
                    err(w, f"statistics.valid_percent must be within 0..100, got {vp!r}")
                if is_number(st.get("minimum")) and is_number(st.get("maximum")) and st["minimum"] > st["maximum"]:
                    err(w, f"statistics.minimum > statistics.maximum: {st!r}")
        if "histogram" in band:
            h = band["histogram"]
            if not isinstance(h, dict):
                err(w, f"histogram must be an object, got {h!r}")
            else:
                if "count" in h and not (is_int(h["count"]) and h["count"] >= 0):
                    err(w, f"histogram.count must be a non-negative integer, got {h['count']!r}")
                for k in ("min", "max"):
                    if k in h and not is_number(h[k]):
                        err(w, f"histogram.{k} must be a number, got {h[k]!r}")
                if "buckets" in h and not (isinstance(h["buckets"], list) and all(is_int(x) for x in h["buckets"])):
                    err(w, "histogram.buckets must be a list of integers")


def check_extensions(where, d, kind):
    """kind: 'Catalog' | 'Collection' | 'Item'."""
    exts = d.get("stac_extensions", [])
    if not isinstance(exts, list):
        return  # reported by core schema validation
    for uri in exts:
        if uri not in HAND_CHECKED_EXTENSIONS:
            if isinstance(uri, str) and ("/projection/" in uri or "/raster/" in uri):
                err(where, f"extension {uri} is not the supported version "
                           f"(expected {PROJ_URI} or {RASTER_URI})")
            else:
                err(where, f"extension {uri} cannot be validated offline (only projection "
                           "v2.0.0 and raster v1.1.0 are checked)")
    if len(set(map(str, exts))) != len(exts):
        err(where, f"stac_extensions has duplicates: {exts!r}")

    used = set()  # prefixes used anywhere in the object

    def note(dct):
        if isinstance(dct, dict):
            for k in dct:
                if isinstance(k, str) and ":" in k:
                    used.add(k.split(":", 1)[0])

    # Where fields may be, and whether proj:/raster: are allowed there.
    if kind == "Item":
        props = d.get("properties")
        if isinstance(props, dict):
            note(props)
            check_proj_fields(f"{where} properties", props, allowed=True)
            if "raster:bands" in props:
                err(f"{where} properties", "raster:bands belongs in an asset, not in Item properties")
            for k in props:
                if k.startswith("raster:") and k not in RASTER_FIELDS:
                    err(f"{where} properties", f"unknown raster v1.1.0 field {k}")
            for k in ("datetime", "start_datetime", "end_datetime", "created", "updated"):
                if k in props:
                    check_datetime(f"{where} properties", k, props[k])
    top = {k: v for k, v in d.items() if k not in ("properties", "assets", "item_assets", "summaries", "links")}
    note(top)
    for k in top:
        if k.startswith("proj:") or k.startswith("raster:"):
            err(where, f"{k} is not allowed at the top level of a {kind}"
                       + (" (it belongs in properties or an asset)" if kind == "Item" else ""))
    if kind != "Item":
        if kind == "Collection":
            ext = d.get("extent", {})
            intervals = ext.get("temporal", {}).get("interval") if isinstance(ext, dict) and isinstance(ext.get("temporal"), dict) else None
            for iv in intervals or []:
                for t in iv if isinstance(iv, list) else []:
                    check_datetime(f"{where} extent.temporal", "interval", t)
    for section in ("assets", "item_assets"):
        for name, asset in (d.get(section) or {}).items() if isinstance(d.get(section), dict) else []:
            if not isinstance(asset, dict):
                continue
            note(asset)
            aw = f"{where} {section}[{name}]"
            check_proj_fields(aw, asset, allowed=True)
            for k in asset:
                if k.startswith("raster:") and k not in RASTER_FIELDS:
                    err(aw, f"unknown raster v1.1.0 field {k}")
            if "raster:bands" in asset:
                check_raster_bands(aw, asset["raster:bands"])
    summaries = d.get("summaries")
    if isinstance(summaries, dict):
        note(summaries)
        for k in summaries:
            if k.startswith("proj:") and k not in PROJ_FIELDS:
                err(f"{where} summaries", f"unknown projection v2.0.0 field {k}")
            if k.startswith("raster:") and k not in RASTER_FIELDS:
                err(f"{where} summaries", f"unknown raster v1.1.0 field {k}")

    for prefix, uri in (("proj", PROJ_URI), ("raster", RASTER_URI)):
        if prefix in used and uri not in exts:
            err(where, f"uses {prefix}: fields but stac_extensions does not list {uri}")
        if uri in exts and prefix not in used:
            err(where, f"lists {uri} in stac_extensions but uses no {prefix}: field")


# ---------------------------------------------------------------- GDAL assets

GDAL_MAGIC = {
    "tiff": (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
    "gpkg": (b"SQLite format 3\x00",),
}


def gdal_kind(asset):
    mt = str(asset.get("type", "")).strip().lower()
    href = str(asset.get("href", "")).lower().split("?")[0].split("#")[0]
    if mt.startswith("image/tiff"):
        return "tiff"
    if mt.startswith("application/geopackage+sqlite3"):
        return "gpkg"
    if href.endswith(".vrt") and (mt in ("", "application/xml", "text/xml") or mt.startswith("application/x-ogc")):
        return "vrt"
    return None


def check_gdal_asset(where, path, kind):
    size = os.path.getsize(path)
    if size == 0:
        err(where, f"{kind} asset file is empty: {path}")
        return False
    with open(path, "rb") as f:
        head = f.read(256)
    if kind in GDAL_MAGIC:
        if not head.startswith(GDAL_MAGIC[kind]):
            err(where, f"{kind} asset does not start with {kind} magic bytes: {path}")
            return False
    elif kind == "vrt":
        text = head.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
        if text.startswith("<?xml"):
            text = text[text.find("?>") + 2:].lstrip()
        if not text.startswith(("<VRTDataset", "<OGRVRTDataSource")):
            err(where, f"vrt asset is not a <VRTDataset>/<OGRVRTDataSource> document: {path}")
            return False
    return True


def describe_schema_errors(e):
    """The most relevant jsonschema errors of a STACValidationError, one line each."""
    import jsonschema.exceptions

    def leaf(x):
        while x.context:  # anyOf/oneOf: descend into the best sub-error
            x = jsonschema.exceptions.best_match(x.context)
        return x

    errors = list(e.source or [])
    if not errors:
        return str(e).splitlines()[-1]
    best = jsonschema.exceptions.best_match(errors)
    shown = [best] + [x for x in errors if x is not best][:4]
    parts = []
    for x in shown:
        x = leaf(x)
        msg = x.message if len(x.message) <= 200 else x.message[:200] + "..."
        parts.append(f"{'/'.join(map(str, x.absolute_path)) or '(root)'}: {msg}")
    if len(errors) > len(shown):
        parts.append(f"(+{len(errors) - len(shown)} more)")
    return "; ".join(parts)


# ---------------------------------------------------------------- main walk

TYPES = {"Catalog": "Catalog", "Collection": "Collection", "Feature": "Item"}
STAC_TYPE = {
    "Catalog": pystac.STACObjectType.CATALOG,
    "Collection": pystac.STACObjectType.COLLECTION,
    "Item": pystac.STACObjectType.ITEM,
}


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    flags = [a for a in argv[1:] if a.startswith("--")]
    if len(args) != 1 or any(f not in ("--gdal-open",) for f in flags):
        print("usage: stac-check.py [--gdal-open] CATALOG_JSON", file=sys.stderr)
        return 2
    gdal_open = "--gdal-open" in flags
    root_path = os.path.abspath(args[0])

    pystac.StacIO.set_default(OfflineStacIO)
    validator = OfflineValidator()

    counts = {"Catalog": 0, "Collection": 0, "Item": 0}
    n_assets = 0
    versions = set()
    gdal_assets = []
    visited = {}  # abs path -> kind
    # queue of (abs path, abs path of the object that linked to it or None, expected kinds)
    queue = [(root_path, None, ("Catalog", "Collection"))]
    while queue:
        path, parent, expected = queue.pop(0)
        if path in visited:
            continue
        where = os.path.relpath(path, os.path.dirname(root_path))
        try:
            with open(path, encoding="utf-8") as f:
                d = json.load(f)
        except (OSError, ValueError) as e:
            err(where, f"cannot read JSON: {e}")
            continue
        if not isinstance(d, dict):
            err(where, "not a JSON object")
            continue
        kind = TYPES.get(d.get("type"))
        if kind is None:
            err(where, f"'type' must be Catalog, Collection or Feature, got {d.get('type')!r}")
            continue
        visited[path] = kind
        if kind not in expected:
            err(where, f"is a {kind} where a {' or '.join(expected)} was expected")
        counts[kind] += 1
        version = d.get("stac_version")
        versions.add(str(version))

        # 1. core schema, exactly as written on disk, against pystac's bundled schema
        exts = d.get("stac_extensions", [])
        if not validator.has_core_schema(STAC_TYPE[kind], str(version)):
            err(where, f"no bundled core schema for stac_version {version!r} "
                       f"(pystac {pystac.__version__} bundles STAC {pystac.get_stac_version()} only)")
        else:
            try:
                pystac.validation.validate_dict(
                    d,
                    stac_object_type=STAC_TYPE[kind],
                    stac_version=str(version),
                    extensions=exts if isinstance(exts, list) else [],
                    href=path,
                    validator=validator,
                )
            except pystac.STACValidationError as e:
                err(where, "core schema validation failed: " + describe_schema_errors(e))
            except Exception as e:  # schema not bundled, network refused, ...
                err(where, f"core schema validation could not run: {type(e).__name__}: {e}")

        # 2. extensions by hand
        try:
            check_extensions(where, d, kind)
        except Exception as e:
            err(where, f"extension check crashed on malformed data: {type(e).__name__}: {e}")

        # 3. links
        links = d.get("links") if isinstance(d.get("links"), list) else []
        for i, link in enumerate(links):
            if not isinstance(link, dict):
                continue  # schema error already
            rel = link.get("rel")
            lw = f"{where} links[{i}] rel={rel}"
            target = resolve_href(path, link.get("href"), lw, "link")
            if target is None:
                continue
            if rel == "root" and target != root_path:
                err(lw, f"root link points to {target}, not to the root catalog {root_path}")
            elif rel == "parent" and parent is not None and target != parent:
                err(lw, f"parent link points to {target}, not to the object linking here {parent}")
            elif rel == "self" and target != path:
                err(lw, f"self link points to {target}, not to this file")
            elif rel == "child" and kind != "Item":
                queue.append((target, path, ("Catalog", "Collection")))
            elif rel == "item" and kind != "Item":
                queue.append((target, path, ("Item",)))

        # 4. assets
        assets = d.get("assets") if isinstance(d.get("assets"), dict) else {}
        for name, asset in assets.items():
            if not isinstance(asset, dict):
                continue
            n_assets += 1
            aw = f"{where} assets[{name}]"
            target = resolve_href(path, asset.get("href"), aw, "asset")
            if target is not None and gdal_open:
                gk = gdal_kind(asset)
                if gk is not None and check_gdal_asset(aw, target, gk):
                    gdal_assets.append(target)

    # 5. pystac's own walk must reach the same objects
    pystac_seen = {}
    try:
        root = pystac.read_file(root_path)
        if not isinstance(root, pystac.Catalog):
            err(os.path.basename(root_path), "root is not a Catalog or Collection")
        else:
            def note_obj(o):
                pystac_seen[os.path.normpath(o.get_self_href())] = (
                    "Collection" if isinstance(o, pystac.Collection)
                    else "Catalog" if isinstance(o, pystac.Catalog) else "Item")

            for cat, _children, items in root.walk():
                note_obj(cat)
                for item in items:
                    note_obj(item)
    except Exception as e:
        err(os.path.basename(root_path), f"pystac could not walk the catalog: {type(e).__name__}: {e}")
    else:
        if pystac_seen != visited:
            only_ours = sorted(set(visited) - set(pystac_seen))
            only_pystac = sorted(set(pystac_seen) - set(visited))
            differ = sorted(p for p in set(visited) & set(pystac_seen) if visited[p] != pystac_seen[p])
            err(os.path.basename(root_path),
                f"pystac walk disagrees with the link walk: only via links {only_ours}, "
                f"only via pystac {only_pystac}, different types {differ}")

    for attempt in NETWORK_ATTEMPTS:
        err("network", attempt)
    if len(versions) > 1:
        err(os.path.basename(root_path), f"mixed stac_version values: {sorted(versions)}")
    if sum(counts.values()) and validator.core_validated != sum(counts.values()) and not ERRORS:
        err(os.path.basename(root_path),
            f"only {validator.core_validated} of {sum(counts.values())} objects were schema-validated")

    out = {
        "catalogs": counts["Catalog"],
        "collections": counts["Collection"],
        "items": counts["Item"],
        "assets": n_assets,
        "stac_version": sorted(versions)[0] if len(versions) == 1 else sorted(versions),
        "core_validated": validator.core_validated,
        "errors": ERRORS,
    }
    if gdal_open:
        out["gdal_assets"] = gdal_assets
    print(json.dumps(out, indent=1))
    if ERRORS:
        print(f"stac-check.py: {len(ERRORS)} error(s):", file=sys.stderr)
        for e in ERRORS:
            print("  " + e, file=sys.stderr)
    return 1 if ERRORS else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
