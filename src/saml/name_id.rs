//! The X509SubjectName NameID of the Context Handler profile (reference §2.2):
//! `C=DK,O=<cvr>,CN=<name>,Serial=<unique id>`.

/// The parts of an X509SubjectName NameID (`C=DK,O=<cvr>,CN=<name>,Serial=<id>`), tolerating
/// spaces around `=` and `,` as seen in samples.
pub fn name_id_part(name_id: &str, key: &str) -> Option<String> {
    name_id.split(',').find_map(|part| {
        let (k, v) = part.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| v.trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_id_parts_tolerate_spaces() {
        let n = "C = DK, O = 19435075, CN = user1 oces3kombitidp, Serial = 555ed208";
        assert_eq!(name_id_part(n, "O").as_deref(), Some("19435075"));
        assert_eq!(name_id_part(n, "serial").as_deref(), Some("555ed208"));
        assert_eq!(name_id_part("C=DK,O=11111111", "CN"), None);
    }
}
