//! Text in the PDF base fonts: the WinAnsi encoding every reader knows for Helvetica, the
//! widths of its glyphs (so lines can be wrapped without embedding a font), and wrapping.
//!
//! The base fonts need no font file in the PDF, which keeps a report a few kilobytes and the
//! crate free of font assets; the price is the WinAnsi character set, so characters outside it
//! are written as the nearest plain equivalent (≥ as ">=", ′ as "'") and never dropped silently.

/// Helvetica's advance widths in thousandths of an em for the printable ASCII characters
/// (0x20..=0x7E), from the font's published metrics.
const HELVETICA_ASCII: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // ' '../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // 0-9
    278, 278, 584, 584, 584, 556, 1015, // :;<=>?@
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, // A-M
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, // N-Z
    278, 278, 278, 469, 556, 333, // [\]^_`
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, // a-m
    556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, // n-z
    334, 260, 334, 584, // {|}~
];

/// Helvetica-Bold's glyphs are wider; rather than carry a second table, bold text is measured
/// at this factor of the regular widths, which is at or above the bold font's width for every
/// letter and digit, so wrapped bold lines never overrun their box.
const BOLD_FACTOR: f32 = 1.1;

/// The font a run of text is set in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Font {
    Regular,
    Bold,
}

/// The width of `text` in points at `size`.
pub fn width(text: &str, font: Font, size: f32) -> f32 {
    let units: u32 = encode(text).iter().map(|&b| glyph_width(b) as u32).sum();
    let w = units as f32 / 1000.0 * size;
    match font {
        Font::Regular => w,
        Font::Bold => w * BOLD_FACTOR,
    }
}

fn glyph_width(byte: u8) -> u16 {
    match byte {
        0x20..=0x7E => HELVETICA_ASCII[(byte - 0x20) as usize],
        // Accented capitals and wide signs are about an em wide or less; this errs wide.
        _ => 722,
    }
}

/// `text` as WinAnsi bytes for a base font. Characters the encoding lacks become their plain
/// equivalent; anything else becomes "?", so nothing vanishes without a trace.
pub fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match c {
            ' '..='~' => out.push(c as u8),
            '\u{A0}'..='\u{FF}' => out.push(c as u32 as u8),
            '\t' | '\n' | '\r' => out.push(b' '),
            _ => match winansi_extra(c) {
                Some(b) => out.push(b),
                None => out.extend_from_slice(plain(c).as_bytes()),
            },
        }
    }
    out
}

/// The characters WinAnsi places in 0x80..0x9F.
fn winansi_extra(c: char) -> Option<u8> {
    Some(match c {
        '€' => 0x80,
        '‚' => 0x82,
        '„' => 0x84,
        '…' => 0x85,
        '†' => 0x86,
        '‡' => 0x87,
        '‰' => 0x89,
        '‹' => 0x8B,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '™' => 0x99,
        '›' => 0x9B,
        _ => return None,
    })
}

fn plain(c: char) -> &'static str {
    match c {
        '′' => "'",
        '″' => "\"",
        '≥' => ">=",
        '≤' => "<=",
        '≠' => "!=",
        '−' => "-",
        '×' => "x",
        '→' => "->",
        '←' => "<-",
        '✓' => "yes",
        '\u{2009}' | '\u{202F}' | '\u{2007}' => " ",
        _ => "?",
    }
}

/// Break `text` into lines no wider than `max_width` points, at spaces; a word longer than a
/// line is cut. Explicit newlines start a new line.
pub fn wrap(text: &str, font: Font, size: f32, max_width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if width(&candidate, font, size) <= max_width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // The word alone may still be too long: cut it where it stops fitting.
            let mut rest = word.to_string();
            while width(&rest, font, size) > max_width {
                let cut = fitting_prefix(&rest, font, size, max_width);
                lines.push(rest[..cut].to_string());
                rest = rest[cut..].to_string();
            }
            line = rest;
        }
        lines.push(line);
    }
    lines
}

/// The byte length of the longest prefix of `s` (at least one character) that fits.
fn fitting_prefix(s: &str, font: Font, size: f32, max_width: f32) -> usize {
    let mut end = 0;
    for (i, c) in s.char_indices() {
        let next = i + c.len_utf8();
        if end > 0 && width(&s[..next], font, size) > max_width {
            break;
        }
        end = next;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_follow_the_font_metrics() {
        // "Hello" in Helvetica: H 722 + e 556 + l 222 + l 222 + o 556 = 2278 units.
        assert!((width("Hello", Font::Regular, 10.0) - 22.78).abs() < 1e-4);
        assert!(width("Hello", Font::Bold, 10.0) > width("Hello", Font::Regular, 10.0));
    }

    #[test]
    fn characters_outside_winansi_become_plain_text() {
        assert_eq!(encode("d′ ≥ 1.5 – ok"), b"d' >= 1.5 \x96 ok".to_vec());
        assert_eq!(encode("£5 café"), b"\xA35 caf\xE9".to_vec());
        assert_eq!(encode("漢"), b"?".to_vec());
    }

    #[test]
    fn wrapping_keeps_every_word_and_every_line_fits() {
        let text = "Restraint per 1,000 occupied bed days fell after the safety huddles began \
                    on Ash Ward in March 2024 and the new centre line has held since.";
        let lines = wrap(text, Font::Regular, 10.0, 120.0);
        assert!(lines.len() > 2);
        for l in &lines {
            assert!(width(l, Font::Regular, 10.0) <= 120.0, "{l}");
        }
        assert_eq!(
            lines.join(" "),
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }

    #[test]
    fn a_word_longer_than_the_line_is_cut_not_lost() {
        let word = "x".repeat(200);
        let lines = wrap(&word, Font::Regular, 10.0, 50.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), word);
    }

    #[test]
    fn newlines_start_lines() {
        assert_eq!(wrap("a\nb", Font::Regular, 10.0, 500.0), vec!["a", "b"]);
        assert_eq!(wrap("", Font::Regular, 10.0, 500.0), vec![""]);
    }
}
