//! A plain PDF of text lines (PDF 1.4, the standard Helvetica fonts, WinAnsi encoding: every
//! letter Italian, German and English need, and €), for receipts and notices. No images, no
//! layout engine: lines are wrapped by character count, pages break at the bottom margin. A QR
//! code, where a document has one, is drawn after the text as filled squares (vector: sharp at
//! any scale, readable from a print or a screen).

/// A line of the document: bold or not, and its text.
pub struct Line {
    pub bold: bool,
    pub size: u8,
    pub text: String,
}

const TOP: i32 = 800;
const BOTTOM: i32 = 50;
const LEFT: i32 = 50;

/// The side of a QR code's module, in points (1/72 inch): about 1.4 mm.
const MODULE: i32 = 4;

/// Writes the lines into PDF pages (A4).
pub fn render(title: &str, lines: &[Line]) -> Vec<u8> {
    render_with_qr(title, lines, None)
}

/// Writes the lines, then the QR code of `qr` (error correction M, the quiet zone of four
/// modules) below them. A text no QR code can hold is left out.
pub fn render_with_qr(title: &str, lines: &[Line], qr: Option<&str>) -> Vec<u8> {
    let code =
        qr.and_then(|t| qrcode::QrCode::with_error_correction_level(t, qrcode::EcLevel::M).ok());
    // Lay out: wrap, then cut into pages.
    let mut pages: Vec<Vec<(bool, u8, i32, String)>> = vec![vec![]];
    let mut y = TOP;
    for l in lines {
        let width = (95.0 * 10.0 / f64::from(l.size.max(6))) as usize;
        let leading = i32::from(l.size) + 4;
        for part in wrap(&l.text, width) {
            if y - leading < BOTTOM {
                pages.push(vec![]);
                y = TOP;
            }
            y -= leading;
            if let Some(p) = pages.last_mut() {
                p.push((l.bold, l.size, y, part));
            }
        }
    }
    // The QR code: its squares, under the last line (on a new page if it does not fit).
    let mut squares = vec![];
    if let Some(code) = &code {
        let w = code.width() as i32;
        let side = (w + 8) * MODULE;
        if y - side < BOTTOM {
            pages.push(vec![]);
            y = TOP;
        }
        let top = y - 4 * MODULE;
        for (i, c) in code.to_colors().iter().enumerate() {
            if *c == qrcode::Color::Dark {
                let (row, col) = (i as i32 / w, i as i32 % w);
                squares.push((LEFT + (4 + col) * MODULE, top - (row + 1) * MODULE));
            }
        }
    }
    let mut objects: Vec<Vec<u8>> = vec![];
    // 1 catalog, 2 pages, 3 regular font, 4 bold font, 5 info; then page and content pairs.
    let n = pages.len();
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 6 + 2 * i)).collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    objects.push(format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")).into_bytes());
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    let mut info = b"<< /Producer (Sportello) /Title (".to_vec();
    info.extend(escape(title));
    info.extend_from_slice(b") >>");
    objects.push(info);
    for (i, page) in pages.iter().enumerate() {
        let mut content = vec![];
        for (bold, size, y, text) in page {
            content.extend(
                format!(
                    "BT /{} {size} Tf {LEFT} {y} Td (",
                    if *bold { "F2" } else { "F1" }
                )
                .into_bytes(),
            );
            content.extend(escape(text));
            content.extend_from_slice(b") Tj ET\n");
        }
        if i + 1 == n && !squares.is_empty() {
            content.extend_from_slice(b"0 g\n");
            for (x, y) in &squares {
                content.extend(format!("{x} {y} {MODULE} {MODULE} re\n").into_bytes());
            }
            content.extend_from_slice(b"f\n");
        }
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
                7 + 2 * i
            )
            .into_bytes(),
        );
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend(content);
        stream.extend_from_slice(b"endstream");
        objects.push(stream);
    }
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = vec![];
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).into_bytes());
        out.extend_from_slice(o);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).into_bytes());
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").into_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .into_bytes(),
    );
    out
}

/// The text a document of [`render`] shows, line by line as drawn (its literal strings decoded).
pub fn text_of(pdf: &[u8]) -> Vec<String> {
    let mut out = vec![];
    let mut rest = pdf;
    while let Some(at) = find(rest, b" Td (") {
        rest = &rest[at + 5..];
        let (s, used) = unescape(rest);
        out.push(s);
        rest = &rest[used..];
    }
    out
}

/// The value of a text entry of the document's information (`/SportelloStamp`), decoded.
pub fn info_value(pdf: &[u8], key: &str) -> Option<String> {
    let tag = format!("/{key} (");
    let at = find(pdf, tag.as_bytes())?;
    Some(unescape(&pdf[at + tag.len()..]).0)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A literal string's text up to its closing parenthesis (WinAnsi back to Unicode), and the
/// bytes read.
pub(crate) fn unescape(b: &[u8]) -> (String, usize) {
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if i + 1 < b.len() => {
                out.push(winansi(b[i + 1]));
                i += 2;
            }
            b')' => return (out, i + 1),
            c => {
                out.push(winansi(c));
                i += 1;
            }
        }
    }
    (out, i)
}

fn winansi(b: u8) -> char {
    match b {
        0x80..=0x9f => crate::csv_text::CP1252[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

/// Splits a text into lines of at most `width` characters, at spaces where it can.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = vec![];
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split(' ') {
            let mut word = word.to_owned();
            while word.chars().count() > width {
                let head: String = word.chars().take(width).collect();
                word = word.chars().skip(width).collect();
                if !line.is_empty() {
                    out.push(std::mem::take(&mut line));
                }
                out.push(head);
            }
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                out.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&word);
        }
        out.push(line);
    }
    out
}

/// A text as a PDF literal string's bytes in WinAnsi (Windows-1252): `(`, `)` and `\` escaped,
/// what the encoding lacks as `?`, controls as spaces.
pub(crate) fn escape(s: &str) -> Vec<u8> {
    let mut out = vec![];
    for c in s.chars() {
        let b = match c {
            '\u{20}'..='\u{7e}' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            c if crate::csv_text::CP1252.contains(&c) && !c.is_control() => {
                0x80 + crate::csv_text::CP1252
                    .iter()
                    .position(|&x| x == c)
                    .unwrap_or(0) as u8
            }
            c if c.is_control() => b' ',
            _ => b'?',
        };
        if matches!(b, b'(' | b')' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

#[cfg(test)]
#[path = "tests/pdf.rs"]
mod tests;
