//! Domain logic shared by every iwp tool. Tools are thin: clap arguments and a loop over
//! job lines; everything else lives here, one module per concern.

pub mod aggregate;
pub mod bandstats;
pub mod cli;
pub mod colour;
pub mod config;
pub mod coverage;
pub mod extent;
pub mod files;
pub mod footprint_index;
pub mod footprints;
pub mod geom;
pub mod geotiff;
pub mod gpkg;
pub mod hostlist;
pub mod jobs;
pub mod logging;
pub mod merge;
pub mod neighbors;
pub mod pack;
pub mod palette;
pub mod progress;
pub mod pyramid;
pub mod rasterize;
pub mod shard;
pub mod simplify;
pub mod stage;
pub mod synth;
pub mod temps;
pub mod tilejobs;
pub mod tilestore;
pub mod tms;
pub mod vector;
pub mod webtile;
pub mod wmts;
