//! The job list's text: read once as a stream of lines with their byte offsets, and lines read
//! again by offset when they are needed (redo lines, keys in summaries): from the job file
//! itself, or, for standard input or a pipe, from an anonymous temporary file it was copied to
//! while it was read.

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Bytes read from the job list at a time.
const READ_BUFFER: usize = 1 << 20;

/// A line's place in the job list (its text trimmed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub offset: u64,
    pub len: u32,
}

/// The file the job list's lines are read again from.
#[derive(Debug)]
pub struct JobText {
    file: File,
}

/// Opens a job list for its one streamed read (`-` is standard input); the stream and where
/// its lines are read again.
pub fn open(path: &Path) -> io::Result<(Box<dyn Read>, JobText)> {
    if path == Path::new("-") {
        if io::stdin().is_terminal() {
            tracing::warn!("reading the job list from the terminal; end with Ctrl-D");
        }
        return spool(io::stdin());
    }
    let file = File::open(path)?;
    if !file.metadata()?.is_file() {
        // A pipe (`/dev/stdin`, `<(...)`) cannot be read again: copied while read.
        return spool(file);
    }
    Ok((Box::new(file.try_clone()?), JobText { file }))
}

/// A stream copied into an anonymous temporary file while it is read.
pub fn spool(input: impl Read + 'static) -> io::Result<(Box<dyn Read>, JobText)> {
    let file = tempfile::tempfile()?;
    Ok((Box::new(Tee { input, copy: file.try_clone()? }), JobText { file }))
}

/// A reader that writes what it reads into `copy`.
struct Tee<R> {
    input: R,
    copy: File,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.input.read(buf)?;
        self.copy.write_all(&buf[..n])?;
        Ok(n)
    }
}

/// Calls `each` with every non-blank line of `input`, trimmed, and where it is; the text must
/// be UTF-8 (the error says so as `read_to_string` would).
pub fn for_each_line(input: impl Read, mut each: impl FnMut(&str, Span)) -> io::Result<()> {
    let mut reader = BufReader::with_capacity(READ_BUFFER, input);
    let (mut buf, mut offset) = (Vec::new(), 0u64);
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        let text = std::str::from_utf8(&buf)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "stream did not contain valid UTF-8"))?;
        let line = text.trim();
        if !line.is_empty() {
            let start = offset + (line.as_ptr() as usize - text.as_ptr() as usize) as u64;
            let len = u32::try_from(line.len())
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "a job line longer than 4 GiB"))?;
            each(line, Span { offset: start, len });
        }
        offset += n as u64;
    }
}

impl JobText {
    /// A reader of lines by their spans.
    pub fn reader(&self) -> Reread<'_> {
        Reread { reader: BufReader::with_capacity(64 << 10, &self.file), pos: None, buf: Vec::new() }
    }
}

/// Reads job lines again by their spans; cheapest in list order (one buffered pass).
pub struct Reread<'a> {
    reader: BufReader<&'a File>,
    pos: Option<u64>,
    buf: Vec<u8>,
}

impl Reread<'_> {
    /// The line at `span`.
    pub fn line(&mut self, span: Span) -> io::Result<&str> {
        match self.pos {
            Some(pos) => self.reader.seek_relative(span.offset as i64 - pos as i64)?,
            None => {
                self.reader.seek(SeekFrom::Start(span.offset))?;
            }
        }
        self.buf.resize(span.len as usize, 0);
        self.reader.read_exact(&mut self.buf)?;
        self.pos = Some(span.offset + u64::from(span.len));
        std::str::from_utf8(&self.buf)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "the job list changed while it was followed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_found_again_by_span_from_a_spool() {
        let text = "  {\"a\":1}\r\n\n\t\nsecond line \nlast";
        let (input, jobs) = spool(io::Cursor::new(text.as_bytes().to_vec())).unwrap();
        let mut lines = Vec::new();
        for_each_line(input, |l, s| lines.push((l.to_string(), s))).unwrap();
        let texts: Vec<&str> = lines.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(texts, ["{\"a\":1}", "second line", "last"]);
        let mut r = jobs.reader();
        // Out of order, then in order: the same texts.
        for (l, s) in lines.iter().rev().chain(lines.iter()) {
            assert_eq!(r.line(*s).unwrap(), l);
        }
    }

    #[test]
    fn invalid_utf8_is_a_read_error() {
        let e = for_each_line(&b"{}\n\xff\n"[..], |_, _| {}).unwrap_err();
        assert_eq!(e.to_string(), "stream did not contain valid UTF-8");
    }
}
