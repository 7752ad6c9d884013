//! A document with a digital stamp at the foot of every page (registry certificates), and the
//! strict reading of one: the verifier accepts only a file this module could have written.
//!
//! Issuing is in two steps, because the stamp certifies what the pages show: [`lay_out`] places
//! the lines (the foot of each page kept for the stamp, whatever its size), [`Laid::digest`] is
//! the SHA-256 of everything drawn as text (font, size, position, words), which the stamp then
//! signs, and [`Laid::write`] writes the file with the stamp's 2D code on every page and its
//! text in the document's information (`/SportelloStamp`, and the code's text as
//! `/SportelloCode`).
//!
//! [`read`] takes a file apart only if it has exactly the structure [`Laid::write`] gives:
//! the same objects in the same order, content streams of nothing but text lines, black
//! squares and fills, within the page, the cross-reference table right, nothing after the end.
//! So a verifier can trust that the text it hashes is all the text a reader sees, and compare
//! each page's squares with the code the stamp makes.

use sha2::{Digest, Sha256};

use crate::pdf::{Line, escape, unescape, wrap};

const TOP: i32 = 800;
const LEFT: i32 = 50;
/// The foot kept for the stamp on every page: its code in a square of `CODE` points at the
/// right, the caption at the left.
const FOOT: i32 = 190;
const CODE: f64 = 160.0;
const HEADER: &[u8] = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
const CATALOG: &[u8] = b"<< /Type /Catalog /Pages 2 0 R >>";
const FONT_REGULAR: &[u8] =
    b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>";
const FONT_BOLD: &[u8] =
    b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>";

/// A string drawn: bold, size, position, text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drawn {
    pub bold: bool,
    pub size: u8,
    pub x: i32,
    pub y: i32,
    pub text: String,
}

/// Lines placed on pages, with the caption printed beside the stamp on each.
#[derive(Debug, Clone)]
pub struct Laid {
    title: String,
    pages: Vec<Vec<Drawn>>,
}

/// Places `lines` on A4 pages above the foot, and the caption in the foot of each page.
pub fn lay_out(title: &str, lines: &[Line], caption: &[String]) -> Laid {
    let mut pages: Vec<Vec<Drawn>> = vec![vec![]];
    let mut y = TOP;
    for l in lines {
        let width = (95.0 * 10.0 / f64::from(l.size.max(6))) as usize;
        let leading = i32::from(l.size) + 4;
        for part in wrap(&l.text, width) {
            if y - leading < FOOT {
                pages.push(vec![]);
                y = TOP;
            }
            y -= leading;
            if let Some(p) = pages.last_mut() {
                p.push(Drawn {
                    bold: l.bold,
                    size: l.size,
                    x: LEFT,
                    y,
                    text: text_as_drawn(&part),
                });
            }
        }
    }
    let mut foot = vec![];
    let mut y = FOOT - 30;
    for line in caption {
        for part in wrap(line, 60) {
            foot.push(Drawn {
                bold: false,
                size: 8,
                x: LEFT,
                y,
                text: text_as_drawn(&part),
            });
            y -= 11;
        }
    }
    for p in &mut pages {
        p.extend(foot.iter().cloned());
    }
    Laid {
        title: title.to_owned(),
        pages,
    }
}

/// A text as a reader gets it back from the file (letters the font lacks become `?`).
fn text_as_drawn(s: &str) -> String {
    unescape(&[escape(s).as_slice(), b")"].concat()).0
}

fn digest_of(pages: &[Vec<Drawn>]) -> String {
    let mut h = Sha256::new();
    for (i, p) in pages.iter().enumerate() {
        h.update(format!("page {i}\n"));
        for d in p {
            h.update(format!("{} {} {} {} ", u8::from(d.bold), d.size, d.x, d.y));
            h.update(d.text.as_bytes());
            h.update(b"\n");
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A square of a 2D code: x, y, side, in hundredths of a point.
type Square = (i64, i64, i64);

/// A 2D code's modules (dark or not, row by row) and its width: error correction M and always
/// the checkerboard mask. Any mask reads the same; trying all eight for the "best" one took a
/// third of a certificate's time.
fn modules(code: &str) -> Option<(i64, Vec<qrcode::Color>)> {
    use qrcode::canvas::{Canvas, MaskPattern};
    let bits = qrcode::bits::encode_auto(code.as_bytes(), qrcode::EcLevel::M).ok()?;
    let version = bits.version();
    let (data, ec) =
        qrcode::ec::construct_codewords(&bits.into_bytes(), version, qrcode::EcLevel::M).ok()?;
    let mut canvas = Canvas::new(version, qrcode::EcLevel::M);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&data, &ec);
    canvas.apply_mask(MaskPattern::Checkerboard);
    let colors = canvas.into_colors();
    let w = (colors.len() as f64).sqrt() as i64;
    (w * w == colors.len() as i64).then_some((w, colors))
}

/// The squares of a 2D code in the foot.
fn squares(code: &str) -> Option<Vec<Square>> {
    let (w, colors) = modules(code)?;
    let module = (CODE * 100.0) as i64 / (w + 8);
    let left = 54_500 - (w + 8) * module;
    let top = (FOOT - 10) as i64 * 100;
    Some(
        colors
            .iter()
            .enumerate()
            .filter(|(_, c)| **c == qrcode::Color::Dark)
            .map(|(i, _)| {
                let (row, col) = (i as i64 / w, i as i64 % w);
                (
                    left + (4 + col) * module,
                    top - (4 + row + 1) * module,
                    module,
                )
            })
            .collect(),
    )
}

fn hundredths(v: i64) -> String {
    format!("{}.{:02}", v / 100, v % 100)
}

impl Laid {
    /// What the pages show as text, hashed (hex SHA-256): what a stamp certifies.
    pub fn digest(&self) -> String {
        digest_of(&self.pages)
    }

    /// The file, with `stamp` in its information and the 2D code of `code` on every page;
    /// `None` when no 2D code holds `code`.
    pub fn write(&self, stamp: &str, code: &str) -> Option<Vec<u8>> {
        let squares = squares(code)?;
        let n = self.pages.len();
        let mut objects: Vec<Vec<u8>> = vec![
            CATALOG.to_vec(),
            pages_object(n).into_bytes(),
            FONT_REGULAR.to_vec(),
            FONT_BOLD.to_vec(),
        ];
        let mut info = b"<< /Producer (Sportello) /Title (".to_vec();
        info.extend(escape(&self.title));
        info.extend_from_slice(b") /SportelloStamp (");
        info.extend(escape(stamp));
        info.extend_from_slice(b") /SportelloCode (");
        info.extend(escape(code));
        info.extend_from_slice(b") >>");
        objects.push(info);
        for (i, page) in self.pages.iter().enumerate() {
            let mut content = vec![];
            for d in page {
                content.extend(
                    format!(
                        "BT /{} {} Tf {} {} Td (",
                        if d.bold { "F2" } else { "F1" },
                        d.size,
                        d.x,
                        d.y
                    )
                    .into_bytes(),
                );
                content.extend(escape(&d.text));
                content.extend_from_slice(b") Tj ET\n");
            }
            content.extend_from_slice(b"0 g\n");
            for (x, y, m) in &squares {
                content.extend(
                    format!(
                        "{} {} {} {} re\n",
                        hundredths(*x),
                        hundredths(*y),
                        hundredths(*m),
                        hundredths(*m)
                    )
                    .into_bytes(),
                );
            }
            content.extend_from_slice(b"f\n");
            objects.push(page_object(i).into_bytes());
            let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
            stream.extend(content);
            stream.extend_from_slice(b"endstream");
            objects.push(stream);
        }
        let mut out = HEADER.to_vec();
        let mut offsets = vec![];
        for (i, o) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend(format!("{} 0 obj\n", i + 1).into_bytes());
            out.extend_from_slice(o);
            out.extend_from_slice(b"\nendobj\n");
        }
        out.extend(tail(&offsets, out.len()));
        Some(out)
    }
}

fn pages_object(n: usize) -> String {
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 6 + 2 * i)).collect();
    format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" "))
}

fn page_object(i: usize) -> String {
    format!(
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
        7 + 2 * i
    )
}

fn tail(offsets: &[usize], xref: usize) -> Vec<u8> {
    let mut out = format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).into_bytes();
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").into_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            offsets.len() + 1
        )
        .into_bytes(),
    );
    out
}

/// A stamped file as [`read`] found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub stamp: String,
    pub code: String,
    /// What its pages show as text, hashed as [`Laid::digest`] does.
    pub digest: String,
    /// Whether every page carries exactly the 2D code of `code`.
    pub code_on_every_page: bool,
}

/// Cuts `b` at `prefix`, or fails.
fn take<'a>(b: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    b.strip_prefix(prefix)
}

/// A literal string `(…)` at the start of `b`: its text, and what follows.
fn literal(b: &[u8]) -> Option<(String, &[u8])> {
    let b = take(b, b"(")?;
    let (s, used) = unescape(b);
    (used > 0 && b.get(used - 1) == Some(&b')')).then(|| (s, &b[used..]))
}

/// One content stream's lines: the strings drawn and the squares, or `None` if it holds
/// anything else.
fn content(stream: &[u8]) -> Option<(Vec<Drawn>, Vec<Square>)> {
    let mut drawn = vec![];
    let mut squares = vec![];
    let mut rest = stream;
    let mut filled = false;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix(b"BT /") {
            let end = r.iter().position(|&c| c == b'(')?;
            let head = std::str::from_utf8(&r[..end]).ok()?;
            let parts: Vec<&str> = head.split(' ').collect();
            let [font, size, "Tf", x, y, "Td", ""] = parts[..] else {
                return None;
            };
            let bold = match font {
                "F1" => false,
                "F2" => true,
                _ => return None,
            };
            let (size, x, y) = (
                size.parse::<u8>().ok()?,
                x.parse::<i32>().ok()?,
                y.parse::<i32>().ok()?,
            );
            if !(0..=595).contains(&x) || !(0..=842).contains(&y) || size < 6 {
                return None;
            }
            let (s, after) = literal(&r[end..])?;
            rest = take(after, b" Tj ET\n")?;
            drawn.push(Drawn {
                bold,
                size,
                x,
                y,
                text: s,
            });
        } else if let Some(r) = rest.strip_prefix(b"0 g\n") {
            rest = r;
        } else if let Some(r) = rest.strip_prefix(b"f\n") {
            filled = true;
            rest = r;
        } else {
            let end = rest.iter().position(|&c| c == b'\n')?;
            let line = std::str::from_utf8(&rest[..end]).ok()?;
            let parts: Vec<&str> = line.split(' ').collect();
            let [x, y, w, h, "re"] = parts[..] else {
                return None;
            };
            let num = |s: &str| -> Option<i64> {
                let (a, b) = s.split_once('.')?;
                (b.len() == 2).then_some(())?;
                Some(a.parse::<i64>().ok()? * 100 + b.parse::<i64>().ok()?)
            };
            let (x, y, w, h) = (num(x)?, num(y)?, num(w)?, num(h)?);
            if w != h {
                return None;
            }
            squares.push((x, y, w));
            rest = &rest[end + 1..];
        }
    }
    filled.then_some((drawn, squares))
}

/// Takes a stamped file apart, or `None` when it is not exactly what [`Laid::write`] writes.
pub fn read(pdf: &[u8]) -> Option<Read> {
    // A signed file is read by the stamped file inside it (what follows is checked byte for
    // byte to be the signature's update: `pdf_signature::original`).
    let pdf = crate::pdf_signature::original(pdf).map_or(pdf, |(o, _)| o);
    let mut rest = take(pdf, HEADER)?;
    let mut objects: Vec<&[u8]> = vec![];
    let mut offsets = vec![];
    loop {
        let n = objects.len() + 1;
        let head = format!("{n} 0 obj\n");
        let Some(r) = rest.strip_prefix(head.as_bytes()) else {
            break;
        };
        offsets.push(pdf.len() - rest.len());
        let body_len = if n >= 7 && n % 2 == 1 {
            // A content stream: its declared length, then exactly that many bytes.
            let r2 = take(r, b"<< /Length ")?;
            let end = r2.iter().position(|&c| c == b' ')?;
            let len: usize = std::str::from_utf8(&r2[..end]).ok()?.parse().ok()?;
            let prefix = format!("<< /Length {len} >>\nstream\n");
            take(r, prefix.as_bytes())?;
            let after = prefix.len() + len;
            take(r.get(after..)?, b"endstream")?;
            after + b"endstream".len()
        } else {
            r.windows(8).position(|w| w == b"\nendobj\n")?
        };
        objects.push(r.get(..body_len)?);
        rest = take(r.get(body_len..)?, b"\nendobj\n")?;
    }
    if objects.len() < 7 || objects.len().is_multiple_of(2) {
        return None;
    }
    let n = (objects.len() - 5) / 2;
    if objects[0] != CATALOG
        || objects[1] != pages_object(n).as_bytes()
        || objects[2] != FONT_REGULAR
        || objects[3] != FONT_BOLD
    {
        return None;
    }
    // The information: title, stamp, code, nothing else.
    let info = take(objects[4], b"<< /Producer (Sportello) /Title ")?;
    let (_, info) = literal(info)?;
    let (stamp, info) = literal(take(info, b" /SportelloStamp ")?)?;
    let (code, info) = literal(take(info, b" /SportelloCode ")?)?;
    if info != b" >>" {
        return None;
    }
    let mut pages = vec![];
    let mut code_on_every_page = true;
    let expected = squares(&code)?;
    for i in 0..n {
        if objects[5 + 2 * i] != page_object(i).as_bytes() {
            return None;
        }
        let stream = objects[6 + 2 * i];
        let len_end = stream.iter().position(|&c| c == b'\n')?;
        let body = stream.get(len_end + b"\nstream\n".len()..stream.len() - b"endstream".len())?;
        let (drawn, sq) = content(body)?;
        code_on_every_page &= sq == expected;
        pages.push(drawn);
    }
    if rest != tail(&offsets, pdf.len() - rest.len()).as_slice() {
        return None;
    }
    Some(Read {
        stamp,
        code,
        digest: digest_of(&pages),
        code_on_every_page,
    })
}

#[cfg(test)]
#[path = "tests/stamped_pdf.rs"]
mod tests;
