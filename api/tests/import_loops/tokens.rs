//! Rust source as the few tokens the scan needs.

#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Semi,
    Star,
    Dollar,
    Other(char),
}

/// Rust source as the tokens that matter here, without comments, strings or characters.
pub fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            _ if c.is_whitespace() => i += 1,
            '/' if next == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if next == Some('*') => {
                let mut nesting = 0;
                while i < chars.len() {
                    if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                        nesting += 1;
                        i += 2;
                    } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                        nesting -= 1;
                        i += 2;
                        if nesting == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            '"' => i = skip_string(&chars, i + 1, 0),
            '\'' => {
                if next == Some('\\') {
                    i += 3;
                    while i < chars.len() && chars[i] != '\'' {
                        i += 1;
                    }
                    i += 1;
                } else if chars.get(i + 2) == Some(&'\'') {
                    i += 3;
                } else {
                    i += 1; // a lifetime: its name follows as an identifier
                }
            }
            _ if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let raw = matches!(word.as_str(), "r" | "br" | "cr");
                if raw && matches!(chars.get(i), Some('"' | '#')) {
                    let mut hashes = 0;
                    while chars.get(i) == Some(&'#') {
                        hashes += 1;
                        i += 1;
                    }
                    if chars.get(i) == Some(&'"') {
                        i = skip_string(&chars, i + 1, hashes);
                    }
                } else if matches!(word.as_str(), "b" | "c") && chars.get(i) == Some(&'"') {
                    i = skip_string(&chars, i + 1, 0);
                } else {
                    tokens.push(Token::Ident(word));
                }
            }
            _ if c.is_ascii_digit() => {
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
            }
            ':' if next == Some(':') => {
                tokens.push(Token::PathSep);
                i += 2;
            }
            _ => {
                tokens.push(match c {
                    '{' => Token::Open,
                    '}' => Token::Close,
                    ',' => Token::Comma,
                    ';' => Token::Semi,
                    '*' => Token::Star,
                    '$' => Token::Dollar,
                    other => Token::Other(other),
                });
                i += 1;
            }
        }
    }
    tokens
}

/// The index after a string whose opening quote is before `at`; `hashes` for raw strings.
fn skip_string(chars: &[char], mut at: usize, hashes: usize) -> usize {
    while at < chars.len() {
        match chars[at] {
            '\\' if hashes == 0 => at += 2,
            '"' if (1..=hashes).all(|k| chars.get(at + k) == Some(&'#')) => {
                return at + 1 + hashes;
            }
            _ => at += 1,
        }
    }
    at
}
