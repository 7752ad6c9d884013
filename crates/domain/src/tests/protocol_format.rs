use super::*;

fn p(year: i32, number: i64) -> ProtocolNumber {
    ProtocolNumber { year, number }
}

#[test]
fn the_default_writes_year_slash_seven_digits_and_reads_it_back() {
    let f = ProtocolFormat::parse("").unwrap();
    assert_eq!(f, ProtocolFormat::default());
    assert_eq!(f.write(p(2026, 123)), "2026/0000123");
    assert_eq!(f.read("2026/0000123").unwrap(), p(2026, 123));
    assert_eq!(f.read(" 2026 / 123 ").unwrap(), p(2026, 123));
    assert_eq!(
        ProtocolFormat::parse(DEFAULT_PROTOCOL_FORMAT).unwrap(),
        ProtocolFormat::default()
    );
}

#[test]
fn a_communes_own_format_writes_and_reads_its_numbers() {
    let f = ProtocolFormat::parse("Prot. {numero:8}-{anno}").unwrap();
    assert_eq!(f.write(p(2026, 42)), "Prot. 00000042-2026");
    assert_eq!(f.read("prot.00000042-2026").unwrap(), p(2026, 42));
    assert_eq!(f.read("PROT. 42 - 2026").unwrap(), p(2026, 42));
    // The plain year/number is understood whatever the format.
    assert_eq!(f.read("2026/42").unwrap(), p(2026, 42));
    assert!(f.read("Prot. 42-26").is_err());
    assert!(f.read("Prot. 0-2026").is_err());
    assert!(f.read("Prot. 42-2026x").is_err());
}

#[test]
fn more_digits_are_written_when_the_number_outgrows_the_width() {
    let f = ProtocolFormat::parse("{anno}/{numero}").unwrap();
    assert_eq!(f.write(p(2026, 123_456_789)), "2026/123456789");
}

#[test]
fn a_format_that_would_lose_the_number_or_the_year_is_refused() {
    for bad in [
        "{numero}",
        "{anno}",
        "{anno}/{numero}/{numero}",
        "{anno}{numero:7}",
        "{anno}12{numero:7}",
        "{anno}/{numero:6}",
        "{anno}/{numero:13}",
        "{anno}/{numero:x}",
        "{anno}/{n}",
        "{anno}/{numero",
        "<b>{anno}/{numero}",
        "{anno}/{numero} and a very long tail of text",
        "{anno}/{numero}1",
    ] {
        let e = ProtocolFormat::parse(bad).unwrap_err();
        assert_eq!(e.why, Why::ProtocolFormat, "{bad}");
    }
}

#[test]
fn a_written_number_is_found_by_its_key_whatever_the_format() {
    assert_eq!(
        ProtocolFormat::key(" pg/2026/ 00000042 "),
        "PG/2026/00000042"
    );
}

#[test]
fn the_pieces_write_what_the_format_writes() {
    for s in [
        "",
        "PG/{anno}/{numero:8}",
        "{numero:9}-{anno}",
        "Prot. {anno}-{numero}",
    ] {
        let f = ProtocolFormat::parse(s).unwrap();
        for n in [1, 123, 9_999_999, 123_456_789_012] {
            let mut out = String::new();
            for piece in f.pieces() {
                match piece {
                    Piece::Text(t) => out.push_str(t),
                    Piece::Year => out.push_str("2026"),
                    Piece::Number(w) => out.push_str(&format!("{n:0w$}")),
                }
            }
            assert_eq!(out, f.write(p(2026, n)), "{s} {n}");
        }
    }
}
