//! Web outputs: palettes (as the reference's coloraide builds them), coloured PNG web tiles and
//! previews, WMTS capabilities.

#![warn(missing_docs)]

pub mod legend;
pub mod palette;
pub mod pmtiles_archive;
pub mod viewer;
pub mod webtile;
pub mod webtile_job;
pub mod wmts;
