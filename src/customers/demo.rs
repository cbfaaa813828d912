//! A realistic demo customer set for a first run: real ZIP/city/state combinations from
//! the `zipcodes` crate's USPS data, made-up names and street addresses, and a fixed seed
//! so every newcomer (and every test) gets the same customers.

use super::Customer;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const DEMO_SEED: u64 = 20_260_301;
pub const DEMO_CUSTOMER_COUNT: usize = 5_000;

const FIRST_NAMES: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Maria",
    "Mark",
    "Sandra",
    "Luis",
    "Ashley",
    "Steven",
    "Kimberly",
    "Andrew",
    "Emily",
    "Kenji",
    "Donna",
    "Joshua",
    "Michelle",
    "Wei",
    "Carol",
    "Kevin",
    "Amanda",
    "Brian",
    "Priya",
    "George",
    "Melissa",
    "Ahmed",
    "Deborah",
    "Jose",
    "Aaliyah",
];
const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Patel",
];
const STREETS: &[&str] = &[
    "Main",
    "Oak",
    "Pine",
    "Maple",
    "Cedar",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Walnut",
    "Lincoln",
    "Jackson",
    "Sunset",
    "Highland",
    "River",
    "Church",
    "Willow",
    "Spring",
    "Center",
];
const SUFFIXES: &[&str] = &["St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Way", "Pl"];

/// `count` customers with ids 1..=count, living at real ZIP codes of `states`.
pub fn demo_customers(count: usize, states: &[&str], seed: u64) -> Vec<Customer> {
    let mut zips: Vec<&zipcodes::Zipcode> = zipcodes::database()
        .iter()
        .filter(|z| z.active && z.zip_code_type == "STANDARD" && states.contains(&z.state.as_str()))
        .collect();
    zips.sort_by(|a, b| a.zip_code.cmp(&b.zip_code)); // independent of the crate's order
    assert!(
        !zips.is_empty(),
        "the zipcodes database has no ZIP code for the given states"
    );
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (1..=count as i64)
        .map(|customer_id| {
            let zip = zips.choose(&mut rng).expect("non-empty");
            Customer {
                customer_id,
                name: format!(
                    "{} {}",
                    FIRST_NAMES.choose(&mut rng).unwrap(),
                    LAST_NAMES.choose(&mut rng).unwrap()
                ),
                address: format!(
                    "{} {} {}",
                    rng.random_range(1..=9999),
                    STREETS.choose(&mut rng).unwrap(),
                    SUFFIXES.choose(&mut rng).unwrap()
                ),
                city: title_case(&zip.city),
                state: zip.state.clone(),
                zip_code: zip.zip_code.clone(),
            }
        })
        .collect()
}

/// USPS data spells cities in capitals ("SAN ANTONIO"); people write "San Antonio".
fn title_case(city: &str) -> String {
    city.split(' ')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first
                    .to_uppercase()
                    .chain(chars.flat_map(|c| c.to_lowercase()))
                    .collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<String>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_real() {
        let states = ["TX", "CA", "NY", "WY", "DC", "PR"];
        let a = demo_customers(300, &states, DEMO_SEED);
        let b = demo_customers(300, &states, DEMO_SEED);
        assert_eq!(a, b);
        for c in &a {
            assert!(states.contains(&c.state.as_str()));
            let real = zipcodes::matching(&c.zip_code, None).unwrap();
            assert!(real.iter().any(|z| z.state == c.state), "{c:?}");
        }
        assert_eq!(title_case("SAN ANTONIO"), "San Antonio");
    }
}
