//! The customer CSV (`customer_id,name,address,city,state,zip_code`): what
//! `customers load` replaces the table with, and what `simulate --customers` orders as.

use super::{normalise_state, Customer, CSV_HEADER};
use std::path::Path;

/// A customer CSV that cannot be used, with the line at fault.
#[derive(Debug, thiserror::Error)]
pub enum CustomerCsvError {
    /// The file cannot be read as CSV (at `line`, when one is at fault).
    #[error("{file}{}", .line.map(|l| format!(": line {l}")).unwrap_or_default())]
    Unreadable {
        file: String,
        line: Option<usize>,
        #[source]
        source: csv::Error,
    },
    /// The file reads, and breaks a rule of the table.
    #[error("{file}: {problem}")]
    Invalid { file: String, problem: String },
}

/// Reads and validates a customer CSV (header `customer_id,name,address,city,state,zip_code`).
/// Every problem names its line; nothing is loaded unless the whole file is good.
pub fn read_customers_csv(file: &Path) -> Result<Vec<Customer>, CustomerCsvError> {
    let name = file.display().to_string();
    let csv_error = |problem: String| CustomerCsvError::Invalid {
        file: name.clone(),
        problem,
    };
    let unreadable = |line: Option<usize>| {
        let file = name.clone();
        move |source| CustomerCsvError::Unreadable { file, line, source }
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::Fields)
        .from_path(file)
        .map_err(unreadable(None))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(unreadable(Some(1)))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    if header != CSV_HEADER {
        return Err(csv_error(format!(
            "header must be {}, found {}",
            CSV_HEADER.join(","),
            header.join(",")
        )));
    }
    let mut seen = std::collections::HashSet::new();
    let mut customers = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(unreadable(Some(line)))?;
        let customer_id: i64 = record[0]
            .parse()
            .ok()
            .filter(|id| *id >= 1)
            .ok_or_else(|| {
                csv_error(format!(
                    "line {line}: customer_id {:?} is not a positive integer",
                    &record[0]
                ))
            })?;
        if !seen.insert(customer_id) {
            return Err(csv_error(format!(
                "line {line}: customer_id {customer_id} appears twice"
            )));
        }
        customers.push(Customer {
            customer_id,
            name: record[1].to_string(),
            address: record[2].to_string(),
            city: record[3].to_string(),
            state: normalise_state(&record[4]),
            zip_code: record[5].to_string(),
        });
    }
    Ok(customers)
}
