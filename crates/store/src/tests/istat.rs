use super::*;

#[test]
fn the_embedded_list_is_complete_and_clean() {
    let rows = parse_csv(EMBEDDED_CSV).unwrap();
    assert_eq!(rows.len(), 7896);
    let pisa = embedded().get("050026").unwrap();
    assert_eq!(pisa.name_it, "Pisa");
    assert_eq!(pisa.cadastral_code.as_str(), "G702");
    let bz = embedded().get("021008").unwrap();
    assert_eq!(bz.name_other.as_deref(), Some("Bozen"));
    let s = slugs(&rows);
    let unique: std::collections::HashSet<_> = s.iter().collect();
    assert_eq!(unique.len(), rows.len(), "every slug is unique");
}

#[test]
fn bad_rows_are_named_by_line() {
    let csv = "istat_code,name_it,name_other_language,region,province_code,province_name,cadastral_code\n\
               050026,Pisa,,Toscana,PI,Pisa,G702\n\
               ,Nowhere,,Toscana,PI,Pisa,G703\n\
               050026,Pisa again,,Toscana,PI,Pisa,G702\n\
               050099,Bad cadastral,,Toscana,PI,Pisa,7702\n\
               050098,Too,many,columns,here,x,y,z\n";
    let e = parse_csv(csv).unwrap_err().0;
    assert!(
        e[0].starts_with("line 3:") && e[0].contains("missing"),
        "{e:?}"
    );
    assert!(
        e[1].starts_with("line 4:") && e[1].contains("line 2"),
        "{e:?}"
    );
    assert!(
        e[2].starts_with("line 5:") && e[2].contains("cadastral"),
        "{e:?}"
    );
    assert!(
        e[3].starts_with("line 6:") && e[3].contains("malformed"),
        "{e:?}"
    );
    let e = parse_csv("code,name\n1,2\n").unwrap_err().0;
    assert!(e[0].contains("lacks the column"), "{e:?}");
}

#[test]
fn a_fiscal_code_birthplace_is_found_by_cadastral_code() {
    let cf = sportello_domain::FiscalCode::parse("RSSMRA85T10A562S").unwrap();
    let place = by_cadastral_code(&cf.birthplace()).unwrap();
    assert_eq!(place.name_it, "San Giuliano Terme");
    assert_eq!(by_cadastral_code("g702").unwrap().name_it, "Pisa");
    assert!(
        by_cadastral_code("Z404").is_none(),
        "a foreign country is not a commune"
    );
}
