//! iwp-extract: an area's raster as one Cloud-Optimized GeoTIFF and its polygons as one GeoPackage.

use clap::Parser;
use iwp_core::cli::{self, ConfigArgs, JobArgs, LogArgs, ThreadArgs};
use iwp_core::lines::Extract;
use iwp_core::runner::{Job, Run};
use iwp_delivery::extract_job::Extractor;
use std::process::ExitCode;

/// The tool's name, for messages.
const TOOL: &str = "iwp-extract";

/// Extracts areas (one job line each, from --input or stdin; or the one area of --bbox or --area,
/// and then no job line is read): a Cloud-Optimized
/// GeoTIFF of the level's GeoTIFFs over the area (every band, NaN outside it; in the tiles' CRS
/// with their very pixels, or warped by GDAL to --t-srs), and a GeoPackage of the staged
/// polygons meeting the area (each once, every column; duplicates left out when
/// deduplicate_at lists `extract`, else kept with their flag). Files go to dir_extracts, named by
/// product, level and area. One result line per area with counts and bytes.
#[derive(Parser, Debug)]
#[command(
    version = iwp_version::VERSION,
    after_help = "Examples:\n  iwp-extract -c c.json --bbox=-150.3,68.9,-150.1,69.0 --name toolik\n  iwp-extract -c c.json --bbox=-2.1e6,-0.1e6,-2.0e6,0 --bbox-crs EPSG:3413 --t-srs EPSG:3413\n  iwp-extract -c c.json --area sites.gpkg --z 13\n  iwp-extract -c c.json --input areas.ndjson --shard auto > extracts-$SLURM_PROCID.ndjson"
)]
struct Args {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    jobs: JobArgs,
    /// The area as a box: MINX,MINY,MAXX,MAXY (longitude, latitude unless --bbox-crs).
    #[arg(long, value_name = "MINX,MINY,MAXX,MAXY", value_parser = parse_bbox, allow_hyphen_values = true, conflicts_with = "area")]
    bbox: Option<[f64; 4]>,
    /// The box's CRS (EPSG:code or any GDAL user input).
    #[arg(long, value_name = "CRS", requires = "bbox")]
    bbox_crs: Option<String>,
    /// The area as a polygon file (GeoJSON, GeoPackage, shapefile, ...): the union of its polygons.
    #[arg(long, value_name = "FILE")]
    area: Option<String>,
    /// The area's name in the files' names (default: the file's name, or the box).
    #[arg(long)]
    name: Option<String>,
    /// The raster's level (default z-max); the polygons always come from the z-max staged tiles.
    #[arg(long, value_name = "Z")]
    z: Option<u8>,
    /// Warp the COG to this CRS (nearest neighbour) instead of keeping the tiles' grid.
    #[arg(long, value_name = "CRS")]
    t_srs: Option<String>,
    /// Write extracts that already exist again.
    #[arg(long)]
    force: bool,
    /// GDAL's raster block cache, in MB (GDAL_CACHEMAX): with the warper's chunks, what bounds
    /// the memory of an extract of any size.
    #[arg(long, value_name = "MB", default_value_t = 64)]
    cache_mb: u64,
    #[command(flatten)]
    threads: ThreadArgs,
    #[command(flatten)]
    log: LogArgs,
}

/// Four comma-separated numbers.
fn parse_bbox(text: &str) -> Result<[f64; 4], String> {
    let v: Vec<f64> = text
        .split(',')
        .map(|t| t.trim().parse::<f64>().map_err(|e| format!("`{t}`: {e}")))
        .collect::<Result<_, _>>()?;
    v.try_into().map_err(|v: Vec<f64>| format!("4 numbers are needed, {} given", v.len()))
}

fn main() -> ExitCode {
    let args: Args = cli::parse();
    iwp_vector::vector::tune_gdal();
    let config = match cli::start(TOOL, &args.log, &args.threads, &args.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let run = Run::new(TOOL);
    let _ = gdal::config::set_config_option("GDAL_CACHEMAX", &args.cache_mb.to_string());
    if let Some(t) = &args.t_srs {
        if let Err(e) = iwp_vector::vector::srs(t) {
            return run.usage(&format!("--t-srs: {e:#}"));
        }
    }
    let one_area = args.bbox.is_some() || args.area.is_some();
    if one_area && args.jobs.input.is_some() {
        return run.usage("--bbox or --area is the one area to extract; --input gives job lines: not both");
    }
    if !one_area && args.name.is_some() {
        return run.usage("--name names the area of --bbox or --area (job lines carry their own `name`)");
    }
    let jobs = if one_area {
        let body = Extract {
            name: args.name.clone(),
            bbox: args.bbox,
            bbox_crs: args.bbox_crs.clone(),
            area: args.area.clone(),
            z: args.z,
            ..Default::default()
        };
        vec![Job { line: 1, body }]
    } else {
        match run.read::<Extract>(&args.jobs, |_| None) {
            Ok(j) => j,
            Err(code) => return code,
        }
    };
    iwp_core::temps::claim(&[&config.dir_extracts]);
    let extractor = Extractor { config: &config, t_srs: args.t_srs.as_deref(), force: args.force };
    run.each("areas", &jobs, |job| {
        let mut body = job.body.clone();
        body.z = body.z.or(args.z);
        Ok(run.results.put(&extractor.run(&body)?)?)
    });
    run.finish("extracts")
}
