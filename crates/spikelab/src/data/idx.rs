//! The IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed (detected by magic).
//!
//! Header: two zero bytes, a type code (0x08 = unsigned byte, the only one these data sets
//! use), the number of dimensions, then each dimension as a big-endian u32; then the values.

use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

#[derive(Clone, Debug, PartialEq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

pub fn read_idx_file(path: &Path) -> Result<IdxArray> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_idx(&bytes, path)
}

/// Parses IDX bytes (gzip or raw); `path` names the source in errors. Offsets in errors count
/// decompressed bytes.
pub fn parse_idx(bytes: &[u8], path: &Path) -> Result<IdxArray> {
    let decompressed;
    let raw = if bytes.starts_with(&[0x1f, 0x8b]) {
        decompressed = gunzip(bytes, path)?;
        &decompressed[..]
    } else {
        bytes
    };
    if raw.len() < 4 {
        return Err(Error::format(path, raw.len() as u64, "truncated IDX header"));
    }
    if raw[0] != 0 || raw[1] != 0 {
        return Err(Error::format(path, 0, format!("not an IDX file (magic {:02x} {:02x} {:02x} {:02x})", raw[0], raw[1], raw[2], raw[3])));
    }
    if raw[2] != 0x08 {
        return Err(Error::format(path, 2, format!("unsupported IDX value type 0x{:02x} (only unsigned bytes, 0x08)", raw[2])));
    }
    let ndim = raw[3] as usize;
    if ndim == 0 || ndim > 4 {
        return Err(Error::format(path, 3, format!("IDX dimension count {ndim} out of range 1..=4")));
    }
    let header = 4 + 4 * ndim;
    if raw.len() < header {
        return Err(Error::format(path, raw.len() as u64, "truncated IDX header"));
    }
    let dims: Vec<usize> = raw[4..header].chunks(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize).collect();
    let expected = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let Some(expected) = expected else {
        return Err(Error::format(path, 4, format!("IDX dimensions {dims:?} overflow")));
    };
    let payload = &raw[header..];
    if payload.len() < expected {
        return Err(Error::format(path, raw.len() as u64, format!("truncated: dimensions {dims:?} need {expected} values, file has {}", payload.len())));
    }
    if payload.len() > expected {
        return Err(Error::format(path, (header + expected) as u64, format!("{} unexpected bytes after the data", payload.len() - expected)));
    }
    Ok(IdxArray { dims, data: payload.to_vec() })
}

fn gunzip(bytes: &[u8], path: &Path) -> Result<Vec<u8>> {
    let mut decoder = flate2::read::MultiGzDecoder::new(bytes);
    let mut out = Vec::with_capacity(bytes.len() * 4);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match decoder.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => {
                return Err(Error::format(path, out.len() as u64, format!("corrupt or truncated gzip stream: {e}")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn idx(dims: &[u32], values: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 8, dims.len() as u8];
        dims.iter().for_each(|d| v.extend_from_slice(&d.to_be_bytes()));
        v.extend_from_slice(values);
        v
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn reads_raw_and_gzip() {
        let raw = idx(&[2, 3], &[1, 2, 3, 4, 5, 6]);
        let a = parse_idx(&raw, Path::new("a")).unwrap();
        assert_eq!(a, IdxArray { dims: vec![2, 3], data: vec![1, 2, 3, 4, 5, 6] });
        assert_eq!(parse_idx(&gzip(&raw), Path::new("a")).unwrap(), a);
    }

    #[test]
    fn rejects_wrong_magic_truncation_and_corruption_naming_the_file() {
        let good = idx(&[4, 2], &[0; 8]);
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("magic.idx", b"PK\x03\x04rest".to_vec(), "not an IDX file"),
            ("type.idx", vec![0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0], "unsupported IDX value type"),
            ("short.idx", vec![0, 0], "truncated IDX header"),
            ("dims.idx", good[..6].to_vec(), "truncated IDX header"),
            ("data.idx", good[..good.len() - 3].to_vec(), "truncated"),
            ("extra.idx", [good.clone(), vec![9]].concat(), "unexpected bytes"),
            ("cut.gz", gzip(&good)[..12].to_vec(), "gzip"),
            (
                "flipped.gz",
                {
                    let mut z = gzip(&idx(&[64, 64], &[7; 4096]));
                    let mid = z.len() / 2;
                    z[mid] ^= 0xff;
                    z[mid + 1] ^= 0x55;
                    z
                },
                "gzip",
            ),
        ];
        for (name, bytes, expected) in cases {
            let err = parse_idx(&bytes, Path::new(name)).unwrap_err().to_string();
            assert!(err.contains(name) && err.contains(expected), "{name}: {err}");
        }
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = read_idx_file(Path::new("/nonexistent/train-images-idx3-ubyte.gz")).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/train-images-idx3-ubyte.gz"), "{err}");
    }
}
