//! Area extracts (a Cloud-Optimized GeoTIFF and a GeoPackage of an area), per-level mosaics, and
//! a static STAC catalog of a run.
#![warn(missing_docs)]

pub mod area;
pub mod catalog;
pub mod cog;
pub mod extract_job;
pub mod gdal_apps;
pub mod mosaic;
pub mod polygons;
