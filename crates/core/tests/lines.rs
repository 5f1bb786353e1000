//! docs/job-lines.md documents exactly the line kinds of `iwp_core::lines`: every kind, and
//! every field in the order the types write them (each type filled in and written here).

use iwp_core::lines::*;
use serde_json::Value;

/// The documented kinds: per `## kind` heading, the fields of its table (`…` as `...`).
fn documented() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/job-lines.md")).unwrap();
    let mut kinds: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        if let Some(kind) = line.strip_prefix("## ") {
            kinds.push((kind.trim().to_string(), Vec::new()));
        } else if let (Some(rest), Some((_, fields))) = (line.strip_prefix("| `"), kinds.last_mut()) {
            let name = rest.split('`').next().unwrap();
            fields.push(if name == "…" { "...".into() } else { name.to_string() });
        }
    }
    kinds.retain(|(_, fields)| !fields.is_empty());
    kinds
}

/// The keys a line writes, in order (an `extra` holding only `...` marks where extra fields go).
fn keys<T: serde::Serialize>(line: &T) -> Vec<String> {
    match serde_json::to_value(line).unwrap() {
        Value::Object(m) => m.keys().cloned().collect(),
        _ => panic!("a line is a JSON object"),
    }
}

fn extra() -> Extra {
    let mut e = Extra::new();
    e.insert("...".into(), Value::Null);
    e
}

fn tile() -> TileAt {
    TileAt { tms: Some("WorldCRS84Quad".into()), z: Some(15), x: Some(1), y: Some(2) }
}

#[test]
fn the_documentation_lists_every_kind_and_field_in_order() {
    let written: Vec<(&str, Vec<String>)> = vec![
        (
            "input file",
            keys(&InputFile {
                path: "a.shp".into(),
                footprint: Some("a.gpkg".into()),
                bytes: Some(1),
                polygons: Some(1),
                extra: extra(),
                status: Some(Status::Ok),
            }),
        ),
        (
            "staged tile",
            keys(&StagedTile {
                tile: tile(),
                path: "t.gpkg".into(),
                features: Some(1),
                rows: Some(1),
                file: Some("a.shp".into()),
                source: Some("a.shp".into()),
                parts: Some(1),
                sources: Some(1),
                action: Some("linked".into()),
                added: Some(1),
                secs: Some(0.1),
                extra: extra(),
                status: Some(Status::Ok),
            }),
        ),
        ("GeoTIFF", {
            let mut g = GeoTiff {
                tile: tile(),
                path: "t.tif".into(),
                skipped: Some(false),
                secs: Some(0.1),
                ..Default::default()
            };
            g.set_band("<stat>", BandFigures { min: 0.0, max: 1.0, sum: 2.0 });
            g.extra.insert("...".into(), Value::Null);
            g.status = Some(Status::Ok);
            keys(&g)
        }),
        (
            "PNG",
            keys(&Png {
                tile: tile(),
                stat: "s".into(),
                path: "t.png".into(),
                source: Some("t.tif".into()),
                parts: Some(2),
                skipped: Some(false),
                secs: Some(0.1),
                extra: extra(),
                status: Some(Status::Ok),
            }),
        ),
        (
            "3D content",
            keys(&Content3d {
                tile: tile(),
                path: "15/1/2.glb".into(),
                features: Some(1),
                triangles: Some(2),
                duplicates: Some(0),
                bytes: Some(3),
                region: Some([0.0; 6]),
                skipped: Some(true),
                secs: Some(0.1),
                extra: extra(),
                status: Some(Status::Ok),
            }),
        ),
        (
            "3D tileset",
            keys(&Tileset3d { path: "3dtiles/tileset.json".into(), tiles: 1, bytes: 1, status: Some(Status::Ok) }),
        ),
        ("extract", {
            let mut e = Extract {
                name: Some("a".into()),
                bbox: Some([0.0, 0.0, 1.0, 1.0]),
                bbox_crs: Some("EPSG:3413".into()),
                area: Some("a.geojson".into()),
                z: Some(15),
                cog: Some("a.tif".into()),
                gpkg: Some("a.gpkg".into()),
                crs: Some("EPSG:4326".into()),
                size: Some([1, 1]),
                transform: Some([0.0; 6]),
                lonlat_bbox: Some([0.0; 4]),
                tiles: Some(1),
                polygons: Some(1),
                duplicates: Some(0),
                duplicates_kept: Some(true),
                bytes: Some(1),
                skipped: Some(false),
                secs: Some(0.1),
                ..Default::default()
            };
            e.set_band("<stat>", BandFigures { min: 0.0, max: 1.0, sum: 2.0 });
            e.extra.insert("...".into(), Value::Null);
            e.status = Some(Status::Ok);
            keys(&e)
        }),
        ("mosaic", {
            let mut m = Mosaic {
                tms: Some("WorldCRS84Quad".into()),
                z: 15,
                stat: Some("iwp_count".into()),
                path: "m.vrt".into(),
                tiles: 1,
                size: [1, 1],
                transform: [0.0; 6],
                crs: "EPSG:4326".into(),
                lonlat_bbox: [0.0; 4],
                bytes: 1,
                secs: Some(0.1),
                ..Default::default()
            };
            m.set_band("<stat>", BandFigures { min: 0.0, max: 1.0, sum: 2.0 });
            m.extra.insert("...".into(), Value::Null);
            m.status = Some(Status::Ok);
            keys(&m)
        }),
        (
            "catalog",
            keys(&Catalog {
                path: "stac/catalog.json".into(),
                collections: 1,
                items: 1,
                assets: 1,
                status: Some(Status::Ok),
            }),
        ),
        (
            "archive",
            keys(&Archive {
                archive: Some("part-1-00001.tar".into()),
                manifest: Some("manifest-1.ndjson".into()),
                files: 1,
                bytes: Some(1),
                skipped: Some(true),
                secs: Some(0.1),
                extra: extra(),
                status: Some(Status::Ok),
            }),
        ),
        (
            "error",
            keys(&ErrorLine {
                line: Some(1),
                input: Some("{".into()),
                job: extra(),
                status: Status::Error,
                error: "e".into(),
            }),
        ),
        ("node", keys(&Node { node: "n".into(), index: 0, head: true })),
    ];
    let documented = documented();
    let names = |v: &[(String, Vec<String>)]| v.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    assert_eq!(names(&documented), written.iter().map(|(k, _)| k.to_string()).collect::<Vec<_>>(), "the kinds");
    for ((kind, fields), (_, types)) in documented.iter().zip(&written) {
        assert_eq!(fields, types, "{kind}: docs/job-lines.md against the type");
        let listed = KINDS.iter().find(|(k, _)| k == kind).unwrap().1;
        assert_eq!(fields, listed, "{kind}: against lines::KINDS");
    }
}
