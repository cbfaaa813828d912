use serde::{Deserialize, Serialize};
use std::fmt;

/// The five pizza types of the menu; anything else is refused at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PizzaType {
    #[serde(rename = "cheese")]
    Cheese,
    #[serde(rename = "pepperoni")]
    Pepperoni,
    #[serde(rename = "supreme")]
    Supreme,
    #[serde(rename = "meat lover")]
    MeatLover,
    #[serde(rename = "veggie")]
    Veggie,
}

impl PizzaType {
    pub const ALL: [PizzaType; 5] = [
        PizzaType::Cheese,
        PizzaType::Pepperoni,
        PizzaType::Supreme,
        PizzaType::MeatLover,
        PizzaType::Veggie,
    ];

    /// The canonical (stored) spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PizzaType::Cheese => "cheese",
            PizzaType::Pepperoni => "pepperoni",
            PizzaType::Supreme => "supreme",
            PizzaType::MeatLover => "meat lover",
            PizzaType::Veggie => "veggie",
        }
    }

    /// Matches case-insensitively after trimming, as CONTRACT §3 asks.
    pub fn parse_lenient(text: &str) -> Option<PizzaType> {
        let wanted = text.trim();
        PizzaType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(wanted))
    }
}

impl fmt::Display for PizzaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_parse_trims_and_ignores_case() {
        assert_eq!(
            PizzaType::parse_lenient("  Meat Lover "),
            Some(PizzaType::MeatLover)
        );
        assert_eq!(
            PizzaType::parse_lenient("PEPPERONI"),
            Some(PizzaType::Pepperoni)
        );
        assert_eq!(PizzaType::parse_lenient("meat  lover"), None);
        assert_eq!(PizzaType::parse_lenient("hawaiian"), None);
        assert_eq!(PizzaType::parse_lenient(""), None);
    }

    #[test]
    fn serde_uses_canonical_names() {
        for t in PizzaType::ALL {
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
        }
    }
}
