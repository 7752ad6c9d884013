//! Identity cards near their expiry, and the reminders sent about them (one per document).

use crate::identity::get;
use crate::{Result, TenantDb};

/// A resident whose identity card expires soon and who was not reminded of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiring {
    pub person_id: i64,
    pub fiscal_code: String,
    pub code_key: String,
    pub first_name: String,
    pub doc_number: String,
    /// `YYYY-MM-DD`.
    pub expires: String,
}

impl TenantDb<'_> {
    /// Residents today whose identity card expires on or before `until` (and not before
    /// `from`), not yet reminded about that card.
    pub async fn registry_cards_expiring(
        &self,
        from: &str,
        until: &str,
        limit: u64,
    ) -> Result<Vec<Expiring>> {
        let rows = self
            .all(
                &format!(
                    "SELECT v.person_id, p.fiscal_code, p.code_key, v.first_name, v.doc_number, v.doc_expires \
                     FROM registry_versions v JOIN registry_people p ON p.tenant_id = v.tenant_id AND p.id = v.person_id \
                     WHERE v.tenant_id = $1 AND v.doc_expires >= $2 AND v.doc_expires <= $3 \
                     AND v.doc_kind = 'identity_card' AND v.valid_to IS NULL AND v.superseded_at IS NULL \
                     AND v.status = 'resident' AND NOT EXISTS (SELECT 1 FROM registry_reminders r \
                     WHERE r.tenant_id = v.tenant_id AND r.person_id = v.person_id AND r.doc_number = v.doc_number) \
                     ORDER BY v.doc_expires, v.person_id LIMIT {limit}"
                ),
                vec![from.into(), until.into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Expiring {
                    person_id: get(r, "person_id")?,
                    fiscal_code: get(r, "fiscal_code")?,
                    code_key: get(r, "code_key")?,
                    first_name: get(r, "first_name")?,
                    doc_number: get(r, "doc_number")?,
                    expires: get(r, "doc_expires")?,
                })
            })
            .collect()
    }

    /// Records the reminder about a card; false: it was recorded before (another node).
    pub async fn mark_card_reminded(
        &self,
        person: i64,
        doc_number: &str,
        on: &str,
        told: bool,
    ) -> Result<bool> {
        Ok(self
            .exec(
                "INSERT INTO registry_reminders (tenant_id, person_id, doc_number, sent_on, told) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, person_id, doc_number) DO NOTHING",
                vec![person.into(), doc_number.into(), on.into(), told.into()],
            )
            .await?
            == 1)
    }
}
