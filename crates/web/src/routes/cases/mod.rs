//! Cases on the citizen's side: filling in a service's form (`fill`), the person's cases and one
//! case with its history (`mine`), the status by protocol number and code (`status`). The
//! office's side is in `console_commune::cases`.

pub(crate) mod attach;
pub(crate) mod fill;
mod mine;

pub(crate) use attach::staff_download;
pub(crate) use mine::to_sign_in;

pub fn configure(t: &mut super::table::Table<'_>) {
    t.on(super::table::on::COMMUNE)
        .get("/pratiche/compila/{service}", fill::page)
        .post("/pratiche/compila/{service}", fill::save)
        .get("/pratiche/compila/{service}/riepilogo", fill::summary)
        .post("/pratiche/compila/{service}/invia", fill::submit)
        .post("/pratiche/compila/{service}/paga", fill::pay_first)
        .post("/pratiche/compila/{service}/elimina", fill::discard)
        .post(
            "/pratiche/compila/{service}/allegati/{field}",
            attach::upload,
        )
        .post(
            "/pratiche/compila/{service}/allegati/{file}/elimina",
            attach::remove,
        )
        .get(
            "/area-personale/pratiche/{id}/allegati/{file}",
            attach::citizen_download,
        )
        .get("/area-personale/pratiche", mine::list)
        .get("/area-personale/pratiche/{id}", mine::case)
        .post("/area-personale/pratiche/{id}/messaggio", mine::reply)
        .post("/area-personale/pratiche/{id}/ritira", mine::withdraw)
        .post("/area-personale/pratiche/{id}/valuta", mine::rate)
        .post("/area-personale/pratiche/{id}/allegati", attach::to_case)
        .get("/area-personale/pratiche/{id}/ricevuta", mine::receipt)
        .get("/stato-pratica", mine::status_form)
        .post("/stato-pratica", mine::status);
}

pub(crate) use fill::has_form;
