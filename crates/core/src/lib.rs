//! What every iwp tool shares, without GDAL: job lines and how tools read and write them,
//! the config, tile matrix sets, sharding, output files and temporaries, logging, Slurm
//! hostlists, progress of a stage, and packs of many small files.

#![warn(missing_docs)]

pub mod cli;
pub mod colour;
pub mod config;
pub mod files;
pub mod hostlist;
pub mod jobs;
pub mod lines;
pub mod logging;
pub mod pack;
pub mod progress;
pub mod rand;
pub mod runner;
pub mod shard;
pub mod temps;
pub mod tilejobs;
pub mod tms;
