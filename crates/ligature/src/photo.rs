//! Photos of points: only JPEG and PNG images (told by their bytes, not their name), no larger
//! than the limit, with their metadata taken out before they are kept. A phone's photo carries
//! where it was taken (EXIF GPS) and the device: a JPEG loses its APP1-APP15 segments (EXIF,
//! XMP, maker notes) and comments, a PNG its text and eXIf chunks. The picture's own data are
//! kept byte for byte.

use crate::error::Problem;

/// The largest photo kept (after a tablet's camera, 8 MB is ample).
pub const MAX_PHOTO_BYTES: usize = 8 * 1024 * 1024;

/// What kind of image a photo is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
}

impl ImageKind {
    pub fn content_type(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Png => "image/png",
        }
    }

    pub fn parse(content_type: &str) -> Option<ImageKind> {
        match content_type {
            "image/jpeg" => Some(ImageKind::Jpeg),
            "image/png" => Some(ImageKind::Png),
            _ => None,
        }
    }
}

fn not_image(why: &str) -> Problem {
    Problem::new("photo", "a JPEG or PNG image", why)
}

/// The photo without its metadata, and its kind; or why it is refused.
pub fn clean(bytes: &[u8], limit: usize) -> Result<(ImageKind, Vec<u8>), Problem> {
    if bytes.is_empty() {
        return Err(not_image("an empty file"));
    }
    if bytes.len() > limit {
        return Err(Problem::new(
            "photo",
            format!("a photo of at most {} KB", limit / 1024),
            format!("{} KB", bytes.len().div_ceil(1024)),
        ));
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return strip_jpeg(bytes).map(|b| (ImageKind::Jpeg, b));
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return strip_png(bytes).map(|b| (ImageKind::Png, b));
    }
    Err(not_image(
        "a file that is neither (its first bytes are not an image's)",
    ))
}

fn strip_jpeg(b: &[u8]) -> Result<Vec<u8>, Problem> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..2]);
    let mut i = 2;
    loop {
        // Fill bytes before a marker are allowed.
        while i < b.len() && b[i] == 0xFF && b.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        if i + 1 >= b.len() || b[i] != 0xFF {
            return Err(not_image(
                "a JPEG cut short or damaged before its image data",
            ));
        }
        let marker = b[i + 1];
        match marker {
            // Start of scan: the rest is the picture (and whatever follows it) as it is.
            0xDA => {
                out.extend_from_slice(&b[i..]);
                return Ok(out);
            }
            0xD9 => return Err(not_image("a JPEG with no image data")),
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&b[i..i + 2]);
                i += 2;
            }
            _ => {
                if i + 3 >= b.len() {
                    return Err(not_image("a JPEG cut short in a segment's header"));
                }
                let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
                if len < 2 || i + 2 + len > b.len() {
                    return Err(not_image("a JPEG with a segment longer than the file"));
                }
                let end = i + 2 + len;
                // APP1..APP15 (EXIF, XMP, ICC kept in APP2 is dropped too) and comments go;
                // APP0 (JFIF) and the picture's tables stay.
                let metadata = (0xE1..=0xEF).contains(&marker) || marker == 0xFE;
                if !metadata {
                    out.extend_from_slice(&b[i..end]);
                }
                i = end;
            }
        }
    }
}

fn strip_png(b: &[u8]) -> Result<Vec<u8>, Problem> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..8]);
    let mut i = 8;
    let mut saw_end = false;
    while i < b.len() {
        if i + 8 > b.len() {
            return Err(not_image("a PNG cut short in a chunk's header"));
        }
        let len = u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize;
        let kind = &b[i + 4..i + 8];
        let end = i
            .checked_add(12)
            .and_then(|x| x.checked_add(len))
            .filter(|e| *e <= b.len())
            .ok_or_else(|| not_image("a PNG with a chunk longer than the file"))?;
        let metadata = matches!(kind, b"tEXt" | b"iTXt" | b"zTXt" | b"eXIf" | b"tIME");
        if !metadata {
            out.extend_from_slice(&b[i..end]);
        }
        i = end;
        if kind == b"IEND" {
            saw_end = true;
            break;
        }
    }
    if !saw_end {
        return Err(not_image("a PNG without its end chunk"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A small JPEG shaped as a phone writes it: SOI, APP1 (EXIF with a GPS tag's text), APP0,
    /// a quantisation table, SOS and image data, EOI.
    pub fn phone_jpeg() -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        let exif = b"Exif\0\0GPSLatitude 51.5074 N";
        v.extend_from_slice(&[0xFF, 0xE1]);
        v.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
        v.extend_from_slice(exif);
        v.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x10]);
        v.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        v.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x04, 0x00, 0x01]);
        v.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 0x12, 0x34, 0x56, 0xFF, 0xD9]);
        v
    }

    #[test]
    fn a_jpeg_loses_its_location_and_keeps_its_picture() {
        let (k, out) = clean(&phone_jpeg(), MAX_PHOTO_BYTES).unwrap();
        assert_eq!(k, ImageKind::Jpeg);
        assert!(!out.windows(3).any(|w| w == b"GPS"));
        assert!(out.windows(4).any(|w| w == b"JFIF"));
        assert!(out.ends_with(&[0x12, 0x34, 0x56, 0xFF, 0xD9]));
    }

    #[test]
    fn a_png_loses_its_text() {
        let chunk = |kind: &[u8], data: &[u8]| {
            let mut c = (data.len() as u32).to_be_bytes().to_vec();
            c.extend_from_slice(kind);
            c.extend_from_slice(data);
            c.extend_from_slice(&[0, 0, 0, 0]);
            c
        };
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(b"IHDR", &[0; 13]));
        png.extend(chunk(b"tEXt", b"Location\0Ward 3"));
        png.extend(chunk(b"IDAT", &[1, 2, 3]));
        png.extend(chunk(b"IEND", &[]));
        let (k, out) = clean(&png, MAX_PHOTO_BYTES).unwrap();
        assert_eq!(k, ImageKind::Png);
        assert!(!out.windows(4).any(|w| w == b"tEXt"));
        assert!(out.windows(4).any(|w| w == b"IDAT"));
    }

    #[test]
    fn not_an_image_and_too_large_are_refused_naming_the_field() {
        let e = clean(b"%PDF-1.7 not a photo", MAX_PHOTO_BYTES).unwrap_err();
        assert_eq!(e.field, "photo");
        assert!(e.to_string().contains("a JPEG or PNG image"));
        let e = clean(&phone_jpeg(), 10).unwrap_err();
        assert!(e.expected.contains("at most"));
        assert!(clean(&[0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF], MAX_PHOTO_BYTES).is_err());
    }

    proptest! {
        #[test]
        fn cleaning_never_panics_and_never_grows(bytes in proptest::collection::vec(any::<u8>(), 0..300), jpeg in any::<bool>()) {
            let mut b = if jpeg { vec![0xFF, 0xD8, 0xFF] } else { b"\x89PNG\r\n\x1a\n".to_vec() };
            b.extend(bytes);
            if let Ok((_, out)) = clean(&b, MAX_PHOTO_BYTES) {
                prop_assert!(out.len() <= b.len());
            }
        }
    }
}
