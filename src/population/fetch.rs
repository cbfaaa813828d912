//! Fetching a newer vintage of the Census table (CONTRACT §7) and validating it before it
//! replaces the shipped CSV.
//!
//! The Census Bureau publishes the Population Estimates as spreadsheets only (no API for
//! Vintage 2020 on; see `data/census/PROVENANCE.md`). The table SCPRC-EST<V>-18+POP has
//! one row per area: "United States", the four regions, ".<State>" rows (leading dot),
//! and "Puerto Rico"; column C is the 18+ resident population.

use super::{parse_population_csv, StatePopulation, CSV_HEADER, EXPECTED_ROWS};
use calamine::{Data, Reader, Xlsx};
use std::io::Cursor;

/// Where vintage `v` of the table is published (the pattern of the V2024 address).
pub fn vintage_url(vintage: i32) -> String {
    format!(
        "https://www2.census.gov/programs-surveys/popest/tables/2020-{vintage}/state/detail/SCPRC-EST{vintage}-18+POP.xlsx"
    )
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("download of {url} failed")]
    Download {
        url: String,
        #[source]
        source: crate::errors::BoxError,
    },
    #[error("the spreadsheet cannot be read")]
    Spreadsheet(#[source] crate::errors::BoxError),
    #[error("the table does not validate: {0}")]
    Invalid(String),
    #[error("the table does not validate")]
    NotATable(#[from] super::PopulationError),
}

/// Downloads the spreadsheet at `url`.
pub async fn download(url: &str) -> Result<Vec<u8>, FetchError> {
    let fail = |source: crate::errors::BoxError| FetchError::Download {
        url: url.to_string(),
        source,
    };
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .user_agent("pizza-pipeline population fetch")
        .build()
        .map_err(|e| fail(e.into()))?;
    let response = client.get(url).send().await.map_err(|e| fail(e.into()))?;
    if !response.status().is_success() {
        return Err(fail(format!("HTTP {}", response.status()).into()));
    }
    let bytes = response.bytes().await.map_err(|e| fail(e.into()))?;
    Ok(bytes.to_vec())
}

/// Reads the spreadsheet into population rows (codes and FIPS from `reference`, matched
/// by state name), and validates them: 52 areas, positive numbers, the 50 states and DC
/// adding up to the table's own United States row.
pub fn parse_table(
    xlsx: &[u8],
    year: i32,
    reference: &[StatePopulation],
) -> Result<Vec<StatePopulation>, FetchError> {
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(xlsx))
        .map_err(|e: calamine::XlsxError| FetchError::Spreadsheet(e.into()))?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| FetchError::Spreadsheet("the workbook has no sheet".into()))?
        .map_err(|e| FetchError::Spreadsheet(e.into()))?;
    let mut us_total = None;
    let mut rows = Vec::new();
    for row in range.rows() {
        let (Some(Data::String(area)), Some(adults)) = (row.first(), row.get(2)) else {
            continue;
        };
        let Some(adults) = whole_number(adults) else {
            continue;
        };
        let area = area.trim();
        if area == "United States" {
            us_total = Some(adults);
            continue;
        }
        let name = area.trim_start_matches('.');
        if !(area.starts_with('.') || name == "Puerto Rico") {
            continue; // a region
        }
        let known = reference
            .iter()
            .find(|s| s.state_name == name)
            .ok_or_else(|| FetchError::Invalid(format!("unknown area {name:?}")))?;
        rows.push(StatePopulation {
            state_fips: known.state_fips.clone(),
            state_code: known.state_code.clone(),
            state_name: known.state_name.clone(),
            adult_population: adults,
            year,
            source: format!(
                "US Census Bureau PEP Vintage {year}, SCPRC-EST{year}-18+POP (resident population age 18+, July 1, {year})"
            ),
        });
    }
    rows.sort_by(|a, b| a.state_fips.cmp(&b.state_fips));
    validate(&rows, us_total)?;
    Ok(rows)
}

fn whole_number(cell: &Data) -> Option<i64> {
    match cell {
        Data::Int(n) => Some(*n),
        Data::Float(f) if f.fract() == 0.0 && *f > 0.0 => Some(*f as i64),
        _ => None,
    }
}

fn validate(rows: &[StatePopulation], us_total: Option<i64>) -> Result<(), FetchError> {
    let invalid = |m: String| FetchError::Invalid(m);
    if rows.len() != EXPECTED_ROWS {
        return Err(invalid(format!(
            "expected {EXPECTED_ROWS} areas (50 states, DC, PR), found {}",
            rows.len()
        )));
    }
    let total = us_total.ok_or_else(|| invalid("the table has no United States row".into()))?;
    let states_and_dc: i64 = rows
        .iter()
        .filter(|r| r.state_code != "PR")
        .map(|r| r.adult_population)
        .sum();
    if states_and_dc != total {
        return Err(invalid(format!(
            "the 50 states and DC add up to {states_and_dc}, the United States row says {total}"
        )));
    }
    // The CSV the warehouse loads must pass the same checks as the shipped one.
    parse_population_csv(&to_csv(rows))?;
    Ok(())
}

/// The rows in the shipped CSV's format.
pub fn to_csv(rows: &[StatePopulation]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(CSV_HEADER).expect("in-memory write");
    for r in rows {
        writer
            .write_record([
                &r.state_fips,
                &r.state_code,
                &r.state_name,
                &r.adult_population.to_string(),
                &r.year.to_string(),
                &r.source,
            ])
            .expect("in-memory write");
    }
    String::from_utf8(writer.into_inner().expect("in-memory write")).expect("UTF-8")
}

/// States whose number moved by more than `limit` (a share) against `reference`: a
/// vintage revises estimates by a few percent at most, so a large move means a misread.
pub fn implausible_changes(
    rows: &[StatePopulation],
    reference: &[StatePopulation],
    limit: f64,
) -> Vec<String> {
    rows.iter()
        .filter_map(|r| {
            let old = reference.iter().find(|o| o.state_code == r.state_code)?;
            let change =
                (r.adult_population - old.adult_population) as f64 / old.adult_population as f64;
            (change.abs() > limit).then(|| format!("{} {:+.1}%", r.state_code, change * 100.0))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED_XLSX: &[u8] = include_bytes!("../../data/census/SCPRC-EST2024-18+POP.xlsx");

    #[test]
    fn reading_the_census_table_gives_back_the_shipped_csv() {
        let shipped = super::super::shipped();
        let rows = parse_table(SHIPPED_XLSX, 2024, &shipped).unwrap();
        assert_eq!(rows.len(), 52);
        for (read, kept) in rows.iter().zip(&shipped) {
            assert_eq!(
                (&read.state_fips, &read.state_code, read.adult_population),
                (&kept.state_fips, &kept.state_code, kept.adult_population)
            );
        }
        assert!(implausible_changes(&rows, &shipped, 0.0).is_empty());
        assert_eq!(
            vintage_url(2025),
            "https://www2.census.gov/programs-surveys/popest/tables/2020-2025/state/detail/SCPRC-EST2025-18+POP.xlsx"
        );
    }

    #[test]
    fn refuses_what_is_not_the_table() {
        let shipped = super::super::shipped();
        assert!(matches!(
            parse_table(b"not a spreadsheet", 2025, &shipped),
            Err(FetchError::Spreadsheet(_))
        ));
        let mut changed = shipped.clone();
        changed[0].adult_population *= 2;
        assert_eq!(
            implausible_changes(&changed, &shipped, 0.1),
            vec!["AL +100.0%".to_string()]
        );
    }
}
