use super::*;

#[test]
fn a_name_takes_the_extension_of_what_the_bytes_are() {
    assert_eq!(
        clean_name("../../etc/libretto.PDF", FileType::Pdf),
        "libretto.pdf"
    );
    assert_eq!(clean_name("x.pdf.bat", FileType::Pdf), "x.pdf.bat.pdf");
    assert_eq!(clean_name("foto.jpg", FileType::Jpeg), "foto.jpeg");
    assert_eq!(
        clean_name("fattura\u{202e}fdp.exe", FileType::Pdf),
        "fatturafdp.exe.pdf"
    );
    assert_eq!(clean_name("a\"b;c<d>.png", FileType::Png), "abcd.png");
    assert_eq!(clean_name("", FileType::Pdf), "file.pdf");
    assert_eq!(
        clean_name(&"x".repeat(500), FileType::Pdf).chars().count(),
        104
    );
}
