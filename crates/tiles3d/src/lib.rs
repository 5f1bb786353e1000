//! Cesium 3D Tiles from staged tiles: polygons as flat triangle meshes in Earth-centred,
//! Earth-fixed coordinates (EPSG:4978) around a tile-local centre, written as glTF contents whose
//! features carry the staged columns, under a tileset.json hierarchy that follows the tiling
//! scheme.
#![warn(missing_docs)]

pub mod check;
pub mod content;
pub mod ecef;
pub mod frame;
pub mod glb;
pub mod mesh;
pub mod tiles3d_job;
pub mod tileset;
