//! iwp-catalog: a static STAC catalog of a run, from its result lines.

use clap::Parser;
use iwp_core::cli::{self, ConfigArgs, JobArgs, LogArgs, ThreadArgs};
use iwp_core::files::relative_within;
use iwp_core::lines::{self, Catalog, Extra, Status};
use iwp_core::runner::Run;
use iwp_core::tilejobs;
use iwp_delivery::catalog::{CatalogWriter, RunLines};
use std::path::Path;
use std::process::ExitCode;

/// The tool's name, for messages.
const TOOL: &str = "iwp-catalog";

/// Writes a static STAC 1.1.0 catalog of a run in dir_catalog (catalog.json, a collection per
/// product, items beside them) from the run's result lines, any mix of: staged tiles
/// (iwp-stage, iwp-merge), mosaics (iwp-mosaic) and extracts (iwp-extract); the web tiles'
/// capabilities, map page, legends and PMTiles and the 3D tileset are found in their folders.
/// Band statistics come from the lines (no raster is reopened); every href is relative, so the
/// run's folder can be moved or served as it is. Other lines are passed over. One result line.
#[derive(Parser, Debug)]
#[command(
    version = iwp_version::VERSION,
    after_help = "Examples:\n  cat stage.ndjson mosaics.ndjson extracts.ndjson | iwp-catalog -c c.json\n  iwp-catalog -c c.json --input all.ndjson --datetime 2024-06-01T00:00:00Z --license CC-BY-4.0"
)]
struct Args {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    jobs: JobArgs,
    /// The items' datetime, RFC 3339 (default: now, UTC).
    #[arg(long, value_name = "RFC3339")]
    datetime: Option<String>,
    /// The collections' license: an SPDX identifier, or `other`.
    #[arg(long, default_value = "other")]
    license: String,
    #[command(flatten)]
    threads: ThreadArgs,
    #[command(flatten)]
    log: LogArgs,
}

fn main() -> ExitCode {
    let args: Args = cli::parse();
    iwp_vector::vector::tune_gdal();
    let config = match cli::start(TOOL, &args.log, &args.threads, &args.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let run = Run::new(TOOL);
    let datetime = match &args.datetime {
        Some(d) => match chrono::DateTime::parse_from_rfc3339(d) {
            Ok(t) => t.to_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            Err(e) => return run.usage(&format!("--datetime {d}: {e} (RFC 3339, e.g. 2024-06-01T00:00:00Z)")),
        },
        None => chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    let mut lines = RunLines::default();
    let mut passed_over = 0u64;
    let under = |path: Option<&str>, dir: &Path| path.is_some_and(|p| relative_within(Path::new(p), dir).is_some());
    let read = run.read_each::<Extra>(&args.jobs, |job| {
        let fields = job.body;
        if fields.get("status").and_then(|s| s.as_str()) == Some("error") {
            passed_over += 1;
            return;
        }
        let path = fields.get("path").and_then(|p| p.as_str());
        let parsed = if fields.contains_key("cog") || fields.contains_key("gpkg") {
            lines::parse(job.line, fields.clone()).map(|e| lines.add_extract(e))
        } else if under(path, &config.dir_mosaics) {
            lines::parse(job.line, fields.clone()).map(|m| lines.add_mosaic(m))
        } else if under(path, &config.dir_staged) {
            lines::parse(job.line, fields.clone()).and_then(|t| {
                let job = iwp_core::runner::Job { line: job.line, body: t };
                let tile = tilejobs::tile_of_line(&config, &job, Some(config.z_max))?;
                lines.add_staged(tile, &job.body);
                Ok(())
            })
        } else {
            passed_over += 1;
            Ok(())
        };
        if let Err(why) = parsed {
            let _ = run.results.error(fields, &why);
        }
    });
    if let Err(code) = read {
        return code;
    }
    tracing::info!(
        "{} staged tiles, {} mosaic files, {} extracts; {passed_over} other lines passed over",
        lines.staged.len(),
        lines.mosaics.len(),
        lines.extracts.len()
    );
    iwp_core::temps::claim(&[&config.dir_catalog]);
    let writer = CatalogWriter { config: &config, datetime, license: args.license.clone() };
    let path = config.dir_catalog.join("catalog.json");
    match writer.write(&lines) {
        Ok(c) => {
            let line = Catalog {
                path: path.display().to_string(),
                collections: c.collections,
                items: c.items,
                assets: c.assets,
                status: Some(Status::Ok),
            };
            let _ = run.results.put(&line);
        }
        Err(e) => {
            let _ =
                run.results.error(Default::default(), &format!("cannot write the catalog {}: {e:#}", path.display()));
        }
    }
    run.finish("catalogs")
}
