//! SCIM filters and attribute paths (RFC 7644 §3.4.2.2 and §3.5.2): parsed into a small
//! tree that persistence translates into indexed SQL and the PATCH engine walks.
//!
//! ```text
//! FILTER    = attrExp / logExp / valuePath / "not" "(" FILTER ")" / "(" FILTER ")"
//! valuePath = attrPath "[" FILTER "]"
//! attrExp   = attrPath "pr" / attrPath compareOp compValue
//! logExp    = FILTER ("and" / "or") FILTER          ; "not" binds tightest, then "and"
//! attrPath  = [URI ":"] ATTRNAME ["." subAttr]      ; or a valuePath then ["." subAttr]
//! ```
//!
//! Operators and keywords are case-insensitive; attribute names keep the case they were
//! sent in (comparing them is the caller's business, case-insensitively per RFC 7643 §2.1).
//! `emails[type eq "work"].value eq "a@b.c"` — a value path followed by a sub-attribute, as
//! Microsoft Entra ID sends it — is accepted as an attribute path wherever one is.

use std::fmt;

/// The longest filter or path accepted, in bytes.
pub const MAX_FILTER_BYTES: usize = 4096;
/// How deeply parentheses, `not` and value paths may nest.
pub const MAX_DEPTH: usize = 32;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "co" => Self::Co,
            "sw" => Self::Sw,
            "ew" => Self::Ew,
            "gt" => Self::Gt,
            "ge" => Self::Ge,
            "lt" => Self::Lt,
            "le" => Self::Le,
            _ => return None,
        })
    }
}

/// A literal compared against (`compValue`).
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Null,
    Bool(bool),
    /// A JSON number, kept as written (a decimal or an integer).
    Number(String),
    Str(String),
}

/// An attribute path: `userName`, `name.familyName`, `urn:…:User:userName`,
/// `emails[type eq "work"].value`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrPath {
    /// The schema URI when the path is fully qualified.
    pub uri: Option<String>,
    pub attr: String,
    /// The value filter of a multi-valued attribute (`emails[type eq "work"]`).
    pub value_filter: Option<Box<Filter>>,
    pub sub_attr: Option<String>,
}

impl AttrPath {
    /// A plain path (`attr` or `attr.sub`), for tests and callers building filters.
    pub fn new(attr: &str, sub_attr: Option<&str>) -> Self {
        Self {
            uri: None,
            attr: attr.to_owned(),
            value_filter: None,
            sub_attr: sub_attr.map(str::to_owned),
        }
    }

    /// Whether this is `attr` (and `sub`), compared case-insensitively, with no value filter.
    pub fn is(&self, attr: &str, sub_attr: Option<&str>) -> bool {
        self.value_filter.is_none()
            && self.attr.eq_ignore_ascii_case(attr)
            && match (&self.sub_attr, sub_attr) {
                (None, None) => true,
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            }
    }
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Present(AttrPath),
    Compare(AttrPath, CompareOp, CompValue),
    Not(Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    /// `emails[type eq "work"]`: some value of the multi-valued attribute matches.
    Any(AttrPath, Box<Filter>),
}

/// Why a filter or path does not parse: SCIM's `400` with `scimType` `invalidFilter` (or
/// `invalidPath` for a PATCH path); `at` is the byte offset where reading stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub message: String,
    pub at: usize,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.at + 1)
    }
}

impl std::error::Error for FilterError {}

/// Parses a `filter` query parameter.
pub fn parse_filter(input: &str) -> Result<Filter, FilterError> {
    let mut parser = Parser::new(input)?;
    let filter = parser.or_expr(0)?;
    parser.end()?;
    Ok(filter)
}

/// Parses a PATCH operation's `path` (RFC 7644 §3.5.2): an attribute path, possibly with a
/// value filter and a sub-attribute.
pub fn parse_path(input: &str) -> Result<AttrPath, FilterError> {
    let mut parser = Parser::new(input)?;
    let path = parser.attr_path(0)?;
    parser.end()?;
    Ok(path)
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A name, keyword, operator or literal word (`userName`, `and`, `true`, `urn:…:User`).
    Word(String),
    Str(String),
    Number(String),
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    /// `.` directly after `]`: a sub-attribute of a value path follows.
    Dot,
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    next: usize,
    len: usize,
}

fn error<T>(message: impl Into<String>, at: usize) -> Result<T, FilterError> {
    Err(FilterError {
        message: message.into(),
        at,
    })
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.' | '$' | '+')
}

fn tokenize(input: &str) -> Result<Vec<(Token, usize)>, FilterError> {
    let mut tokens = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some(&(at, c)) = chars.peek() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                chars.next();
            }
            '(' | ')' | '[' | ']' => {
                chars.next();
                tokens.push((
                    match c {
                        '(' => Token::Open,
                        ')' => Token::Close,
                        '[' => Token::OpenBracket,
                        _ => Token::CloseBracket,
                    },
                    at,
                ));
                if c == ']' && chars.peek().is_some_and(|&(_, next)| next == '.') {
                    let (dot_at, _) = chars.next().unwrap_or((at, '.'));
                    tokens.push((Token::Dot, dot_at));
                }
            }
            '"' => tokens.push((Token::Str(string(input, &mut chars)?), at)),
            c if c == '-' || c.is_ascii_digit() => {
                let mut end = at;
                while let Some(&(i, c)) = chars.peek() {
                    if c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E') {
                        end = i + c.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                let number = &input[at..end];
                if serde_number(number) {
                    tokens.push((Token::Number(number.to_owned()), at));
                } else {
                    return error(format!("{number:?} is not a number"), at);
                }
            }
            c if c.is_ascii_alphabetic() => {
                let mut end = at;
                while let Some(&(i, c)) = chars.peek() {
                    if is_word_char(c) {
                        end = i + c.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push((Token::Word(input[at..end].to_owned()), at));
            }
            other => return error(format!("unexpected {other:?}"), at),
        }
    }
    Ok(tokens)
}

/// Whether `text` is a JSON number (`-`? digits, optional fraction and exponent).
fn serde_number(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (mantissa, exponent) = match digits.find(['e', 'E']) {
        Some(i) => (&digits[..i], Some(&digits[i + 1..])),
        None => (digits, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole)
        && (whole == "0" || !whole.starts_with('0'))
        && fraction.is_none_or(all_digits)
        && exponent.is_none_or(|e| all_digits(e.strip_prefix(['+', '-']).unwrap_or(e)))
}

/// A JSON string starting at the opening quote, with its escapes decoded.
fn string(
    input: &str,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
) -> Result<String, FilterError> {
    let (start, _) = chars.next().unwrap_or((0, '"'));
    let mut out = String::new();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Ok(out),
            '\\' => {
                let Some((_, escaped)) = chars.next() else {
                    break;
                };
                match escaped {
                    '"' | '\\' | '/' => out.push(escaped),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'u' => {
                        let hex: String = (0..4)
                            .filter_map(|_| chars.next().map(|(_, c)| c))
                            .collect();
                        let decoded = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                        match decoded {
                            Some(c) if hex.len() == 4 => out.push(c),
                            _ => return error("invalid \\u escape in a string", at),
                        }
                    }
                    other => return error(format!("invalid escape \\{other} in a string"), at),
                }
            }
            c if c.is_control() => return error("control character in a string", at),
            c => out.push(c),
        }
    }
    error(format!("unterminated string in {input:?}"), start)
}

impl Parser {
    fn new(input: &str) -> Result<Self, FilterError> {
        if input.len() > MAX_FILTER_BYTES {
            return error(
                format!("longer than {MAX_FILTER_BYTES} bytes"),
                MAX_FILTER_BYTES,
            );
        }
        Ok(Self {
            tokens: tokenize(input)?,
            next: 0,
            len: input.len(),
        })
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|(token, _)| token)
    }

    fn at(&self) -> usize {
        self.tokens.get(self.next).map_or(self.len, |&(_, at)| at)
    }

    fn take(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.next).map(|(token, _)| token.clone());
        self.next += 1;
        token
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn expect(&mut self, wanted: &Token, what: &str) -> Result<(), FilterError> {
        let at = self.at();
        match self.take() {
            Some(token) if &token == wanted => Ok(()),
            _ => error(format!("expected {what}"), at),
        }
    }

    fn end(&self) -> Result<(), FilterError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => error("unexpected text after the end", self.at()),
        }
    }

    fn deeper(&self, depth: usize) -> Result<usize, FilterError> {
        if depth >= MAX_DEPTH {
            return error(format!("nested more than {MAX_DEPTH} deep"), self.at());
        }
        Ok(depth + 1)
    }

    fn or_expr(&mut self, depth: usize) -> Result<Filter, FilterError> {
        let mut left = self.and_expr(depth)?;
        while self.keyword("or") {
            self.next += 1;
            let right = self.and_expr(depth)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self, depth: usize) -> Result<Filter, FilterError> {
        let mut left = self.unary(depth)?;
        while self.keyword("and") {
            self.next += 1;
            let right = self.unary(depth)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Filter, FilterError> {
        let depth = self.deeper(depth)?;
        if self.keyword("not")
            && self.tokens.get(self.next + 1).map(|(t, _)| t) == Some(&Token::Open)
        {
            self.next += 2;
            let inner = self.or_expr(depth)?;
            self.expect(&Token::Close, "\")\"")?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        if self.peek() == Some(&Token::Open) {
            self.next += 1;
            let inner = self.or_expr(depth)?;
            self.expect(&Token::Close, "\")\"")?;
            return Ok(inner);
        }
        let path = self.attr_path(depth)?;
        self.attr_expression(path)
    }

    /// What follows an attribute path in a filter: `pr`, an operator and a value, or
    /// nothing when the path was a value path (`emails[type eq "work"]`).
    fn attr_expression(&mut self, mut path: AttrPath) -> Result<Filter, FilterError> {
        if path.sub_attr.is_none()
            && let Some(filter) = path.value_filter.take()
        {
            return Ok(Filter::Any(path, filter));
        }
        let at = self.at();
        let Some(Token::Word(word)) = self.peek().cloned() else {
            return error(
                "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)",
                at,
            );
        };
        if word.eq_ignore_ascii_case("pr") {
            self.next += 1;
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::parse(&word) else {
            return error(format!("{word:?} is not an operator"), at);
        };
        self.next += 1;
        let at = self.at();
        let value = match self.take() {
            Some(Token::Str(s)) => CompValue::Str(s),
            Some(Token::Number(n)) => CompValue::Number(n),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("true") => CompValue::Bool(true),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("false") => CompValue::Bool(false),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("null") => CompValue::Null,
            _ => {
                return error(
                    "expected a value: a string, number, true, false or null",
                    at,
                );
            }
        };
        Ok(Filter::Compare(path, op, value))
    }

    fn attr_path(&mut self, depth: usize) -> Result<AttrPath, FilterError> {
        let at = self.at();
        let Some(Token::Word(word)) = self.take() else {
            return error("expected an attribute name", at);
        };
        let (uri, rest) = match word.rfind(':') {
            Some(i) => (Some(word[..i].to_owned()), &word[i + 1..]),
            None => (None, word.as_str()),
        };
        let (attr, sub_attr) = match rest.split_once('.') {
            Some((attr, sub)) => (attr, Some(sub.to_owned())),
            None => (rest, None),
        };
        let valid = |name: &str| {
            name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$'))
        };
        if !valid(attr) || sub_attr.as_deref().is_some_and(|s| !valid(s)) {
            return error(format!("{word:?} is not an attribute path"), at);
        }
        let mut path = AttrPath {
            uri,
            attr: attr.to_owned(),
            value_filter: None,
            sub_attr,
        };
        if self.peek() == Some(&Token::OpenBracket) {
            if path.sub_attr.is_some() {
                return error(
                    "a value filter follows the attribute, not its sub-attribute",
                    self.at(),
                );
            }
            self.next += 1;
            let depth = self.deeper(depth)?;
            let filter = self.or_expr(depth)?;
            self.expect(&Token::CloseBracket, "\"]\"")?;
            path.value_filter = Some(Box::new(filter));
            if self.peek() == Some(&Token::Dot) {
                self.next += 1;
                let at = self.at();
                match self.take() {
                    Some(Token::Word(sub)) if valid(&sub) => path.sub_attr = Some(sub),
                    _ => return error("expected a sub-attribute after \"].\"", at),
                }
            }
        }
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(attr: &str) -> AttrPath {
        match attr.split_once('.') {
            Some((a, s)) => AttrPath::new(a, Some(s)),
            None => AttrPath::new(attr, None),
        }
    }

    fn eq(attr: &str, value: &str) -> Filter {
        Filter::Compare(path(attr), CompareOp::Eq, CompValue::Str(value.to_owned()))
    }

    fn and(a: Filter, b: Filter) -> Filter {
        Filter::And(Box::new(a), Box::new(b))
    }

    fn or(a: Filter, b: Filter) -> Filter {
        Filter::Or(Box::new(a), Box::new(b))
    }

    /// The examples of RFC 7644 §3.4.2.2, each with the tree it must give.
    #[test]
    fn the_rfc_examples_parse() {
        let urn = "urn:ietf:params:scim:schemas:core:2.0:User";
        let cases: Vec<(&str, Filter)> = vec![
            (r#"userName Eq "john""#, eq("userName", "john")),
            (
                r#"name.familyName co "O'Malley""#,
                Filter::Compare(
                    path("name.familyName"),
                    CompareOp::Co,
                    CompValue::Str("O'Malley".into()),
                ),
            ),
            (
                r#"userName sw "J""#,
                Filter::Compare(path("userName"), CompareOp::Sw, CompValue::Str("J".into())),
            ),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
                Filter::Compare(
                    AttrPath {
                        uri: Some(urn.into()),
                        ..path("userName")
                    },
                    CompareOp::Sw,
                    CompValue::Str("J".into()),
                ),
            ),
            ("title pr", Filter::Present(path("title"))),
            (
                r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
                Filter::Compare(
                    path("meta.lastModified"),
                    CompareOp::Gt,
                    CompValue::Str("2011-05-13T04:42:34Z".into()),
                ),
            ),
            (
                r#"title pr and userType eq "Employee""#,
                and(Filter::Present(path("title")), eq("userType", "Employee")),
            ),
            (
                r#"title pr or userType eq "Intern""#,
                or(Filter::Present(path("title")), eq("userType", "Intern")),
            ),
            (
                r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
                and(
                    eq("userType", "Employee"),
                    or(
                        Filter::Compare(
                            path("emails"),
                            CompareOp::Co,
                            CompValue::Str("example.com".into()),
                        ),
                        Filter::Compare(
                            path("emails.value"),
                            CompareOp::Co,
                            CompValue::Str("example.org".into()),
                        ),
                    ),
                ),
            ),
            (
                r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
                and(
                    Filter::Compare(
                        path("userType"),
                        CompareOp::Ne,
                        CompValue::Str("Employee".into()),
                    ),
                    Filter::Not(Box::new(or(
                        Filter::Compare(
                            path("emails"),
                            CompareOp::Co,
                            CompValue::Str("example.com".into()),
                        ),
                        Filter::Compare(
                            path("emails.value"),
                            CompareOp::Co,
                            CompValue::Str("example.org".into()),
                        ),
                    ))),
                ),
            ),
            (
                r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
                or(
                    Filter::Any(
                        path("emails"),
                        Box::new(and(
                            eq("type", "work"),
                            Filter::Compare(
                                path("value"),
                                CompareOp::Co,
                                CompValue::Str("@example.com".into()),
                            ),
                        )),
                    ),
                    Filter::Any(
                        path("ims"),
                        Box::new(and(
                            eq("type", "xmpp"),
                            Filter::Compare(
                                path("value"),
                                CompareOp::Co,
                                CompValue::Str("@foo.com".into()),
                            ),
                        )),
                    ),
                ),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_filter(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn and_binds_tighter_than_or_and_not_tighter_than_both() {
        assert_eq!(
            parse_filter(r#"a eq "1" or b eq "2" and c eq "3""#),
            Ok(or(eq("a", "1"), and(eq("b", "2"), eq("c", "3"))))
        );
        assert_eq!(
            parse_filter(r#"not (a eq "1") and b eq "2""#),
            Ok(and(Filter::Not(Box::new(eq("a", "1"))), eq("b", "2")))
        );
        assert_eq!(
            parse_filter(r#"(a eq "1" or b eq "2") and c eq "3""#),
            Ok(and(or(eq("a", "1"), eq("b", "2")), eq("c", "3")))
        );
    }

    #[test]
    fn values_are_strings_numbers_booleans_and_null() {
        let value = |text: &str| match parse_filter(text) {
            Ok(Filter::Compare(_, _, value)) => value,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(value("active eq true"), CompValue::Bool(true));
        assert_eq!(value("active eq False"), CompValue::Bool(false));
        assert_eq!(value("manager eq null"), CompValue::Null);
        assert_eq!(value("age ge 42"), CompValue::Number("42".into()));
        assert_eq!(value("score lt -1.5e3"), CompValue::Number("-1.5e3".into()));
        assert_eq!(
            value(r#"displayName eq "A \"quoted\" \u00e9 name""#),
            CompValue::Str("A \"quoted\" é name".into())
        );
    }

    /// What Microsoft Entra ID sends: a value path with a sub-attribute, compared.
    #[test]
    fn entra_id_value_paths_with_a_sub_attribute_compare() {
        let expected = Filter::Compare(
            AttrPath {
                value_filter: Some(Box::new(eq("type", "work"))),
                sub_attr: Some("value".into()),
                ..path("emails")
            },
            CompareOp::Eq,
            CompValue::Str("ada@example.com".into()),
        );
        assert_eq!(
            parse_filter(r#"emails[type eq "work"].value eq "ada@example.com""#),
            Ok(expected.clone())
        );
        assert_eq!(
            parse_filter(
                r#"externalId eq "e-1" AND emails[type eq "work"].value eq "ada@example.com""#
            ),
            Ok(and(eq("externalId", "e-1"), expected))
        );
    }

    /// The PATCH paths of RFC 7644 §3.5.2 and the ones Okta and Entra ID send.
    #[test]
    fn patch_paths_parse() {
        assert_eq!(parse_path("name.familyName"), Ok(path("name.familyName")));
        assert_eq!(
            parse_path(r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#),
            Ok(AttrPath {
                value_filter: Some(Box::new(eq(
                    "value",
                    "2819c223-7f76-453a-919d-413861904646"
                ))),
                ..path("members")
            })
        );
        assert_eq!(
            parse_path(r#"emails[type eq "work"].value"#),
            Ok(AttrPath {
                value_filter: Some(Box::new(eq("type", "work"))),
                sub_attr: Some("value".into()),
                ..path("emails")
            })
        );
        let extension = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";
        assert_eq!(
            parse_path(extension),
            Ok(AttrPath {
                uri: Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".into()),
                ..path("manager")
            })
        );
    }

    #[test]
    fn mistakes_are_refused_with_where_they_are() {
        for (text, at) in [
            ("", 0),
            ("userName", 8),
            (r#"userName eq"#, 11),
            (r#"userName xx "a""#, 9),
            (r#"userName eq "a" and"#, 19),
            (r#"(userName eq "a""#, 16),
            (r#"userName eq "a")"#, 15),
            (r#"userName eq "open"#, 12),
            (r#"userName eq 01"#, 12),
            (r#"emails[type eq "work""#, 21),
            (r#"userName eq "a" # "#, 16),
            (r#"1abc eq "a""#, 0),
        ] {
            let e = parse_filter(text).expect_err(text);
            assert_eq!(e.at, at, "{text}: {e}");
        }
        assert!(parse_path(r#"name.familyName[type eq "x"]"#).is_err());
        assert!(parse_path("emails[").is_err());
        assert!(parse_path(r#"emails[type eq "work"]."#).is_err());
    }

    #[test]
    fn hostile_filters_are_bounded() {
        let deep = format!("{}a pr{}", "(".repeat(100), ")".repeat(100));
        assert!(parse_filter(&deep).unwrap_err().message.contains("nested"));
        let nots = format!("{}a pr{}", "not (".repeat(100), ")".repeat(100));
        assert!(parse_filter(&nots).is_err());
        let long = format!(r#"userName eq "{}""#, "x".repeat(MAX_FILTER_BYTES));
        assert!(parse_filter(&long).unwrap_err().message.contains("longer"));
        let wide = vec![r#"a eq "1""#; 200].join(" or ");
        assert!(parse_filter(&wide).is_ok(), "breadth is not depth");
    }
}
