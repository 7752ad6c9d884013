//! [`Why`]: why a value a person typed was refused, as a key the interface translates
//! (`invalid_<key>` in `web/i18n/ui.toml`, Italian and English). The services say *why* and
//! *which field*; the web layer puts the words next to that field, in the person's language.

macro_rules! whys {
    ($($variant:ident => $key:literal,)+) => {
        /// Why an input was refused.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Why { $($variant),+ }

        impl Why {
            /// Every reason, so a test can check each has its words in both languages.
            pub const ALL: &'static [Why] = &[$(Why::$variant),+];

            /// The key of its words (`invalid_<key>`).
            pub fn key(self) -> &'static str {
                match self { $(Why::$variant => $key),+ }
            }
        }
    };
}

whys! {
    Required => "required",
    TooLong => "too_long",
    NotOneOf => "not_one_of",
    EmailInvalid => "email_invalid",
    EmailTaken => "email_taken",
    MobileInvalid => "mobile_invalid",
    PasswordShort => "password_short",
    PasswordLong => "password_long",
    PasswordHasEmail => "password_has_email",
    PasswordWeak => "password_weak",
    PasswordsDiffer => "passwords_differ",
    PasswordFirst => "password_first",
    ConsentNeeded => "consent_needed",
    FiscalCodeInvalid => "fiscal_code_invalid",
    FiscalCodeTaken => "fiscal_code_taken",
    AmountInvalid => "amount_invalid",
    DaysRange => "days_range",
    HoursFormat => "hours_format",
    HoursOrder => "hours_order",
    HoursOverlap => "hours_overlap",
    WeekdayUnknown => "weekday_unknown",
    DateInvalid => "date_invalid",
    SlugInvalid => "slug_invalid",
    IdTaken => "id_taken",
    IstatInvalid => "istat_invalid",
    IstatUnknown => "istat_unknown",
    AlreadyOnboarded => "already_onboarded",
    CadastralInvalid => "cadastral_invalid",
    HostInvalid => "host_invalid",
    HostFederation => "host_federation",
    HostTaken => "host_taken",
    ColourInvalid => "colour_invalid",
    AddressNeeded => "address_needed",
    UnknownOffice => "unknown_office",
    OfficeInUse => "office_in_use",
    UnknownIdp => "unknown_idp",
    UnknownRole => "unknown_role",
    LastAdmin => "last_admin",
    OwnAccount => "own_account",
    PermissionsUnsafe => "permissions_unsafe",
    DurationRange => "duration_range",
    SupportInactive => "support_inactive",
    ConfirmNeeded => "confirm_needed",
    CodeWrong => "code_wrong",
    Malformed => "malformed",
    SenderInvalid => "sender_invalid",
    SecretShort => "secret_short",
    ContactNeeded => "contact_needed",
    TooShort => "too_short",
    NumberInvalid => "number_invalid",
    OutOfRange => "out_of_range",
    PatternMismatch => "pattern_mismatch",
    DateTooEarly => "date_too_early",
    DateTooLate => "date_too_late",
    IbanInvalid => "iban_invalid",
    NoticeNumberInvalid => "notice_number_invalid",
    PhoneInvalid => "phone_invalid",
    AddressInvalid => "address_invalid",
    TooManyFiles => "too_many_files",
    ProtocolInvalid => "protocol_invalid",
    FileTooLarge => "file_too_large",
    FileType => "file_type",
    FileRefused => "file_refused",
    ProtocolFormat => "protocol_format",
    DelegationMissing => "delegation_missing",
    FieldInUse => "field_in_use",
    MainDwellingOnly => "main_dwelling_only",
    OneMainDwelling => "one_main_dwelling",
    MoverLine => "mover_line",
    MoverTwice => "mover_twice",
    FamilyHead => "family_head",
}
