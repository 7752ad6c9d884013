//! The office's response document: attached by the case's office with the outcome (or after),
//! a PDF or signed `.p7m` judged from its bytes; the citizen downloads it from their case and
//! the history records it with its SHA-256. Another office reaches nothing.

use sportello_authz::Role;
use sportello_cases::office::{self, Act};
use sportello_cases::{files, follow, response};
use sportello_domain::{AssuranceLevel, Language, Why};
use sportello_kernel::Error;

use crate::cases::{BASE, PISA, citizen, report, world};
use crate::cases_office::staff;

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

#[tokio::test]
async fn the_office_sends_a_response_document_the_citizen_downloads() {
    let w = world().await;
    let anna = citizen(&w, PISA, "RSSMRA85T10A562S", AssuranceLevel::Low).await;
    let s = report(&w, &anna, "altro", "Permesso").await.unwrap();
    let clerk = staff(&w, PISA, "clerk@urp.it", Role::Clerk, Some("urp")).await;
    let other = staff(&w, PISA, "clerk@anagrafe.it", Role::Clerk, Some("anagrafe")).await;
    office::act(&w.deps, &clerk, &s.case_id, &Act::Take, BASE)
        .await
        .unwrap();
    office::act(
        &w.deps,
        &clerk,
        &s.case_id,
        &Act::Decide {
            accept: true,
            reason: "Accolta: il permesso è allegato.".into(),
        },
        BASE,
    )
    .await
    .unwrap();
    // Not a PDF (by its bytes, whatever its name): refused, nothing kept.
    let e = response::attach(
        &w.deps,
        &clerk,
        &s.case_id,
        "permesso.pdf",
        b"GIF89a...",
        BASE,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, Error::Invalid(p) if p.0[0].why == Why::FileType),
        "{e:?}"
    );
    // Another office's clerk: as if the case did not exist.
    assert!(matches!(
        response::attach(&w.deps, &other, &s.case_id, "permesso.pdf", PDF, BASE).await,
        Err(Error::NotFound)
    ));
    let f = response::attach(&w.deps, &clerk, &s.case_id, "permesso ZTL.pdf", PDF, BASE)
        .await
        .unwrap();
    assert_eq!(f.name, "permesso ZTL.pdf");
    let v = follow::one(&w.deps, PISA, &anna, &s.case_id, Language::It)
        .await
        .unwrap();
    let doc = v.files.iter().find(|x| x.field == response::FIELD).unwrap();
    assert_eq!(doc.sha256, f.sha256);
    let e = v.events.last().unwrap();
    assert_eq!(e.kind, "response_document");
    assert!(e.public);
    let d = files::citizen_download(&w.deps, PISA, &anna, &s.case_id, &doc.id)
        .await
        .unwrap();
    assert_eq!(d.bytes, PDF);
    assert_eq!(d.media_type, "application/pdf");
}
