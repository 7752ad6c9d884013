use super::*;

#[test]
fn slugs_from_real_names() {
    assert_eq!(slugify("San Giuliano Terme"), "san-giuliano-terme");
    assert_eq!(slugify("Bolzano/Bozen"), "bolzano-bozen");
    assert_eq!(slugify("Sant'Angelo a Cupolo"), "sant-angelo-a-cupolo");
    assert_eq!(slugify("Forlì"), "forli");
    assert_eq!(slugify("Cortina d'Ampezzo"), "cortina-d-ampezzo");
    assert_eq!(slugify("Gießen"), "giessen");
    assert_eq!(
        slugify("Doberdò del Lago-Doberdob"),
        "doberdo-del-lago-doberdob"
    );
}

#[test]
fn german_beside_italian_only_in_south_tyrol() {
    assert_eq!(co_official_language("BZ"), Some(Language::De));
    assert_eq!(co_official_language("bz"), Some(Language::De));
    // Trento is in the same region but its communes are not bilingual.
    assert_eq!(co_official_language("TN"), None);
    assert_eq!(co_official_language("PI"), None);
    assert_eq!(co_official_language(""), None);
}
