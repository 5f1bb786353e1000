//! A static STAC 1.1.0 catalog of a run, from its result lines: a Collection per product (staged
//! tiles with a tile index, GeoTIFF levels by their mosaics, web tiles with the WMTS
//! capabilities and the map page, 3D tiles, extracts), Items with bbox, geometry, `proj:code`
//! and raster band statistics taken from the lines, and every href relative.

use anyhow::Context;
use gdal::vector::{Feature, FieldValue, Geometry, LayerAccess, LayerOptions, OGRFieldType};
use gdal::DriverManager;
use iwp_core::config::Config;
use iwp_core::files;
use iwp_core::lines::{Bands, Extract, Mosaic, StagedTile};
use iwp_core::tms::Tile;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The STAC version written.
pub const STAC_VERSION: &str = "1.1.0";
/// The projection extension's schema.
pub const PROJECTION: &str = "https://stac-extensions.github.io/projection/v2.0.0/schema.json";
/// The raster extension's schema.
pub const RASTER: &str = "https://stac-extensions.github.io/raster/v1.1.0/schema.json";
/// A COG's media type.
pub const COG_TYPE: &str = "image/tiff; application=geotiff; profile=cloud-optimized";

/// What a catalog is made of: the lines of a run, sorted by kind.
#[derive(Debug, Default)]
pub struct RunLines {
    /// Staged z-max tiles (the last line of each tile wins).
    pub staged: BTreeMap<Tile, (PathBuf, Option<u64>)>,
    /// Mosaic files ([`RunLines::add_mosaic`]).
    pub mosaics: Vec<Mosaic>,
    /// Area extracts ([`RunLines::add_extract`]).
    pub extracts: Vec<Extract>,
}

/// The numbers a catalog holds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Collections.
    pub collections: u64,
    /// Items.
    pub items: u64,
    /// Assets.
    pub assets: u64,
}

/// One catalog being written under dir_catalog.
pub struct CatalogWriter<'a> {
    /// The run's config.
    pub config: &'a Config,
    /// The items' datetime (RFC 3339).
    pub datetime: String,
    /// The collections' license (SPDX identifier or `other`).
    pub license: String,
}

/// An Item about to be written: its id, bbox, properties and assets.
struct ItemDraft {
    id: String,
    bbox: [f64; 4],
    properties: Map<String, Value>,
    assets: Vec<(String, Value)>,
}

impl CatalogWriter<'_> {
    fn root(&self) -> PathBuf {
        self.config.dir_catalog.join("catalog.json")
    }

    /// Writes the catalog of `lines` (and of the web and 3D outputs found on disk).
    pub fn write(&self, lines: &RunLines) -> anyhow::Result<Counts> {
        let mut counts = Counts::default();
        let mut children = Vec::new();
        let collections: [(&str, &str, Vec<ItemDraft>); 5] = [
            (
                "staged",
                "Staged vector tiles: GeoPackages of the polygons, one per z-max tile",
                self.staged_items(lines)?,
            ),
            (
                "geotiff",
                "Statistics rasters per level: a VRT mosaic per statistic, COGs of the smaller levels",
                self.level_items(lines)?,
            ),
            (
                "web",
                "Web tiles: PNG tiles or PMTiles, their WMTS capabilities and the map page",
                self.web_items(lines)?,
            ),
            ("3dtiles", "Cesium 3D Tiles of the polygons", self.tiles3d_items(lines)?),
            (
                "extracts",
                "Area extracts: a COG of the rasters and a GeoPackage of the polygons per area",
                self.extract_items(lines)?,
            ),
        ];
        for (id, description, items) in collections {
            if items.is_empty() {
                continue;
            }
            self.write_collection(id, description, &items, &mut counts)?;
            children
                .push(json!({"rel": "child", "href": format!("./{id}/collection.json"), "type": "application/json"}));
        }
        let mut links = vec![json!({"rel": "root", "href": "./catalog.json", "type": "application/json"})];
        links.extend(children);
        let catalog = json!({
            "type": "Catalog",
            "stac_version": STAC_VERSION,
            "id": self.config.layer_name,
            "title": self.config.service_title(),
            "description": self.config.summary.clone().unwrap_or_else(|| format!("The outputs of an iwp run: {}", self.config.service_title())),
            "links": links,
        });
        write_json(&self.root(), &catalog)?;
        Ok(counts)
    }

    fn write_collection(
        &self,
        id: &str,
        description: &str,
        items: &[ItemDraft],
        counts: &mut Counts,
    ) -> anyhow::Result<()> {
        let dir = self.config.dir_catalog.join(id);
        let mut links = vec![
            json!({"rel": "root", "href": "../catalog.json", "type": "application/json"}),
            json!({"rel": "parent", "href": "../catalog.json", "type": "application/json"}),
        ];
        let mut bbox: Option<[f64; 4]> = None;
        for item in items {
            bbox = Some(bbox.map_or(item.bbox, |b| union(b, item.bbox)));
            let file = dir.join(&item.id).join(format!("{}.json", item.id));
            self.write_item(id, item, &file)?;
            links.push(
                json!({"rel": "item", "href": format!("./{0}/{0}.json", item.id), "type": "application/geo+json"}),
            );
            counts.items += 1;
            counts.assets += item.assets.len() as u64;
        }
        let collection = json!({
            "type": "Collection",
            "stac_version": STAC_VERSION,
            "id": format!("{}-{id}", self.config.layer_name),
            "description": description,
            "license": self.license,
            "extent": {
                "spatial": {"bbox": [bbox.expect("a collection has items")]},
                "temporal": {"interval": [[self.datetime, self.datetime]]},
            },
            "links": links,
        });
        counts.collections += 1;
        write_json(&dir.join("collection.json"), &collection)
    }

    fn write_item(&self, collection: &str, item: &ItemDraft, file: &Path) -> anyhow::Result<()> {
        let folder = file.parent().expect("an item file has a folder");
        let mut assets = Map::new();
        let mut uses_raster = false;
        for (key, asset) in &item.assets {
            let mut asset = asset.clone();
            let target = asset["href"].as_str().unwrap_or_default().to_string();
            asset["href"] = files::relative_url(folder, Path::new(&target))?.into();
            uses_raster |= asset.get("raster:bands").is_some();
            assets.insert(key.clone(), asset);
        }
        let mut extensions = Vec::new();
        if item.properties.keys().any(|k| k.starts_with("proj:")) {
            extensions.push(PROJECTION);
        }
        if uses_raster {
            extensions.push(RASTER);
        }
        let mut properties = item.properties.clone();
        properties.insert("datetime".into(), self.datetime.clone().into());
        let [w, s, e, n] = item.bbox;
        let value = json!({
            "type": "Feature",
            "stac_version": STAC_VERSION,
            "stac_extensions": extensions,
            "id": item.id,
            "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]},
            "bbox": item.bbox,
            "properties": properties,
            "links": [
                {"rel": "root", "href": "../../catalog.json", "type": "application/json"},
                {"rel": "parent", "href": "../collection.json", "type": "application/json"},
                {"rel": "collection", "href": "../collection.json", "type": "application/json"},
            ],
            "assets": assets,
            "collection": format!("{}-{collection}", self.config.layer_name),
        });
        write_json(file, &value)
    }

    fn tiles_proj(&self) -> Map<String, Value> {
        let mut p = Map::new();
        p.insert("proj:code".into(), format!("EPSG:{}", self.config.tms.epsg).into());
        p
    }

    /// One Item for the staged tiles, its asset a tile index (a GeoPackage of each tile's box,
    /// relative path, z/x/y and rows) written beside it.
    fn staged_items(&self, lines: &RunLines) -> anyhow::Result<Vec<ItemDraft>> {
        if lines.staged.is_empty() {
            return Ok(Vec::new());
        }
        let id = format!("staged-z{}", self.config.z_max);
        let index = self.config.dir_catalog.join("staged").join(&id).join("tiles.gpkg");
        let bbox = self.write_tile_index(&index, &lines.staged)?;
        let asset = json!({
            "href": index.display().to_string(),
            "type": "application/geopackage+sqlite3",
            "title": format!("Index of the {} staged tiles (column location: each tile's file, relative to this index)", lines.staged.len()),
            "roles": ["metadata", "index"],
        });
        Ok(vec![ItemDraft { id, bbox, properties: self.tiles_proj(), assets: vec![("index".into(), asset)] }])
    }

    fn write_tile_index(
        &self,
        index: &Path,
        staged: &BTreeMap<Tile, (PathBuf, Option<u64>)>,
    ) -> anyhow::Result<[f64; 4]> {
        let out = files::AtomicOutput::new(index)?;
        let mut ds = DriverManager::get_driver_by_name("GPKG")?.create_vector_only(out.path())?;
        let srs = iwp_vector::vector::registered_srs(self.config.tms.crs)?;
        let folder = index.parent().expect("in a folder");
        let mut bbox: Option<[f64; 4]> = None;
        {
            let mut txn = ds.start_transaction()?;
            let layer = txn.create_layer(LayerOptions {
                name: "tiles",
                srs: Some(&srs),
                ty: gdal_sys::OGRwkbGeometryType::wkbPolygon,
                options: None,
            })?;
            for (name, ty) in [
                ("location", OGRFieldType::OFTString),
                ("z", OGRFieldType::OFTInteger),
                ("x", OGRFieldType::OFTInteger),
                ("y", OGRFieldType::OFTInteger),
                ("features", OGRFieldType::OFTInteger64),
            ] {
                gdal::vector::FieldDefn::new(name, ty)?.add_to_layer(&layer)?;
            }
            for (tile, (path, features)) in staged {
                let b = self.config.tms.bounds(*tile);
                bbox = Some(
                    bbox.map_or([b.left, b.bottom, b.right, b.top], |o| union(o, [b.left, b.bottom, b.right, b.top])),
                );
                let location = files::relative_path(folder, path)?.display().to_string();
                let values = [
                    FieldValue::StringValue(location),
                    FieldValue::IntegerValue(i32::from(tile.z)),
                    FieldValue::IntegerValue(tile.x as i32),
                    FieldValue::IntegerValue(tile.y as i32),
                    FieldValue::Integer64Value(features.unwrap_or(0) as i64),
                ];
                let mut feature = Feature::new(layer.defn())?;
                for (k, v) in values.iter().enumerate() {
                    feature.set_field(k, v)?;
                }
                feature.set_geometry(Geometry::bbox(b.left, b.bottom, b.right, b.top)?)?;
                feature.create(&layer)?;
            }
            txn.commit()?;
        }
        drop(ds);
        out.commit()?;
        let b = bbox.expect("staged tiles");
        self.lonlat(b)
    }

    fn lonlat(&self, b: [f64; 4]) -> anyhow::Result<[f64; 4]> {
        lonlat_box(self.config, b)
    }

    /// One Item per level of the mosaic lines: a VRT asset per statistic and the level's COG.
    fn level_items(&self, lines: &RunLines) -> anyhow::Result<Vec<ItemDraft>> {
        let mut levels: BTreeMap<u8, Vec<&Mosaic>> = BTreeMap::new();
        for m in &lines.mosaics {
            levels.entry(m.z).or_default().push(m);
        }
        let mut items = Vec::new();
        for (z, files) in levels {
            let first = files[0];
            let mut properties = self.tiles_proj();
            properties.insert("proj:shape".into(), json!([first.size[1], first.size[0]]));
            properties.insert("proj:transform".into(), affine(first.transform).into());
            let mut assets = Vec::new();
            for m in &files {
                let (key, asset) = match &m.stat {
                    Some(stat) => (
                        stat.clone(),
                        json!({"href": m.path, "type": "application/xml", "title": format!("{stat}, level {z}: GDAL VRT mosaic of {} GeoTIFFs", m.tiles), "roles": ["data"]}),
                    ),
                    None => (
                        "cog".to_string(),
                        json!({"href": m.path, "type": COG_TYPE, "title": format!("Level {z}: every statistic as a Cloud-Optimized GeoTIFF"), "roles": ["data"]}),
                    ),
                };
                let names: Vec<&str> = match &m.stat {
                    Some(s) => vec![s.as_str()],
                    None => self.config.layer_names(),
                };
                assets.push((key, with_bands(asset, *m, &names)));
            }
            items.push(ItemDraft { id: format!("geotiff-z{z}"), bbox: first.lonlat_bbox, properties, assets });
        }
        Ok(items)
    }

    /// The run's extent in longitude and latitude, from whichever lines give one.
    fn extent(&self, lines: &RunLines) -> anyhow::Result<Option<[f64; 4]>> {
        let mut all: Vec<[f64; 4]> = lines.mosaics.iter().map(|m| m.lonlat_bbox).collect();
        if all.is_empty() && !lines.staged.is_empty() {
            let mut b: Option<[f64; 4]> = None;
            for t in lines.staged.keys() {
                let tb = self.config.tms.bounds(*t);
                let tb = [tb.left, tb.bottom, tb.right, tb.top];
                b = Some(b.map_or(tb, |o| union(o, tb)));
            }
            all.push(self.lonlat(b.expect("tiles"))?);
        }
        Ok(all.into_iter().reduce(union))
    }

    /// One Item for the web tiles: the WMTS capabilities, the map page and its index, legends and
    /// PMTiles archives that exist in dir_web_tiles.
    fn web_items(&self, lines: &RunLines) -> anyhow::Result<Vec<ItemDraft>> {
        let dir = &self.config.dir_web_tiles;
        let mut assets = Vec::new();
        let mut add = |key: String, file: PathBuf, kind: &str, title: String, roles: Value| {
            if file.is_file() {
                assets.push((
                    key,
                    json!({"href": file.display().to_string(), "type": kind, "title": title, "roles": roles}),
                ));
            }
        };
        add(
            "wmts".into(),
            dir.join("WMTSCapabilities.xml"),
            "application/xml",
            "WMTS capabilities".into(),
            json!(["metadata"]),
        );
        add("map".into(), dir.join("index.html"), "text/html", "Map page (OpenLayers)".into(), json!(["visual"]));
        add(
            "tiles-index".into(),
            dir.join("tiles.json"),
            "application/json",
            "The tiles the map page may ask for".into(),
            json!(["metadata"]),
        );
        for stat in self.config.layer_names() {
            add(
                format!("{stat}-legend"),
                dir.join(stat).join("legend.svg"),
                "image/svg+xml",
                format!("{stat} legend"),
                json!(["metadata"]),
            );
            add(
                format!("{stat}-pmtiles"),
                dir.join(format!("{stat}.pmtiles")),
                "application/vnd.pmtiles",
                format!("{stat} web tiles, PMTiles"),
                json!(["data"]),
            );
        }
        match (assets.is_empty(), self.extent(lines)?) {
            (false, Some(bbox)) => Ok(vec![ItemDraft { id: "web-tiles".into(), bbox, properties: Map::new(), assets }]),
            _ => Ok(Vec::new()),
        }
    }

    /// One Item for the 3D tiles when dir_3dtiles/tileset.json exists.
    fn tiles3d_items(&self, lines: &RunLines) -> anyhow::Result<Vec<ItemDraft>> {
        let tileset = self.config.dir_3dtiles.join("tileset.json");
        match (tileset.is_file(), self.extent(lines)?) {
            (true, Some(bbox)) => {
                let asset = json!({"href": tileset.display().to_string(), "type": "application/json", "title": "3D Tiles tileset", "roles": ["data"]});
                Ok(vec![ItemDraft {
                    id: "3dtiles".into(),
                    bbox,
                    properties: Map::new(),
                    assets: vec![("tileset".into(), asset)],
                }])
            }
            _ => Ok(Vec::new()),
        }
    }

    /// One Item per extract line: its COG (with band statistics) and GeoPackage.
    fn extract_items(&self, lines: &RunLines) -> anyhow::Result<Vec<ItemDraft>> {
        let mut items = Vec::new();
        for e in &lines.extracts {
            let Some(bbox) = e.lonlat_bbox else { continue };
            let stem = |p: &String| Path::new(p).file_stem().map(|s| s.to_string_lossy().into_owned());
            let Some(id) = e.cog.as_ref().or(e.gpkg.as_ref()).and_then(stem) else { continue };
            let mut properties = Map::new();
            match e.crs.as_deref() {
                Some(code) if code.starts_with("EPSG:") => drop(properties.insert("proj:code".into(), code.into())),
                Some(wkt) => drop(properties.insert("proj:wkt2".into(), wkt.into())),
                None => {}
            }
            if let (Some(size), Some(t)) = (e.size, e.transform) {
                properties.insert("proj:shape".into(), json!([size[1], size[0]]));
                properties.insert("proj:transform".into(), affine(t).into());
            }
            let mut assets = Vec::new();
            if let Some(cog) = &e.cog {
                let asset = json!({"href": cog, "type": COG_TYPE, "title": format!("Statistics of level {}", e.z.unwrap_or(self.config.z_max)), "roles": ["data"]});
                assets.push(("cog".to_string(), with_bands(asset, e, &self.config.layer_names())));
            }
            if let Some(gpkg) = &e.gpkg {
                let title = format!("{} polygons", e.polygons.unwrap_or(0));
                assets.push((
                    "polygons".to_string(),
                    json!({"href": gpkg, "type": "application/geopackage+sqlite3", "title": title, "roles": ["data"]}),
                ));
            }
            items.push(ItemDraft { id, bbox, properties, assets });
        }
        Ok(items)
    }
}

/// `asset` with `raster:bands` for the bands `names` of a line (statistics where it has them).
fn with_bands(mut asset: Value, line: &impl Bands, names: &[&str]) -> Value {
    let bands: Vec<Value> = names
        .iter()
        .map(|name| {
            let mut band = json!({"data_type": "float64", "nodata": "nan"});
            if let Some(f) = line.band(name) {
                band["statistics"] = json!({"minimum": f.min, "maximum": f.max});
            }
            band
        })
        .collect();
    asset["raster:bands"] = bands.into();
    asset
}

/// A GDAL geotransform in the order of `proj:transform` (an affine's first two rows).
fn affine(t: [f64; 6]) -> Vec<f64> {
    vec![t[1], t[2], t[0], t[4], t[5], t[3]]
}

/// A box (west, south, east, north) in the tiles' CRS in longitude and latitude.
pub(crate) fn lonlat_box(config: &Config, [left, bottom, right, top]: [f64; 4]) -> anyhow::Result<[f64; 4]> {
    let b = iwp_vector::vector::lonlat_bounds(config.tms, iwp_core::tms::Bounds { left, bottom, right, top })?;
    Ok([b.left, b.bottom, b.right, b.top])
}

/// The box holding boxes `a` and `b` (west, south, east, north).
pub(crate) fn union(a: [f64; 4], b: [f64; 4]) -> [f64; 4] {
    [a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3])]
}

fn write_json(path: &Path, value: &Value) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    files::write_atomic(path, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}

impl RunLines {
    /// Adds a staged-tile line's tile (a later line of the same tile wins).
    pub fn add_staged(&mut self, tile: Tile, line: &StagedTile) {
        self.staged.insert(tile, (PathBuf::from(&line.path), line.features));
    }

    /// Adds a mosaic line (a later line of the same file wins).
    pub fn add_mosaic(&mut self, line: Mosaic) {
        self.mosaics.retain(|m| m.path != line.path);
        self.mosaics.push(line);
    }

    /// Adds an extract line (a later line of the same files wins: an area extracted again).
    pub fn add_extract(&mut self, line: Extract) {
        self.extracts.retain(|e| (&e.cog, &e.gpkg) != (&line.cog, &line.gpkg));
        self.extracts.push(line);
    }
}
