//! Adult population by state (CONTRACT §7): the Census Bureau's Vintage 2024 estimate of
//! residents aged 18+ (table SCPRC-EST2024-18+POP), shipped in `data/census/` with its
//! provenance and compiled into the binary so the warehouse always has its reference.

pub mod fetch;

/// The shipped CSV (`state_fips,state_code,state_name,adult_population,year,source`).
pub const SHIPPED_CSV: &str = include_str!("../../data/census/adult_population_by_state.csv");

/// The population CSV's header (shipped and fetched files alike).
pub const CSV_HEADER: [&str; 6] = [
    "state_fips",
    "state_code",
    "state_name",
    "adult_population",
    "year",
    "source",
];

/// Rows the shipped table must have: 50 states, DC and Puerto Rico.
pub const EXPECTED_ROWS: usize = 52;
/// The table's own "United States" row: 50 states + DC (Puerto Rico excluded).
pub const US_TOTAL_2024: i64 = 266_978_268;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatePopulation {
    pub state_fips: String,
    pub state_code: String,
    pub state_name: String,
    pub adult_population: i64,
    pub year: i32,
    pub source: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PopulationError {
    /// The text cannot be read as CSV (at `line`, when one is at fault).
    #[error("population CSV{}", .line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Unreadable {
        line: Option<usize>,
        #[source]
        source: csv::Error,
    },
    /// The CSV reads, and breaks a rule of the table.
    #[error("population CSV: {0}")]
    Invalid(String),
}

/// Parses and validates a population CSV: header, 52 distinct two-letter codes, positive
/// populations, one vintage year.
pub fn parse_population_csv(text: &str) -> Result<Vec<StatePopulation>, PopulationError> {
    let invalid = |m: String| PopulationError::Invalid(m);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|source| PopulationError::Unreadable {
            line: Some(1),
            source,
        })?
        .iter()
        .map(str::to_string)
        .collect();
    if header != CSV_HEADER {
        return Err(invalid(format!(
            "header must be {}, found {}",
            CSV_HEADER.join(","),
            header.join(",")
        )));
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let r = record.map_err(|source| PopulationError::Unreadable {
            line: Some(line),
            source,
        })?;
        let number = |field: &str, at: usize| -> Result<i64, PopulationError> {
            r[at]
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    invalid(format!(
                        "line {line}: {field} {:?} is not a positive integer",
                        &r[at]
                    ))
                })
        };
        let state_code = r[1].trim().to_string();
        if state_code.len() != 2 || !state_code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid(format!(
                "line {line}: state_code {state_code:?} is not a USPS code"
            )));
        }
        rows.push(StatePopulation {
            state_fips: r[0].trim().to_string(),
            state_code,
            state_name: r[2].trim().to_string(),
            adult_population: number("adult_population", 3)?,
            year: number("year", 4)? as i32,
            source: r[5].trim().to_string(),
        });
    }
    if rows.len() != EXPECTED_ROWS {
        return Err(invalid(format!(
            "expected {EXPECTED_ROWS} rows (50 states, DC, PR), found {}",
            rows.len()
        )));
    }
    let mut codes: Vec<&str> = rows.iter().map(|r| r.state_code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    if codes.len() != rows.len() {
        return Err(invalid("a state_code appears twice".into()));
    }
    if rows.iter().any(|r| r.year != rows[0].year) {
        return Err(invalid("rows mix vintages (year differs)".into()));
    }
    Ok(rows)
}

/// The shipped table; it is validated by a test, so this cannot fail in a release.
pub fn shipped() -> Vec<StatePopulation> {
    parse_population_csv(SHIPPED_CSV).expect("the shipped population CSV is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_table_matches_its_provenance() {
        let rows = shipped();
        assert_eq!(rows.len(), EXPECTED_ROWS);
        let without_pr: i64 = rows
            .iter()
            .filter(|r| r.state_code != "PR")
            .map(|r| r.adult_population)
            .sum();
        assert_eq!(
            without_pr, US_TOTAL_2024,
            "50 states + DC must equal the table's United States row"
        );
        let pr = rows.iter().find(|r| r.state_code == "PR").unwrap();
        assert_eq!(pr.adult_population, 2_722_566);
        assert!(rows.iter().all(|r| r.year == 2024));
    }

    #[test]
    fn rejects_damaged_tables() {
        let short: String = SHIPPED_CSV.lines().take(10).collect::<Vec<_>>().join("\n");
        assert!(parse_population_csv(&short)
            .unwrap_err()
            .to_string()
            .contains("expected 52 rows"));
        let negative = SHIPPED_CSV.replacen(",4022842,", ",-5,", 1);
        assert!(parse_population_csv(&negative)
            .unwrap_err()
            .to_string()
            .contains("line 2"));
        assert!(parse_population_csv("a,b\n1,2\n").is_err());
    }
}
