//! Money moving on a connected account: refunds and balance transactions (the ledger a
//! commune's reconciliation reads). Stripe's fee here is its standard European card price,
//! 1.5 % + 0.25 € (https://stripe.com/it/pricing); on a direct charge the platform's fee is
//! taken from the connected account's balance too, so a charge's transaction carries both in
//! `fee` and `fee_details` (https://docs.stripe.com/connect/direct-charges#collect-fees).

use serde_json::{Value, json};

use super::{FakeStripe, State, error, event, field, metadata, missing, now};

fn transaction(
    s: &mut State,
    account: &str,
    kind: &str,
    source: &str,
    amount: i64,
    fees: &[(&str, i64)],
) -> Value {
    let id = s.next("txn");
    let fee: i64 = fees.iter().map(|(_, f)| f).sum();
    let t = json!({"id": id, "object": "balance_transaction", "amount": amount,
        "available_on": now() + 2 * 86_400, "balance_type": "payments", "created": now(),
        "currency": "eur", "description": null, "exchange_rate": null, "fee": fee,
        "fee_details": fees.iter().map(|(k, f)| json!({"amount": f, "application": null,
            "currency": "eur", "description": k, "type": k})).collect::<Vec<_>>(),
        "net": amount - fee, "reporting_category": kind, "source": source,
        "status": "pending", "type": kind});
    s.balance.push((account.to_owned(), t.clone()));
    t
}

/// A charge succeeded: its balance transaction, less Stripe's fee and the platform's.
pub(super) fn charge_moved(s: &mut State, account: &str, charge: &str, pi: &Value) {
    let amount = pi["amount_received"].as_i64().unwrap_or(0);
    let stripe_fee = (amount * 15 + 500) / 1000 + 25;
    let app_fee = pi["application_fee_amount"].as_i64().unwrap_or(0);
    transaction(
        s,
        account,
        "charge",
        charge,
        amount,
        &[("stripe_fee", stripe_fee), ("application_fee", app_fee)],
    );
}

pub(super) fn create_refund(
    s: &mut State,
    account: Option<&str>,
    form: &[(String, String)],
) -> (u16, Value) {
    let Some(pi_id) = field(form, "payment_intent") else {
        return error(
            400,
            "invalid_request_error",
            Some("parameter_missing"),
            Some("payment_intent"),
            "Missing required param: payment_intent.",
        );
    };
    let (acct, pi) = match s.intents.get(pi_id) {
        Some((a, pi)) if Some(a.as_str()) == account => (a.clone(), pi.clone()),
        _ => return missing("payment_intent", pi_id),
    };
    if pi["status"] != "succeeded" {
        return error(
            400,
            "invalid_request_error",
            Some("charge_not_refundable"),
            None,
            "This PaymentIntent has no successful charge to refund.",
        );
    }
    let received = pi["amount_received"].as_i64().unwrap_or(0);
    let refunded: i64 = s
        .refunds
        .values()
        .filter(|(_, r)| r["payment_intent"] == pi_id && r["status"] != "failed")
        .map(|(_, r)| r["amount"].as_i64().unwrap_or(0))
        .sum();
    let amount = field(form, "amount")
        .and_then(|a| a.parse::<i64>().ok())
        .unwrap_or(received - refunded);
    if amount <= 0 || amount > received - refunded {
        return error(
            400,
            "invalid_request_error",
            Some("amount_too_large"),
            Some("amount"),
            &format!(
                "Refund amount ({amount}) is greater than unrefunded amount on charge ({})",
                received - refunded
            ),
        );
    }
    let id = s.next("re");
    let bt = transaction(s, &acct, "refund", &id, -amount, &[]);
    let status = if s.refunds_pending {
        "pending"
    } else {
        "succeeded"
    };
    let r = json!({"id": id, "object": "refund", "amount": amount, "balance_transaction": bt["id"],
        "charge": pi["latest_charge"], "created": now(), "currency": pi["currency"],
        "metadata": metadata(form), "payment_intent": pi_id, "reason": field(form, "reason"),
        "status": status,
        // Kept for the tests: whether the platform's fee goes back too.
        "refund_application_fee": field(form, "refund_application_fee") == Some("true")});
    s.refunds.insert(id, (acct.clone(), r.clone()));
    let event = event(s, &acct, "refund.created", r.clone());
    s.events.push(event);
    (200, r)
}

/// `GET /v1/refunds` on the account, by `payment_intent`, newest first
/// (https://docs.stripe.com/api/refunds/list).
pub(super) fn list_refunds(
    s: &mut State,
    account: Option<&str>,
    form: &[(String, String)],
) -> (u16, Value) {
    let mut l: Vec<Value> = s
        .refunds
        .values()
        .filter(|(a, _)| Some(a.as_str()) == account)
        .map(|(_, r)| r.clone())
        .filter(|r| field(form, "payment_intent").is_none_or(|pi| r["payment_intent"] == pi))
        .collect();
    l.sort_by(|a, b| b["id"].as_str().cmp(&a["id"].as_str()));
    (
        200,
        json!({"object": "list", "data": l, "has_more": false, "url": "/v1/refunds"}),
    )
}

/// `GET /v1/balance_transactions` on the account: newest first, by `created[gte]`,
/// `created[lt]` and `source`, a page of `limit` (10 by default, 100 at most) after
/// `starting_after` (https://docs.stripe.com/api/balance_transactions/list ,
/// https://docs.stripe.com/api/pagination).
pub(super) fn balance_transactions(
    s: &mut State,
    account: Option<&str>,
    form: &[(String, String)],
) -> (u16, Value) {
    let num = |k: &str| field(form, k).and_then(|v| v.parse::<i64>().ok());
    let limit = num("limit").unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return error(
            400,
            "invalid_request_error",
            None,
            Some("limit"),
            "This value must be less than or equal to 100.",
        );
    }
    let mut all: Vec<&Value> = s
        .balance
        .iter()
        .filter(|(a, _)| Some(a.as_str()) == account)
        .map(|(_, t)| t)
        .filter(|t| num("created[gte]").is_none_or(|g| t["created"].as_i64() >= Some(g)))
        .filter(|t| num("created[lt]").is_none_or(|l| t["created"].as_i64() < Some(l)))
        .filter(|t| field(form, "source").is_none_or(|src| t["source"] == src))
        .collect();
    all.sort_by(|a, b| {
        (b["created"].as_i64(), b["id"].as_str()).cmp(&(a["created"].as_i64(), a["id"].as_str()))
    });
    let start = match field(form, "starting_after") {
        Some(after) => match all.iter().position(|t| t["id"] == after) {
            Some(i) => i + 1,
            None => return missing("balance_transaction", after),
        },
        None => 0,
    };
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(limit as usize)
        .map(|t| (*t).clone())
        .collect();
    let has_more = all.len() > start + page.len();
    (
        200,
        json!({"object": "list", "data": page, "has_more": has_more, "url": "/v1/balance_transactions"}),
    )
}

impl FakeStripe {
    /// Refunds made from now on wait at the bank (`pending`) until `settle_refund`.
    pub fn hold_refunds(&self) {
        self.with(|s| s.refunds_pending = true);
    }

    /// The refunds made, by id: (account, refund).
    pub fn refunds(&self) -> Vec<(String, Value)> {
        let mut r: Vec<(String, Value)> = self.with(|s| s.refunds.values().cloned().collect());
        r.sort_by(|a, b| a.1["id"].as_str().cmp(&b.1["id"].as_str()));
        r
    }

    /// A pending refund reaches the person (`succeeded`), or fails (`failed`, with a
    /// `refund_failure` transaction putting the money back): `refund.updated` /
    /// `refund.failed` (https://docs.stripe.com/refunds#failed-refunds).
    pub fn settle_refund(&self, id: &str, succeeded: bool) -> Value {
        self.with(|s| {
            let (acct, r) = s.refunds.get_mut(id).expect("refund");
            let acct = acct.clone();
            if succeeded {
                r["status"] = json!("succeeded");
            } else {
                r["status"] = json!("failed");
                r["failure_reason"] = json!("expired_or_canceled_card");
            }
            let r = r.clone();
            if !succeeded {
                let amount = r["amount"].as_i64().unwrap_or(0);
                transaction(s, &acct, "refund_failure", id, amount, &[]);
            }
            let kind = if succeeded {
                "refund.updated"
            } else {
                "refund.failed"
            };
            let e = event(s, &acct, kind, r);
            s.events.push(e.clone());
            e
        })
    }

    /// A refund made on Stripe's dashboard, not through the product (no metadata of ours).
    pub fn dashboard_refund(&self, account: &str, intent: &str, amount: i64) -> Value {
        let form = vec![
            ("payment_intent".to_owned(), intent.to_owned()),
            ("amount".to_owned(), amount.to_string()),
        ];
        self.with(|s| create_refund(s, Some(account), &form).1)
    }

    /// Stripe moves money on its own (a dispute lost, a correction): an `adjustment`.
    pub fn adjust(&self, account: &str, amount: i64) -> Value {
        self.with(|s| {
            let src = s.next("du");
            transaction(s, account, "adjustment", &src, amount, &[])
        })
    }

    /// Changes the transactions of `source` (a test's way to make Stripe disagree).
    pub fn edit_movement(&self, source: &str, f: impl Fn(&mut Value)) {
        self.with(|s| {
            for (_, t) in s.balance.iter_mut().filter(|(_, t)| t["source"] == source) {
                f(t);
            }
        });
    }

    /// Forgets the transactions of `source`.
    pub fn forget_movement(&self, source: &str) {
        self.with(|s| s.balance.retain(|(_, t)| t["source"] != source));
    }

    /// The next POST is done, but its answer is lost (the caller sees a 502).
    pub fn lose_next_answer(&self) {
        self.with(|s| s.lose += 1);
    }

    /// The account's balance transactions, oldest first.
    pub fn balance(&self, account: &str) -> Vec<Value> {
        self.with(|s| {
            s.balance
                .iter()
                .filter(|(a, _)| a == account)
                .map(|(_, t)| t.clone())
                .collect()
        })
    }
}
