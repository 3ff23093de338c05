//! The X509SubjectName NameID of the Context Handler profile (reference §2.2):
//! `C=DK,O=<cvr>,CN=<name>,Serial=<unique id>`, read as an RFC 4514 distinguished name so that
//! chsim and every standard DN parser agree on what it says (issue #8 §5).
//!
//! The rules, in the order the parser applies them:
//! 1. RDNs are separated by unescaped `,`; attribute type and value by the first `=`.
//! 2. Attribute types are compared case-insensitively; only `C`, `O`, `CN` and `Serial` are
//!    allowed, each at most once (an unknown or repeated type is refused, never ignored).
//! 3. Values honour RFC 4514 §2.4/§3 escapes: `\` before one of `"+,;<>\ #=` stands for that
//!    character, `\XX` is one byte in hex; the bytes must form UTF-8.
//! 4. An unescaped `+` would make a multi-valued RDN: refused. Unescaped `"`, `;`, `<`, `>` and
//!    NUL are not allowed by RFC 4514's grammar: refused. A value starting with `#` (a hex BER
//!    encoding) is refused; a literal `#` at the start is written `\#`.
//! 5. Unescaped spaces around types, `=` and `,` are insignificant (KOMBIT samples write
//!    `C = DK, O = 19435075, …`); escaped spaces (`\ `) are kept.
//!
//! No maintained crate parses RFC 4514 strings into these four fields: `x509-cert`'s `Name`
//! parser knows no `Serial` type and allows no spaces around `=`; the LDAP crates escape but do
//! not parse. So this is a small hand-written parser with unit and property tests.

use std::fmt;

/// The four attribute types a Context Handler NameID may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectAttribute {
    /// `C`, the country.
    C,
    /// `O`, the organisation's CVR number.
    O,
    /// `CN`, the person's display name.
    Cn,
    /// `Serial`, the person's unique id.
    Serial,
}

impl SubjectAttribute {
    fn from_type(name: &str) -> Option<Self> {
        [Self::C, Self::O, Self::Cn, Self::Serial]
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(name))
    }

    /// The attribute type as written in the NameID.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::C => "C",
            Self::O => "O",
            Self::Cn => "CN",
            Self::Serial => "Serial",
        }
    }
}

impl fmt::Display for SubjectAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An X509SubjectName NameID, read. Each part is present at most once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectName {
    /// `C=`.
    pub c: Option<String>,
    /// `O=` (the CVR number, as written).
    pub o: Option<String>,
    /// `CN=`.
    pub cn: Option<String>,
    /// `Serial=`.
    pub serial: Option<String>,
}

/// Why a NameID is not a Context Handler X509SubjectName. Positions count characters from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectNameError {
    /// Nothing but spaces.
    #[error("the NameID is empty; expected `C=DK,O=<CVR>,CN=<name>,Serial=<id>`")]
    Empty,
    /// Two commas in a row, or a comma at the start or end.
    #[error("the NameID has an empty part at character {position} (a comma at the start or end, or two in a row); expected `C=DK,O=<CVR>,CN=<name>,Serial=<id>`")]
    EmptyRdn {
        /// Where the empty part is.
        position: usize,
    },
    /// A part without `=`.
    #[error("the NameID part `{found}` at character {position} has no `=`; each part is TYPE=value (escape a comma inside a value as `\\,`)")]
    MissingEquals {
        /// The part as written.
        found: String,
        /// Where it starts.
        position: usize,
    },
    /// A type other than C, O, CN and Serial.
    #[error("the NameID names the attribute type `{found}` at character {position}; only C, O, CN and Serial are allowed")]
    UnknownType {
        /// The type as written.
        found: String,
        /// Where it starts.
        position: usize,
    },
    /// A type given twice.
    #[error("the NameID gives {attribute} twice (`{first}` and `{second}`); each of C, O, CN and Serial may appear once")]
    Repeated {
        /// The type.
        attribute: SubjectAttribute,
        /// The first value.
        first: String,
        /// The second value.
        second: String,
    },
    /// An unescaped `+`: a multi-valued RDN.
    #[error("the value of {attribute} has an unescaped `+` at character {position}, which makes a multi-valued RDN; the NameID may not hold one (write a literal plus as `\\+`)")]
    MultiValued {
        /// The type whose value holds it.
        attribute: SubjectAttribute,
        /// Where it is.
        position: usize,
    },
    /// A character RFC 4514 allows only escaped.
    #[error("the value of {attribute} has an unescaped {character:?} at character {position}; RFC 4514 requires it escaped (`\\{}`)", if *character == '\0' { "00".to_string() } else { character.to_string() })]
    Unescaped {
        /// The type whose value holds it.
        attribute: SubjectAttribute,
        /// The character.
        character: char,
        /// Where it is.
        position: usize,
    },
    /// A `\` followed by neither a special character nor two hex digits.
    #[error("the value of {attribute} has `\\` at character {position} followed by {found:?}, which is neither one of `\"+,;<>\\ #=` nor two hex digits")]
    BadEscape {
        /// The type whose value holds it.
        attribute: SubjectAttribute,
        /// What follows the backslash (empty at the end).
        found: String,
        /// Where the backslash is.
        position: usize,
    },
    /// A `#`-hex (BER) value.
    #[error("the value of {attribute} at character {position} is a `#`-hex BER encoding, which chsim does not accept; send the value as a string (a literal leading `#` is `\\#`)")]
    HexValue {
        /// The type.
        attribute: SubjectAttribute,
        /// Where the value starts.
        position: usize,
    },
    /// `\XX` escapes that do not form UTF-8.
    #[error("the `\\XX` escapes in the value of {attribute} are not UTF-8")]
    NotUtf8 {
        /// The type.
        attribute: SubjectAttribute,
    },
    /// A type with an empty value.
    #[error("{attribute} has an empty value in the NameID")]
    EmptyValue {
        /// The type.
        attribute: SubjectAttribute,
    },
}

impl SubjectName {
    /// Reads an X509SubjectName NameID by the rules in this file's header.
    pub fn parse(text: &str) -> Result<Self, SubjectNameError> {
        let chars: Vec<char> = text.chars().collect();
        if chars.iter().all(|c| *c == ' ') {
            return Err(SubjectNameError::Empty);
        }
        let mut name = SubjectName::default();
        let mut i = 0;
        loop {
            let (attribute, after_type) = read_type(&chars, i)?;
            let (value, after_value) = read_value(&chars, after_type, attribute)?;
            let slot = name.slot(attribute);
            if let Some(first) = slot.take() {
                return Err(SubjectNameError::Repeated {
                    attribute,
                    first,
                    second: value,
                });
            }
            *slot = Some(value);
            if after_value >= chars.len() {
                return Ok(name);
            }
            // `read_value` stops only at the end or at an unescaped comma.
            i = after_value + 1;
        }
    }

    fn slot(&mut self, attribute: SubjectAttribute) -> &mut Option<String> {
        match attribute {
            SubjectAttribute::C => &mut self.c,
            SubjectAttribute::O => &mut self.o,
            SubjectAttribute::Cn => &mut self.cn,
            SubjectAttribute::Serial => &mut self.serial,
        }
    }
}

/// Reads `TYPE =` from `start`; returns the type and the index after the `=`.
fn read_type(chars: &[char], start: usize) -> Result<(SubjectAttribute, usize), SubjectNameError> {
    let end = chars[start..]
        .iter()
        .position(|c| matches!(c, '=' | ','))
        .map_or(chars.len(), |p| start + p);
    let written = &chars[start..end];
    let position = start + 1 + written.iter().take_while(|c| **c == ' ').count();
    let found: String = written.iter().collect();
    let found = found.trim_matches(' ');
    if chars.get(end) != Some(&'=') {
        if found.is_empty() {
            return Err(SubjectNameError::EmptyRdn {
                position: start + 1,
            });
        }
        return Err(SubjectNameError::MissingEquals {
            found: found.to_string(),
            position,
        });
    }
    let attribute =
        SubjectAttribute::from_type(found).ok_or_else(|| SubjectNameError::UnknownType {
            found: found.to_string(),
            position,
        })?;
    Ok((attribute, end + 1))
}

/// Reads a value from `start` up to the end or an unescaped `,`; returns it and that index.
fn read_value(
    chars: &[char],
    start: usize,
    attribute: SubjectAttribute,
) -> Result<(String, usize), SubjectNameError> {
    let mut i = start;
    while chars.get(i) == Some(&' ') {
        i += 1;
    }
    if chars.get(i) == Some(&'#') {
        return Err(SubjectNameError::HexValue {
            attribute,
            position: i + 1,
        });
    }
    let mut bytes = Vec::new();
    // Unescaped trailing spaces are insignificant: cut back to the last significant byte.
    let mut significant = 0;
    let mut buf = [0u8; 4];
    while let Some(&c) = chars.get(i) {
        match c {
            ',' => break,
            '+' => {
                return Err(SubjectNameError::MultiValued {
                    attribute,
                    position: i + 1,
                })
            }
            '"' | ';' | '<' | '>' | '\0' => {
                return Err(SubjectNameError::Unescaped {
                    attribute,
                    character: c,
                    position: i + 1,
                })
            }
            '\\' => {
                let next = chars.get(i + 1).copied();
                match next {
                    Some(s @ ('"' | '+' | ',' | ';' | '<' | '>' | '\\' | ' ' | '#' | '=')) => {
                        bytes.push(s as u8);
                        i += 2;
                    }
                    Some(h) if h.is_ascii_hexdigit() => {
                        let low = chars.get(i + 2).copied().filter(char::is_ascii_hexdigit);
                        let (Some(hi), Some(lo)) =
                            (h.to_digit(16), low.and_then(|l| l.to_digit(16)))
                        else {
                            return Err(bad_escape(chars, i, attribute));
                        };
                        // Both digits are below 16, so the byte fits.
                        bytes.push(u8::try_from(hi * 16 + lo).unwrap_or_default());
                        i += 3;
                    }
                    _ => return Err(bad_escape(chars, i, attribute)),
                }
                significant = bytes.len();
                continue;
            }
            ' ' => bytes.push(b' '),
            other => {
                bytes.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
                significant = bytes.len();
            }
        }
        i += 1;
    }
    bytes.truncate(significant);
    let value = String::from_utf8(bytes).map_err(|_| SubjectNameError::NotUtf8 { attribute })?;
    if value.is_empty() {
        return Err(SubjectNameError::EmptyValue { attribute });
    }
    Ok((value, i))
}

fn bad_escape(chars: &[char], at: usize, attribute: SubjectAttribute) -> SubjectNameError {
    SubjectNameError::BadEscape {
        attribute,
        found: chars.iter().skip(at + 1).take(2).collect(),
        position: at + 1,
    }
}

/// Escapes a value for an RFC 4514 string: the specials everywhere, `#` and space at the start,
/// space at the end, NUL as `\00`.
pub fn escape_value(value: &str) -> String {
    let count = value.chars().count();
    let mut out = String::with_capacity(value.len() + 4);
    for (n, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\0' => out.push_str("\\00"),
            '#' if n == 0 => out.push_str("\\#"),
            ' ' if n == 0 || n + 1 == count => out.push_str("\\ "),
            _ => out.push(c),
        }
    }
    out
}

/// Writes the parts present in the profile's order, `C=…,O=…,CN=…,Serial=…`, escaped.
impl fmt::Display for SubjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts = [
            (SubjectAttribute::C, &self.c),
            (SubjectAttribute::O, &self.o),
            (SubjectAttribute::Cn, &self.cn),
            (SubjectAttribute::Serial, &self.serial),
        ];
        let mut first = true;
        for (attribute, value) in parts {
            if let Some(v) = value {
                if !first {
                    f.write_str(",")?;
                }
                first = false;
                write!(f, "{attribute}={}", escape_value(v))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
