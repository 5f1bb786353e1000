//! Command-line arguments every tool shares, for clap's `#[command(flatten)]`.

use crate::config::{parse_override, Config, ConfigError};
use crate::jobs;
use crate::logging::{self, LogFormat};
use crate::shard::Shard;
use clap::{Args, Parser};
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Logging flags.
#[derive(Debug, Args, Clone)]
pub struct LogArgs {
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Human, global = true)]
    pub log_format: LogFormat,
    /// More log detail (debug).
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Only warnings and errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

impl LogArgs {
    /// Starts logging as the flags say.
    pub fn init(&self) {
        logging::init(self.log_format, self.verbose, self.quiet);
    }
}

/// The worker-thread flag.
#[derive(Debug, Args, Clone)]
pub struct ThreadArgs {
    /// Worker threads (default: RAYON_NUM_THREADS if set, else all cores).
    #[arg(long, value_name = "N", global = true)]
    pub threads: Option<usize>,
}

impl ThreadArgs {
    /// Sizes rayon's global pool as asked (call once, before any parallel work).
    pub fn init(&self) {
        if let Some(n) = self.threads {
            if let Err(e) = rayon::ThreadPoolBuilder::new().num_threads(n).build_global() {
                tracing::warn!("--threads {n} not applied: {e}");
            }
        }
    }
}

/// The config file and overrides of its keys.
#[derive(Debug, Args, Clone)]
pub struct ConfigArgs {
    /// PDG config JSON; relative paths in it resolve against its folder. Defaults apply without one.
    #[arg(short, long, env = "IWP_CONFIG")]
    pub config: Option<PathBuf>,
    /// Override a config key: KEY=VALUE, VALUE as JSON or a plain string (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Print a resolved config value (e.g. dir_footprints, as an absolute path; z_max) and exit.
    #[arg(long, value_name = "KEY")]
    pub get: Option<String>,
}

impl ConfigArgs {
    /// Loads the config with the overrides applied.
    pub fn load(&self) -> Result<Config, ConfigError> {
        let overrides = self.set.iter().map(|s| parse_override(s)).collect::<Result<Vec<_>, _>>()?;
        Config::load(self.config.as_deref(), &overrides)
    }
}

/// Where job lines come from and which share of them to take.
#[derive(Debug, Args, Clone)]
pub struct JobArgs {
    /// Read job lines from FILE instead of stdin.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Take only a share of the job lines: I/N (0-based) or `auto` (from Slurm's environment).
    #[arg(long, value_name = "I/N|auto")]
    pub shard: Option<Shard>,
}

/// Parses the tool's arguments (clap: `--help`, `--version`, usage errors). Two hidden first
/// arguments print what `make install` installs and exit: `--generate-man` (a roff man page) and
/// `--generate-completions SHELL` (bash, zsh, fish, elvish or powershell).
pub fn parse<A: Parser>() -> A {
    let argv: Vec<String> = std::env::args().collect();
    let mut command = A::command();
    let name = command.get_name().to_string();
    let mut out = io::stdout().lock();
    let written = match argv.get(1).map(String::as_str) {
        Some("--generate-man") => clap_mangen::Man::new(command).render(&mut out),
        Some("--generate-completions") => match argv.get(2).and_then(|s| s.parse::<clap_complete::Shell>().ok()) {
            Some(shell) => {
                command.set_bin_name(&name);
                command.build();
                clap_complete::Generator::try_generate(&shell, &command, &mut out)
            }
            None => {
                eprintln!("{name}: --generate-completions SHELL: bash, zsh, fish, elvish or powershell");
                std::process::exit(i32::from(jobs::EXIT_USAGE));
            }
        },
        _ => return A::parse(),
    };
    match written.and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(i32::from(jobs::EXIT_PIPE_CLOSED)),
        Err(e) => {
            eprintln!("{name}: cannot write: {e}");
            std::process::exit(i32::from(jobs::EXIT_FAILED));
        }
        Ok(()) => {}
    }
    std::process::exit(0);
}

/// Ends a tool with a usage or config error (nothing done): `TOOL: message` on stderr, exit 2.
pub fn usage_error(tool: &str, message: &str) -> ExitCode {
    eprintln!("{tool}: {message}");
    ExitCode::from(jobs::EXIT_USAGE)
}

/// The start the config-reading tools share (GDAL tools call `iwp_vector::vector::tune_gdal`
/// first, before anything opens SQLite): logging, the thread pool, then the config; a bad config is a usage error. With
/// `--get KEY` it prints that value and ends the tool (the Err is then a success).
pub fn start(tool: &str, log: &LogArgs, threads: &ThreadArgs, config: &ConfigArgs) -> Result<Config, ExitCode> {
    steady_heap();
    log.init();
    threads.init();
    let loaded = config.load().map_err(|e| usage_error(tool, &e.to_string()))?;
    if let Some(key) = &config.get {
        return Err(match loaded.get(key) {
            Some(v) => {
                println!("{v}");
                ExitCode::SUCCESS
            }
            None => {
                let keys: Vec<&str> = Config::gettable().collect();
                usage_error(tool, &format!("--get {key}: not a key it prints ({})", keys.join(", ")))
            }
        });
    }
    Ok(loaded)
}

/// Fixes glibc's malloc thresholds for a long run. By default each large block freed (a tile's
/// bands, a staged tile read whole, GDAL's and zstd's buffers) raises the size above which
/// blocks get their own mapping, and what stays in the heap then fragments: a 4,000-tile raster
/// run grew to 190 MB (750 MB with one arena) instead of staying near 70 MB. Fixed, blocks up
/// to 32 MiB come from the heap (no page faults for each one) and the heap stays its peak size.
/// [`start`] calls it; programs that do not start as tools (benchmarks) call it themselves.
pub fn steady_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: plain settings calls, made before the tool's threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
    }
}
