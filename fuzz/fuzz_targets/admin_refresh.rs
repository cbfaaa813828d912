//! Fuzz target: the body of an on-demand build (`POST /admin/refresh` on `dev`,
//! `POST /api/refresh` in Azure), read by `summary::RefreshRequest::parse`, then the
//! report window worked out from it, as the handlers do.
//!
//! Checks, for every input:
//!  1. Reading the body and working out the window never panic (the year -262143 once
//!     reached a panic in the window arithmetic: fuzz/regressions/admin_refresh/).
//!  2. An accepted `as_of` lies in the years `AS_OF_YEARS`, and its window, in every
//!     report time zone tried, is 12 calendar months that end at `as_of`.
//!  3. A refusal is a 400 only for a body that is not JSON.
#![no_main]

// The request and the window, by path: they use chrono, chrono-tz, serde_json and
// thiserror only, not the pizza-pipeline crate.
#[allow(dead_code)]
#[path = "../../src/summary/request.rs"]
mod request;
#[allow(dead_code)]
#[path = "../../src/summary/window.rs"]
mod window;

use chrono::Datelike;
use libfuzzer_sys::fuzz_target;
use request::{RefreshRequest, RequestError, AS_OF_YEARS};
use window::ReportWindow;

const ZONES: [chrono_tz::Tz; 4] = [
    chrono_tz::UTC,
    chrono_tz::America::New_York,
    chrono_tz::Pacific::Kiritimati,
    chrono_tz::Pacific::Pago_Pago,
];

fuzz_target!(|body: &[u8]| check(body));

fn check(body: &[u8]) {
    match RefreshRequest::parse(body) {
        Ok(request) => {
            let Some(as_of) = request.as_of else { return };
            assert!(AS_OF_YEARS.contains(&as_of.year()), "{as_of}");
            for zone in ZONES {
                let window = ReportWindow::ending_at(as_of, zone);
                assert_eq!(window.end, as_of);
                assert!(window.start < window.end, "{zone}: {window:?}");
                let days = (window.end - window.start).num_days();
                assert!((364..=367).contains(&days), "{zone}: {window:?}");
            }
        }
        Err(RequestError::Malformed(_)) => {
            assert!(serde_json::from_slice::<serde_json::Value>(body).is_err());
        }
        Err(_) => {
            assert!(serde_json::from_slice::<serde_json::Value>(body).is_ok());
        }
    }
}
