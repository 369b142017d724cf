//! Thumbnails of images, made once at upload: turned upright by their EXIF orientation, at most
//! [`THUMBNAIL_PX`] on the longer side, re-encoded (so no metadata of the original, such as a location, is
//! kept). Decoding is bounded: an image that claims to be huge is refused before its pixels are allocated.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

pub const THUMBNAIL_PX: u32 = 320;
/// Widest or tallest image decoded, and most memory its decoding may take.
const MAX_SIDE_PX: u32 = 12_000;
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Debug)]
pub struct Thumbnail {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    /// The original's size, upright.
    pub width: u32,
    pub height: u32,
}

/// The thumbnail of the image in `file`; an error when it cannot be decoded within the bounds (the upload is
/// then kept as a plain file). Blocking: run it off the async threads.
pub fn make(file: &std::path::Path) -> Result<Thumbnail, String> {
    let mut reader =
        ImageReader::open(file).map_err(|e| e.to_string())?.with_guessed_format().map_err(|e| e.to_string())?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE_PX);
    limits.max_image_height = Some(MAX_SIDE_PX);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| e.to_string())?;
    let orientation = decoder.orientation().map_err(|e| e.to_string())?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?;
    image.apply_orientation(orientation);
    let (width, height) = (image.width(), image.height());
    // Never enlarged: a small image is its own thumbnail (re-encoded all the same, without its metadata).
    let small = if width <= THUMBNAIL_PX && height <= THUMBNAIL_PX {
        image
    } else {
        image.thumbnail(THUMBNAIL_PX, THUMBNAIL_PX)
    };
    let mut bytes = Vec::new();
    // Photos as JPEG (a tenth of the size); images with transparency keep it as PNG.
    let content_type = if small.color().has_alpha() {
        small
            .write_with_encoder(image::codecs::png::PngEncoder::new(Cursor::new(&mut bytes)))
            .map_err(|e| e.to_string())?;
        "image/png"
    } else {
        let rgb = DynamicImage::ImageRgb8(small.to_rgb8());
        rgb.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(Cursor::new(&mut bytes), 80))
            .map_err(|e| e.to_string())?;
        "image/jpeg"
    };
    Ok(Thumbnail { bytes, content_type, width, height })
}
