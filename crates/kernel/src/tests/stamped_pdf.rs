use super::*;

fn laid() -> Laid {
    let lines = vec![
        Line {
            bold: true,
            size: 14,
            text: "COMUNE DI PISA".into(),
        },
        Line {
            bold: false,
            size: 11,
            text: "ROSSI MARIO, nato il 01/01/1980 a PISA — Ștefan Łukasz Œuvre".into(),
        },
    ];
    lay_out(
        "Certificato",
        &lines,
        &["Timbro digitale (certificato n. 2026/1)".to_owned()],
    )
}

const STAMP: &str = "SPT1.abc.content.signature";
const CODE: &str = "http://pisa.localhost:8080/verifica?t=SPT1.abc.content.signature";

#[test]
fn a_written_file_reads_back_with_its_digest_and_code() {
    let l = laid();
    let pdf = l.write(STAMP, CODE).unwrap();
    let r = read(&pdf).expect("our own file");
    assert_eq!(r.stamp, STAMP);
    assert_eq!(r.code, CODE);
    assert_eq!(r.digest, l.digest());
    assert!(r.code_on_every_page);
    // Letters the font lacks are hashed as drawn (`?`), the same on both sides.
    assert!(
        crate::pdf::text_of(&pdf)
            .iter()
            .any(|t| t.contains("?tefan ?ukasz Œuvre"))
    );
}

#[test]
fn any_change_to_the_file_is_seen() {
    let l = laid();
    let pdf = l.write(STAMP, CODE).unwrap();
    // A letter of the text (same length): read, but another digest.
    let at = pdf.windows(5).position(|w| w == b"ROSSI").unwrap();
    let mut edited = pdf.clone();
    edited[at] = b'B';
    assert_ne!(read(&edited).unwrap().digest, l.digest());
    // A byte added at the end, a second information entry, an extra drawing: not our file.
    let mut longer = pdf.clone();
    longer.push(b'\n');
    assert!(read(&longer).is_none());
    let mut hidden = pdf.clone();
    hidden.extend_from_slice(b"% BT /F1 11 Tf 50 700 Td (ROSSI) Tj ET\n");
    assert!(read(&hidden).is_none());
    // A square of the code moved: read, but the code is no longer the stamp's.
    let sq = pdf.windows(4).position(|w| w == b" re\n").unwrap();
    let line_start = pdf[..sq].iter().rposition(|&c| c == b'\n').unwrap() + 1;
    let mut moved = pdf.clone();
    let digit = line_start + 1;
    moved[digit] = if moved[digit] == b'9' {
        b'8'
    } else {
        moved[digit] + 1
    };
    let r = read(&moved).unwrap();
    assert!(!r.code_on_every_page);
    // The plain renderer's files are not stamped files.
    assert!(read(&crate::pdf::render("x", &[])).is_none());
}

#[test]
fn a_signed_file_is_read_by_the_stamped_file_inside_it_and_nothing_else_is_let_in() {
    use crate::pdf_signature::{CONTENTS_HEX, original, sign};
    let l = laid();
    let pdf = l.write(STAMP, CODE).unwrap();
    let mut seen = vec![];
    let signed = sign(&pdf, "D:20261207093000Z", |covered| {
        seen = covered.to_vec();
        Some(vec![0x30, 0x03, 0x02, 0x01, 0x07])
    })
    .unwrap();
    assert!(
        signed.starts_with(&pdf),
        "the stamped file stays byte for byte"
    );
    let (inside, sig) = original(&signed).expect("our own signature");
    assert_eq!(inside, pdf.as_slice());
    assert_eq!(sig.m, "D:20261207093000Z");
    assert!(sig.cms.starts_with(&[0x30, 0x03, 0x02, 0x01, 0x07]));
    // The signature covers every byte but its own hex string.
    assert_eq!(sig.covered, seen);
    assert_eq!(signed.len() - seen.len(), CONTENTS_HEX + 2);
    let r = read(&signed).expect("a signed file reads");
    assert_eq!((r.stamp.as_str(), r.digest), (STAMP, l.digest()));
    // The same as [`read`] refuses elsewhere: a byte changed in the update, anything appended,
    // a CMS too large to fit.
    let flags = signed
        .windows(11)
        .position(|w| w == b"/SigFlags 3")
        .unwrap();
    let mut changed = signed.clone();
    changed[flags + 10] = b'1';
    assert!(original(&changed).is_none() && read(&changed).is_none());
    let mut more = signed.clone();
    more.extend_from_slice(b"% more\n");
    assert!(original(&more).is_none() && read(&more).is_none());
    let mut title = signed.clone();
    let t = title.windows(5).position(|w| w == b"/Type").unwrap();
    title[t + 1] = b't';
    assert!(read(&title).is_none());
    assert!(sign(&pdf, "D:20261207093000Z", |_| Some(vec![0; CONTENTS_HEX])).is_none());
    assert!(sign(b"%PDF-1.4\nnot ours", "D:1", |_| Some(vec![])).is_none());
}
