//! A realistic demo customer set for a first run: real ZIP/city/state combinations from
//! the `zipcodes` crate's USPS data, spread over the states like their adult residents,
//! made-up names and street addresses, and a fixed seed so every newcomer (and every
//! test) gets the same customers.

use super::Customer;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

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
///
/// The states share the customers in proportion to their adult population (the shipped
/// Census table; a state missing from it weighs as the smallest one), after one customer
/// each while `count` allows: every state has customers, and per-adult figures compare
/// like for like, as for a chain present everywhere. The ids are shuffled over the
/// states; each customer's ZIP code is drawn among the state's.
pub fn demo_customers(count: usize, states: &[&str], seed: u64) -> Vec<Customer> {
    let mut zips_by_state: BTreeMap<&str, Vec<&zipcodes::Zipcode>> = BTreeMap::new();
    for zip in zipcodes::database()
        .iter()
        .filter(|z| z.active && z.zip_code_type == "STANDARD" && states.contains(&z.state.as_str()))
    {
        zips_by_state
            .entry(zip.state.as_str())
            .or_default()
            .push(zip);
    }
    for zips in zips_by_state.values_mut() {
        zips.sort_by(|a, b| a.zip_code.cmp(&b.zip_code)); // independent of the crate's order
    }
    assert!(
        !zips_by_state.is_empty(),
        "the zipcodes database has no ZIP code for the given states"
    );
    let adults: BTreeMap<String, i64> = crate::population::shipped()
        .into_iter()
        .map(|p| (p.state_code, p.adult_population))
        .collect();
    let smallest = adults.values().copied().min().unwrap_or(1).max(1);
    let weights: Vec<u64> = zips_by_state
        .keys()
        .map(|state| adults.get(*state).copied().unwrap_or(smallest).max(1) as u64)
        .collect();
    let mut homes: Vec<&str> = zips_by_state
        .keys()
        .zip(apportion(count, &weights))
        .flat_map(|(state, customers)| std::iter::repeat_n(*state, customers))
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    homes.shuffle(&mut rng);
    homes
        .into_iter()
        .zip(1..)
        .map(|(state, customer_id)| {
            let zip = zips_by_state[state].choose(&mut rng).expect("non-empty");
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

/// Splits `count` over `weights`: one each first (when `count` allows), the rest in
/// proportion (largest remainder; ties to the earlier index). Sums to `count` exactly.
fn apportion(count: usize, weights: &[u64]) -> Vec<usize> {
    let each = usize::from(count >= weights.len());
    let rest = (count - each * weights.len()) as u128;
    let total: u128 = weights.iter().map(|w| *w as u128).sum::<u128>().max(1);
    let mut shares: Vec<usize> = weights
        .iter()
        .map(|w| each + (rest * *w as u128 / total) as usize)
        .collect();
    let left = count - shares.iter().sum::<usize>();
    let mut by_remainder: Vec<usize> = (0..weights.len()).collect();
    by_remainder.sort_by_key(|&i| (std::cmp::Reverse(rest * weights[i] as u128 % total), i));
    for &i in by_remainder.iter().take(left) {
        shares[i] += 1;
    }
    shares
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

    #[test]
    fn the_demo_set_covers_every_area_like_its_adults() {
        let population = crate::population::shipped();
        let states: Vec<&str> = population.iter().map(|p| p.state_code.as_str()).collect();
        let customers = demo_customers(DEMO_CUSTOMER_COUNT, &states, DEMO_SEED);
        assert_eq!(customers.len(), DEMO_CUSTOMER_COUNT);
        let ids: Vec<i64> = customers.iter().map(|c| c.customer_id).collect();
        assert_eq!(ids, (1..=DEMO_CUSTOMER_COUNT as i64).collect::<Vec<_>>());
        let total: i64 = population.iter().map(|p| p.adult_population).sum();
        for area in &population {
            let here = customers
                .iter()
                .filter(|c| c.state == area.state_code)
                .count() as f64;
            let fair = DEMO_CUSTOMER_COUNT as f64 * area.adult_population as f64 / total as f64;
            assert!(here >= 1.0, "{} has no demo customer", area.state_code);
            assert!(
                (here - fair).abs() <= 2.0 + 0.02 * fair,
                "{}: {here} customers, {fair:.1} by its adults",
                area.state_code
            );
        }
        // The ids are spread over the states, not grouped by state.
        let first_states: std::collections::BTreeSet<&str> =
            customers[..50].iter().map(|c| c.state.as_str()).collect();
        assert!(first_states.len() > 15, "{first_states:?}");
    }

    #[test]
    fn apportioning_sums_up_and_gives_everyone_one() {
        assert_eq!(apportion(10, &[1, 1, 8]), vec![2, 2, 6]);
        assert_eq!(apportion(5, &[1, 1000, 1]), vec![1, 3, 1]);
        assert_eq!(apportion(2, &[5, 5, 5]), vec![1, 1, 0]);
        assert_eq!(apportion(7, &[3, 3, 3]).iter().sum::<usize>(), 7);
    }
}
