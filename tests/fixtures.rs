// Two small communes whose every text carries a marker, for isolation and history tests.
// Shared by the test modules that need them (`use crate::fixtures::*`).

pub fn commune_file(istat: &str, host: &str, marker: &str) -> String {
    format!(
        r#"
[commune]
istat_code = "{istat}"
primary_host = "{host}"

[[buildings]]
id = "sede-{marker}"
name = "Palazzo {marker}"
address = "Via {marker} 1"

[[offices]]
id = "ufficio-{marker}"
name = "Ufficio {marker}"
description = "Ufficio del marcatore {marker}"
building = "sede-{marker}"
floor = "Piano {marker}"
room = "Stanza {marker}"
directions = "Segui {marker}"
phone = "000"
email = "{marker}@example.org"
head = "persona-{marker}"
[offices.hours]
mon = ["00:00-23:59"]
tue = ["00:00-23:59"]
wed = ["00:00-23:59"]
thu = ["00:00-23:59"]
fri = ["00:00-23:59"]
sat = ["00:00-23:59"]
sun = ["00:00-23:59"]

[[staff]]
id = "persona-{marker}"
name = "Persona {marker}"
role = "Responsabile {marker}"
office = "ufficio-{marker}"
email = "persona.{marker}@example.org"

[[services]]
id = "servizio-{marker}"
title = "Servizio {marker}"
title_en = "Service {marker}"
summary = "Sintesi {marker}"
description = "Descrizione {marker}"
audience = "citizens"
life_events = ["family"]
office = "ufficio-{marker}"
responsible = "persona-{marker}"
documents = ["Documento {marker}"]
cost_cents = 1600
cost_note = "Costo {marker}"
max_days = 30
channels = ["online", "desk"]
online_level = "substantial"
online_url = "https://servizi.example.it/{marker}"
"#
    )
}
