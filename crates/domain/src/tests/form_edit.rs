use super::*;

fn nf(id: &str, kind: &str, label: &str) -> NewField {
    NewField {
        id: id.into(),
        kind: kind.into(),
        label: label.into(),
        ..NewField::default()
    }
}

#[test]
fn fields_are_added_on_pages_moved_and_removed_and_the_form_stays_valid() {
    let mut d = FormDef::empty();
    d.add_field(None, "Richiesta", &nf("oggetto", "text", "Oggetto"))
        .unwrap();
    let mut tipo = nf("tipo", "choice", "Tipo");
    tipo.options = "rinnovo|Rinnovo\nNuovo permesso".into();
    d.add_field(Some(0), "", &tipo).unwrap();
    assert_eq!(d.pages[0].fields[1].options[1].value, "nuovo_permesso");
    let mut targa = nf("targa", "text", "Targa");
    targa.when_field = "tipo".into();
    targa.when_value = "rinnovo".into();
    d.add_field(None, "Veicolo", &targa).unwrap();
    assert_eq!(d.pages.len(), 2);
    assert_eq!(d.pages[1].id, "p2");
    d.check(&[]).unwrap();
    assert!(d.move_field("tipo", true));
    assert_eq!(d.pages[0].fields[0].id, "tipo");
    assert!(!d.move_field("tipo", true), "already first");
    // A field a condition names stays; the one naming it goes, and its page with it.
    assert_eq!(d.remove_field("tipo"), Err(Why::FieldInUse));
    d.remove_field("targa").unwrap();
    assert_eq!(d.pages.len(), 1);
    d.remove_field("tipo").unwrap();
    d.check(&[]).unwrap();
}

#[test]
fn a_bad_field_names_every_mistake() {
    let mut d = FormDef::empty();
    d.add_field(None, "Pagina", &nf("a", "text", "A")).unwrap();
    let mut bad = nf("A b", "rocket", "");
    bad.when_field = "later".into();
    let e = d.add_field(Some(3), "", &bad).unwrap_err();
    let fields: Vec<&str> = e.iter().map(|x| x.0).collect();
    assert_eq!(fields, ["id", "kind", "label", "when_field", "page"]);
    // A repeated id; a choice without two options; a condition value that is no option.
    assert_eq!(
        d.add_field(Some(0), "", &nf("a", "text", "A")).unwrap_err()[0].1,
        Why::IdTaken
    );
    let mut c = nf("c", "choice", "C");
    c.options = "solo".into();
    assert_eq!(d.add_field(Some(0), "", &c).unwrap_err()[0].0, "options");
    c.options = "x|X\ny|Y".into();
    d.add_field(Some(0), "", &c).unwrap();
    let mut w = nf("w", "text", "W");
    w.when_field = "c".into();
    w.when_value = "z".into();
    assert_eq!(d.add_field(Some(0), "", &w).unwrap_err()[0].0, "when_value");
    // A new page needs its title.
    assert_eq!(
        d.add_field(None, " ", &nf("n", "text", "N")).unwrap_err()[0].0,
        "new_page"
    );
}

#[test]
fn conditions_on_files_options_on_texts_and_absurd_pages_are_refused() {
    let mut d = FormDef::empty();
    d.add_field(None, "Pagina", &nf("doc", "file", "Documento"))
        .unwrap();
    let mut w = nf("w", "text", "W");
    w.when_field = "doc".into();
    assert_eq!(d.add_field(Some(0), "", &w).unwrap_err()[0].0, "when_field");
    let mut t = nf("t", "text", "T");
    t.options = "a|A\nb|B".into();
    assert_eq!(d.add_field(Some(0), "", &t).unwrap_err()[0].0, "options");
    let e = d
        .add_field(Some(usize::MAX), "", &nf("x", "text", "X"))
        .unwrap_err();
    assert_eq!(e[0].0, "page");
    let mut c = nf("c", "text", "Con\u{0}trollo");
    c.help = "ok".into();
    assert_eq!(d.add_field(Some(0), "", &c).unwrap_err()[0].0, "label");
}
