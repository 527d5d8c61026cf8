//! The `:` commands: the same actions as the keys, by name.

use super::{Effect, export, open_wizard, refresh};
use crate::tui::state::{Column, Overlay, Screen, State};

/// `:` commands, for what is quicker typed than pressed.
pub(super) fn run_command(state: &mut State, input: &str) -> Vec<Effect> {
    let words: Vec<&str> = input.split_whitespace().collect();
    match words.as_slice() {
        [] => Vec::new(),
        ["q" | "quit"] => {
            state.quit = true;
            Vec::new()
        }
        ["r" | "refresh"] => refresh(state),
        ["fix"] => {
            open_wizard(state);
            Vec::new()
        }
        ["summary"] => {
            state.screen = Screen::Summary;
            Vec::new()
        }
        ["table"] => {
            state.screen = Screen::Table;
            Vec::new()
        }
        ["help"] => {
            state.overlay = Overlay::Help;
            Vec::new()
        }
        ["export", "json"] => export(state, "json"),
        ["export", "csv"] => export(state, "csv"),
        ["export", "md" | "markdown"] => export(state, "md"),
        ["filter", rest @ ..] => {
            state.set_filter(rest.join(" "));
            state.selected = 0;
            state.offset = 0;
            Vec::new()
        }
        ["sort", column, rest @ ..] => {
            match Column::ALL
                .iter()
                .find(|c| c.title().eq_ignore_ascii_case(&column.replace('-', " ")))
            {
                Some(c) => state.set_sort(*c, rest.first().is_some_and(|d| *d == "desc")),
                None => state.toast(
                    format!(
                        "no column {column}: {}",
                        Column::ALL.map(|c| c.title()).join(", ")
                    ),
                    true,
                ),
            }
            Vec::new()
        }
        _ => {
            state.toast(
                format!(":{input} is not a command: q, refresh, fix, summary, table, help, export json|csv|md, filter EXPR, sort COLUMN [desc]"),
                true,
            );
            Vec::new()
        }
    }
}
