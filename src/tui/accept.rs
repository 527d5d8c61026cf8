//! The accept-a-risk form (`x`): reason, owner, expiry (90 days by default) and ticket for
//! the selected or marked FAILs and WARNs; on Enter, one exception per guardrail (by ARN,
//! for its posture) written to the exceptions file. Pure: keys in, an outcome out; the
//! writing is the effect runner's.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use time::Date;

use crate::model::exceptions::{DEFAULT_MAX_DAYS, Exception, format_date, parse_date};

/// Days an accepted risk lasts unless said otherwise.
pub const DEFAULT_DAYS: i64 = 90;

pub const FIELDS: [&str; 4] = ["reason", "owner", "expires", "ticket"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub arn: String,
    pub name: String,
    pub posture: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptForm {
    pub targets: Vec<Target>,
    /// reason, owner, expires (YYYY-MM-DD), ticket.
    pub values: [String; 4],
    pub focus: usize,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Editing,
    Cancelled,
    Submit(Vec<Exception>),
}

impl AcceptForm {
    pub fn new(targets: Vec<Target>, owner: String, today: Date) -> Self {
        AcceptForm {
            targets,
            values: [
                String::new(),
                owner,
                format_date(today + time::Duration::days(DEFAULT_DAYS)),
                String::new(),
            ],
            focus: 0,
            error: None,
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, today: Date) -> Outcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return Outcome::Cancelled,
            KeyCode::Tab | KeyCode::Down => self.focus = (self.focus + 1) % FIELDS.len(),
            KeyCode::BackTab | KeyCode::Up => self.focus = (self.focus + FIELDS.len() - 1) % FIELDS.len(),
            KeyCode::Backspace => {
                self.values[self.focus].pop();
            }
            KeyCode::Char('u') if ctrl => self.values[self.focus].clear(),
            KeyCode::Char(c) if !ctrl => self.values[self.focus].push(c),
            KeyCode::Enter => match self.entries(today) {
                Ok(entries) => return Outcome::Submit(entries),
                Err(e) => self.error = Some(e),
            },
            _ => {}
        }
        Outcome::Editing
    }

    /// The exceptions the form says, or what is wrong with it.
    pub fn entries(&self, today: Date) -> Result<Vec<Exception>, String> {
        let [reason, owner, expires, ticket] = self.values.clone().map(|v| v.trim().to_string());
        if reason.is_empty() {
            return Err("say why the risk is accepted (reason)".into());
        }
        if owner.is_empty() {
            return Err("name who owns the risk (owner)".into());
        }
        let date = parse_date(&expires).ok_or("expires must be a date, YYYY-MM-DD")?;
        if date < today {
            return Err(format!(
                "{expires} is in the past: an accepted risk has a future expiry"
            ));
        }
        let furthest = today + time::Duration::days(DEFAULT_MAX_DAYS);
        if date > furthest {
            return Err(format!(
                "{expires} is further than {DEFAULT_MAX_DAYS} days away (at most {})",
                format_date(furthest)
            ));
        }
        Ok(self
            .targets
            .iter()
            .map(|t| Exception {
                line: 0,
                guardrail: Some(t.arn.clone()),
                name: None,
                account: None,
                region: None,
                posture: vec![t.posture.clone()],
                reason: reason.clone(),
                owner: owner.clone(),
                expires: format_date(date),
                ticket: (!ticket.is_empty()).then(|| ticket.clone()),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 12 - 04);

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn the_form_needs_a_reason_and_a_future_date_and_gives_one_entry_per_guardrail() {
        let targets = vec![
            Target {
                arn: "arn:a".into(),
                name: "a".into(),
                posture: "aws-owned-key".into(),
            },
            Target {
                arn: "arn:b".into(),
                name: "b".into(),
                posture: "key-disabled".into(),
            },
        ];
        let mut f = AcceptForm::new(targets, "me@example.com".into(), TODAY);
        assert_eq!(f.values[2], "2027-03-04", "90 days by default");
        assert_eq!(f.on_key(key(KeyCode::Enter), TODAY), Outcome::Editing);
        assert!(f.error.as_deref().unwrap().contains("reason"));
        for c in "sandbox".chars() {
            f.on_key(key(KeyCode::Char(c)), TODAY);
        }
        f.on_key(key(KeyCode::Tab), TODAY);
        f.on_key(key(KeyCode::Tab), TODAY);
        f.values[2] = "2026-12-01".into();
        f.on_key(key(KeyCode::Enter), TODAY);
        assert!(f.error.as_deref().unwrap().contains("in the past"));
        f.values[2] = "2027-01-15".into();
        match f.on_key(key(KeyCode::Enter), TODAY) {
            Outcome::Submit(entries) => {
                assert_eq!(entries.len(), 2);
                assert_eq!(entries[1].guardrail.as_deref(), Some("arn:b"));
                assert_eq!(entries[1].posture, ["key-disabled"]);
                assert_eq!(entries[0].reason, "sandbox");
                assert_eq!(entries[0].expires, "2027-01-15");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(f.on_key(key(KeyCode::Esc), TODAY), Outcome::Cancelled);
    }
}
