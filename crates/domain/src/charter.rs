//! The vocabulary of the digital service charter.

use serde::{Deserialize, Serialize};

use crate::{Language, ParseError};

macro_rules! keyed_enum {
    ($(#[$m:meta])* $name:ident, $what:literal { $($variant:ident = $key:literal, $it:literal, $en:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn key(self) -> &'static str {
                match self { $($name::$variant => $key),+ }
            }

            pub fn parse(s: &str) -> Result<Self, ParseError> {
                match s {
                    $($key => Ok($name::$variant),)+
                    other => Err(ParseError::new($crate::Why::NotOneOf, $what, format!(
                        "{other:?} is not one of: {}", [$($key),+].join(", ")))),
                }
            }

            pub fn label(self, lang: Language) -> &'static str {
                match (self, lang) {
                    $(($name::$variant, Language::En) => $en,
                      ($name::$variant, _) => $it,)+
                }
            }
        }
    };
}

keyed_enum!(
    /// The life events services are grouped by (ComuneAmico's ten categories).
    LifeEvent, "life event" {
        Living = "living", "Abitare", "Living";
        Family = "family", "Famiglia", "Family";
        Citizenship = "citizenship", "Cittadinanza e documenti", "Citizenship and documents";
        Sport = "sport", "Sport e tempo libero", "Sport and leisure";
        Taxes = "taxes", "Tributi e pagamenti", "Taxes and payments";
        Study = "study", "Scuola e studio", "School and study";
        Transport = "transport", "Mobilità e trasporti", "Transport";
        Health = "health", "Salute e sociale", "Health and welfare";
        Business = "business", "Avviare un'impresa", "Running a business";
        Property = "property", "Casa ed edilizia", "Owning property";
    }
);

impl LifeEvent {
    /// The Bootstrap Italia sprite icon for the category.
    pub fn icon(self) -> &'static str {
        match self {
            LifeEvent::Living => "it-map-marker-circle",
            LifeEvent::Family => "it-user",
            LifeEvent::Citizenship => "it-card",
            LifeEvent::Sport => "it-star-outline",
            LifeEvent::Taxes => "it-card",
            LifeEvent::Study => "it-pencil",
            LifeEvent::Transport => "it-car",
            LifeEvent::Health => "it-help-circle",
            LifeEvent::Business => "it-chart-line",
            LifeEvent::Property => "it-pa",
        }
    }
}

keyed_enum!(
    /// Who a service is for.
    Audience, "audience" {
        Citizens = "citizens", "Cittadini", "Citizens";
        Businesses = "businesses", "Imprese", "Businesses";
        Both = "both", "Cittadini e imprese", "Citizens and businesses";
    }
);

keyed_enum!(
    /// How a service can be obtained.
    Channel, "channel" {
        Online = "online", "Online", "Online";
        Desk = "desk", "Allo sportello", "At the desk";
        Phone = "phone", "Per telefono", "By phone";
    }
);

keyed_enum!(
    /// The identity assurance a service needs on its online channel (eIDAS levels, as SPID maps
    /// them): `Low` is a password account or SPID level 1, `Substantial` SPID level 2, `High`
    /// SPID level 3 or the electronic identity card (CIE).
    AssuranceLevel, "assurance level" {
        None = "none", "Nessuna identificazione", "No sign-in needed";
        Low = "low", "Credenziali del portale o SPID livello 1", "Portal password or SPID level 1";
        Substantial = "substantial", "SPID livello 2 o CIE", "SPID level 2 or CIE";
        High = "high", "SPID livello 3 o CIE", "SPID level 3 or CIE";
    }
);

#[cfg(test)]
#[path = "tests/charter.rs"]
mod tests;
