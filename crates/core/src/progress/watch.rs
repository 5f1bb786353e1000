//! The result files of a stage, named by paths and glob patterns: patterns are expanded again on
//! every poll, so task files that appear later are followed too.

use super::{ChunkBuf, Follower, LineRef, Progress};
use std::collections::HashSet;
use std::path::PathBuf;

/// The result files followed, found again from their patterns on every poll.
#[derive(Debug)]
pub struct Watch {
    patterns: Vec<String>,
    seen: HashSet<PathBuf>,
    /// The files followed, in the order they were found (a result line's [`LineRef::file`]).
    pub followers: Vec<Follower>,
    warned: HashSet<PathBuf>,
    /// The read buffer every file is read through.
    chunks: ChunkBuf,
}

impl Watch {
    /// Follows `patterns`: glob patterns (with `*`, `?` or `[`), or plain paths followed even
    /// before they exist.
    pub fn new(patterns: &[String]) -> Watch {
        Watch::with_chunks(patterns, ChunkBuf::default())
    }

    /// As [`Watch::new`], reading files through `chunks`.
    pub fn with_chunks(patterns: &[String], chunks: ChunkBuf) -> Watch {
        Watch {
            patterns: patterns.to_vec(),
            seen: HashSet::new(),
            followers: Vec::new(),
            warned: HashSet::new(),
            chunks,
        }
    }

    /// Picks up new files and gives `progress` the lines every file gained; a file that cannot
    /// be read is warned about once (and tried again on the next poll).
    pub fn poll(&mut self, progress: &mut Progress) {
        for pattern in &self.patterns {
            let paths: Vec<PathBuf> = if pattern.contains(['*', '?', '[']) {
                glob::glob(pattern)
                    .map(|g| g.filter_map(Result::ok).filter(|p| p.is_file()).collect())
                    .unwrap_or_default()
            } else {
                vec![PathBuf::from(pattern)]
            };
            for p in paths {
                if self.seen.insert(p.clone()) {
                    self.followers.push(Follower::new(&p));
                }
            }
        }
        for (file, f) in (0u32..).zip(&mut self.followers) {
            let read = f.poll(&mut self.chunks, |line, object, offset| {
                progress.add_result(line, object, LineRef { file, offset })
            });
            if let Err(e) = read {
                if self.warned.insert(f.path.clone()) {
                    tracing::warn!("cannot read {}: {e}", f.path.display());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Weight;
    use std::fs;
    use std::io::Cursor;

    #[test]
    fn files_that_appear_later_are_followed() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let jobs = "{\"path\":\"a\"}\n{\"path\":\"b\"}\n{\"path\":\"c\"}\n";
        let mut p = Progress::from_reader(Cursor::new(jobs.as_bytes().to_vec()), None, &Weight::Count).unwrap();
        let glob = d.join("stage.*.ndjson").display().to_string();
        let plain = d.join("redo.ndjson").display().to_string();
        let mut watch = Watch::with_chunks(&[glob, plain.clone()], ChunkBuf::new(7));
        watch.poll(&mut p);
        assert_eq!(watch.followers.len(), 1, "a plain path is followed before it exists");
        assert_eq!(p.counts().ok, 0);

        fs::write(d.join("stage.h.0.ndjson"), "{\"path\":\"a\",\"status\":\"ok\"}\n{\"path\":\"b\",").unwrap();
        fs::create_dir(d.join("stage.dir.ndjson")).unwrap();
        fs::write(d.join("other.ndjson"), "{\"path\":\"c\",\"status\":\"ok\"}\n").unwrap();
        watch.poll(&mut p);
        let names: Vec<String> = watch.followers.iter().map(|f| f.path.display().to_string()).collect();
        assert_eq!(names, [plain.clone(), d.join("stage.h.0.ndjson").display().to_string()], "files only, once");
        assert_eq!((p.counts().ok, p.counts().failed), (1, 0), "the half line waits");

        let mut f = fs::OpenOptions::new().append(true).open(d.join("stage.h.0.ndjson")).unwrap();
        std::io::Write::write_all(&mut f, b"\"status\":\"error\",\"error\":\"x\"}\n").unwrap();
        fs::write(&plain, "{\"path\":\"c\",\"status\":\"ok\"}\n").unwrap();
        watch.poll(&mut p);
        assert_eq!((p.counts().ok, p.counts().failed, p.counts().pending), (2, 1, 0));
        assert_eq!(p.failures(5, &watch.followers).unwrap(), [("b".to_string(), "x".to_string())]);
    }
}
