use super::*;

#[test]
fn the_bytes_decide_not_the_name() {
    assert_eq!(FileType::sniff(b"%PDF-1.7\n..."), Some(FileType::Pdf));
    assert_eq!(
        FileType::sniff(&[0xff, 0xd8, 0xff, 0xe0, 0, 0x10]),
        Some(FileType::Jpeg)
    );
    assert_eq!(
        FileType::sniff(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0]),
        Some(FileType::Png)
    );
    let mut p7m = vec![0x30, 0x80];
    p7m.extend_from_slice(SIGNED_DATA_OID);
    assert_eq!(FileType::sniff(&p7m), Some(FileType::P7m));
    // An executable, an HTML page, a text calling itself PDF further on, nothing at all.
    for bad in [
        &b"MZ\x90\x00"[..],
        b"<html><script>",
        b"hello %PDF-1.4",
        b"",
        &[0x30, 0x82, 1, 2],
    ] {
        assert_eq!(FileType::sniff(bad), None, "{bad:?}");
    }
}
