#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn text_is_escaped_and_encoded() {
    assert_eq!(escape("a(b)c\\"), b"a\\(b\\)c\\\\".to_vec());
    assert_eq!(escape("è €"), vec![0xe8, b' ', 0x80]);
    assert_eq!(escape("日"), b"?".to_vec());
}

#[test]
fn long_lines_wrap_and_pages_break() {
    assert_eq!(wrap("uno due tre", 7), vec!["uno due", "tre"]);
    assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
    let many: Vec<Line> = (0..200)
        .map(|i| Line {
            bold: false,
            size: 10,
            text: format!("riga {i}"),
        })
        .collect();
    let pdf = render("t", &many);
    assert!(pdf.starts_with(b"%PDF-1.4"));
    let find = |needle: &[u8]| pdf.windows(needle.len()).rposition(|w| w == needle);
    assert!(
        find(b"/Count 4").is_some(),
        "200 lines of 14 points, 53 a page: four pages"
    );
    // Every offset in the table points at its object.
    let xref = pdf.windows(5).position(|w| w == b"xref\n").unwrap();
    let table = String::from_utf8_lossy(&pdf[xref..]).into_owned();
    let mut objects = 0;
    for (i, line) in table
        .lines()
        .skip(3)
        .take_while(|l| l.ends_with(" n "))
        .enumerate()
    {
        let at: usize = line[..10].parse().unwrap();
        assert!(
            pdf[at..].starts_with(format!("{} 0 obj", i + 1).as_bytes()),
            "object {}",
            i + 1
        );
        objects += 1;
    }
    assert_eq!(objects, 5 + 2 * 4);
}
