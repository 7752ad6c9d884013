//! A commune's payment settings: its tax code and pagoPA segregation code (which every notice
//! number and QR code carry), the fee a citizen pays on top (default 1,00 €, zero allowed), the
//! kinds of payment it takes online, the receipt's header and its Stripe connected account.

use serde_json::json;
use sportello_authz::Action;
use sportello_domain::payment::parse_body_tax_code;
use sportello_domain::{Money, PaymentKind, Why};
use sportello_kernel::{Actor, Deps, Error, Problems, Result};
use sportello_store::payments::PaymentSettings;

use crate::require;

/// The most a fee may be: 10 €.
pub const FEE_MAX: Money = Money::from_cents(1_000);
/// The receipt's header: up to this many characters.
pub const HEADER_MAX: usize = 300;

pub async fn get(deps: &Deps, actor: &Actor) -> Result<PaymentSettings> {
    crate::require_commune_read(deps, actor).await?;
    let tx = deps.store.tenant_read(actor.commune()?).await?;
    let s = tx.db().payment_settings().await?;
    tx.commit().await?;
    Ok(s)
}

/// What an administrator posts.
#[derive(Debug, Clone, Default)]
pub struct SettingsForm {
    pub tax_code: String,
    pub segregation: String,
    pub fee: String,
    /// Keys of the kinds ticked.
    pub kinds: Vec<String>,
    pub receipt_header: String,
    pub stripe_account: String,
}

/// A Stripe account id as Stripe writes it: `acct_` and letters and digits.
fn stripe_account(s: &str) -> Option<Option<String>> {
    let t = s.trim();
    if t.is_empty() {
        return Some(None);
    }
    let ok = t.len() <= 64
        && t.strip_prefix("acct_")
            .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_alphanumeric()));
    ok.then(|| Some(t.to_owned()))
}

/// Saves the settings, every field checked at once; the change goes to the audit log.
pub async fn save(deps: &Deps, actor: &Actor, f: &SettingsForm) -> Result<()> {
    require(deps, actor, Action::Update).await?;
    let c = actor.commune()?;
    let mut p = Problems::default();
    let tax_code = if f.tax_code.trim().is_empty() {
        None
    } else {
        parse_body_tax_code(&f.tax_code)
            .map_err(|e| p.parse("tax_code", &e))
            .ok()
    };
    let segregation = match f.segregation.trim().parse::<i32>() {
        Ok(s) if (0..=99).contains(&s) => s,
        _ => {
            p.add("segregation", Why::OutOfRange, "0 – 99");
            0
        }
    };
    let fee = match Money::parse(&f.fee) {
        Ok(m) if m <= FEE_MAX => m,
        Ok(_) => {
            p.add("fee", Why::OutOfRange, FEE_MAX.to_string());
            Money::ZERO
        }
        Err(e) => {
            p.parse("fee", &e);
            Money::ZERO
        }
    };
    let mut kinds = vec![];
    for k in &f.kinds {
        match PaymentKind::parse(k) {
            Ok(k) if !kinds.contains(&k) => kinds.push(k),
            Ok(_) => {}
            Err(e) => p.parse("kinds", &e),
        }
    }
    kinds.sort();
    let header = f.receipt_header.trim();
    if header.chars().count() > HEADER_MAX {
        p.add("receipt_header", Why::TooLong, HEADER_MAX.to_string());
    }
    let account = stripe_account(&f.stripe_account).unwrap_or_else(|| {
        p.add(
            "stripe_account",
            Why::PatternMismatch,
            f.stripe_account.trim(),
        );
        None
    });
    if !p.is_empty() {
        return Err(Error::Invalid(p));
    }
    let kinds: Vec<&str> = kinds.iter().map(|k| k.key()).collect();
    let tx = deps.store.tenant(c).await?;
    let db = tx.db();
    let before = db.payment_settings().await?.stripe_account;
    db.save_payment_settings(&PaymentSettings {
        tax_code: tax_code.clone(),
        segregation,
        fee_cents: fee.cents(),
        kinds: kinds.join(","),
        receipt_header: header.to_owned(),
        stripe_account: account.clone(),
        updated_at: sportello_store::now_micros(),
    })
    .await?;
    // Payments under way are on the account they were made on: its events and the sweeper
    // must still find this commune by it, so the account changes only once they are settled.
    if before != account && db.unsettled_count().await? > 0 {
        return Err(Error::Refused("refused_account_payments_under_way"));
    }
    // Stripe's events name the account: the federation's map finds the commune by it.
    if !db.set_own_stripe_account(account.as_deref()).await? {
        return Err(Error::invalid_at(
            "stripe_account",
            Why::IdTaken,
            account.unwrap_or_default(),
        ));
    }
    sportello_kernel::audit::record(
        &db,
        actor,
        "payment_settings_changed",
        "payments",
        json!({"tax_code": tax_code, "segregation": segregation, "fee_cents": fee.cents(),
               "kinds": kinds, "stripe_account": account}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The kinds a commune takes online.
pub fn kinds_of(s: &PaymentSettings) -> Vec<PaymentKind> {
    s.kinds
        .split(',')
        .filter_map(|k| PaymentKind::parse(k).ok())
        .collect()
}
