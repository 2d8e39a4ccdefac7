//! Enough of GraphQL's grammar to read the queries a client sends for a
//! team's members: one query operation (named or not, with variable
//! definitions), fields with aliases, arguments and selection sets, and the
//! literal values those arguments take. Fragments, directives, mutations,
//! subscriptions and list or object literals are refused by name, so a
//! client that sends them learns that the fake does not serve them.

/// Where a token starts, 1-based, as GraphQL's `locations` give it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pos {
    pub line: usize,
    pub column: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Literal {
    Variable(String),
    Int(i64),
    Str(String),
    Bool(bool),
    Null,
    /// An enum value such as `IMMEDIATE`.
    Enum(String),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Field {
    pub alias: Option<String>,
    pub name: String,
    pub args: Vec<(String, Literal)>,
    pub selections: Vec<Field>,
    pub pos: Pos,
}

impl Field {
    /// The key the field's value has in the response.
    pub fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }

    pub fn arg(&self, name: &str) -> Option<&Literal> {
        self.args.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

#[derive(Debug, PartialEq)]
pub(crate) struct Operation {
    pub selections: Vec<Field>,
}

#[derive(Debug, PartialEq)]
pub(crate) struct SyntaxError {
    pub message: String,
    pub pos: Pos,
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Name(String),
    Variable(String),
    Int(i64),
    Str(String),
    Punct(char),
    Spread,
    End,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Name(n) => n.clone(),
            Token::Variable(v) => format!("${v}"),
            Token::Int(i) => i.to_string(),
            Token::Str(s) => format!("\\\"{s}\\\""),
            Token::Punct(c) => c.to_string(),
            Token::Spread => "...".into(),
            Token::End => "end of file".into(),
        }
    }
}

/// Reads one query operation.
pub(crate) fn parse(text: &str) -> Result<Operation, SyntaxError> {
    let tokens = tokenize(text)?;
    let mut parser = Parser { tokens, at: 0 };
    let operation = parser.operation()?;
    match parser.peek() {
        Token::End => Ok(operation),
        _ => Err(parser.error("this fake GitHub answers one operation per request")),
    }
}

fn tokenize(text: &str) -> Result<Vec<(Token, Pos)>, SyntaxError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let (mut i, mut line, mut line_start) = (0, 1, 0);
    while i < chars.len() {
        let c = chars[i];
        let pos = Pos {
            line,
            column: i - line_start + 1,
        };
        let fail = |message: String| SyntaxError { message, pos };
        match c {
            '\n' => {
                line += 1;
                line_start = i + 1;
                i += 1;
            }
            ' ' | '\t' | '\r' | ',' | '\u{feff}' => i += 1,
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '{' | '}' | '(' | ')' | ':' | '!' | '[' | ']' | '=' | '@' | '|' | '&' => {
                tokens.push((Token::Punct(c), pos));
                i += 1;
            }
            '.' if chars[i..].starts_with(&['.', '.', '.']) => {
                tokens.push((Token::Spread, pos));
                i += 3;
            }
            '$' => {
                let (name, end) = read_name(&chars, i + 1);
                if name.is_empty() {
                    return Err(fail("Parse error on \"$\"".into()));
                }
                tokens.push((Token::Variable(name), pos));
                i = end;
            }
            '"' => {
                let (text, end) = read_string(&chars, i).map_err(fail)?;
                tokens.push((Token::Str(text), pos));
                i = end;
            }
            c if c == '-' || c.is_ascii_digit() => {
                let mut end = i + 1;
                while end < chars.len() && chars[end].is_ascii_digit() {
                    end += 1;
                }
                let digits: String = chars[i..end].iter().collect();
                if end < chars.len() && matches!(chars[end], '.' | 'e' | 'E') {
                    return Err(fail("this fake GitHub takes no Float values".into()));
                }
                let value = digits
                    .parse()
                    .map_err(|_| fail(format!("Parse error on \"{digits}\"")))?;
                tokens.push((Token::Int(value), pos));
                i = end;
            }
            c if c == '_' || c.is_ascii_alphabetic() => {
                let (name, end) = read_name(&chars, i);
                tokens.push((Token::Name(name), pos));
                i = end;
            }
            other => return Err(fail(format!("Parse error on \"{other}\""))),
        }
    }
    let end = Pos {
        line,
        column: chars.len() - line_start + 1,
    };
    tokens.push((Token::End, end));
    Ok(tokens)
}

fn read_name(chars: &[char], from: usize) -> (String, usize) {
    let mut end = from;
    while end < chars.len() && (chars[end] == '_' || chars[end].is_ascii_alphanumeric()) {
        end += 1;
    }
    (chars[from..end].iter().collect(), end)
}

/// A `"…"` string starting at `from`, with its escapes read; where it ends.
fn read_string(chars: &[char], from: usize) -> Result<(String, usize), String> {
    if chars[from..].starts_with(&['"', '"', '"']) {
        return Err("this fake GitHub takes no block strings".into());
    }
    let mut out = String::new();
    let mut i = from + 1;
    while i < chars.len() {
        match chars[i] {
            '"' => return Ok((out, i + 1)),
            '\n' => break,
            '\\' => {
                let escaped = chars.get(i + 1).copied().unwrap_or('\n');
                i += 2;
                match escaped {
                    '"' | '\\' | '/' => out.push(escaped),
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'u' => {
                        let hex: String = chars.get(i..i + 4).unwrap_or_default().iter().collect();
                        let code = u32::from_str_radix(&hex, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .ok_or_else(|| format!("Bad unicode escape in \"\\u{hex}\""))?;
                        out.push(code);
                        i += 4;
                    }
                    other => return Err(format!("Bad escape \"\\{other}\"")),
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Err("Unterminated string".into())
}

struct Parser {
    tokens: Vec<(Token, Pos)>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.at].0
    }

    fn pos(&self) -> Pos {
        self.tokens[self.at].1
    }

    fn next(&mut self) -> Token {
        let token = self.tokens[self.at].0.clone();
        if token != Token::End {
            self.at += 1;
        }
        token
    }

    fn error(&self, message: &str) -> SyntaxError {
        SyntaxError {
            message: message.to_owned(),
            pos: self.pos(),
        }
    }

    fn unexpected(&self) -> SyntaxError {
        let message = format!("Parse error on \"{}\"", self.peek().describe());
        self.error(&message)
    }

    fn expect(&mut self, punct: char) -> Result<(), SyntaxError> {
        if *self.peek() == Token::Punct(punct) {
            self.next();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn eat(&mut self, punct: char) -> bool {
        let found = *self.peek() == Token::Punct(punct);
        if found {
            self.next();
        }
        found
    }

    fn name(&mut self) -> Result<String, SyntaxError> {
        match self.peek().clone() {
            Token::Name(name) => {
                self.next();
                Ok(name)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn operation(&mut self) -> Result<Operation, SyntaxError> {
        match self.peek().clone() {
            Token::Punct('{') => {}
            Token::Name(keyword) if keyword == "query" => {
                self.next();
                if matches!(self.peek(), Token::Name(_)) {
                    self.next();
                }
                if *self.peek() == Token::Punct('(') {
                    self.variable_definitions()?;
                }
            }
            Token::Name(keyword) if ["mutation", "subscription"].contains(&keyword.as_str()) => {
                return Err(self.error(&format!(
                    "this fake GitHub answers queries only, not a {keyword}"
                )));
            }
            Token::Name(keyword) if keyword == "fragment" => {
                return Err(self.error("this fake GitHub serves no fragments"));
            }
            _ => return Err(self.unexpected()),
        }
        Ok(Operation {
            selections: self.selection_set()?,
        })
    }

    /// `($org: String!, $after: String = null)`: checked for form only;
    /// values come from the request's `variables`.
    fn variable_definitions(&mut self) -> Result<(), SyntaxError> {
        self.expect('(')?;
        while !self.eat(')') {
            match self.next() {
                Token::Variable(_) => {}
                _ => return Err(self.unexpected()),
            }
            self.expect(':')?;
            self.type_reference()?;
            if self.eat('=') {
                self.literal()?;
            }
        }
        Ok(())
    }

    fn type_reference(&mut self) -> Result<(), SyntaxError> {
        if self.eat('[') {
            self.type_reference()?;
            self.expect(']')?;
        } else {
            self.name()?;
        }
        self.eat('!');
        Ok(())
    }

    fn selection_set(&mut self) -> Result<Vec<Field>, SyntaxError> {
        self.expect('{')?;
        let mut fields = Vec::new();
        while !self.eat('}') {
            if *self.peek() == Token::Spread {
                return Err(self.error("this fake GitHub serves no fragments"));
            }
            fields.push(self.field()?);
        }
        if fields.is_empty() {
            return Err(self.error("Parse error on \"}\" (RCURLY)"));
        }
        Ok(fields)
    }

    fn field(&mut self) -> Result<Field, SyntaxError> {
        let pos = self.pos();
        let first = self.name()?;
        let (alias, name) = if self.eat(':') {
            (Some(first), self.name()?)
        } else {
            (None, first)
        };
        let mut args = Vec::new();
        if self.eat('(') {
            while !self.eat(')') {
                let arg = self.name()?;
                self.expect(':')?;
                args.push((arg, self.literal()?));
            }
        }
        if *self.peek() == Token::Punct('@') {
            return Err(self.error("this fake GitHub serves no directives"));
        }
        let selections = if *self.peek() == Token::Punct('{') {
            self.selection_set()?
        } else {
            Vec::new()
        };
        Ok(Field {
            alias,
            name,
            args,
            selections,
            pos,
        })
    }

    fn literal(&mut self) -> Result<Literal, SyntaxError> {
        let literal = match self.peek().clone() {
            Token::Variable(v) => Literal::Variable(v),
            Token::Int(i) => Literal::Int(i),
            Token::Str(s) => Literal::Str(s),
            Token::Name(n) if n == "true" => Literal::Bool(true),
            Token::Name(n) if n == "false" => Literal::Bool(false),
            Token::Name(n) if n == "null" => Literal::Null,
            Token::Name(n) => Literal::Enum(n),
            Token::Punct('[' | '{') => {
                return Err(self.error("this fake GitHub takes no list or object values"));
            }
            _ => return Err(self.unexpected()),
        };
        self.next();
        Ok(literal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_members_query_reads_as_nested_fields() {
        let query = r#"
            # a team's own members
            query DirectMembers($org: String!, $slug: String!, $after: String) {
              organization(login: $org) {
                team(slug: $slug) {
                  members(membership: IMMEDIATE, first: 100, after: $after) {
                    edges { role node { login databaseId } }
                    pageInfo { hasNextPage endCursor }
                  }
                }
              }
            }"#;
        let operation = parse(query).expect("parses");
        let org = &operation.selections[0];
        assert_eq!(org.name, "organization");
        assert_eq!(org.arg("login"), Some(&Literal::Variable("org".to_owned())));
        let members = &org.selections[0].selections[0];
        assert_eq!(
            members.args,
            vec![
                (
                    "membership".to_owned(),
                    Literal::Enum("IMMEDIATE".to_owned())
                ),
                ("first".to_owned(), Literal::Int(100)),
                ("after".to_owned(), Literal::Variable("after".to_owned())),
            ]
        );
        assert_eq!(members.selections.len(), 2);
        assert_eq!(
            members.pos,
            Pos {
                line: 6,
                column: 19
            }
        );
    }

    #[test]
    fn what_is_not_served_is_refused_by_name() {
        let refused = |query: &str| parse(query).expect_err(query).message;
        assert!(refused("mutation { x }").contains("queries only"));
        assert!(refused("{ organization { ...F } }").contains("fragments"));
        assert!(refused("{ a } { b }").contains("one operation"));
        assert!(refused("{ a(x: [1]) }").contains("list or object"));
        assert_eq!(
            parse("{ organization(login: \"acme\" }").unwrap_err(),
            SyntaxError {
                message: "Parse error on \"}\"".to_owned(),
                pos: Pos {
                    line: 1,
                    column: 30
                }
            }
        );
    }
}
