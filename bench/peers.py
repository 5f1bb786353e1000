"""The peers a user would pick, on the z-max tiles iwp-raster and iwp-webtile made (bench/peers.sh).

For every GeoTIFF line given: exactextract's coverage fractions of the tile's polygons (the
staged tile, duplicates left out as iwp-raster leaves them) summed per pixel, and GDAL's
rasterize (pixel centres only, MERGE_ALG=ADD), each on the tile's own grid, in this process;
both compared with our coverage band. GDAL's rasterize is timed in memory and again with its
band written as a GeoTIFF with our creation options (Float64, ZSTD level 1, one block). Then
gdaldem color-relief (GDAL's DEMProcessing, PNG with alpha) of both bands with the statistics'
palettes. Each tool's time is the fastest of REPEAT passes over all tiles. Prints ms per tile
and the differences.
Usage: python peers.py CONFIG GEOTIFF_LINES OUT_DIR [REPEAT]
"""

import json
import os
import sys
import time

import exactextract
from exactextract.feature import GDALFeatureSource
from exactextract.raster import GDALRasterSource
import numpy as np
from osgeo import gdal, ogr

gdal.UseExceptions()


def colour_file(path, stops, nodata, low, high):
    """A gdaldem colour file: the palette's stops spread over [low, high], nodata transparent."""
    with open(path, "w") as f:
        r, g, b, a = (int(nodata[i : i + 2], 16) for i in (1, 3, 5, 7))
        f.write(f"{low} {r} {g} {b} {a}\n")
        for k, stop in enumerate(stops):
            value = low + (high - low) * k / max(len(stops) - 1, 1)
            value = max(value, low + (high - low) * 1e-9)
            alpha = int(stop[7:9], 16) if len(stop) == 9 else 255
            f.write(f"{value} {int(stop[1:3], 16)} {int(stop[3:5], 16)} {int(stop[5:7], 16)} {alpha}\n")


def main():
    config_path, lines_path, out = sys.argv[1:4]
    repeat = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    config = json.load(open(config_path))
    base = os.path.dirname(os.path.abspath(config_path))
    staged_dir = os.path.join(base, config.get("dir_staged", "staged"))
    lines = [json.loads(l) for l in open(lines_path) if l.strip()]
    os.makedirs(out, exist_ok=True)
    stats = config["statistics"]
    ee_diff = gr_diff = 0.0
    high = {s["name"]: 0.0 for s in stats}
    for line in lines:
        for s in stats:
            high[s["name"]] = max(high[s["name"]], line[s["name"] + "_max"])
    for s in stats:
        low, top = s["val_range"][0], s["val_range"][1]
        colour_file(f"{out}/{s['name']}.txt", s["palette"], s["nodata_color"], low, top if top is not None else high[s["name"]])
    gtiff = gdal.GetDriverByName("GTiff")
    best = {}
    for _ in range(repeat):
        t_ee = t_gr = t_grw = t_dem = 0.0
        png_bytes = 0
        pngs = 0
        for line in lines:
            ours = gdal.Open(line["path"])
            gt, w, h = ours.GetGeoTransform(), ours.RasterXSize, ours.RasterYSize
            coverage = ours.GetRasterBand(2).ReadAsArray()
            z, x, y = line["z"], line["x"], line["y"]
            staged = ogr.Open(os.path.join(staged_dir, config.get("tms_id", "WorldCRS84Quad"), str(z), str(x), f"{y}.gpkg"))
            layer = staged.GetLayer(0)
            layer.SetAttributeFilter("staging_duplicated = 0")
            grid = gdal.GetDriverByName("MEM").Create("", w, h, 1, gdal.GDT_Float64)
            grid.SetGeoTransform(gt)
            grid.SetProjection(ours.GetProjection())

            t0 = time.perf_counter()
            found = exactextract.exact_extract(
                GDALRasterSource(grid, 1), GDALFeatureSource(layer), ["cell_id", "coverage"]
            )
            summed = np.zeros(w * h)
            for feature in found:
                props = feature["properties"]
                np.add.at(summed, np.asarray(props["cell_id"], dtype=np.int64), props["coverage"])
            t_ee += time.perf_counter() - t0
            ee_diff = max(ee_diff, float(np.abs(summed.reshape(h, w) - coverage).max()))

            layer.ResetReading()
            sampled = gdal.GetDriverByName("MEM").Create("", w, h, 1, gdal.GDT_Float64)
            sampled.SetGeoTransform(gt)
            sampled.SetProjection(ours.GetProjection())
            t0 = time.perf_counter()
            gdal.RasterizeLayer(sampled, [1], layer, burn_values=[1], options=["MERGE_ALG=ADD"])
            band = sampled.GetRasterBand(1).ReadAsArray()
            t_gr += time.perf_counter() - t0
            gr_diff = max(gr_diff, float(np.abs(band - coverage).max()))

            layer.ResetReading()
            written = gdal.GetDriverByName("MEM").Create("", w, h, 1, gdal.GDT_Float64)
            written.SetGeoTransform(gt)
            written.SetProjection(ours.GetProjection())
            tif = f"{out}/rasterized-{z}-{x}-{y}.tif"
            t0 = time.perf_counter()
            gdal.RasterizeLayer(written, [1], layer, burn_values=[1], options=["MERGE_ALG=ADD"])
            gtiff.CreateCopy(tif, written, options=["COMPRESS=ZSTD", "ZSTD_LEVEL=1", "TILED=YES", f"BLOCKXSIZE={w}", f"BLOCKYSIZE={h}"])
            t_grw += time.perf_counter() - t0

            for k, s in enumerate(stats):
                png = f"{out}/{s['name']}-{z}-{x}-{y}.png"
                t0 = time.perf_counter()
                gdal.DEMProcessing(png, ours, "color-relief", colorFilename=f"{out}/{s['name']}.txt", band=k + 1, addAlpha=True, format="PNG")
                t_dem += time.perf_counter() - t0
                png_bytes += os.path.getsize(png)
                pngs += 1
        for key, value in (("ee", t_ee), ("gr", t_gr), ("grw", t_grw), ("dem", t_dem)):
            best[key] = min(best.get(key, value), value)
    n = len(lines)
    print(f"exactextract coverage: {1000 * best['ee'] / n:.2f} ms per tile, largest difference from ours {ee_diff:.2e}")
    print(f"gdal rasterize (pixel centres): {1000 * best['gr'] / n:.2f} ms per tile in memory, {1000 * best['grw'] / n:.2f} ms with its one band written as a GeoTIFF (Float64, ZSTD 1); largest difference from our coverage {gr_diff:.2f}")
    print(f"gdaldem color-relief PNG: {1000 * best['dem'] / pngs:.2f} ms per PNG, {png_bytes} bytes in {pngs} PNGs")


main()
