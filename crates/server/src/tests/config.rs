use super::*;

#[test]
fn secrets_stay_out_of_debug_output() {
    let s = Settings {
        database_url: Secret::new("postgres://app:hunter2@db/sportello"),
        ..Settings::default()
    };
    assert!(!format!("{s:?}").contains("hunter2"));
}
