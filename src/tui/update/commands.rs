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
        ["export", "html"] => export(state, "html"),
        ["filter", rest @ ..] => {
            state.set_filter(rest.join(" "));
            state.selected = 0;
            state.offset = 0;
            Vec::new()
        }
        ["sort", column, rest @ ..] => {
            // The same numbers as the keys 1–9, or a column's title.
            let by_number = column
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| Column::ALL.get(i));
            let by_name = Column::ALL
                .iter()
                .find(|c| c.title().eq_ignore_ascii_case(&column.replace('-', " ")));
            let direction = match rest {
                [] | ["asc"] => Ok(false),
                ["desc"] => Ok(true),
                other => Err(other.join(" ")),
            };
            match (by_number.or(by_name), direction) {
                (Some(c), Ok(descending)) => {
                    state.set_sort(*c, descending);
                    state.toast(
                        format!(
                            "sorted by {}{}",
                            c.title(),
                            if descending { ", descending" } else { "" }
                        ),
                        false,
                    );
                }
                (Some(_), Err(bad)) => state.toast(format!("'{bad}': the direction is asc or desc"), true),
                (None, _) => state.toast(
                    format!(
                        "no column {column}: 1–9 or {}",
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
