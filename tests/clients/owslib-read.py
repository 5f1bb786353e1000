#!/usr/bin/env python3
"""Reads WMTS capabilities with OWSLib (the client QGIS-era Python tools use) and reports what it
understood, as one JSON object on stdout; with --tile LAYER Z COL ROW OUT it also fetches that tile
through OWSLib's gettile and writes its bytes to OUT.

Usage: owslib-read.py URL [--tile LAYER Z COL ROW OUT]
"""
import json
import sys

from owslib.wmts import WebMapTileService


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    wmts = WebMapTileService(argv[1])
    ident = wmts.identification
    report = {
        "title": ident.title,
        "abstract": ident.abstract,
        "keywords": list(ident.keywords or []),
        "provider": getattr(getattr(wmts, "provider", None), "name", None),
        "layers": {},
        "tilematrixsets": {k: sorted(v.tilematrix.keys(), key=int) for k, v in wmts.tilematrixsets.items()},
    }
    for name, layer in wmts.contents.items():
        limits = {}
        for tms, link in layer.tilematrixsetlinks.items():
            limits[tms] = {
                z: [l.mintilerow, l.maxtilerow, l.mintilecol, l.maxtilecol] for z, l in link.tilematrixlimits.items()
            }
        report["layers"][name] = {
            "title": layer.title,
            "bbox": list(layer.boundingBoxWGS84),
            "styles": layer.styles,
            "formats": layer.formats,
            "limits": limits,
            "templates": [r["template"] for r in layer.resourceURLs],
        }
    if len(argv) == 8 and argv[2] == "--tile":
        layer, z, col, row, out = argv[3:8]
        tms = next(iter(wmts.contents[layer].tilematrixsetlinks))
        tile = wmts.gettile(layer=layer, tilematrixset=tms, tilematrix=z, row=int(row), column=int(col))
        with open(out, "wb") as f:
            f.write(tile.read())
        report["tile"] = out
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
