//! HTTP byte ranges (RFC 9110 §14): one range is served as 206; several are answered with the whole file,
//! which the RFC allows.

use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    Whole,
    Part(Range<u64>),
    /// 416, with `Content-Range: bytes */size`.
    Unsatisfiable,
}

/// The part of a `size`-byte file a `Range` header asks for; a header that is not a byte range is ignored.
pub fn parse(header: Option<&str>, size: u64) -> Requested {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else { return Requested::Whole };
    if spec.contains(',') {
        return Requested::Whole;
    }
    let Some((start, end)) = spec.trim().split_once('-') else { return Requested::Whole };
    let (start, end) = (start.trim(), end.trim());
    let range = match (start.parse::<u64>(), end.parse::<u64>()) {
        // bytes=-N: the last N bytes.
        (Err(_), Ok(suffix)) if start.is_empty() => {
            if suffix == 0 {
                return Requested::Unsatisfiable;
            }
            size.saturating_sub(suffix)..size
        }
        (Ok(first), Err(_)) if end.is_empty() => first..size,
        (Ok(first), Ok(last)) if last >= first => first..last.saturating_add(1).min(size),
        _ => return Requested::Whole,
    };
    if range.start >= size {
        return Requested::Unsatisfiable;
    }
    if range == (0..size) { Requested::Whole } else { Requested::Part(range) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_range_is_inclusive_and_clamped_to_the_file() {
        assert_eq!(parse(Some("bytes=10-19"), 100), Requested::Part(10..20));
        assert_eq!(parse(Some("bytes=90-500"), 100), Requested::Part(90..100));
    }

    #[test]
    fn open_and_suffix_ranges() {
        assert_eq!(parse(Some("bytes=95-"), 100), Requested::Part(95..100));
        assert_eq!(parse(Some("bytes=-5"), 100), Requested::Part(95..100));
        assert_eq!(parse(Some("bytes=-500"), 100), Requested::Whole);
    }

    #[test]
    fn a_range_past_the_end_is_unsatisfiable() {
        assert_eq!(parse(Some("bytes=100-"), 100), Requested::Unsatisfiable);
        assert_eq!(parse(Some("bytes=-0"), 100), Requested::Unsatisfiable);
    }

    #[test]
    fn what_is_not_one_byte_range_gets_the_whole_file() {
        for header in [None, Some("items=1-2"), Some("bytes=1-2,5-6"), Some("bytes=9-3"), Some("bytes=x-y")] {
            assert_eq!(parse(header, 100), Requested::Whole, "{header:?}");
        }
    }
}
