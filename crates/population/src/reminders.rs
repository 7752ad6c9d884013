//! The reminder that an identity card nears its expiry: once per card, six months ahead (a CIE
//! can be renewed from 180 days before it expires), by the notification outbox to the holder's
//! proven address — when the holder has used the portal; the registry alone has no address
//! (nor is a homonym told apart by omocodia ever guessed).
//! Every node may run it: the first to record a card's reminder sends it.

use chrono::{Duration, NaiveDate};
use sportello_domain::{Language, TenantId};
use sportello_kernel::{Deps, Result};
use sportello_notify::{Notice, To};

use crate::position::DOCUMENT_WARN_DAYS;

/// Cards looked at in one pass of a commune.
const BATCH: u64 = 500;

/// What one pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pass {
    /// Reminders written to the outbox.
    pub told: usize,
    /// Cards whose holder has no address we may write to (recorded, not told).
    pub unreachable: usize,
}

/// One pass over a commune's registry on `today`; `base` is its site (the position page's link).
pub async fn remind(deps: &Deps, commune: TenantId, today: NaiveDate, base: &str) -> Result<Pass> {
    let until = today + Duration::days(DOCUMENT_WARN_DAYS);
    let due = {
        let tx = deps.store.tenant_read(commune).await?;
        let due = tx
            .db()
            .registry_cards_expiring(&today.to_string(), &until.to_string(), BATCH)
            .await?;
        tx.commit().await?;
        due
    };
    let name = deps
        .tenancy
        .by_id(commune)
        .map_or_else(|| commune.0.to_string(), |c| c.record.name.clone());
    let mut pass = Pass::default();
    for card in due {
        // The holder as the portal knows them (identity providers give codes without omocodia);
        // homonyms told apart by omocodia share that form, and then nobody is guessed.
        let shared = {
            let tx = deps.store.tenant_read(commune).await?;
            let n = tx.db().registry_ids_by_key(&card.code_key).await?.len();
            tx.commit().await?;
            n > 1
        };
        let person = if shared {
            None
        } else {
            deps.store
                .identity()
                .person_by_fiscal_code(&card.code_key)
                .await?
        };
        let to = match &person {
            Some(p) => sportello_notify::topics::proven_contacts(deps, &p.id)
                .await?
                .email
                .map(To::Email),
            None => None,
        };
        let tx = deps.store.tenant(commune).await?;
        let db = tx.db();
        if !db
            .mark_card_reminded(
                card.person_id,
                &card.doc_number,
                &today.to_string(),
                to.is_some(),
            )
            .await?
        {
            tx.commit().await?;
            continue;
        }
        match (to, &person) {
            (Some(to), Some(p)) => {
                let date = NaiveDate::parse_from_str(&card.expires, "%Y-%m-%d").map_or_else(
                    |_| card.expires.clone(),
                    |d| d.format("%d/%m/%Y").to_string(),
                );
                sportello_notify::enqueue(
                    deps,
                    &db,
                    &Notice {
                        template: "document_expiry",
                        lang: Language::It,
                        to,
                        person_id: Some(p.id.clone()),
                        vars: serde_json::json!({
                            "commune": name, "given": p.given_name, "date": date,
                            "url": format!("{base}/area-personale/anagrafe"),
                        }),
                    },
                )
                .await?;
                pass.told += 1;
            }
            _ => pass.unreachable += 1,
        }
        tx.commit().await?;
    }
    if pass.told > 0 {
        sportello_notify::wake(deps);
    }
    Ok(pass)
}
