//! `guardkey diff OLD NEW`: progress between two saved scans, for people and for CI.

use std::io::IsTerminal;

use super::CommandError;
use crate::cli::DiffArgs;
use crate::report::ScanReport;
use crate::report::diff::diff;

pub fn run(args: &DiffArgs) -> Result<u8, CommandError> {
    let old = ScanReport::load(&args.old).map_err(CommandError)?;
    let new = ScanReport::load(&args.new).map_err(CommandError)?;
    let d = diff(&old, &new);
    let format = args.format.clone().unwrap_or_else(|| {
        if std::io::stdout().is_terminal() {
            "table".into()
        } else {
            "json".into()
        }
    });
    let text = match format.as_str() {
        "json" => d.to_json(),
        "md" => d.to_markdown(),
        "html" => d.to_html(),
        _ => d.to_table(),
    };
    print!("{text}");
    // A regression, or an accepted risk that ended, is what a pipeline watching progress
    // must not miss.
    Ok(u8::from(d.worse()))
}
