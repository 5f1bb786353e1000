//! Keys of jobs without their text: a tile packed into an integer, any other key (a path,
//! `line:N`) as its 128-bit hash.

use crate::rand::mix;
use crate::tms::Tile;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

/// A job's key as 128 bits: zoom in the high word and column, row in the low one for a tile;
/// xxh3-128 of the text otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key(u64, u64);

impl Key {
    /// A tile's key.
    pub fn tile(t: Tile) -> Key {
        Key(u64::from(t.z), u64::from(t.x) << 32 | u64::from(t.y))
    }

    /// A text key's (a path's, `line:N`'s) hash.
    pub fn text(s: &str) -> Key {
        let h = xxh3_128(s.as_bytes());
        Key((h >> 64) as u64, h as u64)
    }
}

/// Hashes [`Key`]s for the job index: a SplitMix64 finaliser per word (the words are a hash
/// already, or a packed tile), cheaper than the default SipHash.
#[derive(Debug, Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        bytes.iter().for_each(|&b| self.write_u64(u64::from(b)));
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = mix(self.0 ^ word);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Builds [`KeyHasher`]s.
pub type KeyHashing = BuildHasherDefault<KeyHasher>;

/// A job's key as read from its line: a tile, or a text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum JobKey<'a> {
    Tile(Tile),
    Text(&'a str),
}

impl JobKey<'_> {
    /// The key kept for it.
    pub fn key(&self) -> Key {
        match *self {
            JobKey::Tile(t) => Key::tile(t),
            JobKey::Text(s) => Key::text(s),
        }
    }
}

/// As shown in summaries: `z/x/y`, or the text.
impl fmt::Display for JobKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            JobKey::Tile(t) => write!(f, "{}/{}/{}", t.z, t.x, t.y),
            JobKey::Text(s) => f.write_str(s),
        }
    }
}

/// The 64-bit fingerprint of a part (its output path, or its line) to count it once.
pub fn fingerprint(text: &str) -> u64 {
    xxh3_64(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn tiles_pack_without_collisions() {
        let mut seen = HashSet::new();
        for z in [0u8, 1, 14, 15, 31, 255] {
            for x in [0u32, 1, 2, 65535, 65536, u32::MAX] {
                for y in [0u32, 1, 2, 65535, 65536, u32::MAX] {
                    assert!(seen.insert(Key::tile(Tile::new(x, y, z))), "{z}/{x}/{y}");
                }
            }
        }
        assert_ne!(Key::tile(Tile::new(1, 2, 3)), Key::tile(Tile::new(2, 1, 3)));
        assert_eq!(Key::tile(Tile::new(7, 9, 15)), Key(15, 7 << 32 | 9));
    }

    #[test]
    fn tiles_spread_over_the_index() {
        use std::hash::BuildHasher;
        // Tiles of one row or one column: their hashes' low bits (the bucket) differ.
        for tile in [|i| Tile::new(i, 7, 15), |i| Tile::new(7, i, 15)] {
            let buckets: HashSet<u64> =
                (0..1024).map(|i| KeyHashing::default().hash_one(Key::tile(tile(i))) & 1023).collect();
            assert!(buckets.len() > 600, "{} of 1024 buckets", buckets.len());
        }
    }

    #[test]
    fn text_keys_are_their_hash() {
        assert_eq!(Key::text("in/a.shp"), Key::text(&String::from("in/a.shp")));
        assert_ne!(Key::text("line:3"), Key::text("line:30"));
        assert_eq!(JobKey::Text("line:3").key(), Key::text("line:3"));
        assert_eq!(JobKey::Tile(Tile::new(1418, 908, 13)).to_string(), "13/1418/908");
        assert_ne!(fingerprint("a"), fingerprint("b"));
    }
}
