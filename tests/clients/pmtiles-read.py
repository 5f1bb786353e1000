#!/usr/bin/env python3
"""Reads a PMTiles archive with the pmtiles package (PyPI) and writes every tile it holds to
OUTDIR/Z/X/Y.png (Z as stored in the archive); prints the header and metadata as one JSON object.

Usage: pmtiles-read.py ARCHIVE OUTDIR
"""
import json
import os
import sys

from pmtiles.reader import MmapSource, Reader, all_tiles


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    archive, out = argv[1], argv[2]
    with open(archive, "rb") as f:
        reader = Reader(MmapSource(f))
        header = reader.header()
        report = {
            "header": {k: (v.name if hasattr(v, "name") else v) for k, v in header.items()},
            "metadata": reader.metadata(),
            "tiles": 0,
        }
        for (z, x, y), data in all_tiles(MmapSource(f)):
            folder = os.path.join(out, str(z), str(x))
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, f"{y}.png"), "wb") as t:
                t.write(data)
            report["tiles"] += 1
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
