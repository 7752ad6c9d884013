//! IMU on the commune's site: the calculator for anyone (the commune's published rates, a few
//! properties typed in, the year's tax per property and per F24 code, June and December,
//! printable), and, for a signed-in person, the properties they keep here and their position
//! per year (what was calculated, the instalments they marked paid).

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};
use sportello_domain::Money;
use sportello_payments::imu::calculator::{self, Calculation, PropertyInput};
use sportello_payments::imu::{per_mille, position, rates};

use crate::error::AppResult;
use crate::routes::cases::to_sign_in;
use crate::routes::{Ctx, Posted};

pub fn configure(t: &mut super::table::Table<'_>) {
    t.on(super::table::on::COMMUNE)
        .get("/imu", calculator_page)
        .post("/imu", calculate)
        .get("/area-personale/imu", mine)
        .post("/area-personale/imu/immobili", add)
        .post("/area-personale/imu/immobili/{id}/elimina", remove)
        .post("/area-personale/imu/calcola", calculate_mine)
        .post("/area-personale/imu/pagato", mark_paid);
}

type Pairs = Posted<Vec<(String, String)>>;

fn get<'a>(f: &'a [(String, String)], k: &str) -> &'a str {
    f.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// Rows of the calculator as posted (`p<n>_<field>`), `n` from 1.
fn rows_of(
    f: &[(String, String)],
    prefix: impl Fn(usize) -> String,
    n: usize,
) -> Vec<PropertyInput> {
    (1..=n)
        .map(|i| {
            let k = |name: &str| format!("{}{name}", prefix(i));
            PropertyInput {
                label: get(f, &k("label")).to_owned(),
                kind: get(f, &k("kind")).to_owned(),
                category: get(f, &k("category")).to_owned(),
                amount: get(f, &k("amount")).to_owned(),
                share: get(f, &k("share")).to_owned(),
                from: get(f, &k("from")).to_owned(),
                to: get(f, &k("to")).to_owned(),
                main_dwelling: !get(f, &k("main")).is_empty(),
                residents: get(f, &k("residents")).to_owned(),
                rural: !get(f, &k("rural")).is_empty(),
                exempt: !get(f, &k("exempt")).is_empty(),
            }
        })
        .collect()
}

/// How many rows the calculator shows.
const ROWS: usize = 4;

fn result_json(ctx: &Ctx, c: &Calculation) -> Value {
    let props: Vec<Value> = c
        .properties
        .iter()
        .zip(&c.assessment.holdings)
        .map(|(p, o)| {
            let h = p.holding(c.year);
            let tax: i64 = o.lines.iter().map(|(_, y, _)| *y).sum();
            json!({"label": p.label, "kind": ctx.label_or_code("imu_kind_", p.kind()),
                   "base": Money::from_cents(o.base_cents).to_string(), "months": h.months,
                   "share": Money::from_cents(i64::from(p.share)).to_string().replace("€ ", "") + " %",
                   "exempt": o.exempt,
                   "tax": Money::from_cents((tax + 50).div_euclid(100)).to_string(),
                   "codes": o.lines.iter().map(|(c, _, _)| *c).collect::<Vec<_>>().join(", ")})
        })
        .collect();
    let lines: Vec<Value> = c
        .assessment
        .lines
        .iter()
        .map(|l| {
            json!({"code": l.code, "label": ctx.label_or_code("imu_code_", l.code),
                   "june": Money::from_cents(l.june_euros * 100).to_string(),
                   "december": Money::from_cents(l.december_euros * 100).to_string()})
        })
        .collect();
    let june: i64 = c.assessment.lines.iter().map(|l| l.june_euros).sum();
    let december: i64 = c.assessment.lines.iter().map(|l| l.december_euros).sum();
    json!({"year": c.year, "properties": props, "lines": lines,
           "total": Money::from_cents(c.assessment.year_cents).to_string(),
           "detraction": Money::from_cents(c.assessment.detraction_cents).to_string(),
           "june": Money::from_cents(june * 100).to_string(),
           "december": Money::from_cents(december * 100).to_string(),
           "below_minimum": c.assessment.below_minimum,
           "june_on_last_year": c.june_on_last_year})
}

async fn page(ctx: &Ctx, result: Option<Value>) -> AppResult<(&'static str, Value)> {
    let years: Vec<Value> = rates::all(&ctx.state, ctx.commune()?.id())
        .await?
        .iter()
        .map(|r| {
            json!({"year": r.year, "main_dwelling": per_mille(r.main_dwelling),
                   "other_buildings": per_mille(r.other_buildings), "group_d": per_mille(r.group_d),
                   "rural": per_mille(r.rural), "buildable_land": per_mille(r.buildable_land),
                   "agricultural_land": per_mille(r.agricultural_land),
                   "detraction": Money::from_cents(r.detraction_cents).to_string(),
                   "minimum": Money::from_cents(r.minimum_cents).to_string()})
        })
        .collect();
    let mut fields = vec![("anno".to_owned(), "imu-year".to_owned())];
    for i in 1..=ROWS {
        for f in [
            "kind",
            "category",
            "amount",
            "share",
            "from",
            "to",
            "label",
            "main",
            "residents",
        ] {
            fields.push((format!("p{i}_{f}"), format!("p{i}-{f}")));
        }
    }
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let fs = ctx.form_state(&pairs, "imu-form");
    let chosen = fs["values"]["anno"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| result.as_ref().map(|r| r["year"].to_string()))
        .unwrap_or_default();
    let year_options: Vec<Value> = years
        .iter()
        .map(|y| {
            let v = y["year"].to_string();
            json!({"value": v, "label": v, "selected": v == chosen})
        })
        .collect();
    Ok((
        "imu.html",
        json!({"years": years, "year_options": year_options, "rows": (1..=ROWS).collect::<Vec<_>>(),
               "csrf": ctx.csrf_token(), "fs": fs, "result": result,
               "signed_in": ctx.citizen().is_some()}),
    ))
}

async fn calculator_page(ctx: Ctx) -> HttpResponse {
    let r = page(&ctx, None).await;
    ctx.page(r)
}

fn answer(ctx: &Ctx, r: AppResult<(&'static str, Value)>) -> HttpResponse {
    let mut res = ctx.page(r);
    if ctx.redoing() && res.status().is_success() {
        *res.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
    }
    res
}

async fn calculate(ctx: Ctx, f: Pairs) -> HttpResponse {
    let r = async {
        let c = ctx.commune()?.id();
        let year = get(&f, "anno").trim().parse::<i32>().unwrap_or(0);
        let done = async {
            let props = calculator::read_all(&rows_of(&f, |i| format!("p{i}_"), ROWS))?;
            calculator::calculate(&ctx.state, c, year, props).await
        }
        .await;
        match done {
            Ok(calc) => page(&ctx, Some(result_json(&ctx, &calc))).await,
            Err(e) => {
                ctx.redo(&f, e.into())?;
                page(&ctx, None).await
            }
        }
    }
    .await;
    answer(&ctx, r)
}

async fn mine_page(ctx: &Ctx, result: Option<Value>) -> AppResult<(&'static str, Value)> {
    let Some(u) = ctx.citizen().cloned() else {
        return Err(crate::error::AppError::NotFound);
    };
    let c = ctx.commune()?.id();
    let (props, positions) = position::mine(&ctx.state, c, &u).await?;
    let props: Vec<Value> = props
        .iter()
        .map(|p| {
            json!({"id": p.id, "label": p.label, "kind": ctx.label_or_code("imu_kind_", &p.kind),
                   "category": p.category, "amount": Money::from_cents(p.amount_cents).to_string(),
                   "share": Money::from_cents(i64::from(p.share)).decimal(),
                   "from": p.held_from, "to": p.held_to, "main": p.main_dwelling})
        })
        .collect();
    let positions: Vec<Value> = positions
        .iter()
        .map(|p| {
            json!({"year": p.year, "total": Money::from_cents(p.year_cents).to_string(),
                   "june": Money::from_cents(p.june_euros * 100).to_string(),
                   "december": Money::from_cents(p.december_euros * 100).to_string(),
                   "june_paid": p.june_paid_on.as_deref().map(sportello_payments::italian_day),
                   "december_paid": p.december_paid_on.as_deref().map(sportello_payments::italian_day),
                   "when": crate::views::when::when(ctx.lang, p.calculated_at)})
        })
        .collect();
    let fields = [
        ("kind", "m-kind"),
        ("category", "m-category"),
        ("amount", "m-amount"),
        ("share", "m-share"),
        ("from", "m-from"),
        ("to", "m-to"),
        ("label", "m-label"),
        ("main", "m-main"),
        ("residents", "m-residents"),
        ("anno", "m-year"),
        ("paid_on", "m-paid-on"),
    ];
    Ok((
        "imu_mine.html",
        json!({"properties": props, "positions": positions, "csrf": ctx.csrf_token(),
               "fs": ctx.form_state(&fields, "imu-add"), "result": result,
               "this_year": sportello_payments::today().format("%Y").to_string()}),
    ))
}

async fn mine(ctx: Ctx) -> HttpResponse {
    if ctx.citizen().is_none() {
        return to_sign_in(&ctx);
    }
    let r = mine_page(&ctx, None).await;
    ctx.page(r)
}

/// A signed-in person's post answered: done → back to the page; a page to show (refused
/// words, a result) → that page.
fn done(ctx: &Ctx, r: AppResult<Option<(&'static str, Value)>>) -> HttpResponse {
    match r {
        Ok(None) => ctx.see_other("/area-personale/imu?esito=salvato"),
        Ok(Some(p)) => answer(ctx, Ok(p)),
        Err(e) => ctx.respond(Err(e)),
    }
}

/// The page again with the refused fields, or the error.
async fn refused(
    ctx: &Ctx,
    f: &Pairs,
    e: sportello_kernel::Error,
) -> AppResult<Option<(&'static str, Value)>> {
    ctx.redo(f, e.into())?;
    mine_page(ctx, None).await.map(Some)
}

async fn add(ctx: Ctx, f: Pairs) -> HttpResponse {
    let Some(u) = ctx.citizen().cloned() else {
        return to_sign_in(&ctx);
    };
    let r = async {
        let c = ctx.commune()?.id();
        let input = rows_of(&f, |_| String::new(), 1).pop().unwrap_or_default();
        match position::add(&ctx.state, c, &u, &input).await {
            Ok(_) => Ok(None),
            Err(e) => refused(&ctx, &f, e).await,
        }
    }
    .await;
    done(&ctx, r)
}

async fn remove(ctx: Ctx, id: web::Path<String>, f: Pairs) -> HttpResponse {
    let Some(u) = ctx.citizen().cloned() else {
        return to_sign_in(&ctx);
    };
    let r = async {
        let c = ctx.commune()?.id();
        match position::remove(&ctx.state, c, &u, &id).await {
            Ok(()) => Ok(None),
            Err(e) => refused(&ctx, &f, e).await,
        }
    }
    .await;
    done(&ctx, r)
}

async fn calculate_mine(ctx: Ctx, f: Pairs) -> HttpResponse {
    let Some(u) = ctx.citizen().cloned() else {
        return to_sign_in(&ctx);
    };
    let r = async {
        let c = ctx.commune()?.id();
        let year = get(&f, "anno").trim().parse::<i32>().unwrap_or(0);
        match position::calculate(&ctx.state, c, &u, year).await {
            Ok(calc) => mine_page(&ctx, Some(result_json(&ctx, &calc)))
                .await
                .map(Some),
            Err(e) => refused(&ctx, &f, e).await,
        }
    }
    .await;
    done(&ctx, r)
}

async fn mark_paid(ctx: Ctx, f: Pairs) -> HttpResponse {
    let Some(u) = ctx.citizen().cloned() else {
        return to_sign_in(&ctx);
    };
    let r = async {
        let c = ctx.commune()?.id();
        let year = get(&f, "anno").trim().parse::<i32>().unwrap_or(0);
        let june = get(&f, "rata") == "giugno";
        match position::mark_paid(&ctx.state, c, &u, year, june, get(&f, "paid_on")).await {
            Ok(()) => Ok(None),
            Err(e) => refused(&ctx, &f, e).await,
        }
    }
    .await;
    done(&ctx, r)
}
