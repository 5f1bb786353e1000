//! Statistics rasters: exact pixel coverage of polygons, staged tiles rasterized into bands,
//! band summaries, lower levels from their children, and GeoTIFF files.

#![warn(missing_docs)]

pub mod aggregate;
pub mod bandstats;
pub mod coverage;
pub mod geotiff;
pub mod pyramid;
pub mod raster_job;
pub mod rasterize;
pub mod subtrees;
