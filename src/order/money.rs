//! Exact money: a JSON number literal → whole US cents, with no binary floating point.
//!
//! `1.005` as an `f64` is 1.00499999…, which would round to 100 cents; the price rule
//! (CONTRACT §3: exact cents, rounded half away from zero) needs the decimal the client
//! wrote. So the literal's digits are read directly: the value is `D × 10^e` for the
//! digit string `D`, and only the thousandths digit decides the rounding.

use std::borrow::Cow;

/// Upper bound of `retail_price`, in thousandths of a dollar (1,000,000.000 USD).
const MAX_PRICE_THOUSANDTHS: u64 = 1_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceError {
    /// Below zero.
    Negative,
    /// Above 1,000,000 (including exponents too large for any float).
    TooLarge,
    /// Not a JSON number literal.
    NotANumber,
}

/// Converts a JSON number literal (as written by the client) to cents.
pub fn parse_price_cents(literal: &str) -> Result<i64, PriceError> {
    let parts = NumberParts::split(literal).ok_or(PriceError::NotANumber)?;
    let digits = parts.significant_digits();
    let digits = digits.as_ref();
    if digits.is_empty() {
        return Ok(0); // 0, -0, 0.000, 0e10 …
    }
    if parts.negative {
        return Err(PriceError::Negative);
    }
    // value = digits × 10^shift thousandths
    let shift = parts
        .exponent
        .saturating_sub(parts.fraction_len)
        .saturating_add(3);
    let (thousandths, remainder_nonzero) = scale(digits, shift)?;
    if thousandths > MAX_PRICE_THOUSANDTHS
        || (thousandths == MAX_PRICE_THOUSANDTHS && remainder_nonzero)
    {
        return Err(PriceError::TooLarge);
    }
    // Half away from zero for a positive value: up when the thousandths digit is ≥ 5.
    let cents = thousandths / 10 + u64::from(thousandths % 10 >= 5);
    Ok(cents as i64)
}

/// Renders cents as a decimal with two places ("12.05"); the one money format we emit.
pub fn cents_to_decimal_string(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// `digits × 10^shift`, truncated to an integer, plus whether anything non-zero was cut.
fn scale(digits: &str, shift: i64) -> Result<(u64, bool), PriceError> {
    // More than 10 integer digits of thousandths is above the bound whatever they are.
    const MAX_DIGITS: i64 = 10;
    if shift >= 0 {
        if digits.len() as i64 + shift > MAX_DIGITS {
            return Err(PriceError::TooLarge);
        }
        let base: u64 = digits.parse().map_err(|_| PriceError::NotANumber)?;
        return Ok((base * 10u64.pow(shift as u32), false));
    }
    let cut = shift.unsigned_abs();
    if cut >= digits.len() as u64 {
        return Ok((0, true)); // digits is non-empty and starts non-zero
    }
    let (kept, dropped) = digits.split_at(digits.len() - cut as usize);
    if kept.len() as i64 > MAX_DIGITS {
        return Err(PriceError::TooLarge);
    }
    let value: u64 = kept.parse().map_err(|_| PriceError::NotANumber)?;
    Ok((value, dropped.bytes().any(|b| b != b'0')))
}

/// A JSON number literal taken apart: `-?int(.frac)?([eE][+-]?exp)?`.
struct NumberParts<'a> {
    negative: bool,
    integer: &'a str,
    fraction: &'a str,
    fraction_len: i64,
    exponent: i64,
}

impl<'a> NumberParts<'a> {
    fn split(literal: &'a str) -> Option<Self> {
        let (negative, rest) = match literal.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, literal),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], parse_exponent(&rest[at + 1..])?),
            None => (rest, 0),
        };
        let (integer, fraction) = match mantissa.split_once('.') {
            Some((i, f)) => (i, f),
            None => (mantissa, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if integer.is_empty() || !all_digits(integer) || !all_digits(fraction) {
            return None;
        }
        if mantissa.contains('.') && fraction.is_empty() {
            return None;
        }
        Some(NumberParts {
            negative,
            integer,
            fraction,
            fraction_len: fraction.len() as i64,
            exponent,
        })
    }

    /// Integer and fraction digits joined, without leading zeros ("" for zero).
    fn significant_digits(&self) -> Cow<'a, str> {
        if self.fraction.is_empty() {
            return Cow::Borrowed(self.integer.trim_start_matches('0'));
        }
        let joined = [self.integer, self.fraction].concat();
        Cow::Owned(joined.trim_start_matches('0').to_owned())
    }
}

fn parse_exponent(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'+' => (false, &text[1..]),
        b'-' => (true, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Saturate: 1e99999999999999999999 is simply "too large", never a parse failure.
    let magnitude = digits.trim_start_matches('0').parse::<i64>().unwrap_or(
        if digits.trim_start_matches('0').is_empty() {
            0
        } else {
            i64::MAX / 4
        },
    );
    Some(if negative { -magnitude } else { magnitude })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal::prelude::*;

    #[test]
    fn edge_cases() {
        let cases: &[(&str, Result<i64, PriceError>)] = &[
            ("0", Ok(0)),
            ("-0", Ok(0)),
            ("-0.000", Ok(0)),
            ("0e99999", Ok(0)),
            ("12", Ok(1200)),
            ("12.5", Ok(1250)),
            ("1.005", Ok(101)), // the f64 trap: 1.00499999… as a double
            ("1.004999", Ok(100)),
            ("0.005", Ok(1)),
            ("0.0049999999999999999999", Ok(0)),
            ("2.675", Ok(268)),
            ("1e2", Ok(10000)),
            ("1E-2", Ok(1)),
            ("125e-3", Ok(13)),
            ("1000000", Ok(100_000_000)),
            ("1000000.00", Ok(100_000_000)),
            ("1000000.001", Err(PriceError::TooLarge)),
            ("1000000.0000000000001", Err(PriceError::TooLarge)),
            ("1e6", Ok(100_000_000)),
            ("1e7", Err(PriceError::TooLarge)),
            ("1e400", Err(PriceError::TooLarge)),
            ("1e99999999999999999999999", Err(PriceError::TooLarge)),
            ("1e-99999999999999999999999", Ok(0)),
            ("99999999999999999999", Err(PriceError::TooLarge)),
            ("-0.01", Err(PriceError::Negative)),
            ("-5", Err(PriceError::Negative)),
            ("999999.995", Ok(100_000_000)),
            ("\"12\"", Err(PriceError::NotANumber)),
            ("1.", Err(PriceError::NotANumber)),
            ("", Err(PriceError::NotANumber)),
        ];
        for (literal, expected) in cases {
            assert_eq!(parse_price_cents(literal), *expected, "literal {literal}");
        }
    }

    #[test]
    fn renders_cents() {
        assert_eq!(cents_to_decimal_string(0), "0.00");
        assert_eq!(cents_to_decimal_string(5), "0.05");
        assert_eq!(cents_to_decimal_string(123456), "1234.56");
        assert_eq!(cents_to_decimal_string(-101), "-1.01");
    }

    proptest! {
        /// Against an independent decimal implementation, for plain decimal literals.
        #[test]
        fn matches_rust_decimal(units in 0u64..=1_000_000, frac in 0u64..1_000_000, places in 0usize..=6) {
            let literal = if places == 0 {
                units.to_string()
            } else {
                let frac = frac % 10u64.pow(places as u32);
                format!("{units}.{frac:0places$}")
            };
            let exact = Decimal::from_str(&literal).unwrap();
            let expected = if exact > Decimal::from(1_000_000) {
                Err(PriceError::TooLarge)
            } else {
                let rounded = exact.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
                Ok((rounded * Decimal::from(100)).to_i64().unwrap())
            };
            prop_assert_eq!(parse_price_cents(&literal), expected);
        }

        /// Scientific notation means the same number as its plain spelling.
        #[test]
        fn exponent_form_is_the_same_number(mantissa in 0u64..10_000_000, exp in -8i64..=4) {
            let sci = format!("{mantissa}e{exp}");
            let exact = Decimal::from_scientific(&sci).unwrap();
            let plain = exact.normalize().to_string();
            prop_assert_eq!(parse_price_cents(&sci), parse_price_cents(&plain), "{} vs {}", sci, plain);
        }
    }
}
