//! A mesh and its features' attributes as one binary glTF (GLB) for 3D Tiles 1.1: an unlit,
//! vertex-coloured triangle mesh whose vertices carry feature ids (EXT_mesh_features) into a
//! property table of typed columns (EXT_structural_metadata). glTF is y-up: positions and the
//! node's translation (the tile's centre) are turned from z-up ECEF as 3D Tiles clients expect.

use crate::frame;
use crate::mesh::Mesh;
use serde_json::{json, Value};

/// One attribute of every feature, in feature order; None is a missing value.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Real numbers (missing: [`NO_DATA_FLOAT`]).
    Float64(Vec<Option<f64>>),
    /// Integers (missing: [`NO_DATA_INT`]).
    Int64(Vec<Option<i64>>),
    /// Texts (missing: the empty text).
    Text(Vec<Option<String>>),
    /// True or false (missing: false).
    Boolean(Vec<Option<bool>>),
}

/// The value a missing real number is written as (the property's `noData`).
pub const NO_DATA_FLOAT: f64 = f64::MIN;
/// The value a missing integer is written as (the property's `noData`).
pub const NO_DATA_INT: i64 = i64::MIN;

/// The features' attributes: one named column each.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PropertyTable {
    /// Column names, valid metadata identifiers.
    pub names: Vec<String>,
    /// The columns, as many values as features.
    pub columns: Vec<Column>,
}

/// The binary chunk being built, and its buffer views.
#[derive(Default)]
struct Bin {
    data: Vec<u8>,
    views: Vec<Value>,
}

impl Bin {
    /// Appends `bytes` at an 8-byte boundary as a new buffer view; its index.
    fn view(&mut self, bytes: &[u8], target: Option<u32>) -> usize {
        while !self.data.len().is_multiple_of(8) {
            self.data.push(0);
        }
        let mut v = json!({"buffer": 0, "byteOffset": self.data.len(), "byteLength": bytes.len()});
        if let Some(t) = target {
            v["target"] = t.into();
        }
        self.data.extend_from_slice(bytes);
        self.views.push(v);
        self.views.len() - 1
    }
}

/// glTF's y-up axes from z-up ECEF: (x, y, z) is stored as (x, z, -y).
fn y_up([x, y, z]: [f64; 3]) -> [f64; 3] {
    [x, z, -y]
}

const ARRAY_BUFFER: u32 = 34962;
const ELEMENT_ARRAY_BUFFER: u32 = 34963;
const FLOAT: u32 = 5126;
const SHORT: u32 = 5122;
const UNSIGNED_BYTE: u32 = 5121;
const UNSIGNED_SHORT: u32 = 5123;
const UNSIGNED_INT: u32 = 5125;

/// The kind of content file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// 3D Tiles 1.1: a GLB whose features and attributes are glTF extensions.
    #[default]
    Glb,
    /// 3D Tiles 1.0: a B3DM, a GLB with `_BATCHID` per vertex after a batch table, for older
    /// clients.
    B3dm,
}

/// The GLB of `mesh` with `features` features whose attributes are `table`.
pub fn write(mesh: &Mesh, features: usize, table: &PropertyTable) -> Vec<u8> {
    write_as(Format::Glb, mesh, features, table)
}

/// The content of `mesh` in `format`.
pub fn write_as(format: Format, mesh: &Mesh, features: usize, table: &PropertyTable) -> Vec<u8> {
    let mut bin = Bin::default();
    let quantized = if format == Format::Glb { frame::quantize(mesh.centre, &mesh.positions) } else { None };
    let (position, node) = match &quantized {
        Some(q) => quantized_positions(q, &mut bin),
        None => float_positions(mesh, &mut bin),
    };
    let mut accessors = vec![position];
    let view = bin.view(&bytes_of(mesh.colours.iter().copied()), Some(ARRAY_BUFFER));
    accessors.push(json!({"bufferView": view, "componentType": UNSIGNED_BYTE, "normalized": true,
        "count": mesh.colours.len(), "type": "VEC4"}));
    // Feature ids as floats: exact below 2^24, and 4-byte aligned as vertex attributes must be.
    let view = bin.view(&bytes_of(mesh.feature_ids.iter().map(|&f| (f as f32).to_le_bytes())), Some(ARRAY_BUFFER));
    accessors
        .push(json!({"bufferView": view, "componentType": FLOAT, "count": mesh.feature_ids.len(), "type": "SCALAR"}));
    let (view, component) = if mesh.positions.len() <= usize::from(u16::MAX) {
        (
            bin.view(&bytes_of(mesh.indices.iter().map(|&i| (i as u16).to_le_bytes())), Some(ELEMENT_ARRAY_BUFFER)),
            UNSIGNED_SHORT,
        )
    } else {
        (bin.view(&bytes_of(mesh.indices.iter().map(|i| i.to_le_bytes())), Some(ELEMENT_ARRAY_BUFFER)), UNSIGNED_INT)
    };
    accessors
        .push(json!({"bufferView": view, "componentType": component, "count": mesh.indices.len(), "type": "SCALAR"}));
    if format == Format::B3dm {
        return b3dm::wrap(node, features, table, bin, accessors);
    }
    let [class_properties, table_properties, enums] = metadata(table, &mut bin);
    let mut schema = json!({"id": "iwp", "classes": {"polygon": {"properties": class_properties}}});
    if !enums.is_empty() {
        schema["enums"] = enums.into();
    }
    let metadata = json!({
        "schema": schema,
        "propertyTables": [{"class": "polygon", "count": features, "properties": table_properties}]
    });
    glb_of(Gltf { bin, accessors, node, quantized: quantized.is_some() }, Some((features, metadata)))
}

/// Float positions relative to the mesh's centre, in ECEF axes: their accessor and the node
/// placing them.
fn float_positions(mesh: &Mesh, bin: &mut Bin) -> (Value, Value) {
    let positions: Vec<[f32; 3]> = mesh.positions.iter().map(|p| y_up(p.map(f64::from)).map(|v| v as f32)).collect();
    let (mut min, mut max) = ([f32::INFINITY; 3], [f32::NEG_INFINITY; 3]);
    for p in &positions {
        for k in 0..3 {
            min[k] = min[k].min(p[k]);
            max[k] = max[k].max(p[k]);
        }
    }
    let view = bin.view(&bytes_of(positions.iter().flatten().map(|v| v.to_le_bytes())), Some(ARRAY_BUFFER));
    let accessor = json!({"bufferView": view, "componentType": FLOAT, "count": positions.len(), "type": "VEC3",
        "min": min, "max": max});
    (accessor, json!({"mesh": 0, "translation": y_up(mesh.centre)}))
}

/// Quantized positions (16-bit steps, padded to 8 bytes a vertex as vertex attributes must be
/// 4-byte aligned) in their east-north-up frame: their accessor and the node whose rotation,
/// scale and translation place the steps.
fn quantized_positions(q: &frame::Quantized, bin: &mut Bin) -> (Value, Value) {
    let (mut min, mut max) = ([i16::MAX; 3], [i16::MIN; 3]);
    let mut bytes = Vec::with_capacity(8 * q.positions.len());
    for p in &q.positions {
        for k in 0..3 {
            (min[k], max[k]) = (min[k].min(p[k]), max[k].max(p[k]));
            bytes.extend_from_slice(&p[k].to_le_bytes());
        }
        bytes.extend_from_slice(&[0, 0]);
    }
    let view = bin.view(&bytes, Some(ARRAY_BUFFER));
    bin.views[view]["byteStride"] = 8.into();
    let accessor = json!({"bufferView": view, "componentType": SHORT, "count": q.positions.len(), "type": "VEC3",
        "min": min, "max": max});
    let rotation = frame::quaternion(q.axes.map(y_up));
    (accessor, json!({"mesh": 0, "translation": y_up(q.origin), "rotation": rotation, "scale": q.step}))
}

/// A glTF being built: its binary chunk, accessors and node, and whether its positions are
/// quantized.
struct Gltf {
    bin: Bin,
    accessors: Vec<Value>,
    node: Value,
    quantized: bool,
}

/// The GLB of the mesh's accessors in `bin`. With `metadata` (the feature count and the
/// EXT_structural_metadata object), feature ids are `_FEATURE_ID_0` through EXT_mesh_features
/// (3D Tiles 1.1); without, they are `_BATCHID` and the GLB carries no metadata (for a B3DM).
fn glb_of(Gltf { mut bin, accessors, node, quantized }: Gltf, metadata: Option<(usize, Value)>) -> Vec<u8> {
    while !bin.data.len().is_multiple_of(8) {
        bin.data.push(0);
    }
    let ids = if metadata.is_some() { "_FEATURE_ID_0" } else { "_BATCHID" };
    let mut gltf = json!({
        "asset": {"version": "2.0", "generator": concat!("iwp-3dtiles ", env!("CARGO_PKG_VERSION"))},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [node],
        "materials": [{"pbrMetallicRoughness": {"metallicFactor": 0.0, "roughnessFactor": 1.0},
            "extensions": {"KHR_materials_unlit": {}}}],
        "meshes": [{"primitives": [{
            "attributes": {"POSITION": 0, "COLOR_0": 1, ids: 2},
            "indices": 3, "material": 0, "mode": 4
        }]}],
        "accessors": accessors,
        "bufferViews": bin.views,
        "buffers": [{"byteLength": bin.data.len()}],
    });
    let mut used = vec!["KHR_materials_unlit"];
    if quantized {
        used.push("KHR_mesh_quantization");
        gltf["extensionsRequired"] = json!(["KHR_mesh_quantization"]);
    }
    if let Some((features, metadata)) = metadata {
        used.extend(["EXT_mesh_features", "EXT_structural_metadata"]);
        gltf["extensions"] = json!({"EXT_structural_metadata": metadata});
        gltf["meshes"][0]["primitives"][0]["extensions"] = json!({"EXT_mesh_features": {"featureIds": [
            {"featureCount": features, "attribute": 0, "propertyTable": 0}
        ]}});
    }
    used.sort_unstable();
    gltf["extensionsUsed"] = json!(used);
    container(&gltf, bin.data)
}

/// B3DM (3D Tiles 1.0): feature table, batch table, then the GLB.
mod b3dm {
    use super::*;

    /// The B3DM of the mesh: `BATCH_LENGTH` features, their attributes in the batch table
    /// (numbers in its binary body, texts and booleans as JSON arrays).
    pub(super) fn wrap(
        node: Value,
        features: usize,
        table: &PropertyTable,
        bin: Bin,
        accessors: Vec<Value>,
    ) -> Vec<u8> {
        let glb = glb_of(Gltf { bin, accessors, node, quantized: false }, None);
        // The header is 28 bytes: the feature table's JSON ends 8-byte aligned at 4 more than a
        // multiple of 8; every later part is a multiple of 8.
        let mut feature_json = serde_json::to_vec(&json!({"BATCH_LENGTH": features})).expect("JSON");
        while !(28 + feature_json.len()).is_multiple_of(8) {
            feature_json.push(b' ');
        }
        let (mut batch, mut body) = (serde_json::Map::new(), Vec::new());
        for (name, column) in table.names.iter().zip(&table.columns) {
            let value = match column {
                Column::Float64(v) => {
                    binary(&mut body, v.iter().map(|x| x.unwrap_or(NO_DATA_FLOAT).to_le_bytes()), "DOUBLE")
                }
                // Batch tables have no 64-bit integers: as doubles (exact to 2^53).
                Column::Int64(v) => {
                    binary(&mut body, v.iter().map(|x| (x.unwrap_or(NO_DATA_INT) as f64).to_le_bytes()), "DOUBLE")
                }
                Column::Text(v) => json!(v.iter().map(|x| x.clone().unwrap_or_default()).collect::<Vec<_>>()),
                Column::Boolean(v) => json!(v.iter().map(|x| x.unwrap_or(false)).collect::<Vec<_>>()),
            };
            batch.insert(name.clone(), value);
        }
        let batch_json = padded(serde_json::to_vec(&batch).expect("JSON"), b' ');
        let body = padded(body, 0);
        let total = 28 + feature_json.len() + batch_json.len() + body.len() + glb.len();
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(b"b3dm");
        for v in [1, total, feature_json.len(), 0, batch_json.len(), body.len()] {
            out.extend_from_slice(&(v as u32).to_le_bytes());
        }
        out.extend_from_slice(&feature_json);
        out.extend_from_slice(&batch_json);
        out.extend_from_slice(&body);
        out.extend_from_slice(&glb);
        out
    }

    /// A column in the batch table's binary body (8-byte aligned), and its reference.
    fn binary(body: &mut Vec<u8>, values: impl Iterator<Item = [u8; 8]>, component: &str) -> Value {
        let offset = body.len();
        body.extend(values.flatten());
        json!({"byteOffset": offset, "componentType": component, "type": "SCALAR"})
    }

    /// `bytes` padded with `pad` to a multiple of 8.
    fn padded(mut bytes: Vec<u8>, pad: u8) -> Vec<u8> {
        while !bytes.len().is_multiple_of(8) {
            bytes.push(pad);
        }
        bytes
    }
}

/// The class's properties, the table's columns (their values appended to `bin`) and the enums
/// of the texts stored as enums.
fn metadata(table: &PropertyTable, bin: &mut Bin) -> [serde_json::Map<String, Value>; 3] {
    let (mut class, mut columns, mut enums) = (serde_json::Map::new(), serde_json::Map::new(), serde_json::Map::new());
    for (name, column) in table.names.iter().zip(&table.columns) {
        let (definition, values) = match column {
            Column::Float64(v) => {
                let bytes = bytes_of(v.iter().map(|x| x.unwrap_or(NO_DATA_FLOAT).to_le_bytes()));
                (
                    json!({"type": "SCALAR", "componentType": "FLOAT64", "noData": NO_DATA_FLOAT}),
                    json!({"values": bin.view(&bytes, None)}),
                )
            }
            Column::Int64(v) => {
                let bytes = bytes_of(v.iter().map(|x| x.unwrap_or(NO_DATA_INT).to_le_bytes()));
                (
                    json!({"type": "SCALAR", "componentType": "INT64", "noData": NO_DATA_INT}),
                    json!({"values": bin.view(&bytes, None)}),
                )
            }
            Column::Boolean(v) => {
                let mut bits = vec![0u8; v.len().div_ceil(8)];
                for (i, b) in v.iter().enumerate() {
                    if b.unwrap_or(false) {
                        bits[i / 8] |= 1 << (i % 8);
                    }
                }
                (json!({"type": "BOOLEAN"}), json!({"values": bin.view(&bits, None)}))
            }
            Column::Text(v) => {
                // Few distinct texts (image names, dates, sensors): an enum, one byte each.
                let distinct: std::collections::BTreeSet<&str> = v.iter().filter_map(|x| x.as_deref()).collect();
                let whole = v.iter().all(|x| x.as_deref().is_some_and(|t| !t.is_empty()));
                if whole && distinct.len() <= 255 && distinct.len() < v.len() {
                    let names: Vec<&str> = distinct.into_iter().collect();
                    let codes: Vec<u8> =
                        v.iter().map(|x| names.binary_search(&x.as_deref().unwrap_or("")).unwrap_or(0) as u8).collect();
                    let values: Vec<Value> =
                        names.iter().enumerate().map(|(i, n)| json!({"name": n, "value": i})).collect();
                    enums.insert(name.clone(), json!({"valueType": "UINT8", "values": values}));
                    (json!({"type": "ENUM", "enumType": name}), json!({"values": bin.view(&codes, None)}))
                } else {
                    let (mut text, mut offsets) = (Vec::new(), vec![0usize]);
                    for s in v {
                        text.extend_from_slice(s.as_deref().unwrap_or("").as_bytes());
                        offsets.push(text.len());
                    }
                    let values = bin.view(&text, None);
                    let (offsets, kind) = if text.len() <= usize::from(u16::MAX) {
                        (bytes_of(offsets.iter().map(|&o| (o as u16).to_le_bytes())), "UINT16")
                    } else {
                        (bytes_of(offsets.iter().map(|&o| (o as u32).to_le_bytes())), "UINT32")
                    };
                    let offsets = bin.view(&offsets, None);
                    (
                        json!({"type": "STRING"}),
                        json!({"values": values, "stringOffsets": offsets, "stringOffsetType": kind}),
                    )
                }
            }
        };
        class.insert(name.clone(), definition);
        columns.insert(name.clone(), values);
    }
    [class, columns, enums]
}

/// The bytes of a sequence of fixed-size values.
fn bytes_of<const N: usize>(values: impl Iterator<Item = [u8; N]>) -> Vec<u8> {
    values.flatten().collect()
}

/// The GLB container: header, JSON chunk padded with spaces so that the binary data starts at an
/// 8-byte boundary of the file, binary chunk (already a multiple of 8 bytes).
fn container(gltf: &Value, bin: Vec<u8>) -> Vec<u8> {
    let mut json = serde_json::to_vec(gltf).expect("glTF JSON");
    // 12 (header) + 8 (JSON chunk header) + JSON + 8 (BIN chunk header) = the data's start.
    while !(28 + json.len()).is_multiple_of(8) {
        json.push(b' ');
    }
    let total = 12 + 8 + json.len() + 8 + bin.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"glTF");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(b"JSON");
    out.extend_from_slice(&json);
    out.extend_from_slice(&(bin.len() as u32).to_le_bytes());
    out.extend_from_slice(b"BIN\0");
    out.extend_from_slice(&bin);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecef::to_ecef;

    /// A GLB of two triangles (one feature each) with a column of each type.
    pub fn sample() -> Vec<u8> {
        let mut mesh = Mesh::new(to_ecef(-150.0, 70.0, 0.0));
        let a = [(-150.0, 70.0), (-149.9999, 70.0), (-149.9999, 70.00005), (-150.0, 70.0)];
        let b = [(-150.0, 70.0001), (-149.9999, 70.0001), (-149.9999, 70.00015)];
        mesh.add_polygon([a.as_slice()], 0.0, 0, [255, 0, 0, 255]);
        mesh.add_polygon([b.as_slice()], 0.0, 1, [0, 0, 255, 255]);
        let table = PropertyTable {
            names: vec!["area".into(), "class".into(), "source".into(), "staging_duplicated".into()],
            columns: vec![
                Column::Float64(vec![Some(12.5), None]),
                Column::Int64(vec![Some(3), Some(-1)]),
                Column::Text(vec![Some("WV02_a.shp".into()), Some("ü".into())]),
                Column::Boolean(vec![Some(false), Some(true)]),
            ],
        };
        write(&mesh, 2, &table)
    }

    #[test]
    fn khronos_validator_finds_no_error_or_warning() {
        let clients = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/clients");
        if !std::path::Path::new(clients).join("node_modules/gltf-validator").is_dir() {
            assert!(std::env::var("IWP_REQUIRE_CLIENTS").is_err(), "tests/clients is not installed");
            eprintln!("SKIP: tests/clients/node_modules missing (run tests/clients/install.sh)");
            return;
        }
        let dir = std::env::temp_dir().join(format!("iwp-glb-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("sample.glb");
        std::fs::write(&file, sample()).unwrap();
        let out =
            std::process::Command::new("node").arg(format!("{clients}/validate-gltf.mjs")).arg(&file).output().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        eprintln!("{report}");
        assert!(out.status.success() && report["errors"] == 0 && report["warnings"] == 0, "{report:#}");
    }

    #[test]
    fn chunks_are_aligned_and_lengths_agree() {
        let glb = sample();
        assert_eq!(&glb[0..4], b"glTF");
        assert_eq!(u32::from_le_bytes(glb[8..12].try_into().unwrap()) as usize, glb.len());
        assert!(glb.len().is_multiple_of(8));
        let json_len = u32::from_le_bytes(glb[12..16].try_into().unwrap()) as usize;
        let bin_at = 20 + json_len;
        assert_eq!(&glb[bin_at + 4..bin_at + 8], b"BIN\0");
        assert!((bin_at + 8).is_multiple_of(8), "binary data starts 8-byte aligned");
        let gltf: Value = serde_json::from_slice(&glb[20..bin_at]).unwrap();
        let bin_len = u32::from_le_bytes(glb[bin_at..bin_at + 4].try_into().unwrap()) as u64;
        assert_eq!(gltf["buffers"][0]["byteLength"].as_u64(), Some(bin_len));
        for v in gltf["bufferViews"].as_array().unwrap() {
            assert!(v["byteOffset"].as_u64().unwrap().is_multiple_of(8));
        }
        let table = &gltf["extensions"]["EXT_structural_metadata"]["propertyTables"][0];
        assert_eq!(table["count"], 2);
        assert_eq!(
            gltf["meshes"][0]["primitives"][0]["extensions"]["EXT_mesh_features"]["featureIds"][0]["featureCount"],
            2
        );
    }
}
