//! What a file is, judged by its first bytes (its "magic"), never by its name or by what the
//! browser says: a PDF, a JPEG or PNG image, or a CAdES-signed file (`.p7m`).

/// The file types forms may accept (`types` in a form's file field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Pdf,
    Jpeg,
    Png,
    /// PKCS#7 / CAdES signed data (the Italian `.p7m` of a digitally signed document), DER.
    P7m,
}

/// PKCS#7 signedData: 1.2.840.113549.1.7.2, as DER.
const SIGNED_DATA_OID: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
];

impl FileType {
    /// The type the bytes show, if one of ours.
    pub fn sniff(b: &[u8]) -> Option<Self> {
        if b.starts_with(b"%PDF-") {
            Some(Self::Pdf)
        } else if b.starts_with(&[0xff, 0xd8, 0xff]) {
            Some(Self::Jpeg)
        } else if b.starts_with(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]) {
            Some(Self::Png)
        } else if b.first() == Some(&0x30)
            && b.iter()
                .take(64)
                .collect::<Vec<_>>()
                .windows(SIGNED_DATA_OID.len())
                .any(|w| w.iter().copied().eq(SIGNED_DATA_OID.iter()))
        {
            Some(Self::P7m)
        } else {
            None
        }
    }

    /// The name forms use (`pdf`, `jpeg`, `png`, `p7m`).
    pub fn key(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Jpeg => "jpeg",
            Self::Png => "png",
            Self::P7m => "p7m",
        }
    }

    /// The media type a download is served with.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::P7m => "application/pkcs7-mime",
        }
    }

    pub fn from_key(k: &str) -> Option<Self> {
        [Self::Pdf, Self::Jpeg, Self::Png, Self::P7m]
            .into_iter()
            .find(|t| t.key() == k)
    }
}

#[cfg(test)]
#[path = "tests/file_type.rs"]
mod tests;
