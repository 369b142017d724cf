//! Which files are accepted, under which type, and which are shown in the browser. The type is sniffed from the
//! first bytes; what the client claims is ignored.

/// Bytes the sniffing looks at.
pub const SNIFF_BYTES: usize = 4096;

/// The type an upload is stored and served under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniffed {
    pub content_type: String,
    /// Shown inline (raster images a browser decodes safely); everything else is served as a download.
    pub inline: bool,
    /// The thumbnailer can decode it.
    pub thumbnail: bool,
}

/// Why a file is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub &'static str);

/// Raster images shown inline and thumbnailed.
const INLINE_IMAGES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/// Whether a stored type is shown in the browser (served `inline`) rather than downloaded.
pub fn is_inline(content_type: &str) -> bool {
    INLINE_IMAGES.contains(&content_type)
}

/// The type policy, from an upload's first bytes (up to [`SNIFF_BYTES`]):
/// * refused: programs (executables, libraries, bytecode) and scripts, HTML, SVG and XML (markup a browser would
///   run or render as a page);
/// * shown inline: JPEG, PNG, GIF and WebP;
/// * anything else is kept under its sniffed type and only ever served as a download; unrecognised bytes
///   (plain text among them) as `application/octet-stream`.
pub fn sniff(head: &[u8]) -> Result<Sniffed, Refused> {
    if looks_like_markup(head) {
        return Err(Refused("HTML, SVG and XML files are not accepted."));
    }
    if head.starts_with(b"#!") {
        return Err(Refused("Scripts are not accepted."));
    }
    // The matchers of executables want a whole header; a short file with the magic is refused all the same.
    const PROGRAM_MAGIC: [&[u8]; 7] = [
        b"\x7fELF",
        b"MZ",
        b"\xfe\xed\xfa\xce",
        b"\xfe\xed\xfa\xcf",
        b"\xce\xfa\xed\xfe",
        b"\xcf\xfa\xed\xfe",
        b"\0asm",
    ];
    if PROGRAM_MAGIC.iter().any(|magic| head.starts_with(magic)) {
        return Err(Refused("Programs are not accepted."));
    }
    let Some(kind) = infer::get(head) else {
        return Ok(Sniffed { content_type: "application/octet-stream".into(), inline: false, thumbnail: false });
    };
    match kind.matcher_type() {
        infer::MatcherType::App => return Err(Refused("Programs are not accepted.")),
        infer::MatcherType::Text => return Err(Refused("HTML, SVG, XML and script files are not accepted.")),
        _ => {}
    }
    let content_type = kind.mime_type().to_owned();
    let inline = INLINE_IMAGES.contains(&content_type.as_str());
    Ok(Sniffed { content_type, inline, thumbnail: inline })
}

/// Text that opens with a tag a browser would treat as a document: `<html`, `<!doctype`, `<svg`, `<?xml`,
/// `<script` (after a byte-order mark and whitespace, in any case).
fn looks_like_markup(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(head.len());
    let opening: Vec<u8> = head[start..].iter().take(16).map(u8::to_ascii_lowercase).collect();
    [&b"<html"[..], b"<!doctype", b"<svg", b"<?xml", b"<script", b"<head", b"<body", b"<iframe"]
        .iter()
        .any(|tag| opening.starts_with(tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn a_png_is_kept_as_an_inline_image_whatever_its_name() {
        let sniffed = sniff(PNG).unwrap();
        assert_eq!(sniffed, Sniffed { content_type: "image/png".into(), inline: true, thumbnail: true });
    }

    #[test]
    fn a_pdf_is_a_download() {
        let sniffed = sniff(b"%PDF-1.7\n").unwrap();
        assert_eq!((sniffed.content_type.as_str(), sniffed.inline), ("application/pdf", false));
    }

    #[test]
    fn plain_text_is_an_octet_stream_download() {
        let sniffed = sniff(b"just some notes\n").unwrap();
        assert_eq!((sniffed.content_type.as_str(), sniffed.inline), ("application/octet-stream", false));
    }

    #[test]
    fn html_svg_and_xml_are_refused_even_after_whitespace_and_a_bom() {
        for head in
            [&b"<!DOCTYPE html><p>hi"[..], b"  <svg xmlns='x'/>", b"\xEF\xBB\xBF<?xml version='1.0'?>", b"<HTML>"]
        {
            assert!(sniff(head).is_err(), "{}", String::from_utf8_lossy(head));
        }
    }

    #[test]
    fn programs_and_scripts_are_refused() {
        assert!(sniff(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0").is_err());
        assert!(sniff(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff").is_err());
        assert!(sniff(b"#!/bin/sh\nrm -rf /\n").is_err());
    }
}
