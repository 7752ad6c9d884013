use chrono::NaiveDate;

use super::*;
use crate::Why;

const FORM: &str = r#"
[[pages]]
id = "who"
title = "Chi chiede"
title_en = "Who asks"
[[pages.fields]]
id = "name"
kind = "text"
label = "Nome"
required = true
min_len = 2
max_len = 20
[[pages.fields]]
id = "plate"
kind = "text"
label = "Targa"
pattern = "[A-Z]{2}[0-9]{3}[A-Z]{2}"
[[pages.fields]]
id = "category"
kind = "choice"
label = "Categoria"
required = true
options = [{ value = "resident", label = "Residente", label_en = "Resident" }, { value = "business", label = "Attività" }]
[[pages.fields]]
id = "shop"
kind = "text"
label = "Insegna"
required = true
show_if = { field = "category", equals = "business" }

[[pages]]
id = "more"
title = "Altro"
show_if = { field = "category", any_of = ["resident"] }
[[pages.fields]]
id = "vehicles"
kind = "number"
label = "Veicoli"
min = 1
max = 3
[[pages.fields]]
id = "fee"
kind = "money"
label = "Importo"
max = 10
[[pages.fields]]
id = "from"
kind = "date"
label = "Dal"
after = "today"
before = "today+30"
[[pages.fields]]
id = "days"
kind = "multi_choice"
label = "Giorni"
options = [{ value = "mon", label = "Lunedì" }, { value = "tue", label = "Martedì" }]
[[pages.fields]]
id = "agree"
kind = "checkbox"
label = "Dichiaro"
required = true
[[pages.fields]]
id = "why_agree"
kind = "long_text"
label = "Note"
show_if = { field = "agree", filled = true }

[[pages]]
id = "contacts"
title = "Recapiti"
[[pages.fields]]
id = "email"
kind = "email"
label = "E-mail"
[[pages.fields]]
id = "phone"
kind = "phone"
label = "Telefono"
[[pages.fields]]
id = "cf"
kind = "fiscal_code"
label = "Codice fiscale"
[[pages.fields]]
id = "iban"
kind = "iban"
label = "IBAN"
[[pages.fields]]
id = "address"
kind = "address"
label = "Indirizzo"
[[pages.fields]]
id = "doc"
kind = "file"
label = "Documento"
max_files = 2
types = ["pdf"]

[[routing]]
when = { field = "category", equals = "business" }
office = "suap"
"#;

fn form() -> FormDef {
    toml::from_str(FORM).unwrap()
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 6).unwrap()
}

fn raw(pairs: &[(&str, &str)]) -> Raw {
    let mut r = Raw::new();
    for (k, v) in pairs {
        r.entry((*k).to_owned()).or_default().push((*v).to_owned());
    }
    r
}

fn why(r: Result<Answers, Vec<FieldProblem>>, field: &str) -> Option<Why> {
    r.err()?
        .into_iter()
        .find(|p| p.field == field)
        .map(|p| p.why)
}

#[test]
fn the_demo_definition_is_sound() {
    form().check(&["suap"]).unwrap();
    assert!(form().check(&[]).unwrap_err().contains("no office"));
}

#[test]
fn a_definition_with_a_mistake_is_refused_with_its_place() {
    let bad = |from: &str, to: &str| {
        let d: FormDef = toml::from_str(&FORM.replacen(from, to, 1)).unwrap();
        d.check(&["suap"]).unwrap_err()
    };
    assert!(bad("id = \"plate\"", "id = \"name\"").contains("twice"));
    assert!(bad("id = \"plate\"", "id = \"Plate!\"").contains("lower-case"));
    assert!(bad("equals = \"business\" }\n", "equals = \"nobody\" }\n").contains("not an option"));
    assert!(
        bad(
            "field = \"category\", any_of",
            "field = \"vehicles\", any_of"
        )
        .contains("earlier")
    );
    assert!(bad("[A-Z]{2}[0-9]{3}[A-Z]{2}", "[A-Z").contains("pattern"));
    assert!(bad("min = 1\n", "min = 9\n").contains("min is above max"));
    assert!(bad("types = [\"pdf\"]", "types = [\"exe\"]").contains("exe"));
    assert!(bad("after = \"today\"", "after = \"tomorrow\"").contains("date bound"));
    assert!(
        bad("after = \"today\"", "after = \"today-9223372036854775808\"").contains("date bound")
    );
    assert!(bad("filled = true", "filled = true, equals = \"true\"").contains("exactly one"));
    assert!(
        toml::from_str::<FormDef>(&FORM.replacen("required = true", "requird = true", 1)).is_err()
    );
}

#[test]
fn text_rules() {
    let f = form();
    let page = |pairs: &[(&str, &str)]| validate_page(&f, 0, &raw(pairs), &Answers::new(), today());
    assert_eq!(
        why(page(&[("category", "resident")]), "name"),
        Some(Why::Required)
    );
    assert_eq!(
        why(page(&[("name", "A"), ("category", "resident")]), "name"),
        Some(Why::TooShort)
    );
    assert_eq!(
        why(
            page(&[("name", &"x".repeat(21)), ("category", "resident")]),
            "name"
        ),
        Some(Why::TooLong)
    );
    assert_eq!(
        why(
            page(&[
                ("name", "Anna"),
                ("plate", "AB12CD"),
                ("category", "resident")
            ]),
            "plate"
        ),
        Some(Why::PatternMismatch)
    );
    assert_eq!(
        why(page(&[("name", "Anna"), ("category", "other")]), "category"),
        Some(Why::NotOneOf)
    );
    let ok = page(&[
        ("name", "  Anna   Rossi "),
        ("plate", "AB123CD"),
        ("category", "resident"),
    ])
    .unwrap();
    assert_eq!(ok["name"], "Anna Rossi");
    assert!(
        !ok.contains_key("shop"),
        "a field whose condition fails is not kept"
    );
}

#[test]
fn a_field_shows_only_when_its_condition_holds() {
    let f = form();
    let r = validate_page(
        &f,
        0,
        &raw(&[("name", "Anna"), ("category", "business")]),
        &Answers::new(),
        today(),
    );
    assert_eq!(why(r, "shop"), Some(Why::Required));
    let r = validate_page(
        &f,
        0,
        &raw(&[("name", "Anna"), ("category", "resident"), ("shop", "Bar")]),
        &Answers::new(),
        today(),
    )
    .unwrap();
    assert!(!r.contains_key("shop"));
}

#[test]
fn a_page_shows_only_when_its_condition_holds() {
    let f = form();
    let business = raw(&[("name", "Anna"), ("category", "business"), ("shop", "Bar")]);
    let all = validate_all(&f, &business, today()).unwrap();
    assert!(
        !all.contains_key("agree"),
        "page 2 was skipped, its required checkbox too"
    );
    assert_eq!(f.route(&all, "urp"), "suap");
    let resident = raw(&[("name", "Anna"), ("category", "resident")]);
    assert_eq!(
        why(validate_all(&f, &resident, today()), "agree"),
        Some(Why::Required)
    );
    let mut ok = resident.clone();
    ok.insert("agree".into(), vec!["on".into()]);
    let a = validate_all(&f, &ok, today()).unwrap();
    assert_eq!(a["agree"], true);
    assert_eq!(f.route(&a, "urp"), "urp");
}

#[test]
fn numbers_money_dates_and_choices() {
    let f = form();
    let prior: Answers = serde_json::from_str(r#"{"category":"resident"}"#).unwrap();
    let page = |pairs: &[(&str, &str)]| {
        let mut r = raw(pairs);
        r.entry("agree".into()).or_insert(vec!["on".into()]);
        validate_page(&f, 1, &r, &prior, today())
    };
    assert_eq!(
        why(page(&[("vehicles", "due")]), "vehicles"),
        Some(Why::NumberInvalid)
    );
    assert_eq!(
        why(page(&[("vehicles", "4")]), "vehicles"),
        Some(Why::OutOfRange)
    );
    assert_eq!(
        why(page(&[("vehicles", "0")]), "vehicles"),
        Some(Why::OutOfRange)
    );
    assert_eq!(why(page(&[("fee", "10,01")]), "fee"), Some(Why::OutOfRange));
    assert_eq!(
        why(page(&[("fee", "dieci")]), "fee"),
        Some(Why::AmountInvalid)
    );
    assert_eq!(
        why(page(&[("from", "2026-12-05")]), "from"),
        Some(Why::DateTooEarly)
    );
    assert_eq!(
        why(page(&[("from", "2027-01-06")]), "from"),
        Some(Why::DateTooLate)
    );
    assert_eq!(
        why(page(&[("from", "31/02/2027")]), "from"),
        Some(Why::DateInvalid)
    );
    assert_eq!(
        why(page(&[("days", "mon"), ("days", "sun")]), "days"),
        Some(Why::NotOneOf)
    );
    let a = page(&[
        ("vehicles", "3"),
        ("fee", "10,00"),
        ("from", "05/01/2027"),
        ("days", "tue"),
        ("days", "mon"),
    ])
    .unwrap();
    assert_eq!(a["vehicles"], 3);
    assert_eq!(a["fee"], 1000);
    assert_eq!(a["from"], "2027-01-05");
    assert_eq!(a["days"], serde_json::json!(["mon", "tue"]));
    let r = validate_page(&f, 1, &raw(&[]), &prior, today());
    assert_eq!(why(r, "agree"), Some(Why::Required));
}

#[test]
fn contacts_codes_and_files() {
    let f = form();
    let page = |pairs: &[(&str, &str)]| validate_page(&f, 2, &raw(pairs), &Answers::new(), today());
    assert_eq!(
        why(page(&[("email", "anna@")]), "email"),
        Some(Why::EmailInvalid)
    );
    assert_eq!(
        why(page(&[("phone", "12ab")]), "phone"),
        Some(Why::PhoneInvalid)
    );
    assert_eq!(
        why(page(&[("cf", "RSSMRA85T10A562X")]), "cf"),
        Some(Why::FiscalCodeInvalid)
    );
    assert_eq!(
        why(page(&[("iban", "IT60X0542811101000000123457")]), "iban"),
        Some(Why::IbanInvalid)
    );
    assert_eq!(
        why(page(&[("iban", "IT60X05428111010000001234")]), "iban"),
        Some(Why::IbanInvalid)
    );
    assert_eq!(
        why(page(&[("address", "Via Roma")]), "address"),
        Some(Why::AddressInvalid)
    );
    assert_eq!(
        why(page(&[("doc", "a"), ("doc", "b"), ("doc", "c")]), "doc"),
        Some(Why::TooManyFiles)
    );
    let a = page(&[
        ("email", "Anna@Example.org"),
        ("phone", "+39 050 910 111"),
        ("cf", "rssmra85t10a562s"),
        ("iban", "it60 x054 2811 1010 0000 0123 456"),
        ("address", "Via Roma 12"),
        ("doc", "f1"),
    ])
    .unwrap();
    assert_eq!(a["phone"], "+39050910111");
    assert_eq!(a["cf"], "RSSMRA85T10A562S");
    assert_eq!(a["iban"], "IT60X0542811101000000123456");
    assert_eq!(a["doc"], serde_json::json!(["f1"]));
    assert!(page(&[("address", "Località Le Prata snc")]).is_ok());
}

#[test]
fn answers_show_with_the_labels_of_their_version() {
    let f = form();
    let a: Answers = serde_json::from_str(
        r#"{"name":"Anna","category":"resident","fee":1050,"from":"2027-01-05","agree":true}"#,
    )
    .unwrap();
    let s = summary(&f, &a, crate::Language::En);
    assert_eq!(s[0].title, "Who asks");
    let rows: Vec<(&str, &str)> = s
        .iter()
        .flat_map(|p| p.rows.iter())
        .map(|r| (r.field.as_str(), r.value.as_str()))
        .collect();
    assert!(rows.contains(&("category", "Resident")));
    assert!(rows.contains(&("fee", "€ 10,50")));
    assert!(rows.contains(&("from", "05/01/2027")));
    assert!(rows.contains(&("agree", "Yes")));
    // A later version renames a label: the old answers show under the new one, the stored
    // version keeps the old one (a case displays with its own version).
    let mut v2 = f.clone();
    v2.pages[0].fields[0].label = "Nome e cognome".into();
    assert_eq!(
        summary(&v2, &a, crate::Language::It)[0].rows[0].label,
        "Nome e cognome"
    );
    assert_eq!(
        summary(&f, &a, crate::Language::It)[0].rows[0].label,
        "Nome"
    );
}
