//! Old drafts: kept at least a year after they were last touched (Modello Comuni C.SE.1.6),
//! their person told a month before, then deleted with their files. Every node may run it: the
//! notice is recorded once (the first node to mark the draft sends it), deletion is idempotent.

use sportello_domain::{Language, TenantId};
use sportello_kernel::{Deps, Result};
use sportello_notify::Notice;

const DAY: i64 = 86_400_000_000;
/// A draft is kept this long after its last change…
pub const KEEP_DAYS: i64 = 365;
/// …and its person told this many days before it goes.
pub const NOTICE_DAYS: i64 = 30;
const BATCH: u64 = 200;

/// What one pass did in a commune.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pass {
    pub noticed: usize,
    pub deleted: usize,
}

/// One pass over a commune's drafts at `now`; `base` is its site (the draft's link).
pub async fn expire(deps: &Deps, commune: TenantId, now: i64, base: &str) -> Result<Pass> {
    let mut pass = Pass::default();
    let notice_before = now - (KEEP_DAYS - NOTICE_DAYS) * DAY;
    let (to_notice, to_delete) = {
        let tx = deps.store.tenant_read(commune).await?;
        let db = tx.db();
        let n = db.drafts_to_notice(notice_before, BATCH).await?;
        let d = db
            .drafts_to_delete(now - KEEP_DAYS * DAY, now - NOTICE_DAYS * DAY, BATCH)
            .await?;
        // The services' titles only where a notice goes (most passes find nothing).
        let services = if n.is_empty() {
            vec![]
        } else {
            db.services().await?
        };
        tx.commit().await?;
        let titled: Vec<_> = n
            .into_iter()
            .map(|x| {
                let t = services
                    .iter()
                    .find(|s| s.id == x.service_id)
                    .map_or_else(|| x.service_id.clone(), |s| s.title.clone());
                (x, t)
            })
            .collect();
        (titled, d)
    };
    let name = deps
        .tenancy
        .by_id(commune)
        .map_or_else(|| commune.0.to_string(), |c| c.record.name.clone());
    for (d, title) in to_notice {
        // A desk's draft is the desk's: the person is not told about it (it is marked all the
        // same, and deleted a month later like any other).
        let to = if d.filed_by.is_empty() {
            crate::tell::reach(deps, &d.person_id).await?
        } else {
            None
        };
        let tx = deps.store.tenant(commune).await?;
        let db = tx.db();
        if !db.mark_draft_noticed(&d.id, now).await? {
            continue;
        }
        if let Some(to) = to {
            let on = crate::rome_day(d.updated_at + KEEP_DAYS * DAY)
                .format("%d/%m/%Y")
                .to_string();
            sportello_notify::enqueue(
                deps,
                &db,
                &Notice {
                    template: "draft_expiry",
                    lang: Language::It,
                    to,
                    person_id: Some(d.person_id.clone()),
                    vars: serde_json::json!({
                        "commune": name, "service": title, "date": on,
                        "url": format!("{base}/pratiche/compila/{}", d.service_id),
                    }),
                },
            )
            .await?;
        }
        tx.commit().await?;
        pass.noticed += 1;
    }
    for d in to_delete {
        let tx = deps.store.tenant(commune).await?;
        let db = tx.db();
        // A draft whose fee was paid is kept (the person may still submit it).
        if !sportello_payments::fees::release(&db, &d.id).await? {
            tx.commit().await?;
            continue;
        }
        let mut keys = vec![];
        for f in db.draft_files(&d.id).await? {
            if let Some(k) = db.delete_draft_file(&f.id, &d.id).await? {
                keys.push(k);
            }
        }
        let gone = db.delete_draft(&d.id, &d.person_id).await?;
        tx.commit().await?;
        for k in keys {
            deps.files.delete(&k).await.ok();
        }
        pass.deleted += usize::from(gone);
    }
    if pass.noticed > 0 {
        sportello_notify::wake(deps);
    }
    Ok(pass)
}
