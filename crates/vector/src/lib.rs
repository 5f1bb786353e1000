//! Vector data with GDAL: input files, geometry, simplification, footprint dedup (and the
//! footprint index), staging into z-max GeoPackage tiles, neighbour dedup, merging node
//! folders, and generated sample data.

#![warn(missing_docs)]

pub mod extent;
pub mod footprint_index;
pub mod footprints;
pub mod geom;
pub mod gpkg;
pub mod input_features;
pub mod merge;
pub mod merge_job;
pub mod neighbors;
pub mod simplify;
pub mod stage;
pub mod stage_job;
pub mod synth;
pub mod tile_sql;
pub mod tilestore;
pub mod vector;
